//! `rollcall simulate`: how a measured run would scale, before allocation hours are spent.
//!
//! The cost of every sampled frame is read off the run's timeline (each unit's time spread
//! over its frames, the benchmark slow-down taken out, the decoding spent reaching the unit
//! taken out), so the busy and the quiet stretches of the lecture are where they were. Any
//! plan (chunk, schedule, ranks, a longer lecture) is then cut from that profile and played
//! through [`des::simulate`]. Beside it: [`calibrate`] measures what busy cores cost each other
//! on a node ([`node`] is that model), and [`probe`] predicts a job from a few frames.

pub mod calibrate;
pub mod des;
pub mod files;
pub mod node;
pub mod probe;

use std::collections::BTreeMap;

use anyhow::{ensure, Result};

use crate::attendance::result::RunResult;
use crate::config::Schedule;
use crate::run::plan::{FramePlan, Samples};
use des::{decodes_to_reach, Scenario, SimUnit};
use node::NodeModel;

/// How often rank 0's own thread looks for messages while its workers analyse: the real one's.
pub const POLL_S: f64 = crate::run::worker::SERVE_EVERY.as_secs_f64();

/// Per-message cost of the master when the run cannot tell (a single-rank run has no
/// messages): receiving a result, writing its journal record (synced to disk at most once a
/// second) and answering, as measured on this 2-core machine (38 µs, docs/SCALING.md).
pub const DEFAULT_MASTER_S: f64 = 40e-6;

/// What the simulations draw on, from one measured run.
#[derive(Debug, Clone)]
pub struct CostModel {
    /// Seconds of one rank's work per sampled frame, along the video.
    pub frame_s: Vec<f64>,
    pub stride: usize,
    /// Seconds to decode one frame.
    pub decode_s: f64,
    /// Seconds of rank 0's time per message, measured when the run had workers.
    pub master_s: Option<f64>,
    pub chunk: usize,
    /// Sampled frames per second of video.
    pub samples_per_s: f64,
    /// Ranks and threads per rank of the measured run: the cores that were busy together
    /// while `frame_s` was measured (taken to be on one node).
    pub measured_ranks: usize,
    pub threads: usize,
}

impl CostModel {
    pub fn from_run(run: &RunResult) -> Result<Self> {
        ensure!(!run.settings.kind.is_photo(), "simulate models video runs; this is a photo's");
        let s = &run.settings;
        let plan = FramePlan::for_schedule(
            Samples::recorded(run.video.frame_count, run.stride, &run.sampled),
            s.parallel.chunk(),
            s.parallel.schedule,
            run.ranks,
        );
        ensure!(
            run.units.len() == plan.n_units() && plan.n_units() > 0,
            "the run's timeline has {} units where its plan has {}: simulate needs a complete run",
            run.units.len(),
            plan.n_units()
        );
        let decoded: u64 = run.timings.iter().map(|t| t.decoded_frames).sum();
        let decode_s = run.timings.iter().map(|t| t.decode_s).sum::<f64>() / decoded.max(1) as f64;

        // Replay each rank's reader to take out what reaching each unit cost it.
        let mut units = run.units.clone();
        units.sort_by(|a, b| (a.rank, a.start_s).partial_cmp(&(b.rank, b.start_s)).expect("finite times"));
        let mut position: BTreeMap<u32, usize> = BTreeMap::new();
        let mut frame_s = vec![0.0; plan.sampled_frames()];
        let continuing = decodes_to_reach(run.stride as i64 - 1) as f64;
        for u in &units {
            let samples = plan.unit_samples(u.unit as usize);
            let first = plan.samples.frame(samples.start);
            let at = position.entry(u.rank).or_insert(0);
            let walk = decodes_to_reach(first as i64 - *at as i64) as f64 - continuing;
            *at = plan.samples.frame(samples.end - 1) + 1;
            let work = ((u.end_s - u.start_s) / s.slowdown_of(u.rank as usize) - walk * decode_s).max(0.0);
            let per_frame = work / samples.len() as f64;
            frame_s[samples].fill(per_frame);
        }
        let master_s = master_cost(run);
        Ok(CostModel {
            frame_s,
            stride: run.stride,
            decode_s,
            master_s,
            chunk: s.parallel.chunk(),
            samples_per_s: run.video.fps / run.stride as f64,
            measured_ranks: run.ranks,
            threads: s.parallel.threads,
        })
    }

