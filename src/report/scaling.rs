//! `scaling.csv` and `scaling.xlsx`: the measured speedup study as a table and charts.

use crate::report::study::{Cell, Study};
use crate::scaling::ScalingRow;

/// The rows as a study: speedup and efficiency charted against ranks, per schedule.
pub fn study(rows: &[ScalingRow]) -> Study {
    Study {
        sheet: "Scaling",
        header: vec![
            "schedule",
            "ranks",
            "frames",
            "wall_time_s",
            "frames_per_s",
            "speedup",
            "efficiency",
            "busy_share",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.schedule.clone()),
                    Cell::Count(r.ranks as u64),
                    Cell::Count(r.frames),
                    Cell::Number(r.wall_time_s),
                    Cell::Number(r.frames_per_s),
                    Cell::Number(r.speedup),
                    Cell::Share(r.efficiency),
                    Cell::Share(r.busy_share),
                ]
            })
            .collect(),
        series_column: 0,
        ranks_column: 1,
        charts: vec![(5, "Speedup"), (6, "Parallel efficiency")],
    }
}
