//! Job settings: one struct, filled from `configs/*.yaml` and then overridden by flags.
//!
//! Every command-line flag of `rollcall attend` has a key of the same name here, so a job can be
//! described entirely by a file (what a Slurm script wants) or entirely by flags (what a person at
//! a terminal wants). Unknown keys are rejected: a misspelt `tolerence:` must not silently fall
//! back to the default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::engine::Device;
use crate::face::detect::yunet::DEFAULT_CONFIDENCE as DEFAULT_YUNET_CONFIDENCE;
use crate::face::{Detector, DetectorSetup, Isa};
use crate::media::video::Reader;
use crate::run::schedule::Schedule;

/// Sampled frames per unit of work and thread when nobody says otherwise: large enough that
/// a unit's seek and bookkeeping are negligible next to detection, small enough to balance two
/// ranks on a short clip. A long recording gets [`LONG_CHUNK`] (see [`default_units`]).
pub const DEFAULT_CHUNK: usize = 4;

/// Sampled frames per unit and thread on a long recording: every unit starts with every face
/// encoded, so longer units let a seated student be followed longer (see
/// [`LONG_REENCODE_EVERY`]).
pub const LONG_CHUNK: usize = 16;

/// A recording is long when it holds at least this many units of [`LONG_CHUNK`] a thread:
/// enough for 16 ranks to get two each, so that the dynamic schedule still balances them.
pub const LONG_RECORDING_UNITS: usize = 32;

/// The narrowest face, in pixels of the original frame, a job finds when nobody says: the
/// back rows of a 1080p lecture hall start around 40 px (HOG finds them at one upsampling, as
/// `face_recognition` does by default).
pub const DEFAULT_MIN_FACE: u32 = 40;

/// A down-scale that `min_face` derives keeps faces at least this wide for the detector. Faces
/// are encoded from the full frame whatever the scale, but a detector finds faces near its
/// narrowest worse: YuNet at `--scale 0.8` on the long hall of bench-accuracy (20-px faces
/// scanned at 16) found 92 % of the 30-40 px faces instead of 100 % and lost a student.
const NARROWEST_SCALED_FACE: f64 = 80.0;

/// dlib's usual largest distance between two encodings of one person.
pub const DEFAULT_TOLERANCE: f64 = crate::face::ENCODER.tolerance;

/// Every face is encoded each this many sampled frames, a face surely matched in its seat
/// followed between (see `run::follow`): at 1 fps a seated student is encoded every 4 s
/// (measured in the note of the issue that brought it: the same attendance on the lecture and
/// both halls). The default chunk (4 a thread) is a multiple of it.
pub const DEFAULT_REENCODE_EVERY: u32 = 4;

/// [`DEFAULT_REENCODE_EVERY`] on a long recording, where units hold [`LONG_CHUNK`] frames a
/// thread: measured on the long hall of bench-accuracy (yunet, 2 ranks), 7.3 faces encoded a
/// sampled frame instead of 11.7 and 18.5 core-s per lecture-minute instead of 21.5, with the
/// same 39/41 students right and 14020/14020 identity precision.
pub const LONG_REENCODE_EVERY: u32 = 16;

/// The chunk and `reencode_every` of a job that leaves them open, from the frames it samples
/// and its threads: [`LONG_CHUNK`] a thread and [`LONG_REENCODE_EVERY`] on a long recording
/// ([`LONG_RECORDING_UNITS`]), else [`DEFAULT_CHUNK`] a thread and [`DEFAULT_REENCODE_EVERY`].
/// The chunk is always a multiple of `reencode_every`, so which faces are encoded does not
/// depend on the threads; neither depends on the ranks.
pub fn default_units(sampled_frames: usize, threads: usize) -> (usize, u32) {
    let threads = threads.max(1);
    if sampled_frames >= LONG_RECORDING_UNITS * LONG_CHUNK * threads {
        (LONG_CHUNK * threads, LONG_REENCODE_EVERY)
    } else {
        (DEFAULT_CHUNK * threads, DEFAULT_REENCODE_EVERY)
    }
}

/// Upsamplings beyond this make a 1080p frame 8640×4860 before detection: gigabytes per rank.
pub const MAX_UPSAMPLE: u32 = 2;

/// More threads than any node has cores is a typo.
pub const MAX_THREADS: usize = 1024;

