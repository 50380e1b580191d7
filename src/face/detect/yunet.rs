//! YuNet (`--detector yunet`): a small single-shot CNN that finds turned, dim and small faces
//! that dlib's HOG misses, at a fraction of HOG's time.
//!
//! The network is opencv_zoo's `face_detection_yunet_2023mar.onnx`, run by ONNX Runtime
//! ([`crate::engine`]) on the CPU or, with `--device cuda`, a GPU. The model declares a fixed
//! 640×640 input, which ONNX Runtime holds it to, so `make setup` writes a copy whose input
//! size is symbolic (`scripts/yunet-dynamic.py`; the weights untouched), [`MODEL_FILE`]. Its
//! twelve outputs are decoded as OpenCV 4.8's `FaceDetectorYN` does: for each stride (8, 16,
//! 32 px) and cell, a class score and an objectness (the face's score is the geometric mean of
//! the two) and a box (centre offset in strides, log-size). It ran on OpenCV 4.6's `cv::dnn`
//! before: measured on one core, a 1088×1920 forward pass takes about a third of the CPU time
//! on ONNX Runtime (README: where a frame's time goes), with the same boxes (tests/yunet.rs).

use std::cell::RefCell;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use dlib_face_recognition::Rectangle;
use ort::value::TensorRef;

use crate::engine::{Device, Net};
use super::nms::{self, Scored};
use super::{DetectorSetup, FindFaces, Located, ProbeWidth, Spec};

pub const SPEC: Spec = Spec {
    name: "yunet",
    // Measured with `rollcall photo --upsample 0` on data/faces/t1.jpg scaled so that its six
    // faces are 24, 20, 16, 12, 10 and 8 px wide: all six found down to 16 px (with one box
    // more at 16), two at 10-12, none at 8.
    smallest_face_px: 16,
    // +138 MB peak RSS from one to two threads on the 1280×720 short hall, which it scans as
    // it is (0.94 Mpx padded; no upsampling at its default): `--detector yunet --fps 0.5`;
    // rounded up.
    bytes_per_pixel: 200,
    // It needs no upsampling for half the default.
    probe_widths: &[ProbeWidth::Half],
    fetched_apart: true,
};

/// The confidence threshold unless set (`yunet_confidence`): the lowest that kept no false
/// face on the group photos of data/faces-extra while keeping all 316 faces of the short hall.
pub const DEFAULT_CONFIDENCE: f64 = 0.6;

/// The model's file in the model folder: opencv_zoo's model with a symbolic input size.
pub const MODEL_FILE: &str = "face_detection_yunet_2023mar_dynamic.onnx";

/// The strides of the network's three heads; its input sides must be multiples of the largest.
const STRIDES: [usize; 3] = [8, 16, 32];
/// A box overlapping a better one by more than this IoU is the same face (opencv_zoo's value).
const SAME_FACE_IOU: f32 = 0.3;

pub fn load(setup: &DetectorSetup, model_dir: &Path) -> Result<Box<dyn FindFaces>> {
    Ok(Box::new(Yunet::load(model_dir, setup.yunet_confidence, setup.device)?))
}

impl FindFaces for Yunet {
    fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Located>> {
        Yunet::face_locations(self, rgb, width, height)
    }

    fn clone_box(&self) -> Box<dyn FindFaces> {
        Box::new(self.clone())
    }
}

/// One worker's YuNet (each worker thread has its copy of the network).
#[derive(Clone)]
pub struct Yunet {
    net: Net,
    /// The input of the last pass, kept for the next: a 1080p frame's is 25 MB, which the
    /// allocator would otherwise map and unmap each frame (measured: 10 % of the CPU as system time).
    input: RefCell<Vec<f32>>,
    min_score: f32,
}

impl Yunet {
    /// Loads the model from `model_dir` onto `device`. `min_score` is in [0, 1], as the setting
    /// `yunet_confidence` gives it.
    pub fn load(model_dir: &Path, min_score: f64, device: Device) -> Result<Self> {
        let net = Net::load(&model_dir.join(MODEL_FILE), "the yunet detector", device)?;
        Ok(Yunet { net, input: RefCell::default(), min_score: min_score as f32 })
    }

