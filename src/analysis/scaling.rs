//! `rollcall scaling`: speedup and efficiency from runs of the same job on different numbers
//! of ranks and schedules (what slurm/scaling.sbatch and `make bench` produce). Runs of the
//! same (schedule, ranks, threads) are repetitions: the table gives their mean, spread and
//! range, so that a figure shows how much one run can be off on a shared node.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::attendance::result::RunResult;

/// Statistics of one quantity over repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for a single run.
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Spread { mean, sd, min, max }
    }
}

/// One (schedule, ranks, threads) of the study, over its repetitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingRow {
    pub schedule: String,
    pub ranks: usize,
    pub threads: usize,
    /// Repetitions.
    pub runs: usize,
    /// Sampled frames analysed (the same in every repetition).
    pub frames: u64,
    /// Common start (every rank set up) to reports assembled, seconds.
    pub makespan_s: Spread,
    /// The baseline's mean makespan over each repetition's.
    pub speedup: Spread,
    pub efficiency: Spread,
    /// Karp–Flatt experimentally determined serial fraction, (1/S − 1/p) / (1 − 1/p) from the
    /// mean speedup; `None` on one rank.
    pub serial_fraction: Option<f64>,
    pub frames_per_s: f64,
    /// Mean over repetitions and ranks of busy time / total time.
    pub busy_share: f64,
}

/// What must be the same in every run of one study, as (name, value) pairs.
fn identity(run: &RunResult) -> Vec<(&'static str, String)> {
    let s = &run.settings;
    // Everything that changes the work, not how it is spread.
    let varying = ["output", "schedule", "threads", "title", "date"];
    let settings: Vec<String> =
        s.describe().into_iter().filter(|(k, _)| !varying.contains(k)).map(|(k, v)| format!("{k}={v}")).collect();
    let hardware = run.hosts.first().map(|h| format!("{} ({})", h.cpu, h.isa_level)).unwrap_or_default();
    vec![
        ("video", format!("{} ({} bytes)", run.video.path, run.video.file_size)),
        ("settings", settings.join(", ")),
        ("roster", format!("{:?} {:08x}", run.roster.ids, roster_checksum(run))),
        ("software", format!("{:?}", run.software)),
        ("hardware", hardware),
    ]
}

/// A checksum of the roster's encodings: two rosters of the same ids enrolled from other
/// photos differ here.
fn roster_checksum(run: &RunResult) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for x in &run.roster.encodings {
        hasher.update(&x.to_le_bytes());
    }
    hasher.finalize()
}

/// Refuses runs that are not one study: a different video, setting, roster, software or CPU.
pub fn check_comparable(runs: &[(String, RunResult)]) -> Result<()> {
    let Some((first_name, first)) = runs.first() else { bail!("no runs given") };
    let reference = identity(first);
    for (name, run) in &runs[1..] {
        for ((what, want), (_, got)) in reference.iter().zip(identity(run)) {
            if *want != got {
                let detail = match *what {
                    "video" | "hardware" => format!(": {want} against {got}"),
                    _ => String::new(),
                };
                bail!("{name} and {first_name} differ in {what}{detail}: runs of one scaling study must share it");
            }
        }
    }
    Ok(())
}

/// Rows sorted by (schedule, threads, ranks). The baseline of each schedule is the mean of
/// its 1-rank repetitions (same threads), else of any schedule's (on one rank they all do
/// the same work); with no 1-rank run at all, the smallest run scaled ideally.
pub fn table(runs: &[RunResult]) -> Vec<ScalingRow> {
    let mut groups: BTreeMap<(String, usize, usize), Vec<&RunResult>> = BTreeMap::new();
    for r in runs {
        groups
            .entry((r.settings.parallel.schedule.to_string(), r.settings.parallel.threads, r.ranks))
            .or_default()
            .push(r);
    }
    let mean_wall = |rs: &[&RunResult]| rs.iter().map(|r| r.wall_time_s).sum::<f64>() / rs.len() as f64;
    let one_rank = |schedule: Option<&str>, threads: usize| {
        let matching: Vec<&RunResult> = runs
            .iter()
            .filter(|r| r.ranks == 1 && r.settings.parallel.threads == threads)
            .filter(|r| schedule.is_none_or(|s| r.settings.parallel.schedule.to_string() == s))
            .collect();
        (!matching.is_empty()).then(|| mean_wall(&matching))
    };
    let smallest =
        groups.iter().min_by_key(|((_, _, ranks), _)| *ranks).map(|((_, _, ranks), rs)| mean_wall(rs) * *ranks as f64);
    groups
        .into_iter()
        .map(|((schedule, threads, ranks), reps)| {
            let baseline =
                one_rank(Some(&schedule), threads).or_else(|| one_rank(None, threads)).or(smallest).unwrap_or(1.0);
            let walls: Vec<f64> = reps.iter().map(|r| r.wall_time_s).collect();
            let speedups: Vec<f64> = walls.iter().map(|w| baseline / w).collect();
            let efficiencies: Vec<f64> = speedups.iter().map(|s| s / ranks as f64).collect();
            let speedup = Spread::of(&speedups);
            let p = ranks as f64;
            let busy = reps
                .iter()
                .flat_map(|r| r.timings.iter())
                .map(|t| if t.total_s > 0.0 { t.busy_s / t.total_s } else { 0.0 })
                .collect::<Vec<_>>();
            let frames = reps[0].sampled_frames;
            let makespan = Spread::of(&walls);
            ScalingRow {
                runs: reps.len(),
                frames,
                frames_per_s: frames as f64 / makespan.mean,
                makespan_s: makespan,
                efficiency: Spread::of(&efficiencies),
                serial_fraction: (ranks > 1).then(|| (1.0 / speedup.mean - 1.0 / p) / (1.0 - 1.0 / p)),
                speedup,
                busy_share: busy.iter().sum::<f64>() / busy.len().max(1) as f64,
                schedule,
                ranks,
                threads,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_the_sample_standard_deviation() {
        let s = Spread::of(&[10.0, 12.0, 14.0]);
        assert_eq!((s.mean, s.sd, s.min, s.max), (12.0, 2.0, 10.0, 14.0));
        assert_eq!(Spread::of(&[5.0]).sd, 0.0);
    }
}
