//! `rollcall calibrate-node`: what busy cores cost each other on this node, measured by
//! replaying a few units of a real run as 1, 2, 4, … concurrent single-thread workers (no MPI)
//! and comparing each worker's cost per frame with one worker's alone. The curve it writes is
//! what `simulate --node` and `probe --node` apply (docs/SCALING.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use serde::Serialize;

use crate::attendance::result::RunResult;
use crate::run::plan::{FramePlan, Plan, Samples};
use crate::run::schedule::LocalSource;
use crate::run::worker::{Job, RankWorkers};

/// What to measure.
#[derive(Debug, Clone)]
pub struct CalibrateSpec {
    pub run: PathBuf,
    /// Most workers at once [default: the cores this process may use].
    pub max_cores: Option<usize>,
    /// Units of the run each worker replays, spread over the recording.
    pub units: usize,
    /// Times each number of workers is measured.
    pub repeat: usize,
    pub models: Option<PathBuf>,
}

/// The node file: the curve (`slowdown:`, the contract `simulate --node` reads) and what it
/// was measured from.
#[derive(Debug, Clone, Serialize)]
pub struct NodeFile {
    /// Busy cores → cost per frame over the cost with one worker alone.
    pub slowdown: BTreeMap<u32, f64>,
    /// Busy cores → sample standard deviation (n − 1, as `rollcall scaling`) of that factor over
    /// workers and repetitions.
    pub spread: BTreeMap<u32, f64>,
    /// Busy cores → mean milliseconds per frame (decode, detect, encode, match).
    pub ms_per_frame: BTreeMap<u32, f64>,
    pub host: String,
    pub cpu: String,
    pub cores: usize,
    pub run: String,
    pub detector: String,
    pub frame_px: String,
    pub frames_per_worker: u64,
    pub repetitions: usize,
    pub rollcall: String,
}

/// 1, 2, 4, … up to `max`, and `max` itself.
fn busy_levels(max: usize) -> Vec<usize> {
    let mut levels: Vec<usize> = std::iter::successors(Some(1), |&k| Some(k * 2)).take_while(|&k| k < max).collect();
    levels.push(max.max(1));
    levels
}

pub fn run(spec: &CalibrateSpec) -> Result<NodeFile> {
    ensure!(spec.units >= 1, "--units must be at least 1");
    ensure!(spec.repeat >= 1, "--repeat must be at least 1");
    ensure!(spec.max_cores != Some(0), "--max-ranks must be at least 1");
    let run = crate::report::hdf5::read(&spec.run)?;
    ensure!(!run.settings.kind.is_photo(), "calibrate-node replays a video run; {} is a photo's", spec.run.display());
    ensure!(
        run.settings.video.is_file(),
        "the run's video {} is not there: calibrate-node replays its frames",
        run.settings.video.display()
    );
    let cores = crate::about::logical_cores();
    let max = spec.max_cores.unwrap_or(cores);
    let model_dir = crate::face::find_model_dir(spec.models.as_deref().or(run.settings.models.as_deref()))?;
    let mut settings = run.settings.clone();
    settings.parallel.threads = 1;
    let s = &settings;
    let plan = Plan::Frames(FramePlan::for_schedule(
        Samples::recorded(run.video.frame_count, run.stride, &run.sampled),
        s.parallel.chunk(),
        s.parallel.schedule,
        run.ranks,
    ));
    let n_units = plan.n_units();
    let mut units: Vec<usize> = (0..spec.units).map(|i| i * n_units / spec.units).collect();
    units.dedup();
    let job = Job { settings: &settings, video: &run.video, roster: &run.roster, plan: &plan };

    let mut per_frame: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let mut frames = 0;
    for rep in 0..spec.repeat {
        for &busy in &busy_levels(max) {
            tracing::info!("repetition {}/{}: {busy} worker(s) at once", rep + 1, spec.repeat);
            let (seconds, n) = replay(&job, &model_dir, &units, busy)?;
            frames = n;
            per_frame.entry(busy).or_default().extend(seconds);
        }
    }
    Ok(node_file(spec, &run, &per_frame, frames, cores))
}

