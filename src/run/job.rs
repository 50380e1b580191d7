//! `rollcall attend`: attendance from a lecture recording, on every MPI rank.
//!
//! Rank 0 validates the settings, loads the roster and probes the video, then broadcasts all of
//! it; each rank derives the same plan, runs its units (decode → scale → faces → match) and
//! sends its detections and timings back; rank 0 sorts, aggregates and writes the reports.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use opencv::prelude::*;
use serde::{Deserialize, Serialize};

use crate::attendance::assemble::{assemble, Analysed, Collected, RankReport};
use crate::attendance::result::{RankTiming, RunResult};
use crate::config::{JobKind, Sample, Settings};
use crate::face;
use crate::media::{self, VideoInfo};
use crate::report;
use crate::roster::Roster;
use crate::run::comm::Assignment;
use crate::run::comm::Comm;
use crate::run::journal::{self, Journal};
use crate::run::plan::{FramePlan, Plan, Samples, TilePlan};
use crate::run::schedule::{self, Finished};
use crate::run::worker::{Job, RankWorkers, UnitOutput};
use crate::util::output::FolderLock;
use crate::util::progress::Progress;

/// Everything rank 0 decides before work starts; every rank receives the same copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobSetup {
    settings: Settings,
    video: VideoInfo,
    roster: Roster,
    plan: Plan,
    model_dir: PathBuf,
    /// Units still to do: all of them, or those a resumed journal lacks.
    todo: Vec<usize>,
}

/// What rank 0 alone holds: the journal and the units it already recorded.
struct RootState {
    /// Held until the reports are written.
    lock: FolderLock,
    journal: Journal,
    resumed: Vec<Finished>,
}

/// How `attend` treats an output directory that already holds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to touch earlier outputs or an unfinished run.
    Keep,
    /// Start over, replacing them.
    Replace,
    /// Continue the unfinished run recorded in the journal.
    Resume,
}

/// Rank 0's view of the results as they stream in; each is journaled before it counts.
struct Collector {
    found: Collected,
    progress: Progress,
    journal: Option<Journal>,
    lock: Option<FolderLock>,
}

impl Collector {
    fn take(&mut self, done: Finished) -> Result<()> {
        if let Some(journal) = &mut self.journal {
            journal.record(&done).map_err(|e| {
                if crate::util::output::is_out_of_space(&e) {
                    e.context(
                        "the units journaled so far are kept: free some space and run the same command with --resume",
                    )
                } else {
                    e
                }
            })?;
        }
        self.apply(done)
    }

    /// Takes over rank 0's journal and the units it already holds (a resumed run).
    fn restore(&mut self, state: RootState, output: &std::path::Path, total: u64, quiet: bool) -> Result<()> {
        crate::util::interrupt::announce_on_signal(format!(
            "finished units are saved in {}; run the same command with --resume to finish",
            Journal::path_in(output).display()
        ))?;
        self.progress = Progress::new(total, 0, true); // no progress lines for the replay
        for done in state.resumed {
            self.apply(done)?;
        }
        self.progress = Progress::new(total, self.frames_done(), quiet);
        self.journal = Some(state.journal);
        self.lock = Some(state.lock);
        Ok(())
    }

    /// Sampled frames in the units collected so far (decoded or not).
    fn frames_done(&self) -> u64 {
        self.found.units.iter().map(|u| u.frames).sum::<u64>() + self.found.failed_frames.len() as u64
    }

    fn apply(&mut self, done: Finished) -> Result<()> {
        let output: UnitOutput = done.decode()?;
        self.progress.advance(output.frames + output.failed_frames.len() as u64);
        self.found.units.push(super::timeline_row(&done, output.frames));
        self.found.detections.extend(output.detections);
        self.found.failed_frames.extend(output.failed_frames);
        Ok(())
    }
}

