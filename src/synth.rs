//! `rollcall synth`: a lecture video with known attendance, built from real face photos.
//!
//! A scenario file lists people, the photo each is enrolled with, where their face sits in the
//! frame and when they are in the room. `synth` writes the video and, for everyone marked
//! `enrolled`, an enrolment photo (`photos/<id>.jpg` plus `photos/roster.csv`), so the expected
//! attendance follows from the scenario alone. Faces drift by a few pixels from frame to frame,
//! as people do, so frames are not copies of each other.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use opencv::core::{self, Mat, Rect, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc, videoio};
use serde::Deserialize;

use crate::face::FacePipeline;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub width: i32,
    pub height: i32,
    pub fps: f64,
    pub seconds: f64,
    /// Folder of the source photos, relative to the scenario file.
    pub photos_dir: PathBuf,
    pub people: Vec<Person>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// Source photo, and which face in it (faces ordered left to right).
    pub photo: PathBuf,
    #[serde(default)]
    pub face_index: usize,
    /// On the roster (an enrolment photo is written) or a stranger.
    pub enrolled: bool,
    /// Top-left corner and width of the face in the video, pixels.
    pub x: i32,
    pub y: i32,
    pub size: i32,
    /// In the room during `[from_s, to_s)`; omit both for someone who never comes.
    pub from_s: Option<f64>,
    pub to_s: Option<f64>,
}

impl Person {
    fn visible_at(&self, t: f64) -> bool {
        matches!((self.from_s, self.to_s), (Some(a), Some(b)) if a <= t && t < b)
    }
}

/// A face cut out of its photo with a margin, ready to be pasted.
struct Cutout {
    /// The face box inside `image`.
    face: Rect,
    image: Mat,
}

/// Finds the `index`-th face (left to right) of `photo` and cuts it out with half a face of
/// margin on each side, so the detector sees forehead, chin and ears as in a real frame.
fn cut_out(pipeline: &FacePipeline, photo: &Path, index: usize) -> Result<Cutout> {
    let image = imgcodecs::imread(photo.to_str().context("non-UTF-8 path")?, imgcodecs::IMREAD_COLOR)?;
    ensure!(!image.empty(), "{}: not a readable image", photo.display());
    let (faces, _) = pipeline.analyze(&image)?;
    let face = faces
        .get(index)
        .with_context(|| format!("{}: has {} faces, no face #{index}", photo.display(), faces.len()))?
        .bbox;
    let margin = face.w / 2;
    let x0 = (face.x - margin).max(0);
    let y0 = (face.y - margin).max(0);
    let x1 = (face.x + face.w + margin).min(image.cols());
    let y1 = (face.y + face.h + margin).min(image.rows());
    let crop = Mat::roi(&image, Rect::new(x0, y0, x1 - x0, y1 - y0))?.try_clone()?;
    Ok(Cutout { face: Rect::new(face.x - x0, face.y - y0, face.w, face.h), image: crop })
}

/// The cut-out scaled so that its face is `size` pixels wide.
fn scaled_to(cutout: &Cutout, size: i32) -> Result<Mat> {
    let f = f64::from(size) / f64::from(cutout.face.width);
    let mut out = Mat::default();
    imgproc::resize(&cutout.image, &mut out, Size::default(), f, f, imgproc::INTER_AREA)?;
    Ok(out)
}

fn background(width: i32, height: i32) -> Result<Mat> {
    let mut bg = Mat::new_rows_cols_with_default(height, width, core::CV_8UC3, Scalar::new(180.0, 170.0, 160.0, 0.0))?;
    // A whiteboard and two rows of desks: enough structure for the detector to have
    // non-faces to reject.
    imgproc::rectangle(
        &mut bg,
        Rect::new(width / 6, 10, width * 2 / 3, height / 5),
        Scalar::all(245.0),
        -1,
        imgproc::LINE_8,
        0,
    )?;
    for row in [height * 3 / 4, height * 9 / 10] {
        imgproc::rectangle(
            &mut bg,
            Rect::new(0, row, width, height / 20),
            Scalar::new(60.0, 90.0, 120.0, 0.0),
            -1,
            imgproc::LINE_8,
            0,
        )?;
    }
    Ok(bg)
}

