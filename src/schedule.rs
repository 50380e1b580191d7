//! Which rank runs which unit, and the loop that runs them. Knows nothing about faces, frames
//! or MPI.
//!
//! A unit is an index `0..n_units` into a plan that every rank computes identically, so a
//! schedule only ever deals in indices. Static schedules are pure functions of
//! `(n_units, rank, size)`: no message is needed once the plan is known. Dynamic schedules get
//! their indices from a [`UnitSource`] that talks to the master (see `comm::QueueMaster`).

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// How units are distributed over ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Contiguous runs of units, one run per rank: each rank reads its part of the video
    /// sequentially and seeks once.
    #[default]
    Block,
    /// Units dealt round-robin: rank r runs r, r+N, r+2N, ... Evens out cost that drifts
    /// slowly along the video (a lecture hall filling up).
    Cyclic,
    /// Rank 0 hands out units on request as ranks become free: all finish together even when
    /// ranks or frames differ in speed.
    Dynamic,
    /// Dynamic, with units that shrink as the queue drains (big units early for little
    /// traffic, small ones at the end so nobody is left with a long tail).
    Guided,
}

impl Schedule {
    /// Whether units are handed out at run time by the master.
    pub fn is_dynamic(self) -> bool {
        matches!(self, Schedule::Dynamic | Schedule::Guided)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schedule::Block => "block",
            Schedule::Cyclic => "cyclic",
            Schedule::Dynamic => "dynamic",
            Schedule::Guided => "guided",
        })
    }
}

/// The units `rank` of `size` runs under a static schedule, in the order it should run them.
pub fn static_units(schedule: Schedule, n_units: usize, rank: usize, size: usize) -> Vec<usize> {
    assert!(rank < size, "rank {rank} out of {size}");
    match schedule {
        Schedule::Dynamic | Schedule::Guided => unreachable!("{schedule} units are handed out at run time"),
        Schedule::Block => {
            // The first `n_units % size` ranks take one extra unit, so run lengths differ by at
            // most one.
            let base = n_units / size;
            let extra = n_units % size;
            let start = rank * base + rank.min(extra);
            let len = base + usize::from(rank < extra);
            (start..start + len).collect()
        }
        Schedule::Cyclic => (rank..n_units).step_by(size).collect(),
    }
}

/// Where a rank gets its next unit from.
pub trait UnitSource {
    /// The next unit to run, or `None` when this rank is done. May block waiting for work.
    fn next_unit(&mut self) -> Result<Option<usize>>;
    /// Lets a master answer pending requests in the middle of its own work. Cheap when there
    /// is nothing to do; a no-op for everyone but a dynamic master.
    fn serve(&mut self) -> Result<()> {
        Ok(())
    }
    /// Time spent sending or answering messages so far.
    fn comm_time(&self) -> Duration {
        Duration::ZERO
    }
}

/// A fixed list of units: the static schedules.
pub struct StaticSource(std::vec::IntoIter<usize>);

impl StaticSource {
    pub fn new(units: Vec<usize>) -> Self {
        StaticSource(units.into_iter())
    }
}

impl UnitSource for StaticSource {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        Ok(self.0.next())
    }
}

/// Takes every unit `source` still has without running any: what a rank that cannot work
/// does, so that a dynamic master is not left waiting for its requests.
pub fn drain(source: &mut dyn UnitSource) -> Result<()> {
    while source.next_unit()?.is_some() {}
    Ok(())
}

/// One unit as it ran on this rank. Times are seconds on the caller's clock.
#[derive(Debug)]
pub struct UnitRun<R> {
    pub unit: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub output: R,
}

/// Where this rank's time went while running units.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunStats {
    /// Inside units (including any benchmark slow-down).
    pub busy_s: f64,
    /// Waiting for the next unit, communication excluded.
    pub wait_s: f64,
    /// Sending requests, answering them.
    pub comm_s: f64,
}

/// What a rank did: its units, its time, and the first error, if any.
pub struct RankRun<R> {
    pub runs: Vec<UnitRun<R>>,
    pub stats: RunStats,
    pub error: Option<anyhow::Error>,
}