/// What a config file may say, and the flags of `attend` and `photo` that say the same: each
/// field is declared once, as a YAML key (serde) and as a flag of the same name (clap), with
/// one doc comment for both. Every field is optional so that "absent" and "default" stay
/// apart until the layers (file, manifest, flags) are merged; [`Settings::from_config`] then
/// fills the defaults and checks the ranges, in one place.
///
/// Adding a setting: a field here, a field of [`Settings`] with its default and check in
/// `from_config`, its line in `to_config` and `describe`, and the code that uses it.
#[derive(Debug, Default, Clone, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Title, shown in reports and as the column heading in `rollcall semester`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Date (YYYY-MM-DD), shown with the title.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The recording (or the photo): the command's positional argument.
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<PathBuf>,
    /// Roster from `rollcall enroll`.
    #[arg(long, value_name = "ROSTER.h5")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roster: Option<PathBuf>,
    /// Output directory.
    #[arg(short, long, value_name = "OUT_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<PathBuf>,
    /// Folder of the models (dlib's, and YuNet's) [default: $ROLLCALL_MODELS, else data/models].
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<PathBuf>,
    /// Analyse every K-th frame (frame 0, K, 2K, ...) [default: about one frame per second].
    #[arg(long, value_name = "K", conflicts_with = "fps")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<usize>,
    /// Analyse about F frames per second of video [default: 1].
    #[arg(long, value_name = "F")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// `keyframes`: sample, for each frame `every`/`fps` asks for, the keyframe nearest it
    /// (less than half the stride away; the frame itself where none is), so that a sampled
    /// frame costs one decoded frame. Times are the keyframes' own. `frames`: exactly the
    /// frames asked for [default: frames].
    #[arg(long, value_enum, value_name = "frames|keyframes")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
    /// Which library decodes the video: `libav` (FFmpeg's, decodes only the frames the
    /// sampled ones need) or `opencv` (OpenCV's, decodes every frame; the same result)
    /// [default: libav].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader: Option<Reader>,
    /// Which video stream of the file to analyse (its index in the container, as `ffprobe`
    /// numbers streams), for files holding several (a slide capture beside the camera)
    /// [default: the one the file marks as its main picture; the log names it].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<usize>,
    /// Which face detector: `yunet` (YuNet on ONNX Runtime: turned, dim and small faces),
    /// `hog` (dlib's: frontal faces only, 2.7x YuNet's CPU time) or `cnn` (dlib's MMOD
    /// network: 10-20x HOG's CPU time) [default: yunet].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector: Option<Detector>,
    /// yunet only: the confidence, 0 to 1, from which a found face counts [default: 0.6].
    #[arg(long, value_name = "C")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yunet_confidence: Option<f64>,
    /// Where ONNX Runtime's inference (the face encoder, and yunet) runs: `cpu`, or `cuda`
    /// (its CUDA provider, from an onnxruntime-gpu build that ROLLCALL_ORT names; ranks share a
    /// node's GPUs by local rank; hog and cnn still detect on the CPU) [default: cpu].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// The narrowest face, in pixels of the original frame, to find: sets the upsampling (and,
    /// for large faces, a down-scale) for the detector [default: 40].
    #[arg(long, value_name = "PX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_face: Option<u32>,
    /// Expert override of --min-face: resize images by S before detection [default: from --min-face].
    #[arg(long, value_name = "S")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// Expert override of --min-face: times the image is doubled before detection, 0 to 2
    /// [default: from --min-face; 1 for hog at 40 px, as face_recognition does; 0 for yunet].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upsample: Option<u32>,
    /// Largest face distance that counts as a match (dlib's usual 0.6) [default: 0.6].
    #[arg(long, value_name = "D")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Presence (time windows or sampled frames seen) at which a student is Present [default: 0.75].
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// How presence is judged: `windows` = share of time windows with the student's face,
    /// `frames` = share of sampled frames [default: windows].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    /// Length of a presence window in seconds, or `auto` (the recording / 12, 10 s to 300 s)
    /// [default: auto].
    #[arg(long, value_name = "SECONDS|auto")]
    #[serde(default, skip_serializing_if = "Option::is_none", with = "window_yaml")]
    pub window: Option<String>,
    /// Longest gap (seconds) a face track bridges where the face was not found [default: 30].
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_gap: Option<f64>,
    /// Every face is encoded on sampled frames 0, K, 2K, ...; between them a face in the same
    /// seat as exactly one surely matched face of the frame before takes its identity (student,
    /// distance, encoding) without being encoded. 1 encodes every face of every frame; a chunk
    /// that is not a multiple of K brings K down to their common divisor [default: 4; 16 on a
    /// recording of 512 sampled frames a thread or more].
    #[arg(long, value_name = "K")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reencode_every: Option<u32>,
    /// Keep the face encodings of unenrolled people (to follow them across lectures with
    /// `rollcall semester`); without it they are counted but no encoding is written.
    #[arg(long, num_args = 0, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_unknown: Option<bool>,
    /// Put each student's best face crop into the reports [default: true].
    #[arg(
        long = "no-crops",
        num_args = 0,
        default_missing_value = "false",
        help = "Leave every face image (each student's best crop) out of the reports [config: crops: false]"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crops: Option<bool>,
    /// How units are spread over ranks: block and cyclic split them up front;
    /// dynamic and guided hand them out from rank 0 as ranks become free [default: block].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Sampled frames per unit of work [default: 4 per thread; 16 per thread on a recording of
    /// 512 sampled frames a thread or more].
    #[arg(long, value_name = "K")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<usize>,
    /// Worker threads per rank, each with its own copy of the models; the rank decodes each
    /// frame once and hands it to a free thread. One rank per node with --threads = its cores
    /// loads the models once per node [default: 1].
    #[arg(long, value_name = "T")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Instruction set of the HOG detector: `auto` = the best every rank can run (AVX2 where
    /// all ranks have it), `baseline` = SSE2 everywhere, `avx2` = refuse ranks without it
    /// [default: auto]. The reports record the level that ran.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isa: Option<Isa>,
    /// Side of the square tiles a photo is cut into, pixels [default: 2048].
    #[arg(long, value_name = "PX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tile: Option<u32>,
    /// Overlap of neighbouring tiles, pixels: at least the largest face expected [default: 384].
    #[arg(long, value_name = "PX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<u32>,
    /// Benchmark-only settings; absent in normal runs (no flag: a file says it on purpose).
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench: Option<BenchConfig>,
}

/// Knobs for studying load balance on one machine. Never set them for real attendance: the
/// reports print them, and rank 0 warns when any is on.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchConfig {
    /// Rank → factor ≥ 1 by which that rank's units are stretched, imitating a slower node.
    #[serde(default)]
    pub slow_ranks: BTreeMap<RankKey, f64>,
}

