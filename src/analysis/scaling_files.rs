//! `scaling.csv`, `.xlsx`, `.json` and `.md`: the measured speedup study, as a table with the
//! spread over repetitions, charts, and forms that go straight into a script, a paper or a
//! wiki (as hyperfine exports them).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::analysis::scaling::{ScalingRow, Spread};
use crate::report::study::{Cell, Study};
use crate::util::output::{write_atomically, Access};

/// The rows as a study: mean speedup and efficiency charted against ranks, per schedule.
pub fn study(rows: &[ScalingRow]) -> Study {
    Study {
        sheet: "Scaling",
        header: vec![
            "schedule",
            "ranks",
            "threads",
            "runs",
            "frames",
            "makespan_s_mean",
            "makespan_s_sd",
            "makespan_s_min",
            "makespan_s_max",
            "speedup_mean",
            "speedup_sd",
            "efficiency_mean",
            "efficiency_sd",
            "serial_fraction",
            "frames_per_s",
            "busy_share",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.schedule.clone()),
                    Cell::Count(r.ranks as u64),
                    Cell::Count(r.threads as u64),
                    Cell::Count(r.runs as u64),
                    Cell::Count(r.frames),
                    Cell::Number(r.makespan_s.mean),
                    Cell::Number(r.makespan_s.sd),
                    Cell::Number(r.makespan_s.min),
                    Cell::Number(r.makespan_s.max),
                    Cell::Number(r.speedup.mean),
                    Cell::Number(r.speedup.sd),
                    Cell::Share(r.efficiency.mean),
                    Cell::Share(r.efficiency.sd),
                    r.serial_fraction.map_or(Cell::Text(String::new()), Cell::Number),
                    Cell::Number(r.frames_per_s),
                    Cell::Share(r.busy_share),
                ]
            })
            .collect(),
        series_column: 0,
        ranks_column: 1,
        charts: vec![(9, "Speedup (mean of the repetitions)"), (11, "Parallel efficiency (mean of the repetitions)")],
    }
}

/// The rows as JSON, one object per (schedule, ranks, threads), spreads as {mean, sd, min, max}.
pub fn write_json(rows: &[ScalingRow], path: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(&serde_json::json!({ "results": rows }))?;
    write_atomically(path, Access::Shared, |tmp| Ok(std::fs::write(tmp, json + "\n")?))
}

/// The rows as a Markdown table: mean ± standard deviation, and the range of the makespan.
pub fn markdown(rows: &[ScalingRow]) -> String {
    let pm = |s: &Spread, digits: usize| format!("{:.digits$} ± {:.digits$}", s.mean, s.sd);
    let mut md = String::from(
        "| schedule | ranks | threads | runs | makespan (s) | min … max (s) | speedup | efficiency | serial fraction |\n\
         |:---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2} … {:.2} | {} | {:.0} ± {:.0} % | {} |",
            r.schedule,
            r.ranks,
            r.threads,
            r.runs,
            pm(&r.makespan_s, 2),
            r.makespan_s.min,
            r.makespan_s.max,
            pm(&r.speedup, 2),
            100.0 * r.efficiency.mean,
            100.0 * r.efficiency.sd,
            r.serial_fraction.map_or("—".to_owned(), |f| format!("{f:.3}")),
        );
    }
    md
}

pub fn write_markdown(rows: &[ScalingRow], path: &Path) -> Result<()> {
    let md = markdown(rows);
    write_atomically(path, Access::Shared, |tmp| Ok(std::fs::write(tmp, md)?))
}