/// Runs the whole job and, on rank 0, writes the reports and returns the result. `settings`
/// is only read on rank 0 (the others' copy is ignored in favour of the broadcast).
pub fn run(comm: &Comm, settings: Result<Settings>, existing: Existing, quiet: bool) -> Result<Option<RunResult>> {
    // What each rank's CPU can run, so that rank 0 picks one HOG build for all (see face::isa).
    let cpus = comm.gather(&face::RankCpu::of_this_process())?;
    let (prepared, mut root) = match cpus {
        Some(cpus) => match settings.and_then(|s| prepare(s, &cpus, existing)) {
            Ok((setup, state)) => (Some(Ok(setup)), Some(state)),
            Err(e) => (Some(Err(e)), None),
        },
        None => (None, None),
    };
    let setup: JobSetup = comm.share(prepared)?;
    let n_units = setup.plan.n_units();
    if comm.is_root() {
        tracing::info!(
            "{}: {} sampled frames in {} units ({} to do) on {} rank(s), {} schedule",
            setup.video.path,
            setup.plan.sampled_frames(),
            n_units,
            setup.todo.len(),
            comm.size(),
            setup.settings.parallel.schedule
        );
    }

    // Models load before the common start, so the timeline and the ranks' totals measure the
    // work and its distribution, not start-up.
    let total = setup.plan.sampled_frames() as u64;
    let mut collector = Collector {
        found: Collected::default(),
        progress: Progress::new(total, 0, quiet || !comm.is_root()),
        journal: None,
        lock: None,
    };
    let job = Job { settings: &setup.settings, video: &setup.video, roster: &setup.roster, plan: &setup.plan };
    let mut worker = RankWorkers::new(job, &setup.model_dir, comm.rank() as u32);
    if let Some(state) = root.take() {
        // A failure here must not leave the others waiting: rank 0 then only drains its units.
        worker = worker.and_then(|w| collector.restore(state, &setup.settings.output, total, quiet).map(|()| w));
    }
    comm.barrier();
    let start = comm.time();
    let report = run_rank(comm, &setup, worker, start, setup.todo.clone(), &mut collector);
    collector.progress.finish();
    let reports = comm.gather_outcomes(report);
    if let Some(signal) = crate::util::interrupt::received().filter(|_| comm.is_root()) {
        let journal = Journal::path_in(&setup.settings.output);
        return Err(anyhow::Error::new(crate::util::interrupt::Interrupted { signal }).context(format!(
            "interrupted: {} of {n_units} units are saved in {}; run the same command with --resume to finish",
            collector.found.units.len(),
            journal.display()
        )));
    }
    let Some(reports) = reports? else {
        return Ok(None);
    };
    let wall_time_s = comm.time() - start;
    let journal = collector.journal.take();
    let _lock = collector.lock.take(); // until the reports are written and the journal gone
    let analysed = Analysed {
        sampled: setup.plan.sampled(),
        stride: setup.plan.stride(),
        settings: setup.settings,
        video: setup.video,
        roster: setup.roster,
    };
    let result = assemble(analysed, collector.found, reports, wall_time_s)?;
    if let Some(journal) = &journal {
        journal.check_in_place()?;
    }
    report::write_all(&result, &result.settings.output).map_err(|e| match &journal {
        Some(_) if crate::util::output::is_out_of_space(&e) => {
            anyhow::anyhow!("{e:#}; the analysis is kept: free some space and run the same command with --resume")
        }
        _ => e,
    })?;
    if let Some(journal) = journal {
        journal.remove()?;
    }
    Ok(Some(result))
}