/// `busy` workers replay `units` at once; each one's seconds per frame of its first pass.
/// A worker that is done goes on working (untimed) until all are, so that every timed frame
/// ran with `busy` workers busy.
fn replay(job: &Job, model_dir: &Path, units: &[usize], busy: usize) -> Result<(Vec<f64>, u64)> {
    let start = Barrier::new(busy);
    let timed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..busy)
            .map(|rank| {
                let (start, timed) = (&start, &timed);
                scope.spawn(move || -> Result<(f64, u64)> {
                    let loaded = RankWorkers::new(*job, model_dir, rank as u32);
                    start.wait(); // all loaded before any is timed
                    let first_pass = loaded.and_then(|mut workers| {
                        let began = Instant::now();
                        let frames = replay_units(&mut workers, units)?;
                        Ok((workers, began.elapsed().as_secs_f64(), frames))
                    });
                    timed.fetch_add(1, Ordering::SeqCst); // done or failed: nobody waits for it
                    let (mut workers, seconds, frames) = first_pass?;
                    while timed.load(Ordering::SeqCst) < busy {
                        replay_units(&mut workers, units)?;
                    }
                    Ok((seconds / frames.max(1) as f64, frames))
                })
            })
            .collect();
        let results: Vec<(f64, u64)> =
            workers.into_iter().map(|w| w.join().expect("a calibration worker panicked")).collect::<Result<_>>()?;
        Ok((results.iter().map(|r| r.0).collect(), results.first().map_or(0, |r| r.1)))
    })
}

/// Runs `units` on one worker; the frames analysed.
fn replay_units(workers: &mut RankWorkers, units: &[usize]) -> Result<u64> {
    units.iter().map(|&unit| Ok(workers.run_unit(unit, &mut LocalSource::new(Vec::new()))?.frames)).sum()
}

fn node_file(
    spec: &CalibrateSpec,
    run: &RunResult,
    per_frame: &BTreeMap<usize, Vec<f64>>,
    frames: u64,
    cores: usize,
) -> NodeFile {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let alone = mean(&per_frame[&1]);
    let mut file = NodeFile {
        slowdown: BTreeMap::new(),
        spread: BTreeMap::new(),
        ms_per_frame: BTreeMap::new(),
        host: crate::about::host_name(),
        cpu: crate::about::cpu_model(),
        cores,
        run: spec.run.display().to_string(),
        detector: run.settings.detection.detector.to_string(),
        frame_px: format!("{}x{}", run.video.width, run.video.height),
        frames_per_worker: frames,
        repetitions: spec.repeat,
        rollcall: crate::about::VERSION.to_owned(),
    };
    for (&busy, seconds) in per_frame {
        let factors: Vec<f64> = seconds.iter().map(|s| s / alone).collect();
        let spread = crate::analysis::scaling::Spread::of(&factors);
        let round = |x: f64, digits: i32| (x * 10f64.powi(digits)).round() / 10f64.powi(digits);
        file.slowdown.insert(busy as u32, round(spread.mean, 3));
        file.spread.insert(busy as u32, round(spread.sd, 3));
        file.ms_per_frame.insert(busy as u32, round(mean(seconds) * 1e3, 1));
    }
    file
}

/// Writes the node file as YAML (the `slowdown:` map first), atomically.
pub fn write(file: &NodeFile, path: &Path) -> Result<()> {
    let yaml = serde_norway::to_string(file).context("cannot render the node file")?;
    let text = format!(
        "# rollcall calibrate-node: a frame's cost with k cores busy over its cost alone.\n\
         # simulate --node / probe --node read `slowdown:`; the rest says what was measured.\n{yaml}"
    );
    crate::util::output::write_atomically(path, crate::util::output::Access::Shared, |tmp| {
        Ok(std::fs::write(tmp, text)?)
    })
}

#[cfg(test)]
mod tests {
    use super::busy_levels;

    #[test]
    fn levels_double_up_to_the_cores() {
        assert_eq!(busy_levels(1), [1]);
        assert_eq!(busy_levels(2), [1, 2]);
        assert_eq!(busy_levels(16), [1, 2, 4, 8, 16]);
        assert_eq!(busy_levels(12), [1, 2, 4, 8, 12]);
    }
}
