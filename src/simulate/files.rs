//! `simulation.csv` and `simulation.xlsx`: what `rollcall simulate` predicts, per schedule
//! and number of ranks (columns in docs/FORMAT.md).

use crate::report::study::{Cell, Study};
use crate::simulate::SimRow;

pub fn study(rows: &[SimRow]) -> Study {
    Study {
        sheet: "Simulation",
        header: vec![
            "schedule",
            "ranks",
            "chunk",
            "units",
            "frames",
            "makespan_s",
            "speedup",
            "efficiency",
            "busy_share",
            "master_share",
            "messages",
            "decoded_per_frame",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.schedule.to_string()),
                    Cell::Count(r.ranks as u64),
                    Cell::Count(r.chunk as u64),
                    Cell::Count(r.units as u64),
                    Cell::Count(r.frames as u64),
                    Cell::Number(r.outcome.makespan_s),
                    Cell::Number(r.speedup),
                    Cell::Share(r.efficiency),
                    Cell::Share(r.outcome.busy_share),
                    Cell::Share(r.master_share()),
                    Cell::Count(r.outcome.messages),
                    Cell::Number(r.decoded_per_sample()),
                ]
            })
            .collect(),
        series_column: 0,
        ranks_column: 1,
        charts: vec![(6, "Predicted speedup"), (7, "Predicted parallel efficiency"), (9, "Master busy share")],
    }
}