/// A rank number as a YAML key: `1:` and `"1":` both mean rank 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RankKey {
    Number(u32),
    Text(String),
}

impl RankKey {
    fn rank(&self) -> Result<u32> {
        match self {
            RankKey::Number(n) => Ok(*n),
            RankKey::Text(t) => {
                t.trim().parse().map_err(|_| anyhow::anyhow!("bench.slow_ranks: {t:?} is not a rank number"))
            }
        }
    }
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::util::input::read_text(path, "config file")?;
        serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))
    }

    /// Keys set in `overrides` win over keys set here. `every` and `fps` are two spellings
    /// of one choice: a layer that sets either replaces both. A path that is not UTF-8 is
    /// refused: the settings are recorded as YAML text in every result and journal.
    pub fn overridden_by(self, overrides: ConfigFile) -> Result<ConfigFile> {
        self.check_paths()?;
        overrides.check_paths()?;
        let (mut merged, top) = (self.keys(), overrides.keys());
        if top.contains_key("every") || top.contains_key("fps") {
            merged.remove("every");
            merged.remove("fps");
        }
        merged.extend(top);
        Ok(serde_norway::from_value(serde_norway::Value::Mapping(merged))
            .expect("keys read from two valid layers make a valid layer"))
    }

    fn check_paths(&self) -> Result<()> {
        let paths =
            [("video", &self.video), ("roster", &self.roster), ("output", &self.output), ("models", &self.models)];
        for (key, path) in paths {
            if let Some(path) = path.as_ref().filter(|p| p.to_str().is_none()) {
                bail!(
                    "the {key} path {} is not UTF-8 text: rename it (rollcall records every path in its reports as text)",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// The keys this layer sets, with their values.
    fn keys(&self) -> serde_norway::Mapping {
        match serde_norway::to_value(self).expect("a config layer is plain data") {
            serde_norway::Value::Mapping(keys) => keys,
            _ => unreachable!("a struct serializes to a mapping"),
        }
    }
}

/// How presence is judged from the faces found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Share of time windows in which the student was seen (a teacher's "in the room").
    #[default]
    Windows,
    /// Share of sampled frames in which the student was seen.
    Frames,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Rule::Windows => "windows",
            Rule::Frames => "frames",
        })
    }
}

/// Length of the presence windows: `auto` or a number of seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub enum WindowLength {
    /// The recording's length / 12, at least 10 s and at most 300 s.
    #[default]
    Auto,
    Seconds(f64),
}

impl WindowLength {
    /// Windows per recording under `auto`, and the bounds of an automatic window.
    const AUTO_WINDOWS: f64 = 12.0;
    const AUTO_RANGE_S: (f64, f64) = (10.0, 300.0);

    /// Seconds of one window for a recording of `duration_s`.
    pub fn seconds(self, duration_s: f64) -> f64 {
        match self {
            WindowLength::Auto => (duration_s / Self::AUTO_WINDOWS).clamp(Self::AUTO_RANGE_S.0, Self::AUTO_RANGE_S.1),
            WindowLength::Seconds(s) => s,
        }
    }
}

impl std::str::FromStr for WindowLength {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "auto" => Ok(WindowLength::Auto),
            other => match other.parse::<f64>() {
                Ok(s) if s > 0.0 && s.is_finite() => Ok(WindowLength::Seconds(s)),
                _ => Err(format!("window must be `auto` or a number of seconds > 0, got {other:?}")),
            },
        }
    }
}

impl std::fmt::Display for WindowLength {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            WindowLength::Auto => f.write_str("auto"),
            WindowLength::Seconds(s) => write!(f, "{s}"),
        }
    }
}

/// `window:` as written: `auto` or a number, kept as text until [`Settings::from_config`]
/// checks it (so that a flag and a file key give the same one-line error).
mod window_yaml {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(w: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match w.as_deref().map(|t| (t, t.parse::<f64>())) {
            Some((_, Ok(v))) => s.serialize_f64(v),
            Some((t, Err(_))) => s.serialize_str(t),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        Ok(Some(match Raw::deserialize(d)? {
            Raw::Number(s) => s.to_string(),
            Raw::Text(t) => t,
        }))
    }
}

/// Which frames near the ones the sampling rate asks for are analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Sample {
    /// Exactly every stride-th frame.
    #[default]
    Frames,
    /// The keyframe nearest each of them, where one is less than half a stride away.
    Keyframes,
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sample::Frames => "frames",
            Sample::Keyframes => "keyframes",
        })
    }
}

/// How frames are sampled from a video.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Sampling {
    /// Every K-th frame, starting with frame 0.
    Every(usize),
    /// About F frames per second of video (turned into `Every` once the video's rate is known).
    Fps(f64),
}

impl Sampling {
    /// The frame stride for a video recorded at `video_fps`.
    pub fn stride(self, video_fps: f64) -> usize {
        match self {
            Sampling::Every(k) => k,
            Sampling::Fps(f) => ((video_fps / f).round() as usize).max(1),
        }
    }
}

/// How finely a job looks: the narrowest face it finds, and the upsampling and scale that
/// make the detector find it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    pub min_face: u32,
    pub upsample: u32,
    pub scale: f64,
}

