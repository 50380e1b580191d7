//! What a video's container says about its frames, read with FFmpeg's demuxer (no decoding):
//! how many frames the stream really holds and when each is shown. OpenCV trusts the stream
//! header for the frame count and derives frame numbers from timestamps at a constant rate;
//! this is how rollcall checks both before relying on them.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use ffmpeg_next as ffmpeg;

/// A file's video streams (container indices, cover pictures left out) and the one rollcall
/// reads. Chosen once, by rank 0's probe, recorded in `/video/stream`, and opened by every
/// reader: the `stream` setting when given, else FFmpeg's choice (`av_find_best_stream`, which
/// prefers the stream the file flags as default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoStreams {
    pub all: Vec<usize>,
    pub chosen: usize,
}

/// The video streams of `path`, and the one to read (see [`VideoStreams`]).
pub fn video_streams(path: &Path, wanted: Option<usize>) -> Result<VideoStreams> {
    ffmpeg::init().map_err(|e| anyhow!("FFmpeg: {e}"))?;
    let input = ffmpeg::format::input(&path).map_err(|e| anyhow!("video {}: {e}", path.display()))?;
    let all: Vec<usize> = input
        .streams()
        .filter(|s| s.parameters().medium() == ffmpeg::media::Type::Video)
        .filter(|s| !s.disposition().contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC))
        .map(|s| s.index())
        .collect();
    let chosen = match wanted {
        Some(n) if all.contains(&n) => n,
        Some(n) => bail!(
            "video {} has no video stream {n} (stream: its video streams are {})",
            path.display(),
            all.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
        ),
        None => input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .map(|s| s.index())
            .with_context(|| format!("video {} has no video stream", path.display()))?,
    };
    Ok(VideoStreams { all, chosen })
}

/// The frames of a video stream as its container lists them.
#[derive(Debug, Clone)]
pub struct FrameIndex {
    /// Frames the stream header claims (what OpenCV reports and reads up to); 0 when it is silent.
    pub header_frames: u64,
    /// When each frame is shown, seconds from the first frame, in display order.
    pub times_s: Vec<f64>,
    /// Whether `times_s` comes from the demuxer's own index (one entry per frame), rather
    /// than from packets, which some codecs split a frame into (interlaced fields).
    pub indexed: bool,
    /// Where the timestamps, in the file's order, first go back by more than [`RESTART_S`]:
    /// (seconds reached, seconds gone back to), from the first frame. Recordings joined end to
    /// end (`cat a.ts b.ts`) do this: their frames would share times and numbers.
    pub restart: Option<(f64, f64)>,
}

/// A step back in the timestamps of packets in file order larger than this is a restart, not
/// the reordering of B-frames (a few frames).
const RESTART_S: f64 = 1.0;

