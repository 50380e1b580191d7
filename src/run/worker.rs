//! The work of one rank: its units, decoded on the rank's own thread and analysed by its
//! worker threads, each with its own copy of the models.
//!
//! One reader per rank walks the video forward (no thread seeks past frames another decodes)
//! and hands each sampled frame to whichever thread is free; decoding the next frame overlaps
//! with analysing the last. The models are loaded from disk once per rank and copied to the
//! other threads (deserialising dlib's ResNet costs ~1 s, copying it a few ms). After each
//! frame it hands over, and every 2 ms while the threads are busy, the rank's own thread also
//! answers MPI messages, so a dynamic master replies within milliseconds, not after a unit.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ndarray::ArrayView1;
use opencv::core::{Mat, Rect};
use opencv::prelude::*;
use serde::{Deserialize, Serialize};

use crate::attendance::observation::Detection;
use crate::attendance::result::RankTiming;
use crate::config::Settings;
use crate::face::{matching, FacePipeline};
use crate::media::{self, VideoInfo, VideoReader};
use crate::roster::Roster;
use crate::run::follow::{self, Inherit, Seen, Trail};
use crate::run::plan::Plan;
use crate::run::schedule::UnitSource;

/// How often the rank's own thread looks for messages while its threads work (the simulator
/// models the same period).
pub const SERVE_EVERY: Duration = Duration::from_millis(2);

/// What the workers need to know about the job (every rank has the same).
#[derive(Clone, Copy)]
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
    /// Faces that follow a face of an earlier frame, until [`follow::fill_in`] gives them its
    /// identity (before the unit is sent).
    #[serde(skip)]
    inherits: Vec<Inherit>,
}

impl UnitOutput {
    fn absorb(&mut self, part: UnitOutput) {
        self.detections.extend(part.detections);
        self.failed_frames.extend(part.failed_frames);
        self.frames += part.frames;
        self.inherits.extend(part.inherits);
    }
}

/// A decoded image on its way to a worker thread: a sampled frame, or a tile of the photo.
struct Image {
    /// Frame index (0 for a photo).
    index: usize,
    /// Where it is among the unit's images (the [`Trail`]'s order).
    position: usize,
    /// Where the image's top-left pixel is in the frame (a tile's corner).
    origin: (i32, i32),
    /// The unit it belongs to (for a tile: which).
    unit: usize,
    pixels: Mat,
}

/// Where a rank's pixels come from.
enum Media {
    Video(VideoReader),
    /// The whole photo, decoded once per rank; tiles are copied out of it.
    Photo(Mat),
}

/// A rank's media, threads and workers.
pub struct RankWorkers<'a> {
    job: Job<'a>,
    media: Media,
    pool: rayon::ThreadPool,
    workers: Vec<FaceWorker<'a>>,
    rank: u32,
    setup_s: f64,
    decode_s: f64,
}

impl<'a> RankWorkers<'a> {
    /// Loads the models, opens the media and starts `settings.parallel.threads` worker threads, or
    /// as many of them as can work (see [`usable_threads`]).
    pub fn new(job: Job<'a>, model_dir: &std::path::Path, rank: u32) -> Result<Self> {
        let started = Instant::now();
        let images_per_unit = match job.plan {
            Plan::Frames(_) => job.settings.parallel.chunk(),
            Plan::Tiles(_) => 1,
        };
        let cores = crate::about::logical_cores();
        let mut threads = usable_threads(job.settings.parallel.threads, cores, images_per_unit);
        if threads < job.settings.parallel.threads {
            tracing::warn!(
                "threads {} cut to {threads}: this rank may run on {cores} core(s) and a unit holds {images_per_unit} image(s); \
                 each thread holds its own copy of the models",
                job.settings.parallel.threads
            );
        }
        threads = threads_that_fit(&job, threads);
        let pipeline = FacePipeline::load(model_dir, &job.settings.detection.setup())?;
        let mut workers: Vec<FaceWorker> =
            (1..threads).map(|_| FaceWorker::new(&job, rank, pipeline.clone())).collect();
        workers.push(FaceWorker::new(&job, rank, pipeline));
        let media = match job.plan {
            Plan::Frames(_) => {
                Media::Video(VideoReader::open(&job.settings.video, job.settings.reader, job.video.stream)?)
            }
            Plan::Tiles(_) => Media::Photo(media::read_image(&job.settings.video)?),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("rank{rank}-worker{i}"))
            .build()
            .context("cannot start the worker threads")?;
        let setup_s = started.elapsed().as_secs_f64();
        Ok(RankWorkers { job, media, pool, workers, rank, setup_s, decode_s: 0.0 })
    }

