//! `rollcall probe`: a short look at a recording before a job is submitted. It analyses a few
//! frames spread over the recording (HOG at two face widths, the CNN at one), and says what each
//! finds and costs, how wide the faces are, how many match the roster, and which settings to
//! submit with, with the wall time the simulator predicts for them on N ranks.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use opencv::core::Mat;
use serde::Serialize;

use crate::config::Schedule;
use crate::config::{default_units, Resolution, Sampling, DEFAULT_TOLERANCE};
use crate::face::detect::ProbeWidth;
use crate::face::{self, matching, Detector, FacePipeline};
use crate::media::{self, VideoReader};
use crate::roster::Roster;
use crate::simulate::node::NodeModel;
use crate::simulate::{self, CostModel, StudySpec, DEFAULT_MASTER_S};

/// What to look at.
pub struct ProbeSpec {
    pub video: PathBuf,
    pub roster: Option<PathBuf>,
    pub models: Option<PathBuf>,
    /// Ranks to predict the job's wall time for.
    pub ranks: usize,
    /// Frames to analyse, spread evenly over the recording.
    pub frames: usize,
    /// The node the prediction assumes (its slowdown curve, ranks per node).
    pub node: NodeModel,
}

/// Each trial stops after this long (but not before [`MIN_FRAMES`]): the CNN at one
/// upsampling takes ~16 s a 720p frame on one core.
const TRIAL_BUDGET: Duration = Duration::from_secs(20);
const MIN_FRAMES: usize = 2;
/// A cheaper trial is recommended when it finds at least this share of the most faces found.
const ENOUGH: f64 = 0.95;
/// One-way latency the prediction assumes (a cluster's interconnect; `simulate` default).
const LATENCY_S: f64 = 5e-6;
/// Face-width bins of the histogram, px of the original frame (the last is open).
const WIDTH_BINS: [u32; 7] = [0, 20, 30, 40, 60, 90, u32::MAX];

/// One detector at one narrowest face width, tried on the probe's frames.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub detector: Detector,
    pub min_face: u32,
    pub upsample: u32,
    pub scale: f64,
    /// Frames it analysed within its time budget (the first ones of the probe's).
    pub frames: usize,
    /// Faces found in the frames every trial analysed.
    pub faces: usize,
    /// Of those, faces within the roster's tolerance of an enrolled student.
    pub matched: Option<usize>,
    /// Milliseconds per frame: detection, landmarks and encodings (decoding excluded).
    pub ms_per_frame: f64,
    /// Widths of the faces it found in the common frames, px of the original frame.
    #[serde(skip)]
    widths: Vec<u32>,
}

/// What the probe advises.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub detector: Detector,
    pub min_face: u32,
    pub fps: f64,
    pub ranks: usize,
    /// Seconds the whole recording is predicted to take on `ranks` ranks (dynamic schedule).
    pub predicted_wall_s: f64,
    /// CPU seconds per minute of recording at `fps`, decoding included, every face encoded
    /// (faces followed in their seats cost less: see `reencode_every`): what `attend` will
    /// print as its cost, at most.
    pub core_s_per_lecture_minute: f64,
    pub why: String,
    /// Whether and how the prediction includes what busy cores on a node cost each other.
    pub node_contention: String,
}

/// Faces whose width falls in `[from_px, to_px)`.
#[derive(Debug, Clone, Serialize)]
pub struct WidthBin {
    pub from_px: u32,
    pub to_px: Option<u32>,
    pub faces: usize,
}

/// Everything the probe found.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub video: media::VideoInfo,
    /// Frame indices analysed.
    pub frames: Vec<usize>,
    /// Frames every trial analysed: the faces of each trial are counted on these.
    pub common_frames: usize,
    /// Milliseconds to decode one frame.
    pub decode_ms: f64,
    pub trials: Vec<Trial>,
    /// Widths of the faces the trial that found the most found.
    pub widths: Vec<WidthBin>,
    pub recommendation: Recommendation,
}

/// The trials: each detector at the narrowest faces its [`Spec`](face::detect::Spec) names
/// (HOG at the default face width and at half of it, the CNN at the default, YuNet at half).
fn trial_settings() -> Vec<(Detector, u32)> {
    let min_face = |width: ProbeWidth| match width {
        ProbeWidth::Default => crate::config::DEFAULT_MIN_FACE,
        ProbeWidth::Half => crate::config::DEFAULT_MIN_FACE / 2,
    };
    Detector::ALL.iter().flat_map(|&d| d.spec().probe_widths.iter().map(move |&w| (d, min_face(w)))).collect()
}

