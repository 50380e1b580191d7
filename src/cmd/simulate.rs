//! `rollcall simulate`: a measured run replayed on other rank counts and schedules.

use anyhow::{bail, Context, Result};

use crate::cli::SimulateArgs;
use crate::report;
use crate::simulate::{self, CostModel, StudySpec};

/// The longest recording `simulate --minutes` predicts.
const MAX_MINUTES: f64 = 24.0 * 60.0;

pub fn run(args: SimulateArgs) -> Result<()> {
    if let Some(rank) = args.slow.iter().map(|s| s.0).find(|&r| !args.ranks.iter().any(|&n| r < n as u32)) {
        bail!("--slow names rank {rank}, but no simulated run has that many ranks");
    }
    if let Some(&bad) = args.ranks.iter().find(|&&n| n == 0 || n > 1 << 20) {
        bail!("--ranks: {bad} is not a number of ranks (1 to 1048576)");
    }
    if !(args.latency_us >= 0.0 && args.latency_us.is_finite()) {
        bail!("--latency-us must be ≥ 0");
    }
    if args.master_us.is_some_and(|us| !(us >= 0.0 && us.is_finite())) {
        bail!("--master-us must be ≥ 0");
    }
    // Sorted and once each: the table and its charts run along ranks, a line per schedule.
    let (mut ranks, mut schedules) = (args.ranks, args.schedule);
    ranks.sort_unstable();
    ranks.dedup();
    schedules.sort_by_key(|s| s.to_string());
    schedules.dedup();
    let run = report::hdf5::read(&args.run)?;
    let mut model = CostModel::from_run(&run)?;
    if let Some(minutes) = args.minutes {
        // Beyond a day it is not a lecture, and the profile would fill memory (--minutes 1e9
        // once asked for 480 GB).
        if !(minutes > 0.0 && minutes <= MAX_MINUTES) {
            bail!("--minutes must be > 0 and at most {MAX_MINUTES} (a day of recording), got {minutes}");
        }
        model = model.repeated_to(minutes * 60.0);
    }
    let chunk = args.chunk.unwrap_or(model.chunk);
    if chunk == 0 {
        bail!("--chunk must be at least 1");
    }
    let spec = StudySpec {
        ranks,
        schedules,
        chunk,
        slow: args.slow.into_iter().collect(),
        latency_s: args.latency_us * 1e-6,
        master_s: args.master_us.map(|us| us * 1e-6).or(model.master_s).unwrap_or(simulate::DEFAULT_MASTER_S),
        node: args.node.load()?,
    };
    let rows = simulate::study(&model, &spec).context("simulation stopped: nothing written")?;
    crate::util::output::create_folder(&args.output)
        .with_context(|| format!("cannot create output directory {}", args.output.display()))?;
    let study = simulate::files::study(&rows);
    study.write_csv(&args.output.join("simulation.csv"))?;
    study.write_xlsx(&args.output.join("simulation.xlsx"))?;
    println!(
        "{:.0} s of video, {} sampled frames, {:.1} ms/frame measured, chunk {chunk}, master {:.0} us/message, latency {} us",
        model.video_seconds(),
        model.frame_s.len(),
        1e3 * model.frame_s.iter().sum::<f64>() / model.frame_s.len() as f64,
        spec.master_s * 1e6,
        spec.latency_s * 1e6
    );
    println!(
        "{:<9} {:>6} {:>7} {:>12} {:>8} {:>10} {:>8} {:>9}",
        "schedule", "ranks", "units", "makespan (s)", "speedup", "efficiency", "master", "decoded"
    );
    for r in &rows {
        println!(
            "{:<9} {:>6} {:>7} {:>12.2} {:>8.1} {:>9.0}% {:>7.2}% {:>8.2}x",
            r.schedule.to_string(),
            r.ranks,
            r.units,
            r.outcome.makespan_s,
            r.speedup,
            r.efficiency * 100.0,
            r.master_share() * 100.0,
            r.decoded_per_sample()
        );
    }
    println!("{}", spec.node.describe());
    println!("table and charts in {}", args.output.join("simulation.xlsx").display());
    Ok(())
}
