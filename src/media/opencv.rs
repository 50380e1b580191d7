//! OpenCV's video reader (its FFmpeg backend): decodes every frame on the way to a sampled one.

use std::path::Path;

use anyhow::{bail, Context, Result};
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};

use super::source::{FrameSource, MAX_GRAB_GAP};

/// Opens a video with FFmpeg, the backend whose frame-exact seeking the tests verify (and
/// which does not fall back to GStreamer's slower, noisier pipelines).
pub(super) fn open_capture(path: &Path) -> Result<VideoCapture> {
    let name = path.to_str().with_context(|| format!("video path {} is not UTF-8", path.display()))?;
    let cap = VideoCapture::from_file(name, videoio::CAP_FFMPEG)?;
    if !cap.is_opened()? {
        match super::container::why_unreadable(path) {
            Some(why) => bail!("video {} {why}", path.display()),
            None => bail!("video {} cannot be opened: not a video file, or a codec OpenCV lacks", path.display()),
        }
    }
    Ok(cap)
}

/// Refuses video stream `stream` of `path` unless it is the file's first video stream: the
/// only one OpenCV 4.6 reads.
pub(super) fn check_first_stream(path: &Path, stream: usize) -> Result<()> {
    if super::container::video_streams(path, None)?.all.first() != Some(&stream) {
        bail!(
            "video {}: OpenCV's reader reads only its first video stream, not stream {stream}: use --reader libav",
            path.display()
        );
    }
    Ok(())
}

/// OpenCV's reader: decodes every frame on the way to a sampled one (`grab`), seeks over
/// long gaps.
pub struct OpencvReader {
    cap: VideoCapture,
    /// Index of the frame the next `grab` returns.
    position: usize,
    /// Frames the decoder produced, sampled or not: the cost of getting to the sampled ones.
    decoded: usize,
}

impl OpencvReader {
    /// Opens `path` for stream `stream`, which must be its first video stream: the only one
    /// OpenCV 4.6 reads.
    pub fn open(path: &Path, stream: usize) -> Result<Self> {
        check_first_stream(path, stream)?;
        Ok(OpencvReader { cap: open_capture(path)?, position: 0, decoded: 0 })
    }

    /// The reader taking over from another that had decoded `decoded` frames: the count of
    /// frames decoded stays the job's whole cost.
    pub fn having_decoded(self, decoded: usize) -> Self {
        OpencvReader { decoded, ..self }
    }

    fn advance(&mut self) {
        self.position = self.position.saturating_add(1);
        self.decoded += 1;
    }
}

impl FrameSource for OpencvReader {
    fn read(&mut self, index: usize, frame: &mut Mat) -> Result<bool> {
        if index < self.position || index - self.position > MAX_GRAB_GAP {
            self.cap.set(videoio::CAP_PROP_POS_FRAMES, index as f64)?;
            self.position = index;
        }
        let mut ok = true;
        while ok && self.position < index {
            ok = self.cap.grab()?;
            self.advance();
        }
        ok = ok && self.cap.read(frame)? && !frame.empty();
        self.advance();
        if !ok {
            // The decoder's position is unknown after a failure: seek next time.
            self.position = usize::MAX;
        }
        Ok(ok)
    }

    fn decoded_frames(&self) -> usize {
        self.decoded
    }
}