/// Runs units from `source` until it is exhausted.
///
/// `work(unit, source)` does one unit; it may call `source.serve()` between steps so that a
/// master stays responsive during long units. `slowdown` ≥ 1 stretches every unit by sleeping
/// (a benchmark knob that imitates a slower node). After an error the rank keeps draining its
/// source without working, so that a dynamic master is never left waiting for requests; the
/// error is returned for the caller to report.
pub fn run_units<R>(
    source: &mut dyn UnitSource,
    clock: &dyn Fn() -> f64,
    slowdown: f64,
    mut work: impl FnMut(usize, &mut dyn UnitSource) -> Result<R>,
) -> RankRun<R> {
    let mut runs = Vec::new();
    let mut stats = RunStats::default();
    let mut error = None;
    loop {
        let waiting = Instant::now();
        let comm_before = source.comm_time();
        let next = source.next_unit();
        stats.wait_s += (waiting.elapsed().saturating_sub(source.comm_time() - comm_before)).as_secs_f64();
        let unit = match next {
            Ok(Some(unit)) => unit,
            Ok(None) => break,
            Err(e) => {
                error.get_or_insert(e);
                break;
            }
        };
        if error.is_some() {
            continue;
        }
        let start_s = clock();
        let started = Instant::now();
        match work(unit, source) {
            Ok(output) => {
                if slowdown > 1.0 {
                    std::thread::sleep(started.elapsed().mul_f64(slowdown - 1.0));
                }
                let end_s = clock();
                stats.busy_s += end_s - start_s;
                runs.push(UnitRun { unit, start_s, end_s, output });
            }
            Err(e) => error = Some(e.context(format!("unit {unit}"))),
        }
    }
    stats.comm_s = source.comm_time().as_secs_f64();
    RankRun { runs, stats, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every unit is run exactly once, whatever the number of ranks.
    fn assert_partition(schedule: Schedule, n_units: usize, size: usize) {
        let mut seen: Vec<usize> =
            (0..size).flat_map(|r| static_units(schedule, n_units, r, size)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n_units).collect::<Vec<_>>(), "{schedule} {n_units} units {size} ranks");
    }

    #[test]
    fn static_schedules_partition_the_units() {
        for schedule in [Schedule::Block, Schedule::Cyclic] {
            for n_units in [0, 1, 2, 7, 30] {
                for size in 1..=8 {
                    assert_partition(schedule, n_units, size);
                }
            }
        }
    }

    #[test]
    fn block_runs_are_contiguous_and_balanced() {
        let runs: Vec<Vec<usize>> = (0..3).map(|r| static_units(Schedule::Block, 10, r, 3)).collect();
        assert_eq!(runs, vec![vec![0, 1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
    }

    #[test]
    fn cyclic_deals_round_robin() {
        assert_eq!(static_units(Schedule::Cyclic, 7, 1, 3), vec![1, 4]);
    }
}

#[cfg(test)]
mod runner_tests {
    use super::*;

    #[test]
    fn runs_every_unit_in_order_and_times_them() {
        let t0 = Instant::now();
        let clock = || t0.elapsed().as_secs_f64();
        let mut source = StaticSource::new(vec![2, 5, 7]);
        let run = run_units(&mut source, &clock, 1.0, |unit, _| Ok(unit * 10));
        assert!(run.error.is_none());
        let got: Vec<(usize, usize)> = run.runs.iter().map(|r| (r.unit, r.output)).collect();
        assert_eq!(got, vec![(2, 20), (5, 50), (7, 70)]);
        assert!(run.runs.iter().all(|r| r.end_s >= r.start_s));
    }

    #[test]
    fn slowdown_stretches_units() {
        let t0 = Instant::now();
        let clock = || t0.elapsed().as_secs_f64();
        let run = run_units(&mut StaticSource::new(vec![0]), &clock, 3.0, |_, _| {
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        });
        assert!(run.stats.busy_s >= 0.06, "busy {}", run.stats.busy_s);
    }

    #[test]
    fn after_an_error_the_source_is_drained_without_working() {
        let t0 = Instant::now();
        let clock = || t0.elapsed().as_secs_f64();
        let mut source = StaticSource::new(vec![0, 1, 2, 3]);
        let mut worked = Vec::new();
        let run = run_units(&mut source, &clock, 1.0, |unit, _| {
            worked.push(unit);
            anyhow::ensure!(unit != 1, "broken frame");
            Ok(())
        });
        assert_eq!(worked, vec![0, 1]);
        assert_eq!(format!("{:#}", run.error.unwrap()), "unit 1: broken frame");
        assert!(source.next_unit().unwrap().is_none(), "drained");
    }
}
