//! Reading video frames with OpenCV: probing a file, and fetching sampled frames with as
//! little decoding as the container allows.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};
use serde::{Deserialize, Serialize};

/// Frames between the reader's position and the wanted frame above which seeking is cheaper
/// than decoding forward. Codecs decode from the previous keyframe on a seek anyway, so a short
/// gap is best walked with `grab` (decode, no colour conversion).
pub const MAX_GRAB_GAP: usize = 48;

/// Frames a seek decodes: OpenCV's FFmpeg backend seeks to 16 frames before the target (to
/// the keyframe before that, for codecs with inter frames) and decodes forward to it.
pub const SEEK_DECODES: usize = 16;

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

/// Keeps FFmpeg's and OpenCV's own console messages ("moov atom not found", backend warnings)
/// out of rollcall's output: rollcall reports what failed itself, in one line. A user who wants
/// FFmpeg's view sets `OPENCV_FFMPEG_LOGLEVEL` (e.g. 32) and it is respected.
///
/// Call once at start-up, before any thread exists (it sets an environment variable that
/// OpenCV reads when it first opens a video).
pub fn quiet_codec_logs() -> Result<()> {
    if std::env::var_os("OPENCV_FFMPEG_LOGLEVEL").is_none() {
        std::env::set_var("OPENCV_FFMPEG_LOGLEVEL", "-8"); // AV_LOG_QUIET
                                                           // The same FFmpeg libraries serve `container`'s demuxing.
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Quiet);
    }
    opencv::core::set_log_level(opencv::core::LogLevel::LOG_LEVEL_ERROR)?;
    Ok(())
}

/// Opens a video with FFmpeg, the backend whose frame-exact seeking the tests verify (and
/// which does not fall back to GStreamer's slower, noisier pipelines).
fn open_capture(path: &Path) -> Result<VideoCapture> {
    let name = path.to_str().with_context(|| format!("video path {} is not UTF-8", path.display()))?;
    let cap = VideoCapture::from_file(name, videoio::CAP_FFMPEG)?;
    if !cap.is_opened()? {
        match crate::media::container::why_unreadable(path) {
            Some(why) => bail!("video {} {why}", path.display()),
            None => bail!("video {} cannot be opened: not a video file, or a codec OpenCV lacks", path.display()),
        }
    }
    Ok(cap)
}

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
    let mut cap = open_capture(path)?;
    let streams = crate::media::container::video_streams(path, wanted)?;
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
    let index = crate::media::container::frame_index(path, streams.chosen);
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
fn check_frame_index(path: &Path, index: &crate::media::container::FrameIndex, reported: u64, fps: f64) -> Result<()> {
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

/// Decodes an image file as BGR (OpenCV's order, upright as its EXIF orientation says), or
/// says in one line why it cannot.
pub fn read_image(path: &Path) -> Result<Mat> {
    let name = path.to_str().context("non-UTF-8 path")?;
    let image = opencv::imgcodecs::imread(name, opencv::imgcodecs::IMREAD_COLOR).map_err(|e| {
        match imagesize::size(path) {
            // OpenCV's guard against decompression bombs (OPENCV_IO_MAX_IMAGE_PIXELS).
            Ok(size) if e.message.contains("CV_IO_MAX_IMAGE_PIXELS") => anyhow!(
                "{}: {}×{} px is more than OpenCV decodes (2^30 pixels unless OPENCV_IO_MAX_IMAGE_PIXELS says otherwise)",
                path.display(),
                size.width,
                size.height
            ),
            _ => anyhow!("{}: cannot be decoded: {}", path.display(), e.message.lines().next().unwrap_or_default()),
        }
    })?;
    if image.empty() {
        bail!("{}: not a readable image", path.display());
    }
    Ok(image)
}

/// Warns, naming the photo, when its file stops before its format's end marker (see
/// [`is_cut_short`]): OpenCV decodes it anyway, with libjpeg's own line and no name.
pub fn warn_if_cut_short(path: &Path) -> Result<()> {
    if is_cut_short(path)? {
        tracing::warn!(
            "{}: the file is cut short (no end-of-image marker): its lower part may be blank; replace it",
            path.display()
        );
    }
    Ok(())
}

/// Whether an image file stops before its format's end marker: a copy cut short, which
/// decodes to a picture whose lower part is grey. JPEG's end-of-image marker follows the last
/// scan (an EXIF thumbnail's comes before it, data appended after it is allowed); PNG ends in
/// an IEND chunk.
fn is_cut_short(path: &Path) -> Result<bool> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let find_last = |marker: &[u8]| bytes.windows(marker.len()).rposition(|w| w == marker);
    Ok(if bytes.starts_with(&[0xFF, 0xD8]) {
        let last_scan = find_last(&[0xFF, 0xDA]).unwrap_or(0);
        find_last(&[0xFF, 0xD9]).is_none_or(|end| end < last_scan)
    } else if bytes.starts_with(b"\x89PNG") {
        find_last(b"IEND").is_none()
    } else {
        false
    })
}