    /// Runs `unit`: this thread decodes its images and hands them to the worker threads,
    /// keeping `source` served meanwhile.
    pub fn run_unit(&mut self, unit: usize, source: &mut dyn UnitSource) -> Result<UnitOutput> {
        let (image_tx, image_rx) = mpsc::sync_channel::<Image>(self.workers.len());
        let image_rx = Mutex::new(image_rx);
        let (done_tx, done_rx) = mpsc::channel();
        let job = &self.job;
        let trail = match job.plan {
            Plan::Frames(plan) => {
                let samples = plan.unit_samples(unit);
                let grid = follow::grid(job.settings.attendance.reencode_every(), job.settings.parallel.chunk());
                Trail::new(samples.start, samples.len(), grid)
            }
            Plan::Tiles(_) => Trail::new(0, 1, 1),
        };
        let (media, decode_s) = (&mut self.media, &mut self.decode_s);
        self.pool.in_place_scope(|scope| {
            for worker in self.workers.iter_mut() {
                let (images, done, trail) = (&image_rx, done_tx.clone(), &trail);
                scope.spawn(move |_| {
                    let _ = done.send(worker.consume(job, images, trail));
                });
            }
            drop(done_tx);
            let mut output = UnitOutput::default();
            let mut error =
                produce(job, unit, media, decode_s, &image_tx, source, &trail, &mut output.failed_frames).err();
            drop(image_tx); // the threads finish what is queued, then report
            loop {
                match done_rx.recv_timeout(SERVE_EVERY) {
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
                    follow::fill_in(&mut output.detections, &mut output.inherits)?;
                    Ok(output)
                }
            }
        })
    }

    /// The rank's timings; the stage times are summed over its threads (thread-seconds).
    pub fn timing(&self) -> RankTiming {
        let mut total = RankTiming {
            rank: self.rank,
            setup_s: self.setup_s,
            decode_s: self.decode_s,
            decoded_frames: match &self.media {
                Media::Video(reader) => reader.decoded_frames() as u64,
                Media::Photo(_) => 1,
            },
            ..Default::default()
        };
        for w in &self.workers {
            total.frames += w.timing.frames;
            total.faces += w.timing.faces;
            total.encodings += w.timing.encodings;
            total.encodings_saved += w.timing.encodings_saved;
            total.decode_s += w.timing.decode_s;
            total.detect_s += w.timing.detect_s;
            total.encode_s += w.timing.encode_s;
            total.match_s += w.timing.match_s;
        }
        total
    }
}

extern "C" {
    /// OpenBLAS's own setting, which overrides what `OPENBLAS_NUM_THREADS` said when the
    /// library loaded (before `main`, too early to set the variable from here).
    fn openblas_set_num_threads(threads: std::os::raw::c_int);
}

/// One BLAS thread per worker unless `OPENBLAS_NUM_THREADS` says otherwise: rollcall's
/// parallelism is its ranks and threads, and OpenBLAS starting a thread per core in each of
/// them oversubscribes the cores (measured with `calibrate-node` on 2 cores: two workers
/// 1.37x slower than one alone with OpenBLAS's threads, 1.02-1.04x with one each), and lets a
/// one-rank baseline borrow idle cores, which understates every speedup computed from it.
pub fn one_blas_thread_per_worker() {
    if std::env::var_os("OPENBLAS_NUM_THREADS").is_none() {
        // SAFETY: a plain setter, called before any worker thread exists.
        unsafe { openblas_set_num_threads(1) };
    }
}

/// Worker threads that can do something: no more than the cores the rank may run on (each
/// thread holds its own ~100 MB copy of the models: `--threads 1000` once took 24 GB before
/// the kernel killed it) and no more than the images one unit holds (the rest would idle).
fn usable_threads(requested: usize, cores: usize, images_per_unit: usize) -> usize {
    requested.min(cores).min(images_per_unit).max(1)
}

