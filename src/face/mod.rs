//! The face pipeline as a library: detect → 5-point landmarks → 128-d encoding, on OpenCV
//! images, with no MPI in sight.
//!
//! It does what Python's `face_recognition` does with its defaults (HOG detector, one
//! upsampling step by dlib's own image pyramid, boxes trimmed to the image, the 5-point
//! landmark model, one jitter): same boxes to the pixel, and encodings that agree (see
//! benches/reference/README.md for the one known exception).

pub mod detect;
pub mod encoder;
pub mod isa;
pub mod matching;
pub mod models;
pub mod onnx_encoder;
pub mod upsample;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use dlib_face_recognition::{FaceLandmarks, ImageMatrix, LandmarkPredictor, LandmarkPredictorTrait, Rectangle};
use opencv::core::Mat;
use opencv::imgproc;
use opencv::prelude::*;

pub use detect::{Detector, DetectorSetup, RankCpu};
pub use encoder::{ENCODER, ENCODING_LEN};
pub use isa::Isa;
pub use models::find_model_dir;

/// A face box in pixels of the image it was found in: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaceBox {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A face is taken for the same seat's as another only if its centre is within this many face
/// widths of the other's and its width within these ratios: people sway, they don't change
/// seats. Half a face: in a tiered hall the row behind sits about one face height above, and a
/// whole face let a track slide onto a look-alike behind (measured on the long hall of
/// bench-accuracy).
pub const SAME_SEAT_CENTRE: f64 = 0.5;
const SAME_SEAT_WIDTH_RATIO: (f64, f64) = (0.75, 1.0 / 0.75);

impl FaceBox {
    /// How far `later`'s centre is from this box's, in face widths (of the wider), if it is in
    /// the same seat: near enough and of about the same size. What links faces into tracks,
    /// and what lets a face inherit the identity of the previous frame's without an encoding.
    pub fn same_seat(self, later: FaceBox) -> Option<f64> {
        let centre = |r: FaceBox| (f64::from(r.x) + f64::from(r.w) / 2.0, f64::from(r.y) + f64::from(r.h) / 2.0);
        let ((ax, ay), (bx, by)) = (centre(self), centre(later));
        let offset = ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt() / f64::from(self.w.max(later.w).max(1));
        let ratio = f64::from(later.w) / f64::from(self.w.max(1));
        (offset <= SAME_SEAT_CENTRE && (SAME_SEAT_WIDTH_RATIO.0..=SAME_SEAT_WIDTH_RATIO.1).contains(&ratio))
            .then_some(offset)
    }
}

/// One face found in an image.
#[derive(Debug, Clone)]
pub struct Face {
    pub bbox: FaceBox,
    pub encoding: [f64; ENCODING_LEN],
}

/// The faces [`FacePipeline::find`] found in an image, before any is encoded.
pub struct Found {
    /// The image in RGB, which the encoder reads.
    rgb: Mat,
    rects: Vec<Rectangle>,
    /// The faces' boxes in the image's pixels, sorted by (x, y).
    pub boxes: Vec<FaceBox>,
    /// What the detector saw of each face (its own box, which may differ from the reported
    /// one: see [`detect::Located`]).
    pub seen: Vec<FaceBox>,
    pub detect: Duration,
}

impl Found {
    /// The boxes dlib's landmark model is given, in the order of `boxes`.
    pub fn rects(&self) -> &[Rectangle] {
        &self.rects
    }

    /// Keeps the faces of which `keep` accepts what the detector saw.
    pub fn retain_seen(&mut self, keep: impl Fn(&FaceBox) -> bool) {
        let kept: Vec<bool> = self.seen.iter().map(keep).collect();
        retain_marked(&mut self.rects, &kept);
        retain_marked(&mut self.boxes, &kept);
        retain_marked(&mut self.seen, &kept);
    }
}

/// Keeps the items of `list` whose place in `kept` is true (one mark an item).
fn retain_marked<T>(list: &mut Vec<T>, kept: &[bool]) {
    let mut marks = kept.iter();
    list.retain(|_| *marks.next().expect("one mark per item"));
}

fn face_box(r: &Rectangle) -> FaceBox {
    FaceBox { x: r.left as i32, y: r.top as i32, w: (r.right - r.left) as i32, h: (r.bottom - r.top) as i32 }
}

/// Time spent in each stage of [`FacePipeline::analyze`].
#[derive(Debug, Default, Clone, Copy)]
pub struct StageTimes {
    pub detect: Duration,
    /// Landmarks and the ResNet encoding together: landmarks are ~2 ms of a ~9 ms face.
    pub encode: Duration,
}

/// A detector, dlib's landmark model and the encoder (dlib's ResNet on ONNX Runtime,
/// [`onnx_encoder`]): one worker's. Not `Sync` (detectors keep scratch state):
/// each thread needs its own, which `clone` makes far faster than loading them again.
#[derive(Clone)]
pub struct FacePipeline {
    detector: Box<dyn detect::FindFaces>,
    landmarks: LandmarkPredictor,
    encoder: onnx_encoder::OnnxEncoder,
    scale: f64,
    upsample: u32,
}

impl FacePipeline {
    /// Loads the models from `model_dir`, and the detector `setup` names.
    pub fn load(model_dir: &Path, setup: &DetectorSetup) -> Result<Self> {
        let landmarks = LandmarkPredictor::open(model_dir.join(models::LANDMARKS_FILE))
            .map_err(|e| anyhow!("cannot load the landmark model: {e}"))?;
        let encoder = onnx_encoder::OnnxEncoder::load(model_dir, setup.device)?;
        let detector = Detector::load(setup, model_dir)?;
        Ok(FacePipeline { detector, landmarks, encoder, scale: setup.scale, upsample: setup.upsample })
    }