impl Resolution {
    /// From `min_face` (default [`DEFAULT_MIN_FACE`]) when neither `upsample` nor `scale` is
    /// given: the fewest upsamplings that bring the detector's window down to the face, and
    /// with none needed, a down-scale for faces twice the window or more. `upsample` and
    /// `scale` are expert overrides (the other then takes the detector's own default: scale 1,
    /// and the upsampling that finds [`DEFAULT_MIN_FACE`]: 1 for HOG and the CNN, as
    /// face_recognition runs them, 0 for YuNet, whose doubled frame would cost 4x for nothing);
    /// with `min_face` given too they must find faces that narrow, or it is an error that
    /// names both. Without it, `min_face` is what they find.
    pub fn of(detector: Detector, min_face: Option<u32>, upsample: Option<u32>, scale: Option<f64>) -> Result<Self> {
        if let Some(scale) = scale.filter(|s| !(*s > 0.0 && *s <= 4.0)) {
            bail!("scale must be in (0, 4], got {scale}");
        }
        if let Some(upsample) = upsample.filter(|&u| u > MAX_UPSAMPLE) {
            bail!("upsample must be 0, 1 or 2, got {upsample}");
        }
        if min_face == Some(0) {
            bail!("min_face must be at least 1 px, got 0");
        }
        let window = f64::from(detector.smallest_face_px());
        // The narrowest face found at `upsample` and `scale`, in pixels of the original frame.
        let finds = |upsample: u32, scale: f64| window / f64::from(1u32 << upsample) / scale;
        // The fewest upsamplings of the whole frame that find faces `face` px wide.
        let fewest_upsamplings = |face: u32| (0..=MAX_UPSAMPLE).find(|&u| finds(u, 1.0) <= f64::from(face));
        if upsample.is_none() && scale.is_none() {
            let wanted = min_face.unwrap_or(DEFAULT_MIN_FACE);
            let Some(upsample) = fewest_upsamplings(wanted) else {
                bail!(
                    "min_face {wanted} px is narrower than the {detector} detector finds at {MAX_UPSAMPLE} upsamplings \
                     ({} px)",
                    finds(MAX_UPSAMPLE, 1.0)
                );
            };
            let keep = window.max(NARROWEST_SCALED_FACE);
            let scale = if upsample == 0 && f64::from(wanted) >= 2.0 * keep { keep / f64::from(wanted) } else { 1.0 };
            return Ok(Resolution { min_face: wanted, upsample, scale });
        }
        let own_upsample = fewest_upsamplings(DEFAULT_MIN_FACE).unwrap_or(1);
        let (upsample, scale) = (upsample.unwrap_or(own_upsample), scale.unwrap_or(1.0));
        let found = finds(upsample, scale);
        match min_face {
            Some(wanted) if found > f64::from(wanted) + 0.5 => bail!(
                "min_face {wanted} contradicts upsample {upsample} and scale {scale}: with them the {detector} \
                 detector finds faces from {found:.0} px; drop upsample and scale (min_face sets them) or min_face"
            ),
            Some(wanted) => Ok(Resolution { min_face: wanted, upsample, scale }),
            None => Ok(Resolution { min_face: found.ceil() as u32, upsample, scale }),
        }
    }
}

/// Validated settings of one `attend` job. Broadcast to every rank, stored in the reports.
/// Grouped by concern; the keys of the config file and the flags stay flat (see
/// [`ConfigFile`], which `from_config` and `to_config` translate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub title: Option<String>,
    pub date: Option<String>,
    pub video: PathBuf,
    pub roster: PathBuf,
    pub output: PathBuf,
    pub models: Option<PathBuf>,
    /// Which frames are analysed.
    pub sampling: Sampling,
    pub sample: Sample,
    pub reader: Reader,
    /// The video stream asked for; `None`: the file's main one (see `media::container`).
    pub stream: Option<usize>,
    pub detection: DetectorSettings,
    pub attendance: AttendanceRule,
    pub reports: ReportContents,
    pub parallel: Parallel,
}

/// How faces are found: the detector, and the scale of the image it is given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorSettings {
    pub detector: Detector,
    /// YuNet's confidence threshold in [0, 1] (read by the yunet detector only).
    pub yunet_confidence: f64,
    /// Where ONNX Runtime's inference runs: the encoder's, and yunet's (hog and cnn are dlib's
    /// CPU code).
    #[serde(default)]
    pub device: Device,
    /// The narrowest face (px of the original frame) the job finds with `upsample` and `scale`.
    pub min_face: u32,
    pub scale: f64,
    pub upsample: u32,
    /// The HOG detector's instruction set: as asked until rank 0 resolves `auto` against what
    /// the ranks have (then the level that runs, which is what the reports and the journal keep).
    pub isa: Isa,
}

impl DetectorSettings {
    /// The detector this job runs, and how.
    pub fn setup(&self) -> DetectorSetup {
        DetectorSetup {
            detector: self.detector,
            scale: self.scale,
            upsample: self.upsample,
            isa: self.isa,
            yunet_confidence: self.yunet_confidence,
            device: self.device,
        }
    }
}

/// How found faces become attendance: who a face is, how tracks bridge gaps, and when a
/// student counts as present.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRule {
    /// Largest face distance that counts as a match.
    pub tolerance: f64,
    pub threshold: f64,
    /// How presence is judged: by time windows or by sampled frames.
    pub rule: Rule,
    pub window: WindowLength,
    /// Longest gap, seconds, a face track bridges where the face was not found.
    pub track_gap: f64,
    /// Every face is encoded each this many sampled frames; between them a face surely matched
    /// in its seat is followed (1: every face is encoded). See `run::follow`. `None` until rank
    /// 0 fits it to the recording ([`Settings::fit_units_to`]).
    pub reencode_every: Option<u32>,
}