pub fn run(spec: &ProbeSpec) -> Result<Probe> {
    ensure!(spec.ranks >= 1, "--ranks must be at least 1");
    ensure!(spec.frames >= 1, "--frames must be at least 1");
    let info = media::probe(&spec.video, None, media::Reader::default())?;
    let roster = spec.roster.as_deref().map(Roster::load).transpose()?;
    let model_dir = face::find_model_dir(spec.models.as_deref())?;

    // The frames, evenly spread, decoded once.
    let n = spec.frames.min(info.frame_count.max(1));
    let wanted: Vec<usize> = (0..n).map(|i| (2 * i + 1) * info.frame_count / (2 * n)).collect();
    let mut reader = VideoReader::open(&spec.video, media::Reader::default(), info.stream)?;
    let (mut frames, mut indices) = (Vec::new(), Vec::new());
    for &index in &wanted {
        let mut frame = Mat::default();
        if reader.read(index, &mut frame)? {
            frames.push(frame);
            indices.push(index);
        }
    }
    ensure!(!frames.is_empty(), "{}: no frame could be decoded", spec.video.display());
    let decode_s = sequential_decode_s(&spec.video, &info)?;

    let mut trials = Vec::new();
    for (detector, min_face) in trial_settings() {
        // What a job with this detector and narrowest face would run.
        let settings = Resolution::of(detector, Some(min_face), None, None)?;
        let setup =
            face::DetectorSetup { scale: settings.scale, ..face::DetectorSetup::new(detector, settings.upsample) };
        let pipeline = match FacePipeline::load(&model_dir, &setup) {
            Ok(pipeline) => pipeline,
            // A probe advises on what runs here: without a model fetched apart (yunet's) it
            // still compares the others.
            Err(e) if detector.spec().fetched_apart => {
                tracing::warn!("yunet not tried: {e:#}");
                continue;
            }
            Err(e) => return Err(e),
        };
        let started = Instant::now();
        let mut per_frame = Vec::new();
        for frame in &frames {
            if per_frame.len() >= MIN_FRAMES && started.elapsed() > TRIAL_BUDGET {
                break;
            }
            crate::util::interrupt::check()?;
            per_frame.push(pipeline.analyze(frame)?.0);
        }
        let ms_per_frame = 1000.0 * started.elapsed().as_secs_f64() / per_frame.len() as f64;
        tracing::info!("{detector} from {min_face} px: {} frames, {ms_per_frame:.0} ms a frame", per_frame.len());
        trials.push((detector, min_face, settings, per_frame, ms_per_frame));
    }
    let common = trials.iter().map(|t| t.3.len()).min().unwrap_or(0);
    let trials: Vec<Trial> = trials
        .into_iter()
        .map(|(detector, min_face, settings, per_frame, ms_per_frame)| {
            let faces: Vec<&face::Face> = per_frame[..common].iter().flatten().collect();
            let matched = roster.as_ref().map(|r| {
                faces
                    .iter()
                    .filter(|f| {
                        let encoding = ndarray::ArrayView1::from(&f.encoding[..]);
                        matching::nearest(&r.encodings, encoding).is_some_and(|m| m.distance <= DEFAULT_TOLERANCE)
                    })
                    .count()
            });
            Trial {
                detector,
                min_face,
                upsample: settings.upsample,
                scale: settings.scale,
                frames: per_frame.len(),
                faces: faces.len(),
                matched,
                ms_per_frame,
                widths: faces.iter().map(|f| f.bbox.w.max(0) as u32).collect(),
            }
        })
        .collect();
    let most = trials.iter().max_by_key(|t| t.faces).expect("at least the dlib trials");
    let widths = histogram(&most.widths);
    let recommendation = recommend(&trials, &info, decode_s, spec.ranks, &spec.node)?;
    Ok(Probe {
        video: info,
        frames: indices,
        common_frames: common,
        decode_ms: 1000.0 * decode_s,
        trials,
        widths,
        recommendation,
    })
}

/// Seconds to decode one frame when reading forward, as a job does (the probe's own reads
/// seek, which costs a run of frames from the last keyframe each).
fn sequential_decode_s(path: &std::path::Path, info: &media::VideoInfo) -> Result<f64> {
    const RUN: usize = 50;
    let frame_count = info.frame_count;
    let mut reader = VideoReader::open(path, media::Reader::default(), info.stream)?;
    let mut frame = Mat::default();
    let started = Instant::now();
    for index in 0..RUN.min(frame_count) {
        if !reader.read(index, &mut frame)? {
            break;
        }
    }
    Ok(started.elapsed().as_secs_f64() / reader.decoded_frames().max(1) as f64)
}

fn histogram(widths: &[u32]) -> Vec<WidthBin> {
    WIDTH_BINS
        .windows(2)
        .map(|b| WidthBin {
            from_px: b[0],
            to_px: (b[1] != u32::MAX).then_some(b[1]),
            faces: widths.iter().filter(|&&w| (b[0]..b[1]).contains(&w)).count(),
        })
        .collect()
}

