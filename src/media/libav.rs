//! Reading sampled frames with libav (FFmpeg's libraries, through `ffmpeg-next`), decoding as
//! little as the stream allows. Between samples the decoder skips every frame no other frame
//! refers to (`AVDISCARD_NONREF`: the B-frames of a typical H.264 lecture, two thirds of it),
//! and when a keyframe lies between the position and the next sample it seeks there instead of
//! decoding forward. A frame's number is its presentation time at the stream's constant rate
//! (variable rates are refused at probing), counted from the first frame shown, so it does not
//! depend on where reading started: any ranks, schedule and threads sample the same frames.
//!
//! Pixels are converted to BGR exactly as OpenCV's FFmpeg backend does (swscale, bicubic,
//! swscale's default colour matrix) and turned upright by the stream's display matrix, so that this
//! reader and [`super::opencv`]'s reader hand the detector the same pixels (tested).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use ffmpeg::codec::discard::Discard;
use ffmpeg::software::scaling;
use ffmpeg_next as ffmpeg;
use opencv::core::{Mat, CV_8UC3};
use opencv::prelude::*;

use super::source::{FrameSource, MAX_GRAB_GAP};

/// Seeks tried, each further back, before reading from the very start: a container's index
/// may place a keyframe by its decoding time, a few frames before it is shown.
const SEEK_ATTEMPTS: u32 = 4;

/// Frame numbers from timestamps: the stream's time base and rate, and the first frame's time.
#[derive(Debug, Clone, Copy)]
struct FrameClock {
    /// Seconds per tick of the stream's time base.
    tick_s: f64,
    fps: f64,
    /// Timestamp of frame 0.
    origin: i64,
}

impl FrameClock {
    fn frame_at(&self, timestamp: i64) -> usize {
        ((timestamp - self.origin) as f64 * self.tick_s * self.fps).round().max(0.0) as usize
    }

    fn timestamp_of(&self, frame: usize) -> i64 {
        self.origin + (frame as f64 / self.fps / self.tick_s).round() as i64
    }
}

/// How frames are turned upright: OpenCV's rule for the stream's display matrix.
fn upright_turn(stream: &ffmpeg::format::stream::Stream) -> Option<opencv::core::RotateFlags> {
    let mut size = 0;
    // SAFETY: the stream belongs to an open input; the side data, when present, is a 3×3
    // matrix of i32 (FFmpeg's documented layout for AV_PKT_DATA_DISPLAYMATRIX), only read.
    let matrix = unsafe {
        ffmpeg::ffi::av_stream_get_side_data(
            stream.as_ptr(),
            ffmpeg::ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX,
            &mut size,
        )
    };
    if matrix.is_null() || size < 36 {
        return None;
    }
    // SAFETY: as above, 9 i32 are present.
    let angle = unsafe { ffmpeg::ffi::av_display_rotation_get(matrix.cast()) };
    if !angle.is_finite() {
        return None;
    }
    // OpenCV turns the picture clockwise by the angle FFmpeg reports (`rotateFrame`): the
    // same rule, so that both readers give the same pixels (tested on a tagged file).
    let clockwise = (angle.round() as i64).rem_euclid(360);
    use opencv::core::RotateFlags::*;
    match clockwise {
        90 => Some(ROTATE_90_CLOCKWISE),
        180 => Some(ROTATE_180),
        270 => Some(ROTATE_90_COUNTERCLOCKWISE),
        _ => None,
    }
}

/// Frames whose number the reader cannot know once it skips some: packets without a
/// presentation time (AVI files of MPEG-4 part 2 with "packed" B-frames), or a decoded frame
/// without a timestamp after frames were skipped. The caller reads the file with a reader
/// that decodes and counts every frame instead.
#[derive(Debug)]
pub struct Unnumbered;

impl std::fmt::Display for Unnumbered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a frame without a timestamp after skipped frames: its number is unknown")
    }
}

