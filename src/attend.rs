//! `rollcall attend`: attendance from a lecture recording, on every MPI rank.
//!
//! Rank 0 validates the settings, loads the roster and probes the video, then broadcasts all of
//! it; each rank derives the same plan, runs its units (decode → scale → faces → match) and
//! sends its detections and timings back; rank 0 sorts, aggregates and writes the reports.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use ndarray::ArrayView1;
use opencv::core::{Mat, Size};
use opencv::imgproc;
use serde::{Deserialize, Serialize};

use crate::comm::Comm;
use crate::config::Settings;
use crate::face::{self, matching, FacePipeline};
use crate::plan::FramePlan;
use crate::report;
use crate::result::{self, Detection, RankTiming, RunResult, UnitRecord};
use crate::roster::Roster;
use crate::schedule;
use crate::video::{self, VideoInfo, VideoReader};

/// Everything rank 0 decides before work starts; every rank receives the same copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobSetup {
    settings: Settings,
    video: VideoInfo,
    roster: Roster,
    plan: FramePlan,
    model_dir: PathBuf,
}

/// What a rank sends back when its units are done.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RankReport {
    detections: Vec<Detection>,
    units: Vec<UnitRecord>,
    timing: RankTiming,
    /// Sampled frames the decoder could not produce.
    failed_frames: Vec<u64>,
}

/// Outputs an `attend` run writes into its output directory.
pub const OUTPUTS: [&str; 4] = ["attendance.h5", "attendance.xlsx", "attendance.csv", "detections.csv"];

/// Runs the whole job. `settings` is only read on rank 0 (the others pass what they parsed,
/// which is ignored in favour of the broadcast). Returns the result on rank 0.
pub fn run(comm: &Comm, settings: Result<Settings>, force: bool) -> Result<Option<RunResult>> {
    let setup = if comm.is_root() {
        let prepared = settings.and_then(|s| prepare(s, force)).map_err(|e| format!("{e:#}"));
        comm.broadcast(Some(&prepared))?
    } else {
        comm.broadcast::<Result<JobSetup, String>>(None)?
    };
    let setup = setup.map_err(|msg| anyhow!(msg))?;

    comm.barrier();
    let start = comm.time();
    let report = run_rank(comm, &setup, start).map_err(|e| format!("rank {}: {e:#}", comm.rank()));
    let Some(reports) = comm.gather(&report)? else {
        return Ok(None);
    };
    let reports = reports.into_iter().collect::<Result<Vec<_>, String>>().map_err(|e| anyhow!(e))?;
    let wall_time_s = comm.time() - start;
    Ok(Some(assemble(setup, reports, comm.size(), wall_time_s)))
}

/// Rank 0's checks and loading, before any rank does work.
fn prepare(settings: Settings, force: bool) -> Result<JobSetup> {
    let video = video::probe(&settings.video)?;
    let roster = Roster::load(&settings.roster)?;
    let model_dir = face::find_model_dir(settings.models.as_deref())?;
    report::prepare_output_dir(&settings.output, &OUTPUTS, force)?;
    let stride = settings.sampling.stride(video.fps);
    let plan = FramePlan::new(video.frame_count, stride, settings.chunk);
    Ok(JobSetup { settings, video, roster, plan, model_dir })
}