/// Reads the frame index of video stream `stream` of `path`: the demuxer's index where it
/// lists every frame (MP4, MOV, AVI with an index: no reading beyond the header), else every
/// packet of the stream (read, not decoded).
pub fn frame_index(path: &Path, stream: usize) -> Result<FrameIndex> {
    ffmpeg::init().map_err(|e| anyhow!("FFmpeg: {e}"))?;
    let mut input = ffmpeg::format::input(&path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let stream = input.stream(stream).ok_or_else(|| anyhow!("no stream {stream}"))?;
    let (stream_index, time_base) = (stream.index(), f64::from(stream.time_base()));
    let header_frames = u64::try_from(stream.frames()).unwrap_or(0);
    let mut ticks: Vec<i64> = index_entries(&stream).iter().map(|entry| entry.timestamp).collect();
    let indexed = !ticks.is_empty() && ticks.len() as u64 >= header_frames;
    if !indexed {
        ticks = input
            .packets()
            .filter(|(s, _)| s.index() == stream_index)
            .filter_map(|(_, packet)| packet.pts().or(packet.dts()))
            .collect();
    }
    let first = ticks.iter().min().copied().unwrap_or(0);
    let seconds = |t: i64| (t - first) as f64 * time_base;
    let mut reached = i64::MIN;
    let mut restart = None;
    for &t in &ticks {
        if reached != i64::MIN && seconds(reached) - seconds(t) > RESTART_S {
            restart = Some((seconds(reached), seconds(t)));
            break;
        }
        reached = reached.max(t);
    }
    ticks.sort_unstable();
    let times_s = ticks.iter().map(|&t| seconds(t)).collect();
    Ok(FrameIndex { header_frames, times_s, indexed, restart })
}

/// Why a file OpenCV cannot open is not a video rollcall can read, as FFmpeg's demuxer sees
/// it: an MP4/MOV cut short before its index (a recording that did not finish writing), a file
/// with no video stream (audio only), or else none of those (`None`: not a video at all, or a
/// codec OpenCV lacks).
pub fn why_unreadable(path: &Path) -> Option<String> {
    ffmpeg::init().ok()?;
    match ffmpeg::format::input(&path) {
        Err(ffmpeg::Error::InvalidData) if is_iso_media(path) => Some(
            "is truncated or incomplete: an MP4/MOV file without its index (`moov`), as a recording stopped before \
             it finished writing leaves it; copy it again, or rebuild the index from a good recording of the same \
             camera (e.g. with `untrunc`)"
                .to_owned(),
        ),
        Err(_) => None,
        Ok(input) if input.streams().count() == 0 => {
            Some("holds no streams at all (no frames, no sound): nothing was recorded into it".to_owned())
        }
        Ok(input) if input.streams().best(ffmpeg::media::Type::Video).is_none() => {
            let kinds: Vec<String> =
                input.streams().map(|s| format!("{:?}", s.parameters().medium()).to_lowercase()).collect();
            Some(format!("has no video stream (only {}): rollcall reads recordings with a picture", kinds.join(", ")))
        }
        Ok(_) => None,
    }
}

/// Whether the file starts as an ISO media file (MP4, MOV, M4V, 3GP): a `ftyp` box first.
fn is_iso_media(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok()
        && &head[4..] == b"ftyp"
}

/// One entry of a demuxer's index: a packet's timestamp (in the stream's time base) and
/// whether decoding can start there.
#[derive(Debug, Clone, Copy)]
pub struct IndexEntry {
    pub timestamp: i64,
    pub keyframe: bool,
}

/// The entries of the demuxer's index of `stream`, in the container's order (empty when it
/// keeps none, as MPEG-TS and Matroska without cues do until they are read).
pub fn index_entries(stream: &ffmpeg::format::stream::Stream) -> Vec<IndexEntry> {
    // SAFETY: `raw` is a stream of an input that stays open while it is used here; its index
    // is only read, and copied out before the stream can change.
    let raw = unsafe { stream.as_ptr() }.cast_mut();
    unsafe { raw_index(raw) }
        .iter()
        .map(|entry| IndexEntry {
            timestamp: entry.timestamp,
            keyframe: entry.flags() & ffmpeg::ffi::AVINDEX_KEYFRAME != 0,
        })
        .collect()
}

/// The demuxer's index of `raw` as libavformat keeps it: through its accessors from
/// libavformat 58.78 (FFmpeg 5) on.
///
/// # Safety
/// `raw` must be a stream of an open input, and the entries used before the input is read on.
#[cfg(not(lavf_index_fields))]
unsafe fn raw_index<'a>(raw: *mut ffmpeg::ffi::AVStream) -> Vec<&'a ffmpeg::ffi::AVIndexEntry> {
    let count = unsafe { ffmpeg::ffi::avformat_index_get_entries_count(raw) };
    (0..count).filter_map(|i| unsafe { ffmpeg::ffi::avformat_index_get_entry(raw, i).as_ref() }).collect()
}

/// The same from FFmpeg 4 (Debian 11, which the relocatable bundle is built on), whose
/// libavformat has no accessors yet and keeps the index in the stream's own fields (build.rs
/// sets `lavf_index_fields` from libavformat's version).
///
/// # Safety
/// As the accessor version.
#[cfg(lavf_index_fields)]
unsafe fn raw_index<'a>(raw: *mut ffmpeg::ffi::AVStream) -> Vec<&'a ffmpeg::ffi::AVIndexEntry> {
    let stream = unsafe { &*raw };
    let count = usize::try_from(stream.nb_index_entries).unwrap_or(0);
    if stream.index_entries.is_null() || count == 0 {
        return Vec::new();
    }
    unsafe { std::slice::from_raw_parts(stream.index_entries, count) }.iter().collect()
}

impl FrameIndex {
    /// Frames the stream holds.
    pub fn frames(&self) -> u64 {
        self.times_s.len() as u64
    }

    /// Frames per second where they come fastest: the rate a constant-rate copy needs to
    /// keep every frame.
    pub fn fastest_fps(&self) -> Option<f64> {
        let shortest = self.times_s.windows(2).map(|w| w[1] - w[0]).filter(|&d| d > 0.0).min_by(f64::total_cmp)?;
        Some(1.0 / shortest)
    }

    /// The first frame shown more than half a frame away from where a constant `fps` puts it,
    /// with its time: frame numbers and times computed at a constant rate (OpenCV's seeking,
    /// rollcall's `frame / fps`) would be wrong from there on.
    pub fn first_off_constant_rate(&self, fps: f64) -> Option<(usize, f64)> {
        let half_frame = 0.5 / fps;
        self.times_s.iter().enumerate().find(|&(i, &t)| (t - i as f64 / fps).abs() > half_frame).map(|(i, &t)| (i, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_is_told_from_a_variable_one() {
        let steady = FrameIndex { header_frames: 4, times_s: vec![0.0, 0.1, 0.2, 0.3], indexed: true, restart: None };
        assert_eq!(steady.first_off_constant_rate(10.0), None);
        let jittery =
            FrameIndex { header_frames: 4, times_s: vec![0.0, 0.104, 0.196, 0.302], indexed: true, restart: None };
        assert_eq!(jittery.first_off_constant_rate(10.0), None, "jitter under half a frame is harmless");
        let paused = FrameIndex { header_frames: 4, times_s: vec![0.0, 0.1, 1.1, 1.2], indexed: true, restart: None };
        assert_eq!(paused.first_off_constant_rate(10.0), Some((2, 1.1)));
    }
}
