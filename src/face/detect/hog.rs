//! dlib's HOG + linear SVM (`--detector hog`, the default of `face_recognition`): fast, frontal
//! faces only. Two builds: the dlib-face-recognition crate's (x86-64 baseline) and rollcall's
//! AVX2 build of the same code ([`crate::face::isa`]), chosen by the job's `--isa`.

use std::path::Path;

use anyhow::Result;
use dlib_face_recognition::FaceDetector;

use super::{DetectorSetup, Dlib, FindFaces, Located, ProbeWidth, Spec};
use crate::face::isa::{HogAvx2, Isa};

pub const SPEC: Spec = Spec {
    name: "hog",
    // Its 80 px scanning window.
    smallest_face_px: 80,
    // +119 MB from one to two threads on the 1280×720 hall at upsample 1 (3.7 Mpx), rounded up.
    bytes_per_pixel: 32,
    probe_widths: &[ProbeWidth::Default, ProbeWidth::Half],
    fetched_apart: false,
};

/// `setup.isa` is the job's resolved level (`auto` means the best this process can run).
pub fn load(setup: &DetectorSetup, _model_dir: &Path) -> Result<Box<dyn FindFaces>> {
    let isa = if setup.isa == Isa::Auto { Isa::of_this_process() } else { setup.isa };
    Ok(match isa {
        Isa::Avx2 => Box::new(HogAvx2::new()?),
        // HOG as the dlib-face-recognition crate builds it.
        _ => Box::new(Dlib(FaceDetector::new())),
    })
}

impl FindFaces for HogAvx2 {
    fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Located>> {
        Ok(HogAvx2::face_locations(self, rgb, width, height)?.into_iter().map(Located::as_seen).collect())
    }

    fn clone_box(&self) -> Box<dyn FindFaces> {
        Box::new(self.clone())
    }
}
