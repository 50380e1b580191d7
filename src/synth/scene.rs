//! Drawing the frames: a background, and each person's face (or the back of their head) where
//! and when the scenario puts it; in a hall also bodies and desks, lighting drift and noise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use opencv::core::{self, Mat, Point, Rect, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;

use super::scenario::{Placement, Scenario};
use super::truth::Sighting;
use crate::face::{FaceBox, FacePipeline};

/// A face cut out of its photo with a margin, ready to be pasted.
pub struct Cutout {
    /// The face box inside `image`.
    pub face: Rect,
    pub image: Mat,
}

/// The source photos, each read and searched for faces once however many people come from it
/// (a group photo gives a person per face).
pub struct Photos<'a> {
    pipeline: &'a FacePipeline,
    found: HashMap<PathBuf, (Mat, Vec<FaceBox>)>,
}

impl<'a> Photos<'a> {
    pub fn new(pipeline: &'a FacePipeline) -> Self {
        Photos { pipeline, found: HashMap::new() }
    }

    /// Finds the `index`-th face (left to right) of `photo` and cuts it out with half a face of
    /// margin on each side, so the detector sees forehead, chin and ears as in a real frame.
    pub fn cutout(&mut self, photo: &Path, index: usize) -> Result<Cutout> {
        if !self.found.contains_key(photo) {
            let image = crate::media::read_image(photo)?;
            let (faces, _) = self.pipeline.analyze(&image)?;
            self.found.insert(photo.to_path_buf(), (image, faces.iter().map(|f| f.bbox).collect()));
        }
        let (image, faces) = &self.found[photo];
        let face = *faces
            .get(index)
            .with_context(|| format!("{}: has {} faces, no face #{index}", photo.display(), faces.len()))?;
        let margin = face.w / 2;
        let x0 = (face.x - margin).max(0);
        let y0 = (face.y - margin).max(0);
        let x1 = (face.x + face.w + margin).min(image.cols());
        let y1 = (face.y + face.h + margin).min(image.rows());
        let crop = Mat::roi(image, Rect::new(x0, y0, x1 - x0, y1 - y0))?.try_clone()?;
        Ok(Cutout { face: Rect::new(face.x - x0, face.y - y0, face.w, face.h), image: crop })
    }
}

/// One person as drawn: the cut-out scaled to their face size.
struct Actor {
    place: Placement,
    /// The scaled cut-out, and its face box's top-left and height inside it.
    image: Mat,
    offset: (i32, i32),
    face_height: i32,
    /// Soft-edged head shape for pasting into a hall (none: paste the whole rectangle).
    mask: Option<Mat>,
    colour: Scalar,
    hair: Scalar,
}

pub struct Scene<'a> {
    scenario: &'a Scenario,
    /// By person; `None` for someone who never comes.
    actors: Vec<Option<Actor>>,
    background: Mat,
    /// Sensor noise frames, used in turn (signed, added with saturation).
    noise: Vec<Mat>,
}

/// Clothes and hair, cycled over the people.
const SHIRTS: [(f64, f64, f64); 6] = [
    (150.0, 80.0, 40.0),
    (40.0, 40.0, 150.0),
    (60.0, 130.0, 60.0),
    (90.0, 90.0, 90.0),
    (30.0, 30.0, 30.0),
    (160.0, 150.0, 200.0),
];
const HAIR: [(f64, f64, f64); 4] = [(20.0, 25.0, 30.0), (30.0, 50.0, 80.0), (60.0, 90.0, 140.0), (15.0, 15.0, 15.0)];

fn bgr((b, g, r): (f64, f64, f64)) -> Scalar {
    Scalar::new(b, g, r, 0.0)
}