/// Rank 0's checks and loading, before any rank does work. `cpus`: what each rank can run.
fn prepare(mut settings: Settings, cpus: &[face::RankCpu], existing: Existing) -> Result<(JobSetup, RootState)> {
    let ranks = cpus.len();
    settings.detection.isa = settings.detection.isa.resolve(&cpus.iter().map(|c| c.isa).collect::<Vec<_>>())?;
    let video = match settings.kind {
        JobKind::Photo(_) => probe_photo(&settings.video)?,
        JobKind::Video => media::probe(&settings.video, settings.stream, settings.reader)?,
    };
    check_before_any_file(&settings, &video)?;
    let roster = Roster::load(&settings.roster)?;
    let model_dir = face::find_model_dir(settings.models.as_deref())?;
    // Models that cannot load (a missing or damaged file, ONNX Runtime missing or without the
    // device asked for) are refused here, in one line, before any rank starts or any file is
    // written; each rank loads its own copy later.
    face::FacePipeline::load(&model_dir, &settings.detection.setup())?;
    if let Some(rank) = settings.parallel.slow_ranks.keys().find(|&&r| r as usize >= ranks) {
        bail!("bench.slow_ranks names rank {rank}, but the job has {ranks} rank(s)");
    }
    let plan = match settings.kind {
        JobKind::Photo(t) => {
            settings.fit_units_to(0);
            Plan::Tiles(TilePlan::new(video.width, video.height, t.tile, t.overlap))
        }
        JobKind::Video => {
            let samples = samples(&settings, &video)?;
            settings.fit_units_to(samples.len());
            Plan::Frames(FramePlan::for_schedule(samples, settings.parallel.chunk(), settings.parallel.schedule, ranks))
        }
    };
    if settings.kind.is_photo() && settings.parallel.threads > 1 {
        tracing::warn!(
            "threads ({}) applies to videos; a photo's tiles are spread over ranks",
            settings.parallel.threads
        );
    }
    if !settings.parallel.slow_ranks.is_empty() {
        tracing::warn!("benchmark knob bench.slow_ranks is on ({}): timings are not real", settings.slow_ranks_text());
    }
    let state = open_journal(&settings, &plan, existing)?;
    let done: std::collections::HashSet<u64> = state.resumed.iter().map(|f| f.unit).collect();
    let todo = (0..plan.n_units()).filter(|u| !done.contains(&(*u as u64))).collect();
    Ok((JobSetup { settings, video, roster, plan, model_dir, todo }, state))
}

/// What the settings ask of this recording that cannot be done, found before any file is
/// written (afterwards it would leave a journal behind that blocks the rerun): a date that is
/// not a calendar day, and a detection scale that shrinks the frames below the smallest face
/// the detector finds. (Stored results are read as they ran, so these checks live here, not
/// where settings are read.)
fn check_before_any_file(settings: &Settings, video: &VideoInfo) -> Result<()> {
    if let Some(date) = &settings.date {
        let shaped = date.len() == 10
            && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        if !shaped || humantime::parse_rfc3339(&format!("{date}T00:00:00Z")).is_err() {
            bail!("date {date:?} is not a day of the calendar written YYYY-MM-DD (e.g. 2026-10-05)");
        }
    }
    let d = &settings.detection;
    let scaled = |side: u32| (f64::from(side) * d.scale).round();
    let (width, height) = (scaled(video.width), scaled(video.height));
    let smallest = d.detector.smallest_face_px();
    if width.min(height) < f64::from(smallest) {
        bail!(
            "scale {} (min_face {} px) shrinks the {}×{} px frames to {width}×{height} px before detection, smaller \
             than the {smallest} px faces the {} detector finds: a face can be at most as wide as the frame, so lower \
             min_face (or raise scale)",
            d.scale,
            d.min_face,
            video.width,
            video.height,
            d.detector
        );
    }
    Ok(())
}

/// The frames a video job samples: every stride-th, or under `sample: keyframes` the
/// keyframe nearest each, with a warning when the recording's keyframes are too sparse for
/// the rate asked for (those frames are sampled themselves).
fn samples(settings: &Settings, video: &VideoInfo) -> Result<Samples> {
    let stride = settings.sampling.stride(video.fps);
    if settings.sample == Sample::Frames {
        return Ok(Samples::every(video.frame_count, stride));
    }
    let keyframes = crate::media::keyframes(&settings.video, video.stream)?;
    let (samples, not_keyframes) = Samples::nearest_keyframes(video.frame_count, stride, &keyframes);
    if not_keyframes > 0 {
        let gap_s = match keyframes.as_slice() {
            [first, .., last] => Some((last - first) as f64 / (keyframes.len() - 1) as f64 / video.fps),
            _ => None,
        };
        let (seen, advice) = match gap_s {
            Some(gap) => (format!("a keyframe every {gap:.1} s"), format!("--fps {:.2} or less", 1.0 / gap)),
            None => ("no keyframe index".to_owned(), "sample: frames".to_owned()),
        };
        tracing::warn!(
            "sample: keyframes: {not_keyframes} of {} frames asked for (one every {:.1} s) have no keyframe within \
             half of that ({seen} here) and are sampled as they are; for keyframes only use {advice}",
            samples.len(),
            stride as f64 / video.fps,
        );
    }
    Ok(samples)
}