    /// Finds, aligns and encodes every face in a BGR image (OpenCV's channel order).
    /// Boxes are in the pixels of `bgr`, sorted by (x, y).
    pub fn analyze(&self, bgr: &Mat) -> Result<(Vec<Face>, StageTimes)> {
        let found = self.find(bgr)?;
        let every = vec![true; found.boxes.len()];
        let (encodings, encode) = self.encode(&found, &every)?;
        let faces = found
            .boxes
            .iter()
            .zip(encodings)
            .map(|(&bbox, encoding)| Face { bbox, encoding: encoding.expect("every face was encoded") })
            .collect();
        Ok((faces, StageTimes { detect: found.detect, encode }))
    }

    /// The first half of [`analyze`](Self::analyze): the faces' boxes, sorted by (x, y), with
    /// what encoding any of them needs.
    pub fn find(&self, bgr: &Mat) -> Result<Found> {
        let started = Instant::now();
        ensure!(bgr.channels() == 3, "expected a 3-channel image, got {} channels", bgr.channels());
        let mut rgb = Mat::default();
        imgproc::cvt_color(bgr, &mut rgb, imgproc::COLOR_BGR2RGB, 0).context("BGR to RGB conversion")?;
        let mut located = self.detect(&rgb)?;
        located.sort_by_key(|f| (f.landmark_box.left, f.landmark_box.top));
        let seen = located.iter().map(|f| face_box(&f.seen)).collect();
        let rects: Vec<Rectangle> = located.iter().map(|f| f.landmark_box).collect();
        let boxes = rects.iter().map(face_box).collect();
        Ok(Found { rgb, rects, boxes, seen, detect: started.elapsed() })
    }

    /// The second half of [`analyze`](Self::analyze): landmarks and the 128-d encoding of the
    /// faces of `found` that `wanted` marks (`None` for the others), and the time it took.
    pub fn encode(&self, found: &Found, wanted: &[bool]) -> Result<(Vec<Option<[f64; ENCODING_LEN]>>, Duration)> {
        let started = Instant::now();
        ensure!(
            wanted.len() == found.rects.len(),
            "internal error: {} faces, {} choices",
            found.rects.len(),
            wanted.len()
        );
        let rgb = dlib_matrix(&found.rgb)?;
        let chosen: Vec<&Rectangle> = found.rects.iter().zip(wanted).filter(|(_, &w)| w).map(|(r, _)| r).collect();
        let landmarks: Vec<FaceLandmarks> = chosen.iter().map(|r| self.landmarks.face_landmarks(&rgb, r)).collect();
        let mut encodings = self.encoder.encodings(&rgb, &landmarks)?.into_iter();
        let all = wanted.iter().map(|&w| w.then(|| encodings.next().expect("one encoding per chosen face"))).collect();
        Ok((all, started.elapsed()))
    }

    /// Detection (by any detector) on the image resized by `scale` and then enlarged `upsample`
    /// times by dlib's `pyramid_up`, boxes mapped back by its `rect_down` and by `1/scale`, and
    /// trimmed to the image: at scale 1, exactly what `face_recognition.face_locations` does
    /// for either `model` (see [`upsample`]). The encoder reads the image itself, so a face
    /// found on a smaller copy is encoded from all its pixels.
    fn detect(&self, rgb: &Mat) -> Result<Vec<detect::Located>> {
        let mut scaled = Mat::default();
        let rgb_mat = if self.scale == 1.0 {
            rgb
        } else {
            imgproc::resize(
                rgb,
                &mut scaled,
                opencv::core::Size::default(),
                self.scale,
                self.scale,
                imgproc::INTER_AREA,
            )
            .context("scaling a frame for detection")?;
            &scaled
        };
        let (width, height) = (rgb_mat.cols() as usize, rgb_mat.rows() as usize);
        let found = if self.upsample == 0 {
            self.detector.face_locations(rgb_mat.data_bytes()?, width, height)?
        } else {
            let mut big = upsample::pyramid_up(rgb_mat.data_bytes()?, width, height);
            for _ in 1..self.upsample {
                big = upsample::pyramid_up(&big.pixels, big.width, big.height);
            }
            self.detector.face_locations(&big.pixels, big.width, big.height)?
        };
        let (width, height) = (i64::from(rgb.cols()), i64::from(rgb.rows()));
        let unscaled = |v: i64| (v as f64 / self.scale).round() as i64;
        let back = |r: &Rectangle| {
            let r = upsample::rect_down(r, self.upsample);
            Rectangle {
                left: unscaled(r.left).max(0),
                top: unscaled(r.top).max(0),
                right: unscaled(r.right).min(width),
                bottom: unscaled(r.bottom).min(height),
            }
        };
        Ok(found
            .iter()
            .map(|f| detect::Located { landmark_box: back(&f.landmark_box), seen: back(&f.seen) })
            .filter(|f| f.landmark_box.right > f.landmark_box.left && f.landmark_box.bottom > f.landmark_box.top)
            .collect())
    }
}

/// Copies a 3-channel `Mat` (already in RGB order) into dlib's matrix. dlib's constructor reads
/// a packed buffer without row strides, hence the continuity check.
fn dlib_matrix(rgb: &Mat) -> Result<ImageMatrix> {
    ensure!(rgb.is_continuous(), "OpenCV returned a non-continuous image");
    let bytes = rgb.data_bytes()?;
    ensure!(bytes.len() == rgb.cols() as usize * rgb.rows() as usize * 3, "unexpected image layout");
    // SAFETY: `bytes` is a live, packed width×height×3 buffer, checked just above.
    Ok(unsafe { ImageMatrix::new(rgb.cols() as usize, rgb.rows() as usize, bytes.as_ptr()) })
}
