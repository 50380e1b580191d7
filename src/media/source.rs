//! What every video reader is to the rest of rollcall: frames fetched by number, and what
//! fetching them cost. Its own leaf so that both readers and the dispatch over them import it
//! and nothing imports back.

use anyhow::Result;
use opencv::core::Mat;

/// Frames between the reader's position and the wanted frame above which seeking is cheaper
/// than decoding forward. Codecs decode from the previous keyframe on a seek anyway, so a short
/// gap is best walked with `grab` (decode, no colour conversion).
pub const MAX_GRAB_GAP: usize = 48;

/// Frames a seek decodes: OpenCV's FFmpeg backend seeks to 16 frames before the target (to
/// the keyframe before that, for codecs with inter frames) and decodes forward to it.
pub const SEEK_DECODES: usize = 16;

/// A video stream opened by one rank, read at increasing or arbitrary frame numbers.
pub trait FrameSource {
    /// Reads frame `index` into `frame` (BGR, upright). Returns `false` when the frame cannot
    /// be decoded (a damaged stretch, or a container that overstated its length).
    fn read(&mut self, index: usize, frame: &mut Mat) -> Result<bool>;

    /// Frames decoded so far, including those passed over to reach the ones asked for.
    fn decoded_frames(&self) -> usize;
}
