//! Frames and images in: OpenCV for decoding ([`video`]), FFmpeg's demuxer for what a
//! container says about its frames without decoding them ([`container`]).

pub mod container;
pub mod video;
