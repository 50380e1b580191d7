//! Job settings: one struct, filled from `configs/*.yaml` and then overridden by flags.
//!
//! Every command-line flag of `rollcall attend` has a key of the same name here, so a job can be
//! described entirely by a file (what a Slurm script wants) or entirely by flags (what a person at
//! a terminal wants). Unknown keys are rejected: a misspelt `tolerence:` must not silently fall
//! back to the default.
//!
//! Split by concern, as the settings are grouped: [`ConfigFile`] (`file.rs`) is the layer a file
//! or the flags give, with each key's doc; each concern (`sampling`, `detection`, `attendance`,
//! `reports`, `parallel`; `units` fits the chunk and re-encoding together) owns its defaults and
//! ranges (`from_layer`) and writes its keys back (`write_to`). This file puts them together.

mod attendance;
mod detection;
mod file;
mod parallel;
mod ranges;
mod reports;
mod sampling;
#[cfg(test)]
mod tests;
mod units;

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

pub use attendance::{
    check_threshold, AttendanceRule, Rule, WindowLength, DEFAULT_THRESHOLD, DEFAULT_TOLERANCE, DEFAULT_TRACK_GAP_S,
};
pub use detection::{DetectorSettings, Resolution, DEFAULT_MIN_FACE, MAX_UPSAMPLE};
pub use file::{BenchConfig, ConfigFile, RankKey};
pub use parallel::{JobKind, Parallel, Schedule, Tiling, MAX_THREADS};
use ranges::Ranges;
pub use reports::ReportContents;
pub use sampling::{Sample, Sampling};
pub use units::{
    default_units, DEFAULT_CHUNK, DEFAULT_REENCODE_EVERY, LONG_CHUNK, LONG_RECORDING_UNITS, LONG_REENCODE_EVERY,
};

use crate::engine::Device;
use crate::face::{Detector, Isa};
use crate::media::Reader;

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
    /// A video's frames or a photo's tiles.
    pub kind: JobKind,
    pub detection: DetectorSettings,
    pub attendance: AttendanceRule,
    pub reports: ReportContents,
    pub parallel: Parallel,
}

impl Settings {
    /// Checks ranges and fills defaults, concern by concern. Each error names the key and the
    /// accepted range.
    pub fn from_config(c: ConfigFile) -> Result<Self> {
        Settings::from_layer(c, Ranges::Checked)
    }

    /// The settings a stored result (or journal) recorded, read as what ran: defaults fill
    /// what older files lack, and no range of today is held against them.
    pub fn as_recorded(c: ConfigFile) -> Result<Self> {
        Settings::from_layer(c, Ranges::AsRecorded)
    }

    fn from_layer(c: ConfigFile, ranges: Ranges) -> Result<Self> {
        let sampling = Sampling::from_layer(&c)?;
        let detection = DetectorSettings::from_layer(&c, ranges)?;
        let attendance = AttendanceRule::from_layer(&c, ranges)?;
        let reports = ReportContents::from_layer(&c);
        let parallel = Parallel::from_layer(&c, ranges)?;
        let kind = JobKind::from_layer(&c)?;
        Ok(Settings {
            video: c.video.context("no video given: pass VIDEO or set `video:` in the config")?,
            roster: c.roster.context("no roster given: pass --roster or set `roster:` in the config")?,
            output: c.output.context("no output directory given: pass -o or set `output:` in the config")?,
            title: c.title,
            date: c.date,
            models: c.models,
            sampling,
            sample: c.sample.unwrap_or_default(),
            reader: c.reader.unwrap_or_default(),
            stream: c.stream,
            kind,
            detection,
            attendance,
            reports,
            parallel,
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
        let mut c = ConfigFile {
            title: self.title.clone(),
            date: self.date.clone(),
            video: Some(self.video.clone()),
            roster: Some(self.roster.clone()),
            output: Some(self.output.clone()),
            models: self.models.clone(),
            sample: Some(self.sample),
            reader: Some(self.reader),
            stream: self.stream,
            ..ConfigFile::default()
        };
        self.sampling.write_to(&mut c);
        self.detection.write_to(&mut c);
        self.attendance.write_to(&mut c);
        self.reports.write_to(&mut c);
        self.parallel.write_to(&mut c);
        self.kind.write_to(&mut c);
        c
    }

    /// The settings as YAML that `from_yaml` (or `--config`) reads back to the same settings.
    pub fn to_yaml(&self) -> Result<String> {
        Ok(serde_norway::to_string(&self.to_config())?)
    }

    pub fn from_yaml(text: &str) -> Result<Self> {
        Settings::from_config(serde_norway::from_str(text)?)
    }

    /// `key = value` pairs for the reports' settings tables: every key of [`ConfigFile`], in its
    /// order, as [`Settings::to_config`] sets it (empty where it leaves a key open), so that a new
    /// setting reaches the tables by itself. `bench` is shown as `bench.slow_ranks`.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let keys = match serde_norway::to_value(self.to_config()).expect("settings are plain data") {
            serde_norway::Value::Mapping(keys) => keys,
            _ => unreachable!("a struct serializes to a mapping"),
        };
        ConfigFile::key_names()
            .iter()
            .map(|&key| match key {
                "bench" => ("bench.slow_ranks", self.parallel.slow_ranks_text()),
                _ => (key, keys.get(key).map(value_text).unwrap_or_default()),
            })
            .collect()
    }

    /// `bench.slow_ranks` as `rank:factor` pairs, empty when off.
    pub fn slow_ranks_text(&self) -> String {
        self.parallel.slow_ranks_text()
    }

    /// The slow-down factor of `rank` (1 = normal speed).
    pub fn slowdown_of(&self, rank: usize) -> f64 {
        self.parallel.slow_ranks.get(&(rank as u32)).copied().unwrap_or(1.0)
    }
}

/// A setting's value as the reports show it: numbers as Rust prints them (`1`, `0.6`), text as
/// it is.
fn value_text(value: &serde_norway::Value) -> String {
    match value {
        serde_norway::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(i), _) => i.to_string(),
            (None, None, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        serde_norway::Value::String(s) => s.clone(),
        serde_norway::Value::Bool(b) => b.to_string(),
        serde_norway::Value::Null => String::new(),
        other => serde_norway::to_string(other).unwrap_or_default().trim_end().to_owned(),
    }
}
