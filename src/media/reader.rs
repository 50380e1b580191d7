//! The reader the settings choose, over the two backends: FFmpeg's libraries ([`super::libav`])
//! or OpenCV's ([`super::opencv`]). Both give the same frame the same number and the same pixels.

use std::path::{Path, PathBuf};

use anyhow::Result;
use opencv::core::Mat;
use serde::{Deserialize, Serialize};

use super::libav::{LibavReader, Unnumbered};
use super::opencv::OpencvReader;
use super::source::FrameSource;

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
    match LibavReader::open(path, stream) {
        Ok(reader) => reader.keyframes_shown(),
        Err(e) if e.is::<Unnumbered>() => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A video opened by one rank, read at increasing or arbitrary frame indices, by the reader
/// the settings chose.
pub struct VideoReader {
    path: PathBuf,
    stream: usize,
    source: Box<dyn FrameSource>,
}

impl VideoReader {
    /// Opens video stream `stream` (the probe's [`super::VideoInfo::stream`]) of `path`.
    pub fn open(path: &Path, reader: Reader, stream: usize) -> Result<Self> {
        let source: Box<dyn FrameSource> = match reader {
            Reader::Libav => match LibavReader::open(path, stream) {
                Ok(reader) => Box::new(reader),
                Err(e) if e.is::<Unnumbered>() => {
                    tracing::debug!("{}: {e}; read with OpenCV", path.display());
                    Box::new(OpencvReader::open(path, stream)?)
                }
                Err(e) => return Err(e),
            },
            Reader::Opencv => Box::new(OpencvReader::open(path, stream)?),
        };
        Ok(VideoReader { path: path.to_path_buf(), stream, source })
    }

    /// Reads frame `index` into `frame` (BGR, upright). Returns `false` when the frame cannot
    /// be decoded (a damaged stretch, or a container that overstated its length).
    /// A file the libav reader cannot number frames of (see [`Unnumbered`], which only it
    /// reports) is read on with OpenCV's reader, which counts every frame.
    pub fn read(&mut self, index: usize, frame: &mut Mat) -> Result<bool> {
        match self.source.read(index, frame) {
            Err(e) if e.is::<Unnumbered>() => {
                tracing::debug!("{}: {e}; read on with OpenCV", self.path.display());
                let decoded = self.source.decoded_frames();
                self.source = Box::new(OpencvReader::open(&self.path, self.stream)?.having_decoded(decoded));
                self.read(index, frame)
            }
            read => read,
        }
    }

    /// Frames decoded so far, including those passed over to reach sampled frames.
    pub fn decoded_frames(&self) -> usize {
        self.source.decoded_frames()
    }
}

/// Refuses a reader that cannot read video stream `stream` of `path`: OpenCV 4.6 reads only
/// a file's first video stream.
pub fn check_reader(path: &Path, reader: Reader, stream: usize) -> Result<()> {
    match reader {
        Reader::Opencv => super::opencv::check_first_stream(path, stream),
        Reader::Libav => Ok(()),
    }
}
