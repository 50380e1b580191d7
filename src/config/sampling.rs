//! Which frames of a video are analysed.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::file::ConfigFile;

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

    /// The sampling a layer sets (`every` or `fps`; about one frame a second when neither).
    pub(super) fn from_layer(c: &ConfigFile) -> Result<Self> {
        Ok(match (c.every, c.fps) {
            (Some(_), Some(_)) => bail!("`every` and `fps` both set: choose one way to sample frames"),
            (Some(0), None) => bail!("every must be at least 1 (1 = every frame)"),
            (Some(k), None) => Sampling::Every(k),
            (None, Some(f)) if !(f > 0.0 && f.is_finite()) => {
                bail!("fps must be a finite number > 0 (frames to analyse per second of video), got {f}")
            }
            (None, Some(f)) => Sampling::Fps(f),
            (None, None) => Sampling::Fps(1.0),
        })
    }

    /// Writes `every` or `fps` into `c`.
    pub(super) fn write_to(self, c: &mut ConfigFile) {
        (c.every, c.fps) = match self {
            Sampling::Every(k) => (Some(k), None),
            Sampling::Fps(f) => (None, Some(f)),
        };
    }
}
