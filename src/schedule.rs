//! Which rank runs which unit. Knows nothing about faces, frames or MPI.
//!
//! A unit is an index `0..n_units` into a plan that every rank computes identically, so a
//! schedule only ever deals in indices. Static schedules are pure functions of
//! `(n_units, rank, size)`: no message is needed once the plan is known.

use std::fmt;

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
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schedule::Block => "block",
            Schedule::Cyclic => "cyclic",
        })
    }
}

/// The units `rank` of `size` runs under a static schedule, in the order it should run them.
pub fn static_units(schedule: Schedule, n_units: usize, rank: usize, size: usize) -> Vec<usize> {
    assert!(rank < size, "rank {rank} out of {size}");
    match schedule {
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
