//! dlib's face-recognition ResNet run by ONNX Runtime ([`crate::engine`]), a frame's faces in
//! one batch: the encoder rollcall runs.
//!
//! The network is dlib's own `dlib_face_recognition_resnet_model_v1.dat`, which `make setup`
//! converts: dlib writes it out (`cpp/resnet_to_xml.cpp`, its `net_to_xml`) and
//! `scripts/resnet-onnx.py` rebuilds it layer for layer as ONNX operators (sha256 checked). The
//! chips are dlib's: its 5-point alignment and `extract_image_chips` (`cpp/face_chips.cpp`),
//! exactly what dlib's encoder feeds its network. dlib's encoder stays as the reference:
//! `tests/encoder.rs` holds the two to 1e-4 on real faces.

use std::cell::RefCell;
use std::ffi::{c_int, c_long, c_void};
use std::path::Path;

use anyhow::{ensure, Context, Result};
use dlib_face_recognition::{FaceLandmarks, ImageMatrix};
use ort::value::TensorRef;

use super::ENCODING_LEN;
use crate::engine::{Device, Net};

/// The converted network in the model folder.
pub const MODEL_FILE: &str = "dlib_face_recognition_resnet_model_v1.onnx";

/// Side of dlib's face chips, in pixels.
const CHIP: usize = 150;

extern "C" {
    /// cpp/face_chips.cpp.
    fn rollcall_face_chips(
        image: *const c_void,
        points: *const c_long,
        faces: usize,
        points_per_face: usize,
        out: *mut f32,
    ) -> c_int;
}

/// One worker's encoder (each worker thread has its copy of the network).
#[derive(Clone)]
pub struct OnnxEncoder {
    net: Net,
    /// The last batch's chips, kept for the next (a batch of 8 is 2 MB).
    chips: RefCell<Vec<f32>>,
}

impl OnnxEncoder {
    /// Loads the converted network from `model_dir` onto `device`.
    pub fn load(model_dir: &Path, device: Device) -> Result<Self> {
        let net = Net::load(&model_dir.join(MODEL_FILE), "the face encoder", device)?;
        Ok(OnnxEncoder { net, chips: RefCell::default() })
    }

    /// The encodings of the faces `landmarks` places in `image`, in their order, in one batch.
    pub fn encodings(&self, image: &ImageMatrix, landmarks: &[FaceLandmarks]) -> Result<Vec<[f64; ENCODING_LEN]>> {
        let faces = landmarks.len();
        if faces == 0 {
            return Ok(Vec::new());
        }
        let per_face = landmarks[0].len();
        ensure!(landmarks.iter().all(|l| l.len() == per_face), "faces with different numbers of landmarks");
        let points: Vec<c_long> = landmarks.iter().flat_map(|l| l.iter().flat_map(|p| [p.x(), p.y()])).collect();
        let mut chips = self.chips.borrow_mut();
        chips.resize(faces * 3 * CHIP * CHIP, 0.0);
        // SAFETY: `image` is the crate's ImageMatrix, a `dlib::matrix<dlib::rgb_pixel>` held by
        // value (cpp_class), which is what the C function reads; `points` holds 2 × per_face
        // numbers a face and `chips` room for `faces` chips, as it writes.
        let status = unsafe {
            rollcall_face_chips(
                (image as *const ImageMatrix).cast(),
                points.as_ptr(),
                faces,
                per_face,
                chips.as_mut_ptr(),
            )
        };
        ensure!(status == 0, "dlib could not cut the face chips (landmarks outside the image?)");
        let mut session = self.net.session();
        let input = TensorRef::from_array_view(([faces, 3, CHIP, CHIP], chips.as_slice()))?;
        let outputs = session.run(ort::inputs![input]).context("the encoder's forward pass")?;
        let (_, values) = outputs[0].try_extract_tensor::<f32>()?;
        ensure!(values.len() == faces * ENCODING_LEN, "the encoder gave {} numbers for {faces} faces", values.len());
        Ok(values
            .chunks_exact(ENCODING_LEN)
            .map(|v| {
                let mut encoding = [0.0; ENCODING_LEN];
                for (e, &x) in encoding.iter_mut().zip(v) {
                    *e = f64::from(x);
                }
                encoding
            })
            .collect())
    }
}
