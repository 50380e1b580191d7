//! The probe: what a video holds and whether rollcall can read it right, before any plan.

use std::path::Path;

use anyhow::{bail, Result};
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::videoio;

use super::container::{self, FrameIndex};
use super::info::VideoInfo;
use super::reader::{check_reader, Reader};

/// Opens `path`, chooses its video stream (`wanted`, else FFmpeg's choice; a file with several
/// says which it reads) and checks that `reader` can read it, reads the stream's frame count,
/// rate and size, and checks that the first frame decodes.
pub fn probe(path: &Path, wanted: Option<usize>, reader: Reader) -> Result<VideoInfo> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("video {} does not exist", path.display()),
        _ => anyhow::anyhow!("video {}: {e}", path.display()),
    })?;
    if !meta.is_file() {
        bail!("video {} is not a file", path.display());
    }
    if meta.len() == 0 {
        bail!("video {} is empty (0 bytes)", path.display());
    }
    let mut cap = super::opencv::open_capture(path)?;
    let streams = container::video_streams(path, wanted)?;
    check_reader(path, reader, streams.chosen)?;
    if streams.all.len() > 1 {
        tracing::warn!(
            "video {} holds {} video streams ({}): reading stream {}{}; set `stream` (--stream N) to read another",
            path.display(),
            streams.all.len(),
            streams.all.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
            streams.chosen,
            if wanted.is_some() { ", as set" } else { ", the one the file marks as its main picture" }
        );
    }
    let index = container::frame_index(path, streams.chosen);
    let (frame_count, fps, width, height) = if streams.chosen == streams.all[0] {
        // OpenCV reads the first video stream: its view, checked against the index below.
        let mut first = Mat::default();
        if !cap.read(&mut first)? || first.empty() {
            bail!("video {}: the first frame cannot be decoded", path.display());
        }
        let get = |property| cap.get(property);
        (
            get(videoio::CAP_PROP_FRAME_COUNT)?,
            get(videoio::CAP_PROP_FPS)?,
            get(videoio::CAP_PROP_FRAME_WIDTH)?,
            get(videoio::CAP_PROP_FRAME_HEIGHT)?,
        )
    } else {
        // Another stream, which only FFmpeg's libraries read: its own header and index.
        let reader = super::libav::LibavReader::open(path, streams.chosen)?;
        let counted = index.as_ref().ok().filter(|i| i.indexed).map(|i| i.frames());
        let (width, height) = reader.shown_size();
        (counted.unwrap_or(reader.header_frames()) as f64, reader.fps(), f64::from(width), f64::from(height))
    };
    if frame_count.is_nan() || frame_count < 1.0 {
        bail!("video {} reports no frames", path.display());
    }
    if !(fps > 0.0 && fps.is_finite()) {
        bail!("video {} reports no frame rate", path.display());
    }
    match index {
        Ok(index) => check_frame_index(path, &index, frame_count as u64, fps)?,
        Err(e) => tracing::debug!("no frame index for {} ({e:#}): its header is trusted", path.display()),
    }
    Ok(VideoInfo {
        path: path.display().to_string(),
        file_size: meta.len(),
        frame_count: frame_count as usize,
        fps,
        width: width as u32,
        height: height as u32,
        stream: streams.chosen,
    })
}

/// Refuses, with the command that fixes the file, a video OpenCV would read wrongly without a
/// word: a header that under-states the frame count (OpenCV stops there), or a variable frame
/// rate (OpenCV numbers and seeks frames as if the rate were constant, so ranks starting
/// mid-video would analyse other frames than one rank reading from the start, and times
/// computed as frame / fps would be off).
fn check_frame_index(path: &Path, index: &FrameIndex, reported: u64, fps: f64) -> Result<()> {
    let name = path.display();
    if let Some((reached, back_to)) = index.restart {
        bail!(
            "video {name}: its timestamps go back from {reached:.1} s to {back_to:.1} s (recordings joined end to end, \
             e.g. with cat), so frames of both parts would share times and numbers: give it one timeline first, e.g. \
             `ffmpeg -i {name} -c copy joined.mkv`, and run on that"
        );
    }
    if index.indexed && index.header_frames > 0 && index.frames() > reported {
        bail!(
            "video {name}: its header says {reported} frames but the stream holds {} ({:.1} s, not {:.1} s), and OpenCV \
             reads no further than the header: rewrite the header first, e.g. `ffmpeg -i {name} -c copy fixed.mkv`",
            index.frames(),
            index.times_s.last().copied().unwrap_or_default(),
            reported as f64 / fps
        );
    }
    // Packets that are not one per frame (interlaced fields) say nothing about the rate.
    let same_count = index.frames().abs_diff(reported) <= reported / 50 + 1;
    if let Some((frame, at)) = index.first_off_constant_rate(fps).filter(|_| same_count) {
        bail!(
            "video {name} has a variable frame rate (frame {frame} is shown at {at:.2} s, not at {:.2} s as {fps:.2} fps \
             puts it), and rollcall reads frames at a constant rate: convert it first at its fastest rate, e.g. \
             `ffmpeg -i {name} -fps_mode cfr -r {:.0} -c:v libx264 -crf 18 constant.mp4`",
            frame as f64 / fps,
            index.fastest_fps().unwrap_or(fps).clamp(1.0, 60.0)
        );
    }
    Ok(())
}