/// `threads`, or fewer if that many would not fit in the memory this rank may use (a warning
/// says what was estimated); one thread always runs, with a warning if even it may not fit.
fn threads_that_fit(job: &Job, threads: usize) -> usize {
    let (width, height) = match job.plan {
        Plan::Frames(_) => (job.video.width, job.video.height),
        Plan::Tiles(tiles) => {
            let first = tiles.rect(0);
            (first.w, first.h)
        }
    };
    let s = job.settings;
    let side = |px: u32| (f64::from(px) * s.detection.scale * f64::from(1u32 << s.detection.upsample)).ceil() as u64;
    let need = crate::run::memory::per_thread_bytes(s.detection.detector, side(width) * side(height));
    let Some(available) = crate::run::memory::available_to_this_rank() else { return threads };
    let fit = usize::try_from(available / need).unwrap_or(usize::MAX);
    let mib = |b: u64| b >> 20;
    let why = format!(
        "each needs about {} MiB ({} detector on {width}×{height} px at scale {} and upsample {}), and {} MiB are free for this rank",
        mib(need),
        s.detection.detector,
        s.detection.scale,
        s.detection.upsample,
        mib(available)
    );
    if fit == 0 {
        tracing::warn!("even one worker thread may not fit in memory: {why}; the kernel may stop this rank");
        1
    } else if fit < threads {
        tracing::warn!("threads {threads} cut to {fit} to fit in memory: {why}");
        fit
    } else {
        threads
    }
}

/// Decodes unit `unit`'s images in order and hands each to the worker threads; a frame that
/// cannot be decoded goes to `failed`, with a warning (and gives the next frame's faces
/// nothing to follow on `trail`).
#[allow(clippy::too_many_arguments)] // one call site; the alternative is a struct used once
fn produce(
    job: &Job,
    unit: usize,
    media: &mut Media,
    decode_s: &mut f64,
    images: &SyncSender<Image>,
    source: &mut dyn UnitSource,
    trail: &Trail,
    failed: &mut Vec<u64>,
) -> Result<()> {
    match (job.plan, media) {
        (Plan::Frames(plan), Media::Video(reader)) => {
            for (position, index) in plan.unit_frames(unit).enumerate() {
                crate::util::interrupt::check()?;
                let started = Instant::now();
                let mut pixels = Mat::default();
                if !reader.read(index, &mut pixels)? {
                    tracing::warn!("frame {index} could not be decoded; it is left out of the counts");
                    failed.push(index as u64);
                    trail.nothing_at(position);
                    continue;
                }
                *decode_s += started.elapsed().as_secs_f64();
                hand_over(images, Image { index, position, origin: (0, 0), unit, pixels }, source)?;
            }
        }
        (Plan::Tiles(tiles), Media::Photo(photo)) => {
            let tile = tiles.rect(unit);
            let rect = Rect::new(tile.x as i32, tile.y as i32, tile.w as i32, tile.h as i32);
            // A continuous copy: the face pipeline hands dlib packed rows.
            let pixels = Mat::roi(photo, rect)?.try_clone()?;
            hand_over(images, Image { index: 0, position: 0, origin: (rect.x, rect.y), unit, pixels }, source)?;
        }
        _ => bail!("the plan and the media disagree (a video's frames asked of a photo, or tiles of a video)"),
    }
    Ok(())
}

/// Queues `image` for the next free thread, answering messages meanwhile (and once after, so
/// that a fast decoder does not leave them waiting for a whole unit).
fn hand_over(images: &SyncSender<Image>, mut image: Image, source: &mut dyn UnitSource) -> Result<()> {
    loop {
        match images.try_send(image) {
            Ok(()) => return source.serve(),
            Err(TrySendError::Full(back)) => {
                image = back;
                source.serve()?;
                std::thread::sleep(SERVE_EVERY / 4);
            }
            // The receiver lives as long as the unit: never, unless that changes.
            Err(TrySendError::Disconnected(_)) => bail!("internal error: the worker threads' queue closed early"),
        }
    }
}