    /// Faces in a packed `width`×`height` RGB image: YuNet's boxes, and the boxes for dlib's
    /// 5-point landmark model (see [`landmark_box`]).
    pub fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Located>> {
        ensure!(rgb.len() == width * height * 3, "unexpected image layout");
        let largest = STRIDES[STRIDES.len() - 1];
        let (padded_w, padded_h) = (width.div_ceil(largest) * largest, height.div_ceil(largest) * largest);
        let mut input = self.input.borrow_mut();
        fill_input(&mut input, rgb, width, height, padded_w, padded_h);
        let mut session = self.net.session();
        let image = TensorRef::from_array_view(([1, 3, padded_h, padded_w], input.as_slice()))?;
        let outputs = session.run(ort::inputs![image]).context("YuNet's forward pass")?;
        let output = |name: String| -> Result<&[f32]> {
            let value = outputs.get(&name).with_context(|| format!("YuNet gave no output {name}"))?;
            Ok(value.try_extract_tensor::<f32>()?.1)
        };
        let mut candidates = Vec::new();
        for stride in STRIDES {
            let (cls, obj, bbox) = (output(format!("cls_{stride}"))?, output(format!("obj_{stride}"))?, output(format!("bbox_{stride}"))?);
            let cols = padded_w / stride;
            ensure!(cls.len() == obj.len() && bbox.len() == 4 * cls.len(), "YuNet's outputs disagree in size");
            for (cell, (&c, &o)) in cls.iter().zip(obj).enumerate() {
                let score = (c.clamp(0.0, 1.0) * o.clamp(0.0, 1.0)).sqrt();
                if score < self.min_score {
                    continue;
                }
                let [dx, dy, log_w, log_h] = bbox[4 * cell..4 * cell + 4] else { unreachable!() };
                let s = stride as f32;
                let (cx, cy) = (((cell % cols) as f32 + dx) * s, ((cell / cols) as f32 + dy) * s);
                let (w, h) = (log_w.exp() * s, log_h.exp() * s);
                let (x, y) = ((cx - w / 2.0) as i32, (cy - h / 2.0) as i32);
                candidates.push(Scored { x, y, w: w as i32, h: h as i32, score });
            }
        }
        let kept = nms::suppress(&candidates, self.min_score, SAME_FACE_IOU);
        let mut faces = Vec::with_capacity(kept.len());
        for r in kept {
            if r.w > 0 && r.h > 0 {
                let (x, y, w, h) = (r.x.into(), r.y.into(), r.w.into(), r.h.into());
                let seen = Rectangle { left: x, top: y, right: x + w, bottom: y + h };
                faces.push(Located { landmark_box: landmark_box(x, y, w, h), seen });
            }
        }
        Ok(faces)
    }
}

/// The network's input: planes B, G, R (YuNet was trained on OpenCV's BGR) of 0-255 floats,
/// `padded_w`×`padded_h` with the image at the top left and zeros right of and below it.
fn fill_input(input: &mut Vec<f32>, rgb: &[u8], width: usize, height: usize, padded_w: usize, padded_h: usize) {
    let plane = padded_w * padded_h;
    input.clear();
    input.resize(3 * plane, 0.0);
    let (b, rest) = input.split_at_mut(plane);
    let (g, r) = rest.split_at_mut(plane);
    for (y, row) in rgb.chunks_exact(3 * width).take(height).enumerate() {
        let at = y * padded_w;
        for (x, p) in row.chunks_exact(3).enumerate() {
            (r[at + x], g[at + x], b[at + x]) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        }
    }
}

/// YuNet's box (x, y, w, h) as the box dlib's 5-point shape predictor expects, which is also
/// the box rollcall reports. YuNet's boxes are taller than dlib's (forehead and chin) and the
/// predictor was trained on HOG's square boxes. On the 316 faces of the short hall that both
/// find, HOG's box is, in the mean, a square of 1.1 w whose left edge is 0.10 w left of
/// YuNet's and whose top is 0.13 h below it (sd 0.12 w and 0.06 h); mapped so, the face
/// distances differ from the HOG path's by 0.0091 in the mean (0.0120 with YuNet's own box;
/// 0.0054 against 0.0096 on the six faces of data/faces/t1.jpg), the same identity for all.
/// Those figures are libfacedetection's boxes; with this runtime's (HOG defaults against
/// `--detector yunet` on the short hall, boxes paired by IoU > 0.5) the distances differ by
/// 0.0063 in the mean and all 316 faces get the same student.
pub fn landmark_box(x: i64, y: i64, w: i64, h: i64) -> Rectangle {
    let side = (w as f64 * 1.1).round() as i64;
    let left = x - (w as f64 * 0.1).round() as i64;
    let top = y + (h as f64 * 0.13).round() as i64;
    Rectangle { left, top, right: left + side, bottom: top + side }
}