/// A photo as a one-frame "video": its size, so that tiles can be planned.
fn probe_photo(path: &std::path::Path) -> Result<VideoInfo> {
    let meta = std::fs::metadata(path).map_err(|_| anyhow!("photo {} does not exist", path.display()))?;
    let image = media::read_image(path)?;
    media::warn_if_cut_short(path)?;
    Ok(VideoInfo {
        path: path.display().to_string(),
        file_size: meta.len(),
        frame_count: 1,
        fps: 1.0,
        width: image.cols() as u32,
        height: image.rows() as u32,
        stream: 0,
    })
}

/// Prepares the output directory and its journal: a new one, or the interrupted run's to
/// resume. Refuses to overwrite a finished run's outputs or an unfinished run's journal
/// unless told to.
fn open_journal(settings: &Settings, plan: &Plan, existing: Existing) -> Result<RootState> {
    let out = &settings.output;
    let meta = std::fs::metadata(&settings.video)?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let roster_bytes = std::fs::read(&settings.roster)?;
    let header = journal::Header {
        video_size: meta.len(),
        video_mtime: mtime,
        roster_crc: crc32fast::hash(&roster_bytes),
        settings: settings.to_yaml()?,
        plan: postcard::to_stdvec(plan)?,
    };
    let lock = FolderLock::take(out)?;
    let journal_path = Journal::path_in(out);
    match existing {
        Existing::Resume if journal_path.exists() => {
            report::prepare_output_dir(out, &[], true)?;
            let (journal, resumed) = Journal::resume(out, &header)?;
            tracing::info!("resuming: {} of {} units were done", resumed.len(), plan.n_units());
            return Ok(RootState { lock, journal, resumed });
        }
        Existing::Resume => {
            if let Some(finished) = report::all_outputs().iter().map(|o| out.join(o)).find(|p| p.exists()) {
                bail!(
                    "nothing to resume: {} holds a finished run ({} exists, no journal); pass --force to run again",
                    out.display(),
                    finished.display()
                );
            }
            tracing::info!("no journal in {}: starting from the beginning", out.display());
        }
        Existing::Keep if journal_path.exists() => bail!(
            "{} holds an unfinished run ({}): pass --resume to finish it, or --force to start over",
            out.display(),
            journal_path.display()
        ),
        Existing::Keep | Existing::Replace => {}
    }
    report::prepare_output_dir(out, &report::all_outputs(), existing == Existing::Replace)?;
    Ok(RootState { lock, journal: Journal::create(out, header)?, resumed: Vec::new() })
}

/// One rank's share of the work: runs its units (`todo` is every unit still to do), sending
/// each result to rank 0's `collector`. A rank whose worker could not be set up still takes
/// part in the schedule (it drains its source without working) so that nobody waits for it.
fn run_rank(
    comm: &Comm,
    setup: &JobSetup,
    worker: Result<RankWorkers>,
    start: f64,
    todo: Vec<usize>,
    collector: &mut Collector,
) -> Result<RankReport> {
    let rank = comm.rank();
    let assignment = Assignment::of(setup.settings.parallel.schedule, &todo, rank, comm.size());
    let mut source = comm.unit_source(assignment, Box::new(|done| collector.take(done)));
    let clock = || comm.time() - start;
    let slowdown = setup.settings.slowdown_of(rank);
    let (worker, run) =
        schedule::run_units_with(source.as_mut(), rank as u32, &clock, slowdown, worker, |worker, unit, source| {
            crate::util::interrupt::check()?;
            worker.run_unit(unit, source)
        })?;
    let timing = RankTiming {
        units: run.units,
        busy_s: run.busy_s,
        wait_s: run.wait_s,
        comm_s: run.comm_s,
        total_s: clock(),
        cpu_s: crate::about::process_cpu_s(),
        ..worker.timing()
    };
    Ok(RankReport {
        timing,
        warnings: crate::util::log::take_warnings(),
        host: crate::about::HostInfo::of_this_process(rank as u32),
    })
}