/// Which library decodes a video's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Reader {
    /// FFmpeg's libraries directly: frames between samples that no other frame refers to are
    /// not decoded, keyframes are sought when they are nearer (see [`super::libav`]).
    #[default]
    Libav,
    /// OpenCV's FFmpeg backend: every frame between samples is decoded. The same pixels and
    /// frames as `libav` (tested); kept as a fall-back for a file the first reader trips on.
    Opencv,
}

impl std::fmt::Display for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reader::Libav => "libav",
            Reader::Opencv => "opencv",
        })
    }
}

/// Frame numbers of the video's keyframes, in order; empty when its packets carry no
/// presentation times to number them by (AVI with packed MPEG-4 B-frames).
pub fn keyframes(path: &Path, stream: usize) -> Result<Vec<usize>> {
    match super::libav::LibavReader::open(path, stream) {
        Ok(reader) => reader.keyframes_shown(),
        Err(e) if e.is::<super::libav::Unnumbered>() => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A video opened by one rank, read at increasing or arbitrary frame indices, by the reader
/// the settings chose. Both give the same frame the same number and the same pixels.
pub enum VideoReader {
    Libav(Box<super::libav::LibavReader>),
    Opencv(OpencvReader),
}

impl VideoReader {
    /// Opens video stream `stream` (the probe's [`VideoInfo::stream`]) of `path`.
    pub fn open(path: &Path, reader: Reader, stream: usize) -> Result<Self> {
        Ok(match reader {
            Reader::Libav => match super::libav::LibavReader::open(path, stream) {
                Ok(reader) => VideoReader::Libav(Box::new(reader)),
                Err(e) if e.is::<super::libav::Unnumbered>() => {
                    tracing::debug!("{}: {e}; read with OpenCV", path.display());
                    VideoReader::Opencv(OpencvReader::open(path, stream)?)
                }
                Err(e) => return Err(e),
            },
            Reader::Opencv => VideoReader::Opencv(OpencvReader::open(path, stream)?),
        })
    }

    /// Reads frame `index` into `frame` (BGR, upright). Returns `false` when the frame cannot
    /// be decoded (a damaged stretch, or a container that overstated its length).
    /// A file the libav reader cannot number frames of (see [`super::libav::Unnumbered`]) is
    /// read on with OpenCV's reader, which counts every frame.
    pub fn read(&mut self, index: usize, frame: &mut Mat) -> Result<bool> {
        match self {
            VideoReader::Libav(r) => match r.read(index, frame) {
                Err(e) if e.is::<super::libav::Unnumbered>() => {
                    tracing::debug!("{}: {e}; read on with OpenCV", r.path().display());
                    let mut opencv = OpencvReader::open(r.path(), r.stream())?;
                    opencv.decoded = r.decoded_frames();
                    *self = VideoReader::Opencv(opencv);
                    self.read(index, frame)
                }
                read => read,
            },
            VideoReader::Opencv(r) => r.read(index, frame),
        }
    }

    /// Frames decoded so far, including those passed over to reach sampled frames.
    pub fn decoded_frames(&self) -> usize {
        match self {
            VideoReader::Libav(r) => r.decoded_frames(),
            VideoReader::Opencv(r) => r.decoded_frames(),
        }
    }
}

/// Refuses a reader that cannot read video stream `stream` of `path`: OpenCV 4.6 reads only
/// a file's first video stream.
pub fn check_reader(path: &Path, reader: Reader, stream: usize) -> Result<()> {
    if reader == Reader::Opencv && crate::media::container::video_streams(path, None)?.all.first() != Some(&stream) {
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
        check_reader(path, Reader::Opencv, stream)?;
        Ok(OpencvReader { cap: open_capture(path)?, position: 0, decoded: 0 })
    }

    /// Reads frame `index` into `frame` (BGR). Returns `false` when the frame cannot be
    /// decoded (a damaged stretch, or a container that overstated its length).
    pub fn read(&mut self, index: usize, frame: &mut Mat) -> Result<bool> {
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

    fn advance(&mut self) {
        self.position = self.position.saturating_add(1);
        self.decoded += 1;
    }

    /// Frames decoded so far, including those passed over to reach sampled frames.
    pub fn decoded_frames(&self) -> usize {
        self.decoded
    }
}
