//! Frames and images in. One file per backend behind one surface: FFmpeg's libraries
//! (`libav`, the default reader) and OpenCV's (`opencv`) read video frames through
//! [`FrameSource`]; `still` decodes photos; `probe` says what a video holds before any plan;
//! [`container`] reads what a file says about its frames without decoding them. Callers see
//! only what is re-exported here.

mod codec_log;
pub mod container;
mod info;
mod libav;
mod opencv;
mod probe;
mod reader;
mod source;
mod still;

pub use codec_log::quiet_codec_logs;
pub use info::VideoInfo;
pub use probe::probe;
pub use reader::{check_reader, keyframes, Reader, VideoReader};
pub use source::{FrameSource, MAX_GRAB_GAP, SEEK_DECODES};
pub use still::{read_image, warn_if_cut_short};
