//! `make bench-balance`: static versus dynamic scheduling with one rank slowed 2×.
//!
//! Runs the ground-truth lecture on 2 MPI ranks with `bench.slow_ranks: {"1": 2.0}` under each
//! schedule, reads the per-rank timings back from attendance.h5 and prints the makespan, the
//! ideal makespan (total work / total speed) and their ratio. Block leaves the fast rank idle
//! while the slow one finishes its half; dynamic should come within 1.10 of ideal.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use rollcall::attendance::result::RankTiming;

const RANKS: usize = 2;
const SLOW_RANK: usize = 1;
const SLOWDOWN: f64 = 2.0;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(mut c: Command) -> Result<()> {
    let o = c.output().with_context(|| format!("cannot run {c:?}"))?;
    ensure!(o.status.success(), "{c:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    Ok(())
}

struct Outcome {
    makespan: f64,
    ideal: f64,
    ranks: Vec<RankTiming>,
}

fn run(schedule: &str, roster: &Path, config: &Path, out: &Path) -> Result<Outcome> {
    let mut c = Command::new("mpirun");
    c.current_dir(repo())
        .args(["--oversubscribe", "-n", &RANKS.to_string(), env!("CARGO_BIN_EXE_rollcall"), "attend"])
        .arg("data/lecture/lecture.avi")
        .arg("--roster")
        .arg(roster)
        .arg("-o")
        .arg(out)
        .args(["--config"])
        .arg(config)
        .args(["--schedule", schedule, "--force"]);
    check(c)?;
    let file = hdf5::File::open(out.join("attendance.h5"))?;
    let ranks: Vec<RankTiming> = file.dataset("ranks")?.read_raw()?;
    let slowdown = |r: &RankTiming| if r.rank as usize == SLOW_RANK { SLOWDOWN } else { 1.0 };
    let work: f64 = ranks.iter().map(|r| r.busy_s / slowdown(r)).sum();
    let speed: f64 = ranks.iter().map(|r| 1.0 / slowdown(r)).sum();
    let makespan = ranks.iter().map(|r| r.total_s).fold(0.0, f64::max);
    Ok(Outcome { makespan, ideal: work / speed, ranks })
}

fn main() -> Result<()> {
    ensure!(repo().join("data/lecture/lecture.avi").exists(), "run `make setup` first");
    let dir = repo().join("out/bench-balance");
    std::fs::create_dir_all(&dir)?;
    let roster = dir.join("roster.h5");
    let mut enroll = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    enroll.current_dir(repo()).args(["enroll", "data/lecture/photos", "--force", "-o"]).arg(&roster);
    check(enroll)?;
    // Every 5th frame in units of 2: 60 frames of work in 30 units.
    let config = dir.join("slow.yaml");
    std::fs::write(&config, format!("every: 5\nchunk: 2\nbench:\n  slow_ranks: {{\"{SLOW_RANK}\": {SLOWDOWN}}}\n"))?;

    println!(
        "{RANKS} ranks, rank {SLOW_RANK} slowed {SLOWDOWN}x, ground-truth lecture every 5th frame, 2 frames per unit"
    );
    println!("{:<9} {:>10} {:>10} {:>7}   per rank busy / wait (s)", "schedule", "makespan", "ideal", "ratio");
    for schedule in ["block", "cyclic", "dynamic", "guided"] {
        let o = run(schedule, &roster, &config, &dir.join(schedule))?;
        let per_rank: Vec<String> =
            o.ranks.iter().map(|r| format!("r{} {:.2} / {:.2}", r.rank, r.busy_s, r.wait_s)).collect();
        println!(
            "{:<9} {:>9.2}s {:>9.2}s {:>7.3}   {}",
            schedule,
            o.makespan,
            o.ideal,
            o.makespan / o.ideal,
            per_rank.join("   ")
        );
    }
    Ok(())
}
