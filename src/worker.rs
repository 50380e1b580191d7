//! The work of one rank: its threads, each with its own models and media, running the units
//! the schedule gives the rank.
//!
//! A unit's frames are split into contiguous runs, one per thread, so each thread's video
//! handle decodes forward; the models are loaded from disk once per rank and copied to the
//! other threads (deserialising dlib's ResNet costs ~1 s, copying it a few ms). The rank's
//! own thread stays free meanwhile: it only talks MPI (a dynamic master answers requests
//! within milliseconds, not after a frame).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ndarray::ArrayView1;
use opencv::core::{Mat, Rect, Size};
use opencv::imgproc;
use opencv::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::face::{matching, FacePipeline};
use crate::plan::{Plan, TileRect};
use crate::result::{Detection, RankTiming};
use crate::roster::Roster;
use crate::schedule::UnitSource;
use crate::video::{self, VideoInfo, VideoReader};

/// How often the rank's own thread looks for messages while its threads work.
const SERVE_EVERY: Duration = Duration::from_millis(2);

/// What the workers need to know about the job (every rank has the same).
pub struct Job<'a> {
    pub settings: &'a Settings,
    pub video: &'a VideoInfo,
    pub roster: &'a Roster,
    pub plan: &'a Plan,
}

/// The result of one unit, sent to rank 0 as soon as it is done.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnitOutput {
    pub detections: Vec<Detection>,
    /// Sampled frames of the unit the decoder could not produce.
    pub failed_frames: Vec<u64>,
    /// Sampled frames analysed.
    pub frames: u64,
}

impl UnitOutput {
    fn absorb(&mut self, part: UnitOutput) {
        self.detections.extend(part.detections);
        self.failed_frames.extend(part.failed_frames);
        self.frames += part.frames;
    }
}

/// One thread's share of a unit.
enum Task {
    Frames(Vec<usize>),
    Tile(TileRect),
}

/// A rank's threads and their workers.
pub struct RankWorkers<'a> {
    job: Job<'a>,
    pool: rayon::ThreadPool,
    workers: Vec<FrameWorker<'a>>,
    rank: u32,
    setup_s: f64,
}