impl AttendanceRule {
    /// `reencode_every` as fitted to the recording, or a short recording's default.
    pub fn reencode_every(&self) -> u32 {
        self.reencode_every.unwrap_or_else(|| default_units(0, 1).1)
    }
}

/// What the reports hold besides attendance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReportContents {
    /// Keep the mean encodings of unenrolled people in the result (to follow them across
    /// lectures); off by default: they did not consent to enrolment.
    pub keep_unknown: bool,
    /// Put each student's best face crop into the reports.
    pub crops: bool,
}

/// How the work is cut and spread: units, their schedule, threads per rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parallel {
    pub schedule: Schedule,
    /// Sampled frames per unit; `None` until rank 0 fits it to the recording
    /// ([`Settings::fit_units_to`]).
    pub chunk: Option<usize>,
    /// Worker threads per rank, each with its own copy of the models; the rank's own thread
    /// decodes the frames of a unit and hands them to whichever is free.
    pub threads: usize,
    /// Benchmark knob `bench.slow_ranks` (empty in a normal run).
    pub slow_ranks: BTreeMap<u32, f64>,
    /// How a photo is cut into tiles; `None` for a video.
    pub tiling: Option<Tiling>,
}

impl Parallel {
    /// Sampled frames per unit: as fitted to the recording, or a short recording's default.
    pub fn chunk(&self) -> usize {
        self.chunk.unwrap_or_else(|| default_units(0, self.threads).0)
    }
}

/// Tiles of a photo job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tiling {
    pub tile: u32,
    pub overlap: u32,
}

impl Tiling {
    /// 2048 px tiles keep a tile's HOG pyramid (doubled: 4096² px) within a few hundred MB.
    pub const DEFAULT_TILE: u32 = 2048;
    /// At least the largest face expected: the front row of an 8K lecture-hall photo shows
    /// faces of up to ~300 px; 384 adds the margin HOG needs around a face.
    pub const DEFAULT_OVERLAP: u32 = 384;
}

impl Settings {
    /// Checks ranges and fills defaults. Each error names the key and the accepted range.
    pub fn from_config(c: ConfigFile) -> Result<Self> {
        let video = c.video.context("no video given: pass VIDEO or set `video:` in the config")?;
        let roster = c.roster.context("no roster given: pass --roster or set `roster:` in the config")?;
        let output = c.output.context("no output directory given: pass -o or set `output:` in the config")?;
        let sampling = match (c.every, c.fps) {
            (Some(_), Some(_)) => bail!("`every` and `fps` both set: choose one way to sample frames"),
            (Some(0), None) => bail!("every must be at least 1 (1 = every frame)"),
            (Some(k), None) => Sampling::Every(k),
            (None, Some(f)) if !(f > 0.0 && f.is_finite()) => {
                bail!("fps must be a finite number > 0 (frames to analyse per second of video), got {f}")
            }
            (None, Some(f)) => Sampling::Fps(f),
            (None, None) => Sampling::Fps(1.0),
        };
        let detector = c.detector.unwrap_or_default();
        let Resolution { min_face, upsample, scale } = Resolution::of(detector, c.min_face, c.upsample, c.scale)?;
        let yunet_confidence = c.yunet_confidence.unwrap_or(DEFAULT_YUNET_CONFIDENCE);
        if !(0.0..=1.0).contains(&yunet_confidence) {
            bail!("yunet_confidence must be in [0, 1], got {yunet_confidence}");
        }
        let device = c.device.unwrap_or_default();
        let tolerance = c.tolerance.unwrap_or(DEFAULT_TOLERANCE);
        if !(tolerance > 0.0 && tolerance <= 1.0) {
            bail!("tolerance must be in (0, 1], got {tolerance}");
        }
        let threshold = c.threshold.unwrap_or(0.75);
        if !(0.0..=1.0).contains(&threshold) {
            bail!("threshold must be in [0, 1], got {threshold}");
        }
        let window = c.window.as_deref().map(str::parse::<WindowLength>).transpose().map_err(anyhow::Error::msg)?;
        let window = window.unwrap_or_default();
        let reencode_every = c.reencode_every;
        if reencode_every == Some(0) {
            bail!("reencode_every must be at least 1 (1 = every face of every frame is encoded), got 0");
        }
        let track_gap = c.track_gap.unwrap_or(30.0);
        if !(track_gap >= 0.0 && track_gap.is_finite()) {
            bail!("track_gap must be a number of seconds ≥ 0, got {track_gap}");
        }
        let threads = c.threads.unwrap_or(1);
        if !(1..=MAX_THREADS).contains(&threads) {
            bail!("threads must be between 1 and {MAX_THREADS}, got {threads}");
        }
        // Left open, the chunk comes from the recording (`fit_units_to`, on rank 0).
        let chunk = c.chunk;
        if chunk == Some(0) {
            bail!("chunk must be at least 1 sampled frame per unit");
        }
        let slow_ranks = c
            .bench
            .map(|b| b.slow_ranks)
            .unwrap_or_default()
            .into_iter()
            .map(|(key, factor)| Ok((key.rank()?, factor)))
            .collect::<Result<BTreeMap<u32, f64>>>()?;
        if let Some((rank, factor)) = slow_ranks.iter().find(|(_, &f)| !(f >= 1.0 && f.is_finite())) {
            bail!("bench.slow_ranks: rank {rank} has factor {factor}; factors are ≥ 1 (2.0 = twice as slow)");
        }
        let tiling = match (c.tile, c.overlap) {
            (None, None) => None,
            (tile, overlap) => {
                let t = Tiling {
                    tile: tile.unwrap_or(Tiling::DEFAULT_TILE),
                    overlap: overlap.unwrap_or(Tiling::DEFAULT_OVERLAP),
                };
                if t.tile < 64 || t.overlap >= t.tile {
                    bail!(
                        "tile must be at least 64 px and larger than overlap (tile {}, overlap {})",
                        t.tile,
                        t.overlap
                    );
                }
                Some(t)
            }
        };
        Ok(Settings {
            title: c.title,
            date: c.date,
            video,
            roster,
            output,
            models: c.models,
            sampling,
            sample: c.sample.unwrap_or_default(),
            reader: c.reader.unwrap_or_default(),
            stream: c.stream,
            detection: DetectorSettings {
                detector,
                yunet_confidence,
                device,
                min_face,
                scale,
                upsample,
                isa: c.isa.unwrap_or_default(),
            },
            attendance: AttendanceRule {
                tolerance,
                threshold,
                rule: c.rule.unwrap_or_default(),
                window,
                track_gap,
                reencode_every,
            },
            reports: ReportContents { keep_unknown: c.keep_unknown.unwrap_or(false), crops: c.crops.unwrap_or(true) },
            parallel: Parallel { schedule: c.schedule.unwrap_or_default(), chunk, threads, slow_ranks, tiling },
        })
    }

