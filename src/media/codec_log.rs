//! The codec libraries' own console output, set once per process.

use anyhow::Result;

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