impl std::error::Error for Unnumbered {}

/// A video opened by one rank, read at increasing or arbitrary frame numbers.
pub struct LibavReader {
    input: ffmpeg::format::context::Input,
    stream: usize,
    decoder: ffmpeg::decoder::Video,
    clock: FrameClock,
    /// Frame numbers of the keyframes in the container's index (empty when it has none), as
    /// far as the index tells: used to choose between seeking and decoding forward.
    keyframes: Vec<usize>,
    turn: Option<opencv::core::RotateFlags>,
    /// Number of the frame the decoder gives next, if known.
    position: Option<usize>,
    /// The target the decoder is being walked to: packets shown before it may be skipped.
    target: usize,
    /// A frame decoded beyond the one asked for (the one asked for was missing): the next
    /// read may want it.
    held: Option<(usize, ffmpeg::frame::Video)>,
    /// End of stream was sent to the decoder.
    draining: bool,
    /// A packet read to see where a seek landed, still to be decoded.
    pending: Option<ffmpeg::Packet>,
    /// Frames shown before this one may be damaged without a fault of the file: the leading
    /// frames of an open group of pictures decoded after a seek.
    clean_from: usize,
    /// Every frame is a keyframe (MJPEG and the like): frames before the target need not be
    /// decoded at all.
    intra_only: bool,
    /// Some packet was left undecoded (or to the decoder's judgement): a frame without a
    /// timestamp can no longer be numbered by counting.
    skipped: bool,
    path: PathBuf,
    scaler: Option<scaling::Context>,
    decoded: usize,
}