    /// Fills the chunk and `reencode_every` that the settings leave open for a recording of
    /// which `sampled_frames` are analysed (see [`default_units`]). Rank 0 does it once it has
    /// planned the samples; the reports and the journal then hold the values that ran.
    pub fn fit_units_to(&mut self, sampled_frames: usize) {
        let (chunk, reencode_every) = default_units(sampled_frames, self.parallel.threads);
        self.parallel.chunk.get_or_insert(chunk);
        self.attendance.reencode_every.get_or_insert(reencode_every);
    }

    /// The settings as a complete config file: what `--config` would need to repeat the run.
    pub fn to_config(&self) -> ConfigFile {
        let (every, fps) = match self.sampling {
            Sampling::Every(k) => (Some(k), None),
            Sampling::Fps(f) => (None, Some(f)),
        };
        let bench = (!self.parallel.slow_ranks.is_empty()).then(|| BenchConfig {
            slow_ranks: self.parallel.slow_ranks.iter().map(|(&r, &f)| (RankKey::Number(r), f)).collect(),
        });
        ConfigFile {
            title: self.title.clone(),
            date: self.date.clone(),
            video: Some(self.video.clone()),
            roster: Some(self.roster.clone()),
            output: Some(self.output.clone()),
            models: self.models.clone(),
            every,
            fps,
            sample: Some(self.sample),
            reader: Some(self.reader),
            stream: self.stream,
            detector: Some(self.detection.detector),
            yunet_confidence: Some(self.detection.yunet_confidence),
            device: Some(self.detection.device),
            min_face: Some(self.detection.min_face),
            scale: Some(self.detection.scale),
            upsample: Some(self.detection.upsample),
            tolerance: Some(self.attendance.tolerance),
            threshold: Some(self.attendance.threshold),
            rule: Some(self.attendance.rule),
            window: Some(self.attendance.window.to_string()),
            track_gap: Some(self.attendance.track_gap),
            reencode_every: self.attendance.reencode_every,
            keep_unknown: Some(self.reports.keep_unknown),
            crops: Some(self.reports.crops),
            schedule: Some(self.parallel.schedule),
            chunk: self.parallel.chunk,
            threads: Some(self.parallel.threads),
            isa: Some(self.detection.isa),
            tile: self.parallel.tiling.map(|t| t.tile),
            overlap: self.parallel.tiling.map(|t| t.overlap),
            bench,
        }
    }

    /// The settings as YAML that `from_yaml` (or `--config`) reads back to the same settings.
    pub fn to_yaml(&self) -> Result<String> {
        Ok(serde_norway::to_string(&self.to_config())?)
    }

    pub fn from_yaml(text: &str) -> Result<Self> {
        Settings::from_config(serde_norway::from_str(text)?)
    }