impl<'a> RankWorkers<'a> {
    /// Loads the models and opens the media for `settings.threads` workers (one for a photo,
    /// whose single-tile units cannot be shared).
    pub fn new(job: Job<'a>, model_dir: &std::path::Path, rank: u32) -> Result<Self> {
        let started = Instant::now();
        let threads = match job.plan {
            Plan::Frames(_) => job.settings.threads,
            Plan::Tiles(_) => 1,
        };
        let pipeline = FacePipeline::load(model_dir, job.settings.upsample)?;
        let mut workers = Vec::with_capacity(threads);
        for _ in 1..threads {
            workers.push(FrameWorker::new(&job, rank, pipeline.clone())?);
        }
        workers.push(FrameWorker::new(&job, rank, pipeline)?);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("rank{rank}-worker{i}"))
            .build()
            .context("cannot start the worker threads")?;
        Ok(RankWorkers { job, pool, workers, rank, setup_s: started.elapsed().as_secs_f64() })
    }

    /// Runs `unit` on the threads; meanwhile this thread keeps `source` served.
    pub fn run_unit(&mut self, unit: usize, source: &mut dyn UnitSource) -> Result<UnitOutput> {
        let tasks = self.tasks(unit);
        let (tx, rx) = mpsc::channel();
        let job = &self.job;
        self.pool.in_place_scope(|scope| {
            for (worker, task) in self.workers.iter_mut().zip(tasks) {
                let tx = tx.clone();
                scope.spawn(move |_| {
                    let _ = tx.send(worker.run(job, task));
                });
            }
            drop(tx);
            let mut output = UnitOutput::default();
            let mut error = None;
            loop {
                match rx.recv_timeout(SERVE_EVERY) {
                    Ok(Ok(part)) => output.absorb(part),
                    Ok(Err(e)) => {
                        error.get_or_insert(e);
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        if let Err(e) = source.serve() {
                            error.get_or_insert(e);
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            match error {
                Some(e) => Err(e),
                None => {
                    output.detections.sort_by_key(|d| (d.frame, d.bbox.x, d.bbox.y));
                    output.failed_frames.sort_unstable();
                    Ok(output)
                }
            }
        })
    }

    /// Unit `unit` cut into one task per thread: contiguous runs of its frames (the first
    /// threads take one more when they do not divide evenly), or the whole tile.
    fn tasks(&self, unit: usize) -> Vec<Task> {
        match self.job.plan {
            Plan::Frames(plan) => {
                let frames: Vec<usize> = plan.unit_frames(unit).collect();
                let threads = self.workers.len();
                let (base, extra) = (frames.len() / threads, frames.len() % threads);
                let mut rest = frames.as_slice();
                (0..threads)
                    .map(|i| {
                        let (part, tail) = rest.split_at(base + usize::from(i < extra));
                        rest = tail;
                        Task::Frames(part.to_vec())
                    })
                    .collect()
            }
            Plan::Tiles(tiles) => vec![Task::Tile(tiles.rect(unit))],
        }
    }

    /// The rank's timings summed over its threads (stage times are thread-seconds).
    pub fn timing(&self) -> RankTiming {
        let mut total = RankTiming { rank: self.rank, setup_s: self.setup_s, ..Default::default() };
        for w in &self.workers {
            total.frames += w.timing.frames;
            total.faces += w.timing.faces;
            total.decode_s += w.timing.decode_s;
            total.detect_s += w.timing.detect_s;
            total.encode_s += w.timing.encode_s;
            total.match_s += w.timing.match_s;
            total.decoded_frames += match &w.media {
                Media::Video(reader) => reader.decoded_frames() as u64,
                Media::Photo(_) => 1,
            };
        }
        total
    }
}

/// Where a worker's pixels come from.
enum Media {
    Video(VideoReader),
    /// The whole photo, decoded once per rank; tiles are views into it.
    Photo(Mat),
}

/// One thread's models, media, buffers and timings.
struct FrameWorker<'a> {
    pipeline: FacePipeline,
    media: Media,
    roster: &'a Roster,
    rank: u32,
    frame: Mat,
    scaled: Mat,
    timing: RankTiming,
}

impl<'a> FrameWorker<'a> {
    fn new(job: &Job<'a>, rank: u32, pipeline: FacePipeline) -> Result<Self> {
        let media = match job.plan {
            Plan::Frames(_) => Media::Video(VideoReader::open(&job.settings.video)?),
            Plan::Tiles(_) => Media::Photo(video::read_image(&job.settings.video)?),
        };
        Ok(FrameWorker {
            pipeline,
            media,
            roster: job.roster,
            rank,
            frame: Mat::default(),
            scaled: Mat::default(),
            timing: RankTiming::default(),
        })
    }

    fn run(&mut self, job: &Job, task: Task) -> Result<UnitOutput> {
        let mut out = UnitOutput::default();
        match task {
            Task::Frames(frames) => {
                for frame in frames {
                    crate::interrupt::check()?;
                    self.analyze_frame(job, frame, &mut out)?;
                }
            }
            Task::Tile(rect) => self.analyze_tile(job, rect, &mut out)?,
        }
        Ok(out)
    }

    /// Decodes, analyses and matches one sampled frame into `out`; a frame that cannot be
    /// decoded is recorded as failed, with a warning.
    fn analyze_frame(&mut self, job: &Job, index: usize, out: &mut UnitOutput) -> Result<()> {
        let t0 = Instant::now();
        let Media::Video(reader) = &mut self.media else { bail!("frames asked of a photo") };
        if !reader.read(index, &mut self.frame)? {
            tracing::warn!("frame {index} could not be decoded; it is left out of the counts");
            out.failed_frames.push(index as u64);
            return Ok(());
        }
        self.timing.decode_s += t0.elapsed().as_secs_f64();
        let frame = std::mem::take(&mut self.frame);
        let found = self.find_faces(job, &frame, index, (0, 0), out);
        self.frame = frame;
        found?;
        self.timing.frames += 1;
        out.frames += 1;
        Ok(())
    }

    /// Analyses one tile of the photo into `out`, boxes in photo pixels.
    fn analyze_tile(&mut self, job: &Job, tile: TileRect, out: &mut UnitOutput) -> Result<()> {
        let t0 = Instant::now();
        let Media::Photo(photo) = &self.media else { bail!("a tile asked of a video") };
        let rect = Rect::new(tile.x as i32, tile.y as i32, tile.w as i32, tile.h as i32);
        // A continuous copy: the face pipeline hands dlib packed rows.
        let pixels = Mat::roi(photo, rect)?.try_clone()?;
        self.timing.decode_s += t0.elapsed().as_secs_f64();
        self.find_faces(job, &pixels, 0, (rect.x, rect.y), out)?;
        out.frames = 1; // a photo is one sampled frame, whichever tile reports it
        self.timing.frames += 1;
        Ok(())
    }

    /// Scales `image`, finds and matches its faces, and records them as detections in frame
    /// `index`, boxes moved by `origin` (in original pixels).
    fn find_faces(
        &mut self,
        job: &Job,
        image: &Mat,
        index: usize,
        origin: (i32, i32),
        out: &mut UnitOutput,
    ) -> Result<()> {
        let settings = job.settings;
        let t0 = Instant::now();
        let image = if settings.scale == 1.0 {
            image
        } else {
            imgproc::resize(
                image,
                &mut self.scaled,
                Size::default(),
                settings.scale,
                settings.scale,
                imgproc::INTER_AREA,
            )
            .context("scaling a frame")?;
            &self.scaled
        };
        self.timing.decode_s += t0.elapsed().as_secs_f64();

        let (faces, stages) = self.pipeline.analyze(image)?;
        self.timing.detect_s += stages.detect.as_secs_f64();
        self.timing.encode_s += stages.encode.as_secs_f64();

        let t1 = Instant::now();
        for face in &faces {
            let best = matching::nearest(&self.roster.encodings, ArrayView1::from(&face.encoding[..]))
                .context("the roster has no encodings")?;
            let student =
                (best.distance <= settings.tolerance).then(|| self.roster.student_of(best.encoding_row) as u32);
            let mut bbox = face.bbox.unscaled(settings.scale);
            bbox.x += origin.0;
            bbox.y += origin.1;
            out.detections.push(Detection {
                frame: index as u64,
                time_s: job.video.time_of(index),
                rank: self.rank,
                bbox,
                student,
                distance: best.distance,
            });
        }
        self.timing.match_s += t1.elapsed().as_secs_f64();
        self.timing.faces += faces.len() as u64;
        Ok(())
    }
}