/// One thread's models, buffers and timings.
struct FaceWorker<'a> {
    pipeline: FacePipeline,
    roster: &'a Roster,
    rank: u32,
    timing: RankTiming,
}

impl<'a> FaceWorker<'a> {
    fn new(job: &Job<'a>, rank: u32, pipeline: FacePipeline) -> Self {
        FaceWorker { pipeline, roster: job.roster, rank, timing: RankTiming::default() }
    }

    /// Analyses images from `images` until the channel closes. After an error (or a panic in
    /// the native libraries) it keeps taking images without working, so the decoding thread is
    /// never left waiting, and returns the error; every image it takes is decided on `trail`,
    /// so no other thread is left waiting either.
    fn consume(&mut self, job: &Job, images: &Mutex<Receiver<Image>>, trail: &Trail) -> Result<UnitOutput> {
        let mut out = UnitOutput::default();
        let mut error = None;
        loop {
            let next = images.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
            let Ok(image) = next else { break };
            if error.is_none() {
                let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.find_faces(job, &image, trail, &mut out)
                }));
                error = match analysed {
                    Ok(result) => result.err(),
                    Err(_) => Some(anyhow::anyhow!("frame {}: the face analysis crashed", image.index)),
                };
                out.frames += 1;
                self.timing.frames += 1;
            }
            trail.nothing_at(image.position);
        }
        error.map_or(Ok(out), Err)
    }

    /// Finds the faces of `image`, encodes and matches those that follow no face of the
    /// unit's previous frame (see [`follow`]), and records them all as detections of its frame,
    /// boxes moved by its origin (in original pixels).
    fn find_faces(&mut self, job: &Job, image: &Image, trail: &Trail, out: &mut UnitOutput) -> Result<()> {
        let settings = job.settings;
        let mut found = self.pipeline.find(&image.pixels)?;
        self.timing.detect_s += found.detect.as_secs_f64();
        if let Plan::Tiles(tiles) = job.plan {
            // A face cut by the edge of a tile is found whole by its neighbour.
            found.retain_seen(|b| {
                !tiles.cut_by_inner_edge(image.unit, (b.x.into(), b.y.into(), b.w.into(), b.h.into()))
            });
        }
        let boxes: Vec<_> = found
            .boxes
            .iter()
            .map(|&b| {
                let mut bbox = b;
                bbox.x += image.origin.0;
                bbox.y += image.origin.1;
                bbox
            })
            .collect();
        let frame = image.index as u64;
        let inherits = trail.decide(image.position, frame, &boxes)?;
        let wanted: Vec<bool> = inherits.iter().map(Option::is_none).collect();
        let (encodings, encode) = self.pipeline.encode(&found, &wanted)?;
        self.timing.encode_s += encode.as_secs_f64();

        let t1 = Instant::now();
        let mut sure = Vec::with_capacity(boxes.len());
        for ((&bbox, encoding), inherit) in boxes.iter().zip(encodings).zip(inherits) {
            let mut detection = Detection {
                frame,
                time_s: job.video.time_of(image.index),
                rank: self.rank,
                bbox,
                student: None,
                distance: f64::NAN,
                track: None,
                encoding: Vec::new(),
            };
            if let Some(encoding) = encoding {
                let best = matching::nearest(&self.roster.encodings, ArrayView1::from(&encoding[..]))
                    .context("the roster has no encodings")?;
                detection.student = (best.distance <= settings.attendance.tolerance)
                    .then(|| self.roster.student_of(best.encoding_row) as u32);
                detection.distance = best.distance;
                detection.encoding = encoding.iter().map(|&e| e as f32).collect();
                self.timing.encodings += 1;
            } else {
                self.timing.encodings_saved += 1;
            }
            // A face follows only a surely matched one, so it is sure too.
            sure.push(inherit.is_some() || (detection.student.is_some() && detection.distance <= matching::SURE_MATCH));
            out.inherits.extend(inherit);
            out.detections.push(detection);
        }
        self.timing.match_s += t1.elapsed().as_secs_f64();
        self.timing.faces += boxes.len() as u64;
        trail.publish(image.position, Seen { frame, boxes, sure });
        Ok(())
    }
}