    /// `key = value` pairs for the reports' settings tables, in a fixed order.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let (every, fps) = match self.sampling {
            Sampling::Every(k) => (k.to_string(), String::new()),
            Sampling::Fps(f) => (String::new(), f.to_string()),
        };
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        vec![
            ("title", text(&self.title)),
            ("date", text(&self.date)),
            ("video", self.video.display().to_string()),
            ("roster", self.roster.display().to_string()),
            ("output", self.output.display().to_string()),
            ("models", self.models.as_ref().map(|m| m.display().to_string()).unwrap_or_default()),
            ("every", every),
            ("fps", fps),
            ("sample", self.sample.to_string()),
            ("reader", self.reader.to_string()),
            ("stream", self.stream.map(|s| s.to_string()).unwrap_or_default()),
            ("detector", self.detection.detector.to_string()),
            ("yunet_confidence", self.detection.yunet_confidence.to_string()),
            ("device", self.detection.device.to_string()),
            ("min_face", self.detection.min_face.to_string()),
            ("scale", self.detection.scale.to_string()),
            ("upsample", self.detection.upsample.to_string()),
            ("tolerance", self.attendance.tolerance.to_string()),
            ("threshold", self.attendance.threshold.to_string()),
            ("rule", self.attendance.rule.to_string()),
            ("window", self.attendance.window.to_string()),
            ("track_gap", self.attendance.track_gap.to_string()),
            ("reencode_every", self.attendance.reencode_every.map(|k| k.to_string()).unwrap_or_default()),
            ("keep_unknown", self.reports.keep_unknown.to_string()),
            ("crops", self.reports.crops.to_string()),
            ("schedule", self.parallel.schedule.to_string()),
            ("chunk", self.parallel.chunk.map(|c| c.to_string()).unwrap_or_default()),
            ("threads", self.parallel.threads.to_string()),
            ("isa", self.detection.isa.to_string()),
            ("tile", self.parallel.tiling.map(|t| t.tile.to_string()).unwrap_or_default()),
            ("overlap", self.parallel.tiling.map(|t| t.overlap.to_string()).unwrap_or_default()),
            ("bench.slow_ranks", self.slow_ranks_text()),
        ]
    }

    /// `bench.slow_ranks` as `rank:factor` pairs, empty when off.
    pub fn slow_ranks_text(&self) -> String {
        let pairs: Vec<String> = self.parallel.slow_ranks.iter().map(|(r, f)| format!("{r}:{f}")).collect();
        pairs.join(" ")
    }

    /// The slow-down factor of `rank` (1 = normal speed).
    pub fn slowdown_of(&self, rank: usize) -> f64 {
        self.parallel.slow_ranks.get(&(rank as u32)).copied().unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> ConfigFile {
        ConfigFile {
            video: Some("v.avi".into()),
            roster: Some("r.h5".into()),
            output: Some("out".into()),
            ..Default::default()
        }
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = serde_norway::from_str::<ConfigFile>("tolerence: 0.5\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `tolerence`"), "{err}");
    }

    #[test]
    fn flags_override_file_and_every_replaces_fps() {
        let file = ConfigFile { fps: Some(2.0), tolerance: Some(0.5), ..minimal() };
        let flags = ConfigFile { every: Some(3), ..Default::default() };
        let s = Settings::from_config(file.overridden_by(flags).unwrap()).unwrap();
        assert_eq!(s.sampling, Sampling::Every(3));
        assert_eq!(s.attendance.tolerance, 0.5);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for (bad, key) in [
            (ConfigFile { tolerance: Some(0.0), ..minimal() }, "tolerance"),
            (ConfigFile { tolerance: Some(1.5), ..minimal() }, "tolerance"),
            (ConfigFile { threshold: Some(-0.1), ..minimal() }, "threshold"),
            (ConfigFile { every: Some(0), ..minimal() }, "every"),
            (ConfigFile { reencode_every: Some(0), ..minimal() }, "reencode_every"),
            (ConfigFile { scale: Some(0.0), ..minimal() }, "scale"),
        ] {
            let err = Settings::from_config(bad).unwrap_err().to_string();
            assert!(err.starts_with(key), "{err}");
        }
    }

    /// Short recordings keep units of 4 frames a thread; from 32 units of 16 frames a thread on,
    /// units of 16 and faces re-encoded once a unit. Either way the chunk is a multiple of
    /// `reencode_every` (results do not depend on threads), and what a job leaves open is
    /// filled while what it gives is kept.
    #[test]
    fn long_recordings_get_long_units() {
        for threads in 1..=4 {
            let long = LONG_RECORDING_UNITS * LONG_CHUNK * threads;
            assert_eq!(default_units(long - 1, threads), (DEFAULT_CHUNK * threads, DEFAULT_REENCODE_EVERY));
            assert_eq!(default_units(long, threads), (LONG_CHUNK * threads, LONG_REENCODE_EVERY));
            for frames in [0, long - 1, long] {
                let (chunk, every) = default_units(frames, threads);
                assert_eq!(chunk % every as usize, 0, "{frames} frames, {threads} threads");
            }
        }
        let mut open = Settings::from_config(minimal()).unwrap();
        open.fit_units_to(600);
        assert_eq!((open.parallel.chunk, open.attendance.reencode_every), (Some(16), Some(16)));
        let mut given = Settings::from_config(ConfigFile { chunk: Some(8), ..minimal() }).unwrap();
        given.fit_units_to(600);
        assert_eq!((given.parallel.chunk, given.attendance.reencode_every), (Some(8), Some(16)));
    }

    /// configs/default.yaml documents the defaults: loading it must change nothing.
    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/default.yaml");
        let documented =
            Settings::from_config(ConfigFile::load(&path).unwrap().overridden_by(minimal()).unwrap()).unwrap();
        assert_eq!(documented, Settings::from_config(minimal()).unwrap());
    }

    #[test]
    fn slow_ranks_come_from_the_bench_section() {
        let file: ConfigFile = serde_norway::from_str("bench:\n  slow_ranks: {\"1\": 2.0}\n").unwrap();
        let s = Settings::from_config(file.overridden_by(minimal()).unwrap()).unwrap();
        assert_eq!((s.slowdown_of(1), s.slowdown_of(0)), (2.0, 1.0));
        assert_eq!(s.slow_ranks_text(), "1:2");
        let unquoted: ConfigFile = serde_norway::from_str("bench: {slow_ranks: {0: 1.5}}").unwrap();
        assert_eq!(Settings::from_config(unquoted.overridden_by(minimal()).unwrap()).unwrap().slowdown_of(0), 1.5);
        let fast: ConfigFile = serde_norway::from_str("bench: {slow_ranks: {0: 0.5}}").unwrap();
        assert!(Settings::from_config(fast.overridden_by(minimal()).unwrap()).is_err());
        let word: ConfigFile = serde_norway::from_str("bench: {slow_ranks: {one: 2}}").unwrap();
        assert!(Settings::from_config(word.overridden_by(minimal()).unwrap())
            .unwrap_err()
            .to_string()
            .contains("not a rank number"));
    }

    #[test]
    fn settings_survive_a_yaml_round_trip() {
        let yaml = "title: Week 3\ndate: 2026-10-05\nevery: 5\nscale: 0.5\ntolerance: 0.55\nschedule: guided\nbench:\n  slow_ranks: {\"1\": 2.5}\n";
        let file: ConfigFile = serde_norway::from_str(yaml).unwrap();
        let settings = Settings::from_config(file.overridden_by(minimal()).unwrap()).unwrap();
        assert_eq!(Settings::from_yaml(&settings.to_yaml().unwrap()).unwrap(), settings);
        let plain = Settings::from_config(minimal()).unwrap();
        assert_eq!(Settings::from_yaml(&plain.to_yaml().unwrap()).unwrap(), plain);
    }

    #[test]
    fn windows_are_auto_or_seconds_in_the_file_and_on_the_command_line() {
        let auto = Settings::from_config(minimal()).unwrap();
        assert_eq!(auto.attendance.window, WindowLength::Auto);
        assert_eq!(auto.attendance.window.seconds(90.0 * 60.0), 300.0, "90 minutes: 18 windows of 5 minutes");
        assert_eq!(auto.attendance.window.seconds(120.0), 10.0);
        assert_eq!(auto.attendance.window.seconds(30.0), 10.0, "never under 10 s");
        let file: ConfigFile = serde_norway::from_str("window: 45\nrule: frames\ntrack_gap: 0\n").unwrap();
        let s = Settings::from_config(file.overridden_by(minimal()).unwrap()).unwrap();
        assert_eq!(
            (s.attendance.window, s.attendance.rule, s.attendance.track_gap),
            (WindowLength::Seconds(45.0), Rule::Frames, 0.0)
        );
        assert_eq!(Settings::from_yaml(&s.to_yaml().unwrap()).unwrap(), s);
        for bad in ["window: soon", "window: 0", "window: -3", "track_gap: -1"] {
            let file: ConfigFile = serde_norway::from_str(bad).unwrap();
            assert!(Settings::from_config(file.overridden_by(minimal()).unwrap()).is_err(), "{bad}");
        }
        assert!(serde_norway::from_str::<ConfigFile>("rule: majority").is_err());
    }

    #[test]
    fn min_face_sets_upsampling_and_scale_for_the_detector() {
        let resolution_of = |yaml: &str, detector: Detector| {
            let mut file: ConfigFile = serde_norway::from_str(yaml).unwrap();
            file.detector.get_or_insert(detector);
            Settings::from_config(file.overridden_by(minimal()).unwrap())
                .map(|s| (s.detection.min_face, s.detection.upsample, s.detection.scale))
        };
        assert_eq!(resolution_of("{}", Detector::default()).unwrap(), (40, 0, 1.0), "YuNet by default, 40 px as it is");
        // The rest: HOG unless the case names a detector.
        let resolution = |yaml: &str| resolution_of(yaml, Detector::Hog);
        assert_eq!(resolution("{}").unwrap(), (40, 1, 1.0), "face_recognition's default: HOG, one upsampling");
        assert_eq!(resolution("min_face: 24").unwrap(), (24, 2, 1.0));
        assert_eq!(resolution("min_face: 80").unwrap(), (80, 0, 1.0));
        assert_eq!(resolution("min_face: 200").unwrap(), (200, 0, 0.4), "large faces: down-scaled");
        assert_eq!(resolution("detector: cnn").unwrap(), (40, 1, 1.0), "MMOD as face_recognition runs it");
        assert_eq!(resolution("{detector: cnn, min_face: 20}").unwrap(), (20, 2, 1.0));
        assert_eq!(resolution("upsample: 0").unwrap(), (80, 0, 1.0), "an override says what it finds");
        assert_eq!(resolution("{upsample: 2, min_face: 24}").unwrap(), (24, 2, 1.0), "consistent");
        assert_eq!(resolution("scale: 0.5").unwrap(), (80, 1, 0.5), "HOG's own upsampling beside a scale");
        assert_eq!(
            resolution("{detector: yunet, scale: 1.0}").unwrap(),
            (16, 0, 1.0),
            "YuNet's own upsampling is none: a scale alone does not double its frame"
        );
        let err = |yaml: &str| resolution(yaml).unwrap_err().to_string();
        assert!(err("{min_face: 24, upsample: 1}").contains("min_face 24 contradicts upsample 1"));
        assert!(err("{min_face: 40, scale: 0.5}").contains("contradicts upsample 1 and scale 0.5"));
        assert!(err("min_face: 10")
            .contains("min_face 10 px is narrower than the hog detector finds at 2 upsamplings (20 px)"));
        assert!(err("{detector: cnn, min_face: 10}")
            .contains("narrower than the cnn detector finds at 2 upsamplings (20 px)"));
        assert!(err("min_face: 0").starts_with("min_face must be at least 1 px"));
        assert!(serde_norway::from_str::<ConfigFile>("detector: dnn").is_err());
        let s = Settings::from_config(
            serde_norway::from_str::<ConfigFile>("{detector: hog, min_face: 200}")
                .unwrap()
                .overridden_by(minimal())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(Settings::from_yaml(&s.to_yaml().unwrap()).unwrap(), s, "derived values survive a round trip");
    }

    #[test]
    fn fps_sampling_turns_into_a_stride() {
        assert_eq!(Sampling::Fps(1.0).stride(25.0), 25);
        assert_eq!(Sampling::Fps(100.0).stride(25.0), 1);
        assert_eq!(Sampling::Every(7).stride(25.0), 7);
    }
}
