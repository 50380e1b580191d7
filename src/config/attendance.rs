//! The attendance rule: who a face is, how tracks bridge gaps, when a student counts as present.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::file::ConfigFile;
use super::ranges::Ranges;
use super::units::default_units;

/// dlib's usual largest distance between two encodings of one person.
pub const DEFAULT_TOLERANCE: f64 = crate::face::ENCODER.tolerance;

/// Presence (share of windows or of sampled frames) from which a student is Present, in a
/// lecture's attendance and, over a semester's mean, in `rollcall semester`.
pub const DEFAULT_THRESHOLD: f64 = 0.75;

/// Longest gap, seconds, a face track bridges by default: a student who looks down at their
/// notes for half a minute is still the same track.
pub const DEFAULT_TRACK_GAP_S: f64 = 30.0;

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
    /// 0 fits it to the recording ([`super::Settings::fit_units_to`]).
    pub reencode_every: Option<u32>,
}

impl AttendanceRule {
    /// `reencode_every` as fitted to the recording, or a short recording's default.
    pub fn reencode_every(&self) -> u32 {
        self.reencode_every.unwrap_or_else(|| default_units(0, 1).1)
    }

    /// The rule a layer sets, its defaults filled and its ranges checked.
    pub(super) fn from_layer(c: &ConfigFile, ranges: Ranges) -> Result<Self> {
        let tolerance = c.tolerance.unwrap_or(DEFAULT_TOLERANCE);
        ranges
            .check(tolerance > 0.0 && tolerance <= 1.0, || format!("tolerance must be in (0, 1], got {tolerance}"))?;
        let threshold = c.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if ranges == Ranges::Checked {
            check_threshold(threshold)?;
        }
        let window = c.window.as_deref().map(str::parse::<WindowLength>).transpose().map_err(anyhow::Error::msg)?;
        ranges.check(c.reencode_every != Some(0), || {
            "reencode_every must be at least 1 (1 = every face of every frame is encoded), got 0".into()
        })?;
        let track_gap = c.track_gap.unwrap_or(DEFAULT_TRACK_GAP_S);
        ranges.check(track_gap >= 0.0 && track_gap.is_finite(), || {
            format!("track_gap must be a number of seconds ≥ 0, got {track_gap}")
        })?;
        Ok(AttendanceRule {
            tolerance,
            threshold,
            rule: c.rule.unwrap_or_default(),
            window: window.unwrap_or_default(),
            track_gap,
            reencode_every: c.reencode_every,
        })
    }

    /// Writes the rule's keys into `c`.
    pub(super) fn write_to(&self, c: &mut ConfigFile) {
        c.tolerance = Some(self.tolerance);
        c.threshold = Some(self.threshold);
        c.rule = Some(self.rule);
        c.window = Some(self.window.to_string());
        c.track_gap = Some(self.track_gap);
        c.reencode_every = self.reencode_every;
    }
}

/// A presence threshold (a lecture's or a semester's), checked: a share in [0, 1].
pub fn check_threshold(threshold: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&threshold) {
        bail!("threshold must be in [0, 1], got {threshold}");
    }
    Ok(threshold)
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
