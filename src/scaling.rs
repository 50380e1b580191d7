//! `rollcall scaling`: speedup and efficiency from runs of the same job on different numbers
//! of ranks and schedules (what slurm/scaling.sbatch and `make bench` produce).

use crate::result::RunResult;

/// One run of the study.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRow {
    pub schedule: String,
    pub ranks: usize,
    pub frames: u64,
    /// Common start (every rank set up) to reports assembled.
    pub wall_time_s: f64,
    /// Mean over ranks of busy time / total time.
    pub busy_share: f64,
    pub frames_per_s: f64,
    /// Wall time of the baseline over this run's.
    pub speedup: f64,
    pub efficiency: f64,
}

/// Rows sorted by (schedule, ranks). The baseline of each schedule is its fastest 1-rank run,
/// or, where a schedule has none, the fastest 1-rank run of any schedule (on one rank they
/// all do the same work); with no 1-rank run at all, speedups are relative to the smallest run
/// scaled ideally.
pub fn table(runs: &[RunResult]) -> Vec<ScalingRow> {
    let one_rank = |schedule: Option<&str>| {
        runs.iter()
            .filter(|r| r.ranks == 1 && schedule.is_none_or(|s| r.settings.schedule.to_string() == s))
            .map(|r| r.wall_time_s)
            .reduce(f64::min)
    };
    let smallest = runs.iter().min_by_key(|r| r.ranks).map(|r| r.wall_time_s * r.ranks as f64);
    let mut rows: Vec<ScalingRow> = runs
        .iter()
        .map(|r| {
            let schedule = r.settings.schedule.to_string();
            let baseline = one_rank(Some(&schedule)).or_else(|| one_rank(None)).or(smallest).unwrap_or(r.wall_time_s);
            let speedup = baseline / r.wall_time_s;
            let busy_share =
                r.timings.iter().map(|t| if t.total_s > 0.0 { t.busy_s / t.total_s } else { 0.0 }).sum::<f64>()
                    / r.timings.len().max(1) as f64;
            ScalingRow {
                frames_per_s: r.sampled_frames as f64 / r.wall_time_s,
                frames: r.sampled_frames,
                wall_time_s: r.wall_time_s,
                busy_share,
                speedup,
                efficiency: speedup / r.ranks as f64,
                ranks: r.ranks,
                schedule,
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.schedule, a.ranks).cmp(&(&b.schedule, b.ranks)));
    rows
}