impl<'a> Scene<'a> {
    pub fn new(scenario: &'a Scenario, cutouts: &[Cutout]) -> Result<Scene<'a>> {
        let in_hall = scenario.hall.is_some();
        let mut actors = Vec::new();
        for (k, (p, cutout)) in scenario.people.iter().zip(cutouts).enumerate() {
            let Some(place) = scenario.placement(p) else {
                actors.push(None);
                continue;
            };
            let f = f64::from(place.size) / f64::from(cutout.face.width);
            let mut image = Mat::default();
            imgproc::resize(&cutout.image, &mut image, Size::default(), f, f, imgproc::INTER_AREA)?;
            let offset = ((f64::from(cutout.face.x) * f) as i32, (f64::from(cutout.face.y) * f) as i32);
            let face_height = (f64::from(cutout.face.height) * f).round() as i32;
            let mask = if in_hall { Some(head_mask(&image, offset, place.size, face_height)?) } else { None };
            actors.push(Some(Actor {
                place,
                image,
                offset,
                face_height,
                mask,
                colour: bgr(SHIRTS[k % SHIRTS.len()]),
                hair: bgr(HAIR[k % HAIR.len()]),
            }));
        }
        let background = match &scenario.hall {
            Some(_) => hall_background(scenario.width, scenario.height)?,
            None => flat_background(scenario.width, scenario.height)?,
        };
        let noise = match &scenario.camera {
            Some(c) if c.noise > 0.0 => noise_frames(scenario.width, scenario.height, c.noise)?,
            _ => Vec::new(),
        };
        Ok(Scene { scenario, actors, background, noise })
    }

    /// Frame `i`, telling `seen` where each person in the room is and whether their face shows.
    pub fn render(&self, i: usize, mut seen: impl FnMut(Sighting) -> Result<()>) -> Result<Mat> {
        let s = self.scenario;
        let t = i as f64 / s.fps;
        let mut frame = self.background.try_clone()?;
        // Back rows first, so that the front rows' bodies and desks cover what is behind them.
        let mut order: Vec<usize> = (0..s.people.len()).collect();
        order.sort_by_key(|&k| std::cmp::Reverse(s.people[k].seat.map_or(0, |[row, _]| row)));
        for k in order {
            let (p, Some(actor)) = (&s.people[k], &self.actors[k]) else { continue };
            if !p.in_room_at(t) {
                continue;
            }
            // A slow sway, different for each person: about ±3 % of the face width across,
            // ±2 % up and down.
            let phase = i as f64 / 7.0 + k as f64;
            let scale = f64::from(actor.place.size) / 100.0;
            let dx = (3.0 * scale * phase.sin()).round() as i32;
            let dy = (2.0 * scale * (phase * 0.7).cos()).round() as i32;
            let (x, y) = (actor.place.x + dx, actor.place.y + dy);
            let facing = p.facing_camera_at(t, k as f64 * 0.618 * p.look_away.map_or(0.0, |l| l.period_s));
            if s.hall.is_some() {
                draw_body(&mut frame, actor, x, y)?;
            }
            if facing {
                paste(&mut frame, &actor.image, actor.mask.as_ref(), actor.offset, x, y)?;
            } else {
                draw_back_of_head(&mut frame, actor, x, y)?;
            }
            seen(Sighting {
                person_id: &p.id,
                enrolled: p.enrolled,
                visible: facing,
                x,
                y,
                w: actor.place.size,
                h: actor.face_height,
            })?;
        }
        if let Some(camera) = &s.camera {
            let gain = 1.0 + camera.light_drift * (std::f64::consts::TAU * t / s.seconds).sin();
            let mut lit = Mat::default();
            frame.convert_to(&mut lit, -1, gain, 0.0)?;
            frame = lit;
            if !self.noise.is_empty() {
                let mut noisy = Mat::default();
                core::add(&frame, &self.noise[i % self.noise.len()], &mut noisy, &core::no_array(), core::CV_8U)?;
                frame = noisy;
            }
        }
        Ok(frame)
    }
}

/// The flat room of the built-in lecture: a whiteboard and two rows of desks, enough
/// structure for the detector to have non-faces to reject.
fn flat_background(width: i32, height: i32) -> Result<Mat> {
    let mut bg = Mat::new_rows_cols_with_default(height, width, core::CV_8UC3, Scalar::new(180.0, 170.0, 160.0, 0.0))?;
    fill(&mut bg, Rect::new(width / 6, 10, width * 2 / 3, height / 5), Scalar::all(245.0))?;
    for row in [height * 3 / 4, height * 9 / 10] {
        fill(&mut bg, Rect::new(0, row, width, height / 20), Scalar::new(60.0, 90.0, 120.0, 0.0))?;
    }
    Ok(bg)
}

/// A hall from the lecturer's camera: a back wall with a door and windows, tiers of benches
/// rising towards the back, and a few posters, so the detector has edges and texture to reject.
fn hall_background(width: i32, height: i32) -> Result<Mat> {
    let (w, h) = (f64::from(width), f64::from(height));
    let mut bg = Mat::new_rows_cols_with_default(height, width, core::CV_8UC3, Scalar::new(150.0, 160.0, 170.0, 0.0))?;
    let r =
        |x: f64, y: f64, rw: f64, rh: f64| Rect::new((x * w) as i32, (y * h) as i32, (rw * w) as i32, (rh * h) as i32);
    fill(&mut bg, r(0.0, 0.0, 1.0, 0.12), Scalar::new(200.0, 205.0, 210.0, 0.0))?; // ceiling
    for k in 0..4 {
        fill(&mut bg, r(0.08 + 0.22 * f64::from(k), 0.03, 0.12, 0.07), Scalar::new(230.0, 215.0, 190.0, 0.0))?;
        // windows
    }
    fill(&mut bg, r(0.9, 0.08, 0.06, 0.2), Scalar::new(40.0, 70.0, 110.0, 0.0))?; // door
    fill(&mut bg, r(0.02, 0.12, 0.05, 0.08), Scalar::new(40.0, 120.0, 200.0, 0.0))?; // poster
                                                                                     // Tiers: alternating bands getting lighter towards the camera.
    for k in 0..12 {
        let y = 0.2 + 0.065 * f64::from(k);
        let shade = 70.0 + 6.0 * f64::from(k);
        fill(&mut bg, r(0.0, y, 1.0, 0.03), Scalar::new(shade * 0.6, shade * 0.8, shade, 0.0))?;
    }
    Ok(bg)
}

fn fill(image: &mut Mat, rect: Rect, colour: Scalar) -> Result<()> {
    imgproc::rectangle(image, rect, colour, -1, imgproc::LINE_8, 0)?;
    Ok(())
}

/// An ellipse around the head inside a scaled cut-out, blurred at its edge so the photo's
/// own background fades into the hall.
fn head_mask(image: &Mat, offset: (i32, i32), size: i32, face_height: i32) -> Result<Mat> {
    let mut mask = Mat::new_rows_cols_with_default(image.rows(), image.cols(), core::CV_8UC1, Scalar::all(0.0))?;
    let centre = Point::new(offset.0 + size / 2, offset.1 + face_height * 2 / 5);
    let axes = Size::new((size * 7 / 10).max(2), (face_height * 9 / 10).max(2));
    imgproc::ellipse(&mut mask, centre, axes, 0.0, 0.0, 360.0, Scalar::all(255.0), -1, imgproc::LINE_8, 0)?;
    Ok(mask)
}

fn draw_body(frame: &mut Mat, actor: &Actor, x: i32, y: i32) -> Result<()> {
    let size = actor.place.size;
    let top = y + actor.face_height + size / 6;
    let body = Rect::new(x - size * 3 / 10, top, size * 16 / 10, size * 14 / 10);
    fill(frame, body, actor.colour)?;
    // The desk in front of the person hides the lower half of the body.
    let desk = Rect::new(x - size * 6 / 10, top + size * 7 / 10, size * 22 / 10, size / 2);
    fill(frame, desk, Scalar::new(50.0, 80.0, 115.0, 0.0))
}

/// Someone looking down at their notes or turned away: hair where the face was.
fn draw_back_of_head(frame: &mut Mat, actor: &Actor, x: i32, y: i32) -> Result<()> {
    let size = actor.place.size;
    let centre = Point::new(x + size / 2, y + actor.face_height * 2 / 5);
    let axes = Size::new((size * 6 / 10).max(1), (actor.face_height * 7 / 10).max(1));
    imgproc::ellipse(frame, centre, axes, 0.0, 0.0, 360.0, actor.hair, -1, imgproc::LINE_AA, 0)?;
    Ok(())
}

/// Pastes `face` with its face box's top-left at (x, y), clipped to the frame; through `mask`
/// when given, else the whole rectangle.
fn paste(frame: &mut Mat, face: &Mat, mask: Option<&Mat>, face_offset: (i32, i32), x: i32, y: i32) -> Result<()> {
    let (left, top) = (x - face_offset.0, y - face_offset.1);
    let dst = Rect::new(left.max(0), top.max(0), 0, 0);
    let w = (left + face.cols()).min(frame.cols()) - dst.x;
    let h = (top + face.rows()).min(frame.rows()) - dst.y;
    if w <= 0 || h <= 0 {
        return Ok(());
    }
    let inside = Rect::new(dst.x - left, dst.y - top, w, h);
    let src = Mat::roi(face, inside)?;
    let mut target = frame.roi_mut(Rect::new(dst.x, dst.y, w, h))?;
    match mask {
        Some(mask) => src.copy_to_masked(&mut target, &Mat::roi(mask, inside)?)?,
        None => src.copy_to(&mut target)?,
    }
    Ok(())
}

/// A few frames of Gaussian sensor noise from a fixed seed, so a scenario always gives the
/// same video.
fn noise_frames(width: i32, height: i32, sigma: f64) -> Result<Vec<Mat>> {
    let mut rng = core::RNG::new(0x5EED)?;
    (0..8)
        .map(|_| {
            let mut noise = Mat::new_rows_cols_with_default(height, width, core::CV_16SC3, Scalar::all(0.0))?;
            rng.fill(&mut noise, core::RNG_NORMAL, &Scalar::all(0.0), &Scalar::all(sigma), false)?;
            Ok(noise)
        })
        .collect()
}
