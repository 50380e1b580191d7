//! The layer a config file, a manifest or the flags give: every setting's key, flag and doc.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::{Detector, Device, Isa, Reader, Rule, Sample, Schedule};

/// What a config file may say, and the flags of `attend` and `photo` that say the same: each
/// field is declared once, as a YAML key (serde) and as a flag of the same name (clap), with
/// one doc comment for both. Every field is optional so that "absent" and "default" stay
/// apart until the layers (file, manifest, flags) are merged; [`super::Settings::from_config`] then
/// fills the defaults and checks the ranges, in one place.
///
/// Adding a setting: a field here (its doc is the flag's help, ending in its default), and in
/// the concern it belongs to (`detection.rs`, `attendance.rs`, `parallel.rs`, ...) a field with
/// its default and range in that concern's `from_layer` and its key in `write_to`; the
/// reports' settings table follows by itself. `tests/settings.rs` then says which of
/// `configs/default.yaml`, the README's table and FORMAT.md's `/settings` lack it.
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
    pub(super) fn rank(&self) -> Result<u32> {
        match self {
            RankKey::Number(n) => Ok(*n),
            RankKey::Text(t) => {
                t.trim().parse().map_err(|_| anyhow::anyhow!("bench.slow_ranks: {t:?} is not a rank number"))
            }
        }
    }
}

impl ConfigFile {
    /// Every key a layer may set, in the order of the fields above (the order of the reports'
    /// settings tables), read from the YAML deserializer's own list of them.
    pub fn key_names() -> &'static [&'static str] {
        serde_aux::serde_introspection::serde_introspect::<ConfigFile>()
    }

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

/// `window:` as written: `auto` or a number, kept as text until the attendance rule checks it
/// (so that a flag and a file key give the same one-line error).
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