    /// The profile stretched (repeated) to a video of `seconds`.
    pub fn repeated_to(&self, seconds: f64) -> CostModel {
        let samples = (seconds * self.samples_per_s).round().max(1.0) as usize;
        let frame_s = self.frame_s.iter().copied().cycle().take(samples).collect();
        CostModel { frame_s, ..self.clone() }
    }

    pub fn video_seconds(&self) -> f64 {
        self.frame_s.len() as f64 / self.samples_per_s
    }

    /// The units of `plan`, their work summed from the profile.
    fn units(&self, plan: &FramePlan) -> Vec<SimUnit> {
        (0..plan.n_units())
            .map(|u| {
                let samples = plan.unit_samples(u);
                SimUnit {
                    first_frame: samples.start * self.stride,
                    frames: samples.len(),
                    work_s: self.frame_s[samples].iter().sum(),
                }
            })
            .collect()
    }
}

/// Rank 0's time per message it handled, when the run had other ranks to send it any.
fn master_cost(run: &RunResult) -> Option<f64> {
    let root = run.timings.iter().find(|t| t.rank == 0)?;
    let others: u64 = run.timings.iter().filter(|t| t.rank != 0).map(|t| t.units).sum();
    let workers = run.ranks as u64 - 1;
    // A result per unit and a done per worker; under a queue also a request per unit (each
    // unit's start asks for the next, the last answered "none"), plus the first request of a
    // worker that started without a unit.
    let seeded = (run.units.len() as u64).min(run.ranks as u64).saturating_sub(1);
    let requests = if run.settings.parallel.schedule.is_dynamic() { others + workers - seeded } else { 0 };
    let messages = others + workers + requests;
    (messages > 0 && root.comm_s > 0.0).then(|| root.comm_s / messages as f64)
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct StudySpec {
    pub ranks: Vec<usize>,
    pub schedules: Vec<Schedule>,
    pub chunk: usize,
    pub slow: BTreeMap<u32, f64>,
    pub latency_s: f64,
    pub master_s: f64,
    /// The node's slowdown curve (if measured) and the ranks per node.
    pub node: NodeModel,
}

/// One predicted run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRow {
    pub schedule: Schedule,
    pub ranks: usize,
    pub chunk: usize,
    pub units: usize,
    pub frames: usize,
    pub outcome: des::Outcome,
    /// The 1-rank prediction of the same schedule over this one.
    pub speedup: f64,
    pub efficiency: f64,
}

impl SimRow {
    /// Share of the makespan rank 0 spends handling messages.
    pub fn master_share(&self) -> f64 {
        self.outcome.master_busy_s / self.outcome.makespan_s
    }

    /// Frames decoded per sampled frame.
    pub fn decoded_per_sample(&self) -> f64 {
        self.outcome.decoded_frames as f64 / self.frames as f64
    }
}

/// Every schedule on every number of ranks, sorted by (schedule, ranks); stops at a SIGTERM
/// or SIGINT.
pub fn study(model: &CostModel, spec: &StudySpec) -> Result<Vec<SimRow>, crate::util::interrupt::Interrupted> {
    let mut rows = Vec::new();
    for &schedule in &spec.schedules {
        let run = |ranks: usize| {
            let frame_count = model.frame_s.len() * model.stride;
            let plan = FramePlan::for_schedule(Samples::every(frame_count, model.stride), spec.chunk, schedule, ranks);
            let contention = spec.node.contention(ranks, model.threads);
            // The measured costs already hold the crowding of the measured run: take it out.
            let crowded = contention.map_or(1.0, |c| c.factor(model.measured_ranks));
            let units: Vec<SimUnit> =
                model.units(&plan).into_iter().map(|u| SimUnit { work_s: u.work_s / crowded, ..u }).collect();
            let outcome = des::simulate(&Scenario {
                schedule,
                ranks,
                units: &units,
                stride: model.stride,
                decode_s: model.decode_s,
                slow: &spec.slow,
                master_s: spec.master_s,
                latency_s: spec.latency_s,
                poll_s: POLL_S,
                contention,
            })?;
            Ok((units.len(), plan.sampled_frames(), outcome))
        };
        let baseline = run(1)?.2.makespan_s;
        for &ranks in &spec.ranks {
            let (units, frames, outcome) = run(ranks)?;
            let speedup = baseline / outcome.makespan_s;
            rows.push(SimRow {
                schedule,
                ranks,
                chunk: spec.chunk,
                units,
                frames,
                speedup,
                efficiency: speedup / ranks as f64,
                outcome,
            });
        }
    }
    Ok(rows)
}