/// Pastes `face` with its face box's top-left at (x, y), clipped to the frame.
fn paste(frame: &mut Mat, face: &Mat, face_offset: (i32, i32), x: i32, y: i32) -> Result<()> {
    let (left, top) = (x - face_offset.0, y - face_offset.1);
    let dst = Rect::new(left.max(0), top.max(0), 0, 0);
    let w = (left + face.cols()).min(frame.cols()) - dst.x;
    let h = (top + face.rows()).min(frame.rows()) - dst.y;
    if w <= 0 || h <= 0 {
        return Ok(());
    }
    let src = Mat::roi(face, Rect::new(dst.x - left, dst.y - top, w, h))?;
    let mut target = frame.roi_mut(Rect::new(dst.x, dst.y, w, h))?;
    src.copy_to(&mut target)?;
    Ok(())
}

/// Writes `out_video` and the enrolment folder `photos_out` for `scenario_path`.
pub fn run(scenario_path: &Path, out_video: &Path, photos_out: &Path, pipeline: &FacePipeline) -> Result<()> {
    let text =
        std::fs::read_to_string(scenario_path).with_context(|| format!("cannot read {}", scenario_path.display()))?;
    let scenario: Scenario =
        serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", scenario_path.display()))?;
    let base = scenario_path.parent().unwrap_or(Path::new(".")).join(&scenario.photos_dir);

    let mut cutouts = Vec::new();
    for p in &scenario.people {
        let cutout = cut_out(pipeline, &base.join(&p.photo), p.face_index)?;
        let face = scaled_to(&cutout, p.size)?;
        let f = f64::from(p.size) / f64::from(cutout.face.width);
        let offset = ((f64::from(cutout.face.x) * f) as i32, (f64::from(cutout.face.y) * f) as i32);
        cutouts.push((cutout, face, offset));
    }

    std::fs::create_dir_all(photos_out)?;
    let mut names = csv::Writer::from_path(photos_out.join(crate::enroll::NAMES_FILE))?;
    names.write_record(["student_id", "name"])?;
    for (p, (cutout, _, _)) in scenario.people.iter().zip(&cutouts) {
        if p.enrolled {
            let path = photos_out.join(format!("{}.jpg", p.id));
            ensure!(
                imgcodecs::imwrite(path.to_str().context("non-UTF-8 path")?, &cutout.image, &Vector::new())?,
                "cannot write {}",
                path.display()
            );
            names.write_record([&p.id, &p.name])?;
        }
    }
    names.flush()?;

    let fourcc = match out_video.extension().and_then(|e| e.to_str()) {
        Some("avi") => videoio::VideoWriter::fourcc('M', 'J', 'P', 'G')?,
        Some("mp4") => videoio::VideoWriter::fourcc('m', 'p', '4', 'v')?,
        _ => bail!("{}: use a .avi (MJPEG) or .mp4 (MPEG-4) name", out_video.display()),
    };
    let size = Size::new(scenario.width, scenario.height);
    let mut writer =
        videoio::VideoWriter::new(out_video.to_str().context("non-UTF-8 path")?, fourcc, scenario.fps, size, true)?;
    ensure!(writer.is_opened()?, "cannot write video {}", out_video.display());
    let bg = background(scenario.width, scenario.height)?;
    let frames = (scenario.seconds * scenario.fps).round() as usize;
    for i in 0..frames {
        let t = i as f64 / scenario.fps;
        let mut frame = bg.try_clone()?;
        for (k, (p, (_, face, offset))) in scenario.people.iter().zip(&cutouts).enumerate() {
            if p.visible_at(t) {
                // A slow sway, different for each person: about ±3 px.
                let phase = i as f64 / 7.0 + k as f64;
                let dx = (3.0 * phase.sin()).round() as i32;
                let dy = (2.0 * (phase * 0.7).cos()).round() as i32;
                paste(&mut frame, face, *offset, p.x + dx, p.y + dy)?;
            }
        }
        writer.write(&frame)?;
    }
    writer.release()?;
    Ok(())
}