/// The cheapest trial that finds nearly as many faces as the best, at 1 frame per second, or
/// fewer when the job would outlast the recording itself on `ranks` ranks.
fn recommend(
    trials: &[Trial],
    info: &media::VideoInfo,
    decode_s: f64,
    ranks: usize,
    node: &NodeModel,
) -> Result<Recommendation> {
    let most = trials.iter().map(|t| t.faces).max().unwrap_or(0);
    let choice = trials
        .iter()
        .filter(|t| t.faces as f64 >= ENOUGH * most as f64)
        .min_by(|a, b| a.ms_per_frame.total_cmp(&b.ms_per_frame))
        .expect("the trial with the most faces qualifies");
    let wall = |fps: f64| predicted_wall_s(choice.ms_per_frame / 1000.0, decode_s, info, fps, ranks, node);
    let (mut fps, mut predicted_wall_s) = (1.0, wall(1.0)?);
    while fps > 0.1 && predicted_wall_s > info.duration_s() {
        fps /= 2.0;
        predicted_wall_s = wall(fps)?;
    }
    let mut why = match (most, choice.faces == most) {
        (0, _) => "no face was found in the probed frames: check the video shows the audience".to_owned(),
        (_, true) => format!("it finds the most faces ({most}) for the least time"),
        (_, false) => format!(
            "it finds {} of the {most} faces the best trial finds, at {:.0} ms a frame",
            choice.faces, choice.ms_per_frame
        ),
    };
    if fps < 1.0 {
        why += &format!("; {fps} fps so that {ranks} rank(s) take no longer than the recording lasts");
    }
    let stride = Sampling::Fps(fps).stride(info.fps);
    let samples_per_minute = 60.0 * info.fps / stride as f64;
    Ok(Recommendation {
        detector: choice.detector,
        min_face: choice.min_face,
        fps,
        ranks,
        predicted_wall_s,
        core_s_per_lecture_minute: samples_per_minute * (choice.ms_per_frame / 1000.0 + stride as f64 * decode_s),
        why,
        node_contention: node.describe(),
    })
}

/// The simulator's prediction for the whole recording at `fps`: every sampled frame costing
/// `analyse_s` plus decoding the frames up to it, dynamic schedule, default chunk.
fn predicted_wall_s(
    analyse_s: f64,
    decode_s: f64,
    info: &media::VideoInfo,
    fps: f64,
    ranks: usize,
    node: &NodeModel,
) -> Result<f64> {
    let stride = Sampling::Fps(fps).stride(info.fps);
    let samples = info.frame_count.div_ceil(stride).max(1);
    // The units a job on this recording would run (one thread, as the trials measured).
    let (chunk, _) = default_units(samples, 1);
    let model = CostModel {
        frame_s: vec![analyse_s + stride as f64 * decode_s; samples],
        stride,
        decode_s,
        master_s: None,
        chunk,
        samples_per_s: info.fps / stride as f64,
        measured_ranks: 1, // the trials ran one at a time, one thread each
        threads: 1,
    };
    let spec = StudySpec {
        ranks: vec![ranks],
        schedules: vec![Schedule::Dynamic],
        chunk,
        slow: Default::default(),
        latency_s: LATENCY_S,
        master_s: DEFAULT_MASTER_S,
        node: node.clone(),
    };
    Ok(simulate::study(&model, &spec)?.first().map_or(0.0, |row| row.outcome.makespan_s))
}

impl Probe {
    /// The report for a person at a terminal.
    pub fn text(&self) -> String {
        let v = &self.video;
        let mut out = format!(
            "{}: {}x{}, {:.0} s at {:.2} fps; {} frames probed ({} by every trial), decoding {:.1} ms a frame\n\n",
            v.path,
            v.width,
            v.height,
            v.duration_s(),
            v.fps,
            self.frames.len(),
            self.common_frames,
            self.decode_ms
        );
        out += "detector  min_face  upsample  scale  frames  faces  matched  ms/frame\n";
        for t in &self.trials {
            out += &format!(
                "{:<9} {:>8} {:>9} {:>6} {:>7} {:>6} {:>8} {:>9.0}\n",
                t.detector.to_string(),
                t.min_face,
                t.upsample,
                t.scale,
                t.frames,
                t.faces,
                t.matched.map_or("-".to_owned(), |m| m.to_string()),
                t.ms_per_frame
            );
        }
        out += "\nface widths (px), from the trial that found the most:\n";
        for b in &self.widths {
            let range = match b.to_px {
                Some(to) => format!("{}-{}", b.from_px, to),
                None => format!("{}+", b.from_px),
            };
            out += &format!("  {range:>7}: {}\n", b.faces);
        }
        let r = &self.recommendation;
        out += &format!(
            "\nrecommended: --detector {} --min-face {} --fps {} ({}); predicted wall time on {} rank(s): {:.0} s ({}); \
             at most {:.1} core-seconds per lecture-minute\n",
            r.detector,
            r.min_face,
            r.fps,
            r.why,
            r.ranks,
            r.predicted_wall_s,
            r.node_contention,
            r.core_s_per_lecture_minute
        );
        out
    }
}