impl LibavReader {
    /// Opens video stream `stream` (a container index: the probe's choice,
    /// [`super::container::video_streams`]) of `path` and decodes its first frame.
    pub fn open(path: &Path, stream: usize) -> Result<Self> {
        ffmpeg::init().map_err(|e| anyhow!("FFmpeg: {e}"))?;
        let input = ffmpeg::format::input(&path).map_err(|e| anyhow!("video {}: {e}", path.display()))?;
        let stream = input
            .stream(stream)
            .filter(|s| s.parameters().medium() == ffmpeg::media::Type::Video)
            .with_context(|| format!("video {} has no video stream {stream}", path.display()))?;
        let mut context = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| anyhow!("video {}: {e}", path.display()))?;
        // One decoding thread: a rank's CPU time is what a semester is planned with, and frame
        // threads would add their hand-over cost to every frame (ranks × threads fill the cores).
        context.set_threading(ffmpeg::codec::threading::Config { count: 1, ..Default::default() });
        let decoder = context
            .decoder()
            .video()
            .map_err(|e| anyhow!("video {}: no decoder for its codec ({e})", path.display()))?;
        // SAFETY: the format context and stream are live; av_guess_frame_rate only reads them.
        let rate = unsafe {
            ffmpeg::ffi::av_guess_frame_rate(
                input.as_ptr().cast_mut(),
                stream.as_ptr().cast_mut(),
                std::ptr::null_mut(),
            )
        };
        let fps = f64::from(ffmpeg::Rational::from(rate));
        anyhow::ensure!(fps > 0.0 && fps.is_finite(), "video {} reports no frame rate", path.display());
        let tick_s = f64::from(stream.time_base());
        let start = stream.start_time();
        let origin = if start == ffmpeg::ffi::AV_NOPTS_VALUE { 0 } else { start };
        let clock = FrameClock { tick_s, fps, origin };
        // SAFETY: a plain lookup in FFmpeg's static table of codec descriptors.
        let descriptor = unsafe { ffmpeg::ffi::avcodec_descriptor_get(stream.parameters().id().into()).as_ref() };
        let intra_only = descriptor.is_some_and(|d| d.props & ffmpeg::ffi::AV_CODEC_PROP_INTRA_ONLY != 0);
        let index = super::container::index_entries(&stream);
        let turn = upright_turn(&stream);
        let stream = stream.index();
        let mut reader = LibavReader {
            input,
            stream,
            decoder,
            clock,
            keyframes: Vec::new(),
            turn,
            position: Some(0),
            target: 0,
            held: None,
            draining: false,
            pending: None,
            clean_from: 0,
            intra_only,
            skipped: false,
            path: path.to_path_buf(),
            scaler: None,
            decoded: 0,
        };
        // A container that gives packets no presentation time (AVI with "packed" MPEG-4
        // B-frames) leaves frames to be numbered by counting, which skipping cannot do.
        let first_packet = reader.next_packet();
        if first_packet.as_ref().is_some_and(|p| p.pts().is_none()) {
            return Err(Unnumbered.into());
        }
        reader.pending = first_packet;
        // Frame 0 is the first frame shown, whatever the container's start time says.
        match reader.next_frame()? {
            Some((_, first)) => {
                if let Some(at) = first.timestamp() {
                    reader.clock.origin = at;
                }
                reader.held = Some((0, first));
                reader.position = Some(1);
            }
            None => anyhow::bail!("video {}: the first frame cannot be decoded", path.display()),
        }
        let clock = reader.clock;
        reader.keyframes = index.iter().filter(|e| e.keyframe).map(|e| clock.frame_at(e.timestamp)).collect();
        reader.keyframes.sort_unstable();
        Ok(reader)
    }

    /// Frame numbers of the keyframes as shown, in order, from every packet of the stream
    /// (read, not decoded): a container's index may give decoding times, a few frames early
    /// under B-frames.
    pub fn keyframes_shown(&self) -> Result<Vec<usize>> {
        let mut input = ffmpeg::format::input(&self.path).map_err(|e| anyhow!("video {}: {e}", self.path.display()))?;
        let mut frames: Vec<usize> = input
            .packets()
            .filter(|(stream, packet)| stream.index() == self.stream && packet.is_key())
            .filter_map(|(_, packet)| packet.pts())
            .map(|at| self.clock.frame_at(at))
            .collect();
        frames.sort_unstable();
        frames.dedup();
        Ok(frames)
    }

    /// Reads frame `index` into `frame` (BGR, upright). Returns `false` when the frame cannot
    /// be decoded (a damaged stretch, or a stream that ends before it).
    fn read_frame(&mut self, index: usize, frame: &mut Mat) -> Result<bool> {
        if let Some((at, held)) = self.held.take() {
            match at.cmp(&index) {
                std::cmp::Ordering::Equal => return self.convert(&held, frame).map(|()| true),
                std::cmp::Ordering::Greater => self.held = Some((at, held)),
                std::cmp::Ordering::Less => {}
            }
        }
        if self.held.as_ref().is_some_and(|(at, _)| *at > index) || self.should_seek(index) {
            self.seek(index)?;
        }
        self.target = index;
        while let Some((at, decoded)) = self.next_frame()? {
            match at.cmp(&index) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return self.convert(&decoded, frame).map(|()| true),
                std::cmp::Ordering::Greater => {
                    self.held = Some((at, decoded));
                    return Ok(false);
                }
            }
        }
        Ok(false)
    }

    /// Whether reaching `index` from the decoder's position is cheaper by a seek: it is behind,
    /// or a keyframe lies past the position and not after it (with no index, far ahead).
    fn should_seek(&self, index: usize) -> bool {
        let Some(position) = self.position else { return true };
        if index < position {
            return true;
        }
        match self.keyframes.partition_point(|&k| k <= index) {
            0 if self.keyframes.is_empty() => index - position > MAX_GRAB_GAP,
            0 => false,
            after => self.keyframes[after - 1] > position,
        }
    }

    /// Seeks to the last keyframe shown at or before `index`: a keyframe the demuxer lands
    /// on that is shown later (an index by decoding time) sends it further back.
    fn seek(&mut self, index: usize) -> Result<()> {
        let mut back = 0;
        for attempt in 0..=SEEK_ATTEMPTS {
            let to = if attempt == SEEK_ATTEMPTS { 0 } else { index.saturating_sub(back) };
            self.seek_before(self.clock.timestamp_of(to))?;
            match self.peek_landing()? {
                Some(landed) if landed > index && to > 0 => back = (back * 4).max(landed - index),
                landed => {
                    self.clean_from = landed.unwrap_or(0);
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn seek_before(&mut self, timestamp: i64) -> Result<()> {
        // SAFETY: a live format context and a stream index of it.
        let status = unsafe {
            ffmpeg::ffi::av_seek_frame(
                self.input.as_mut_ptr(),
                self.stream as i32,
                timestamp,
                ffmpeg::ffi::AVSEEK_FLAG_BACKWARD,
            )
        };
        if status < 0 {
            return Err(anyhow!("cannot seek: {}", ffmpeg::Error::from(status)));
        }
        self.decoder.flush();
        self.held = None;
        self.draining = false;
        self.position = None;
        self.pending = None;
        Ok(())
    }

    /// Reads the first packet of the stream after a seek, keeping it to decode, and returns
    /// the frame it shows.
    fn peek_landing(&mut self) -> Result<Option<usize>> {
        let packet = self.next_packet();
        let landed = packet.as_ref().and_then(|p| p.pts().or(p.dts())).map(|t| self.clock.frame_at(t));
        self.pending = packet;
        Ok(landed)
    }

    /// The next packet of the video stream, or `None` at its end. A read error past the
    /// header (a file cut short, a damaged stretch the demuxer cannot resync over) ends the
    /// stream there: the frames after it are reported as not decoded, one by one.
    fn next_packet(&mut self) -> Option<ffmpeg::Packet> {
        if let Some(packet) = self.pending.take() {
            return Some(packet);
        }
        let mut packet = ffmpeg::Packet::empty();
        loop {
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() == self.stream => return Some(packet),
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return None,
                Err(e) => {
                    tracing::debug!("reading the video stopped: {e}");
                    return None;
                }
            }
        }
    }

    /// Decodes the next frame shown, with its number. Packets shown before the target are
    /// not decoded when nothing refers to them (every one of an intra-only stream, the
    /// non-reference frames of others).
    fn next_frame(&mut self) -> Result<Option<(usize, ffmpeg::frame::Video)>> {
        let mut frame = ffmpeg::frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    self.decoded += 1;
                    let at = match (frame.timestamp(), self.position) {
                        (Some(t), _) => self.clock.frame_at(t),
                        (None, Some(position)) if !self.skipped => position,
                        (None, _) => return Err(Unnumbered.into()),
                    };
                    self.position = Some(at + 1);
                    if at != self.target && at >= self.clean_from && is_damaged(&frame) {
                        tracing::warn!(
                            "frame {at} (between sampled frames) is damaged: sampled frames up to the next keyframe \
                             may show its errors"
                        );
                    }
                    return Ok(Some((at, frame)));
                }
                Err(ffmpeg::Error::Eof) => return Ok(None),
                Err(ffmpeg::Error::Other { errno: libc::EAGAIN }) => {}
                Err(e) => return Err(anyhow!("decoding the video: {e}")),
            }
            if self.draining {
                return Ok(None);
            }
            match self.next_packet() {
                Some(packet) => {
                    let shown = packet.pts().map(|t| self.clock.frame_at(t));
                    let before_target = shown.is_some_and(|f| f < self.target);
                    self.skipped |= before_target;
                    if before_target && self.intra_only {
                        continue;
                    }
                    self.decoder.skip_frame(if before_target { Discard::NonReference } else { Discard::Default });
                    if let Err(e) = self.decoder.send_packet(&packet) {
                        // A packet the decoder refuses outright is a frame that does not come out:
                        // a sampled one is reported missing by `read`, one between samples here.
                        match shown {
                            Some(f) if f != self.target && f >= self.clean_from => tracing::warn!(
                                "frame {f} (between sampled frames) cannot be decoded ({e}): sampled frames up to \
                                 the next keyframe may show its errors"
                            ),
                            _ => tracing::debug!("a packet of the video cannot be decoded: {e}"),
                        }
                    }
                }
                None => {
                    let _ = self.decoder.send_eof();
                    self.draining = true;
                }
            }
        }
    }

    /// Converts a decoded frame to an upright BGR `Mat`.
    fn convert(&mut self, decoded: &ffmpeg::frame::Video, out: &mut Mat) -> Result<()> {
        let (format, width, height) = (decoded.format(), decoded.width(), decoded.height());
        let fits = self.scaler.as_ref().is_some_and(|s| {
            let input = s.input();
            (input.format, input.width, input.height) == (format, width, height)
        });
        if !fits {
            let scaler = scaling::Context::get(
                format,
                width,
                height,
                ffmpeg::format::Pixel::BGR24,
                width,
                height,
                scaling::Flags::BICUBIC,
            )
            .map_err(|e| anyhow!("cannot convert {format:?} frames of {width}×{height} to BGR: {e}"))?;
            self.scaler = Some(scaler);
        }
        let mut bgr = ffmpeg::frame::Video::empty();
        self.scaler
            .as_mut()
            .expect("set above")
            .run(decoded, &mut bgr)
            .map_err(|e| anyhow!("cannot convert a frame to BGR: {e}"))?;
        let (rows, row_bytes) = (height as usize, width as usize * 3);
        let mut upright = Mat::new_rows_cols_with_default(height as i32, width as i32, CV_8UC3, 0.into())?;
        let (stride, data) = (bgr.stride(0), bgr.data(0));
        let target = upright.data_bytes_mut()?;
        for row in 0..rows {
            target[row * row_bytes..(row + 1) * row_bytes]
                .copy_from_slice(&data[row * stride..row * stride + row_bytes]);
        }
        match self.turn {
            Some(turn) => opencv::core::rotate(&upright, out, turn as i32)?,
            None => *out = upright,
        }
        Ok(())
    }

    /// Frames the decoder produced, sampled or not: the cost of getting to the sampled ones.
    /// Frames per second, as frame numbers count them.
    pub fn fps(&self) -> f64 {
        self.clock.fps
    }

    /// Width and height of a frame as read (turned upright).
    pub fn shown_size(&self) -> (u32, u32) {
        let (w, h) = (self.decoder.width(), self.decoder.height());
        match self.turn {
            Some(opencv::core::RotateFlags::ROTATE_180) | None => (w, h),
            Some(_) => (h, w),
        }
    }

    /// Frames as the stream's header or, failing that, its duration tells (0: it does not say).
    pub fn header_frames(&self) -> u64 {
        let Some(stream) = self.input.stream(self.stream) else { return 0 };
        match u64::try_from(stream.frames()) {
            Ok(n) if n > 0 => n,
            _ if stream.duration() > 0 => {
                (stream.duration() as f64 * f64::from(stream.time_base()) * self.clock.fps).round() as u64
            }
            _ => 0,
        }
    }
}

impl FrameSource for LibavReader {
    fn read(&mut self, index: usize, frame: &mut Mat) -> Result<bool> {
        self.read_frame(index, frame)
    }

    fn decoded_frames(&self) -> usize {
        self.decoded
    }
}

/// Whether the decoder flagged a frame as damaged: concealed errors, or a frame decoded
/// without the references it needs.
fn is_damaged(frame: &ffmpeg::frame::Video) -> bool {
    // SAFETY: reading a field of a live frame.
    frame.is_corrupt() || unsafe { (*frame.as_ptr()).decode_error_flags } != 0
}