/// One rank's share of the work.
fn run_rank(comm: &Comm, setup: &JobSetup, start: f64) -> Result<RankReport> {
    let rank = comm.rank();
    let t_setup = Instant::now();
    let pipeline = FacePipeline::load(&setup.model_dir, setup.settings.upsample)?;
    let mut reader = VideoReader::open(&setup.settings.video)?;
    let mut timing = RankTiming { rank: rank as u32, setup_s: t_setup.elapsed().as_secs_f64(), ..Default::default() };

    let mut worker = FrameWorker { setup, pipeline, reader: &mut reader, rank: rank as u32, frame: Mat::default(), scaled: Mat::default() };
    let mut report = RankReport { detections: Vec::new(), units: Vec::new(), timing: RankTiming::default(), failed_frames: Vec::new() };
    for unit in schedule::static_units(setup.settings.schedule, setup.plan.n_units(), rank, comm.size()) {
        let unit_start = comm.time() - start;
        let mut frames = 0;
        for frame in setup.plan.unit_frames(unit) {
            if worker.analyze_frame(frame, &mut timing, &mut report.detections)? {
                frames += 1;
            } else {
                report.failed_frames.push(frame as u64);
            }
        }
        let unit_end = comm.time() - start;
        timing.units += 1;
        timing.busy_s += unit_end - unit_start;
        report.units.push(UnitRecord { unit: unit as u64, rank: rank as u32, start_s: unit_start, end_s: unit_end, frames });
    }
    timing.total_s = comm.time() - start;
    timing.decoded_frames = reader.decoded_frames() as u64;
    report.timing = timing;
    Ok(report)
}

/// The per-frame work of one rank, with its reusable buffers.
struct FrameWorker<'a> {
    setup: &'a JobSetup,
    pipeline: FacePipeline,
    reader: &'a mut VideoReader,
    rank: u32,
    frame: Mat,
    scaled: Mat,
}

impl FrameWorker<'_> {
    /// Decodes, analyses and matches one sampled frame. Returns `false` if it cannot be decoded.
    fn analyze_frame(&mut self, index: usize, timing: &mut RankTiming, out: &mut Vec<Detection>) -> Result<bool> {
        let settings = &self.setup.settings;
        let t0 = Instant::now();
        if !self.reader.read(index, &mut self.frame)? {
            return Ok(false);
        }
        let image = if settings.scale == 1.0 {
            &self.frame
        } else {
            imgproc::resize(&self.frame, &mut self.scaled, Size::default(), settings.scale, settings.scale, imgproc::INTER_AREA)
                .context("scaling a frame")?;
            &self.scaled
        };
        timing.decode_s += t0.elapsed().as_secs_f64();

        let (faces, stages) = self.pipeline.analyze(image)?;
        timing.detect_s += stages.detect.as_secs_f64();
        timing.encode_s += stages.encode.as_secs_f64();

        let t1 = Instant::now();
        let roster = &self.setup.roster;
        for face in &faces {
            let best = matching::nearest(&roster.encodings, ArrayView1::from(&face.encoding[..]))
                .context("the roster has no encodings")?;
            let student = (best.distance <= settings.tolerance).then(|| roster.student_of(best.encoding_row) as u32);
            out.push(Detection {
                frame: index as u64,
                time_s: self.setup.video.time_of(index),
                rank: self.rank,
                bbox: face.bbox.unscaled(settings.scale),
                student,
                distance: best.distance,
            });
        }
        timing.match_s += t1.elapsed().as_secs_f64();
        timing.frames += 1;
        timing.faces += faces.len() as u64;
        Ok(true)
    }
}

/// Rank 0: merges the ranks' reports into one result, independent of who ran what.
fn assemble(setup: JobSetup, reports: Vec<RankReport>, ranks: usize, wall_time_s: f64) -> RunResult {
    let mut detections = Vec::new();
    let mut units = Vec::new();
    let mut timings = Vec::new();
    let mut failed = Vec::new();
    for r in reports {
        detections.extend(r.detections);
        units.extend(r.units);
        timings.push(r.timing);
        failed.extend(r.failed_frames);
    }
    detections.sort_by_key(|d| (d.frame, d.bbox.x, d.bbox.y));
    units.sort_by_key(|u| u.unit);
    failed.sort_unstable();
    let sampled_frames = setup.plan.sampled_frames() as u64 - failed.len() as u64;
    let attendance = result::attendance(&setup.roster, &detections, sampled_frames, setup.settings.threshold);
    RunResult {
        stride: setup.plan.stride,
        settings: setup.settings,
        video: setup.video,
        roster: setup.roster,
        ranks,
        sampled_frames,
        failed_frames: failed,
        detections,
        attendance,
        timings,
        units,
        wall_time_s,
    }
}
