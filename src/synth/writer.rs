//! The recording's container and codec.
//!
//! `.avi` is MJPEG through OpenCV: every frame a keyframe, nearly lossless, the built-in
//! lecture's format. `.mp4` is what a lecture-capture system records: H.264 (MPEG-4 part 2
//! where FFmpeg has no H.264 encoder) with inter frames, at a fixed lecture-capture bitrate.
//! OpenCV's writer cannot set a bitrate, so `.mp4` frames are piped to the `ffmpeg` program.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use opencv::core::{Mat, Size};
use opencv::prelude::*;
use opencv::videoio;

pub enum VideoOut {
    OpenCv(videoio::VideoWriter),
    Ffmpeg { child: Child, stdin: Option<ChildStdin>, frame_bytes: usize },
}

impl VideoOut {
    pub fn create(path: &Path, width: i32, height: i32, fps: f64, bitrate_kbps: u32) -> Result<VideoOut> {
        let name = path.to_str().context("non-UTF-8 path")?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("avi") => {
                let fourcc = videoio::VideoWriter::fourcc('M', 'J', 'P', 'G')?;
                let writer = videoio::VideoWriter::new(name, fourcc, fps, Size::new(width, height), true)?;
                ensure!(writer.is_opened()?, "cannot write video {}", path.display());
                Ok(VideoOut::OpenCv(writer))
            }
            Some("mp4") => {
                let codec = if ffmpeg_has_encoder("libx264")? { "libx264" } else { "mpeg4" };
                let mut child = Command::new("ffmpeg")
                    .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"])
                    .args(["-s", &format!("{width}x{height}"), "-r", &fps.to_string(), "-i", "-"])
                    .args(["-c:v", codec, "-b:v", &format!("{bitrate_kbps}k"), "-pix_fmt", "yuv420p"])
                    // Lecture-capture appliances encode in real time: a fast preset, as they do
                    // (and a 10-minute 1080p hall is composed in minutes, not hours).
                    .args(if codec == "libx264" { &["-preset", "veryfast"][..] } else { &[][..] })
                    // A keyframe every 2 s, as streaming lecture capture does.
                    .args(["-g", &((2.0 * fps).round() as u32).max(1).to_string(), name])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .context("cannot start ffmpeg (Debian package `ffmpeg`), needed to write .mp4")?;
                let stdin = child.stdin.take();
                Ok(VideoOut::Ffmpeg { child, stdin, frame_bytes: width as usize * height as usize * 3 })
            }
            _ => bail!("{}: use a .avi (MJPEG) or .mp4 (H.264) name", path.display()),
        }
    }

    pub fn write(&mut self, frame: &Mat) -> Result<()> {
        match self {
            VideoOut::OpenCv(w) => Ok(w.write(frame)?),
            VideoOut::Ffmpeg { stdin, frame_bytes, .. } => {
                let bytes = frame.data_bytes()?;
                ensure!(bytes.len() == *frame_bytes, "frame of unexpected size");
                stdin.as_mut().context("ffmpeg's input is closed")?.write_all(bytes).context("ffmpeg stopped")
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        match self {
            VideoOut::OpenCv(mut w) => Ok(w.release()?),
            VideoOut::Ffmpeg { child, stdin, .. } => {
                drop(stdin);
                let out = child.wait_with_output()?;
                ensure!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr).trim());
                Ok(())
            }
        }
    }
}

fn ffmpeg_has_encoder(name: &str) -> Result<bool> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .context("cannot start ffmpeg (Debian package `ffmpeg`), needed to write .mp4")?;
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().any(|w| w == name))
}
