//! What rank 0 learns about a video before planning, as the results record it.

use serde::{Deserialize, Serialize};

/// What rank 0 learns about a video before planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    pub path: String,
    pub file_size: u64,
    pub frame_count: usize,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    /// The video stream read (its index in the container; see
    /// [`crate::media::container::video_streams`]). Results written before it read stream 0.
    #[serde(default)]
    pub stream: usize,
}

impl VideoInfo {
    /// Length of the recording, seconds.
    pub fn duration_s(&self) -> f64 {
        self.frame_count as f64 / self.fps
    }

    /// Seconds from the start of the video to frame `frame`.
    pub fn time_of(&self, frame: usize) -> f64 {
        frame as f64 / self.fps
    }
}
