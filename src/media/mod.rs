//! Frames and images in: FFmpeg's libraries ([`libav`]) or OpenCV ([`video`]) for decoding, FFmpeg's demuxer for what a
//! container says about its frames without decoding them ([`container`]).

pub mod container;
pub mod libav;
pub mod video;
