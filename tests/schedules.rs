//! The schedulers and the MPI work-queue protocol on a fake workload (examples/fake_queue.rs):
//! no faces, no video, just units that sleep.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

fn fake_queue() -> PathBuf {
    // Cargo builds examples next to the test binaries' profile directory.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rollcall"));
    let path = bin.parent().unwrap().join("examples/fake_queue");
    assert!(path.exists(), "{} not built (cargo test builds examples)", path.display());
    path
}

/// Runs the fake workload, with a hard time limit so a protocol hang fails instead of hanging.
/// Returns unit → ranks that ran it.
fn run(schedule: &str, ranks: usize, units: usize, ms: u64, slow: Option<(usize, f64)>) -> BTreeMap<u64, Vec<usize>> {
    let mut c = common::mpirun_program(&fake_queue(), ranks, Some(60));
    c.args([schedule.to_string(), units.to_string(), ms.to_string()]);
    if let Some((rank, factor)) = slow {
        c.args([rank.to_string(), factor.to_string()]);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{schedule} {ranks} ranks {units} units: {}\n{}", o.status, common::stderr(&o));
    let mut ran: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines().filter(|l| !l.starts_with("makespan")) {
        let (unit, rank) = line.split_once(' ').unwrap();
        ran.entry(unit.parse().unwrap()).or_default().push(rank.parse().unwrap());
    }
    ran
}

#[test]
fn every_unit_runs_exactly_once_and_the_protocol_terminates() {
    for schedule in ["block", "cyclic", "dynamic", "guided"] {
        for ranks in [1, 2, 3, 5] {
            // Including no units at all and more ranks than units.
            for units in [0, 1, 4, 13] {
                let ran = run(schedule, ranks, units, 5, None);
                let expected: Vec<u64> = (0..units as u64).collect();
                assert_eq!(ran.keys().copied().collect::<Vec<_>>(), expected, "{schedule} {ranks} ranks {units} units");
                assert!(ran.values().all(|r| r.len() == 1), "{schedule} {ranks} ranks: a unit ran twice: {ran:?}");
            }
        }
    }
}

/// A rank whose work fails keeps the protocol going (it drains its units and says so), so the
/// job ends with the error instead of a master waiting forever, under every schedule.
#[test]
fn a_failing_rank_ends_the_job_with_its_error_not_a_hang() {
    for schedule in ["block", "dynamic", "guided"] {
        for fail_rank in [0, 1] {
            let mut c = common::mpirun_program(&fake_queue(), 3, Some(60));
            c.args([schedule, "40", "20"]).env("FAKE_QUEUE_FAIL_RANK", fail_rank.to_string());
            let o = c.output().unwrap();
            let err = common::stderr(&o);
            assert_ne!(o.status.code(), Some(124), "{schedule}, rank {fail_rank} failing: the job hung");
            assert!(!o.status.success(), "{schedule}, rank {fail_rank} failing: succeeded");
            assert!(err.contains(&format!("rank {fail_rank} failed on unit")), "{schedule}: {err}");
        }
    }
}

#[test]
fn the_dynamic_master_works_too_and_a_slow_rank_gets_less() {
    let ran = run("dynamic", 2, 24, 20, Some((1, 4.0)));
    let per_rank = |r: usize| ran.values().filter(|v| v[0] == r).count();
    assert!(per_rank(0) > 0, "rank 0 runs units while it serves");
    assert!(per_rank(0) > per_rank(1), "rank 0 ran {}, the 4x slower rank 1 ran {}", per_rank(0), per_rank(1));
    // Block ignores speed: each rank gets half.
    let ran = run("block", 2, 24, 20, Some((1, 4.0)));
    assert_eq!(ran.values().filter(|v| v[0] == 1).count(), 12);
}
