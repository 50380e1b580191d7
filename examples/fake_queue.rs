//! The schedulers and the MPI work queue on a fake workload: each unit sleeps, nothing else.
//! Used by tests/schedules.rs (run under mpirun) to check the protocol with no faces involved.
//!
//!     mpirun -n 3 fake_queue SCHEDULE N_UNITS MS_PER_UNIT [SLOW_RANK FACTOR]
//!
//! Rank 0 prints one line `unit rank` per unit result it received, then `makespan_s S`.
//! With `FAKE_QUEUE_FAIL_RANK=R`, rank R's work fails on its first unit: the job must still
//! end, with that error.

use std::time::Duration;

use anyhow::{Context, Result};
use rollcall::config::Schedule;
use rollcall::run::comm::{Assignment, Comm};
use rollcall::run::schedule;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: fake_queue SCHEDULE N_UNITS MS_PER_UNIT [SLOW_RANK FACTOR]";
    let schedule: Schedule =
        clap::ValueEnum::from_str(args.first().context(usage)?, true).map_err(anyhow::Error::msg)?;
    let n_units: usize = args.get(1).context(usage)?.parse()?;
    let ms: u64 = args.get(2).context(usage)?.parse()?;
    let slow: Option<(usize, f64)> = match (args.get(3), args.get(4)) {
        (Some(r), Some(f)) => Some((r.parse()?, f.parse()?)),
        _ => None,
    };

    let comm = Comm::init()?;
    let todo: Vec<usize> = (0..n_units).collect();
    let assignment = Assignment::of(schedule, &todo, comm.rank(), comm.size());
    // Rank 0 collects (unit, rank) as results stream in.
    let mut ran: Vec<(u64, u32)> = Vec::new();
    let fail_rank: Option<usize> = std::env::var("FAKE_QUEUE_FAIL_RANK").ok().and_then(|r| r.parse().ok());
    let slowdown = slow.filter(|&(r, _)| r == comm.rank()).map_or(1.0, |(_, f)| f);
    comm.barrier();
    let start = comm.time();
    let clock = || comm.time() - start;
    let run = {
        let mut source = comm.unit_source(
            assignment,
            Box::new(|done| {
                ran.push((done.unit, done.rank));
                Ok(())
            }),
        );
        schedule::run_units(source.as_mut(), comm.rank() as u32, &clock, slowdown, |unit, source| {
            anyhow::ensure!(fail_rank != Some(comm.rank()), "rank {} failed on unit {unit} on purpose", comm.rank());
            // Two halves, serving in between, as the real workload serves between frames.
            std::thread::sleep(Duration::from_millis(ms / 2));
            source.serve()?;
            std::thread::sleep(Duration::from_millis(ms - ms / 2));
            Ok(())
        })
    };
    let error = run.error.map(|e| format!("{e:#}"));
    if let Some(ends) = comm.gather(&(clock(), error))? {
        if let Some(e) = ends.iter().find_map(|(_, e)| e.clone()) {
            anyhow::bail!(e);
        }
        for (unit, rank) in &ran {
            println!("{unit} {rank}");
        }
        println!("makespan_s {:.3}", ends.iter().map(|(t, _)| *t).fold(0.0, f64::max));
    }
    Ok(())
}
