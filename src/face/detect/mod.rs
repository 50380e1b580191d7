//! The face detectors behind one seam. Each lives in its own file, which gives its [`Spec`]
//! (what the rest of rollcall needs to know about it: narrowest face, memory, probe
//! widths) and a `load` that returns a [`FindFaces`]; the one line naming it in the
//! `detectors!` list below makes it a `--detector` value, a setting, a probe trial and a
//! loadable detector. Nothing else in the tree matches on detectors.

use std::path::Path;

use anyhow::Result;
use dlib_face_recognition::{FaceDetectorTrait, ImageMatrix, Rectangle};

use super::Isa;
use crate::engine::Device;

/// What rollcall needs to know about a detector besides how to run it.
#[derive(Debug)]
pub struct Spec {
    /// The value of `--detector` and of the setting `detector`.
    pub name: &'static str,
    /// The narrowest face (width, px of the image it is given) found without upsampling; each
    /// upsampling halves it.
    pub smallest_face_px: u32,
    /// Working memory per pixel scanned (after upsampling) of one worker thread, measured as
    /// the growth of peak RSS from one to two threads (see `run::memory`).
    pub bytes_per_pixel: u64,
    /// The narrowest faces `probe` tries it at, cheapest first.
    pub probe_widths: &'static [ProbeWidth],
    /// Its model is fetched apart from dlib's: a `probe` goes on without it.
    pub fetched_apart: bool,
}

/// A narrowest face for `probe` to try a detector at, relative to the default `--min-face`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeWidth {
    Default,
    Half,
}

/// A face a detector found, in the pixels of the image it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    /// The box dlib's 5-point landmark model is given, which rollcall also reports.
    pub landmark_box: Rectangle,
    /// What the detector saw of the face (its own box): a face cut by the image's edge reaches
    /// it, which tells a tile's cut face from a whole one (`run::plan::TilePlan`).
    pub seen: Rectangle,
}

impl Located {
    /// A face whose detector's box is the landmark box (dlib's detectors).
    pub fn as_seen(r: Rectangle) -> Self {
        Located { landmark_box: r, seen: r }
    }
}

/// A loaded detector: faces in a packed RGB image. Detectors keep scratch state, so each worker
/// thread has its own copy.
pub trait FindFaces: Send {
    fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Located>>;
    fn clone_box(&self) -> Box<dyn FindFaces>;
}

impl Clone for Box<dyn FindFaces> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// One of the dlib-face-recognition crate's detectors (HOG's baseline build, the CNN).
#[derive(Clone)]
struct Dlib<D>(D);

impl<D: FaceDetectorTrait + Clone + Send + 'static> FindFaces for Dlib<D> {
    fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Located>> {
        anyhow::ensure!(rgb.len() == width * height * 3, "unexpected image layout");
        // SAFETY: `rgb` is a live, packed width×height×3 buffer (checked just above).
        let matrix = unsafe { ImageMatrix::new(width, height, rgb.as_ptr()) };
        Ok(self.0.face_locations(&matrix).iter().copied().map(Located::as_seen).collect())
    }

    fn clone_box(&self) -> Box<dyn FindFaces> {
        Box::new(self.clone())
    }
}

/// Which detector a pipeline runs, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorSetup {
    pub detector: Detector,
    /// The image is resized by this factor for detection (faces are still encoded from the
    /// image itself): below 1 it saves detection time on faces wider than the detector needs.
    pub scale: f64,
    /// Doubles the (scaled) image that many times before detection: each halves the narrowest
    /// face found (see [`Detector::smallest_face_px`]); `face_recognition` upsamples once.
    pub upsample: u32,
    /// The build of HOG ([`Isa`]).
    pub isa: Isa,
    /// YuNet's confidence threshold, in [0, 1].
    pub yunet_confidence: f64,
    /// Where ONNX Runtime's inference runs: yunet's, and the encoder's that
    /// [`FacePipeline`](crate::face::FacePipeline) loads beside the detector.
    pub device: Device,
}

impl DetectorSetup {
    /// `detector` at `upsample` on the image as it is, with the job defaults of everything else.
    pub fn new(detector: Detector, upsample: u32) -> Self {
        DetectorSetup {
            detector,
            scale: 1.0,
            upsample,
            isa: Isa::Auto,
            yunet_confidence: yunet::DEFAULT_CONFIDENCE,
            device: Device::Cpu,
        }
    }
}

/// The detectors: `Variant => module` (the file `detect/module.rs`), the variant's doc comment
/// being its `--help` line.
mod nms;

macro_rules! detectors {
    ($($(#[$attr:meta])* $variant:ident => $module:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// Which face detector finds the faces (`face_recognition`'s `model=`, and more).
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
        #[serde(rename_all = "lowercase")]
        pub enum Detector {
            $($(#[$attr])* $variant),+
        }

        impl Detector {
            /// Every detector, in the order of this list (`probe` tries them so).
            pub const ALL: &'static [Detector] = &[$(Detector::$variant),+];

            pub fn spec(self) -> &'static Spec {
                match self {
                    $(Detector::$variant => &$module::SPEC),+
                }
            }

            /// Loads the detector `setup` names from `model_dir`.
            pub fn load(setup: &DetectorSetup, model_dir: &Path) -> Result<Box<dyn FindFaces>> {
                match setup.detector {
                    $(Detector::$variant => $module::load(setup, model_dir)),+
                }
            }
        }
    };
}

detectors! {
    /// HOG + linear SVM: frontal faces only, 2.7x YuNet's CPU time.
    Hog => hog,
    /// dlib's MMOD convolutional network: turned and dim faces too, 10-20x the CPU time of HOG
    /// (with OpenBLAS; ~100x with a BLAS-less dlib).
    Cnn => cnn,
    /// YuNet (OpenCV's model zoo, run by ONNX Runtime): turned, dim and small faces, at a
    /// fraction of HOG's time; the default (needs the model and library `make setup` fetches).
    #[default]
    Yunet => yunet,
}

impl Detector {
    /// The narrowest face (width, px of the image it is given) that the detector finds
    /// without upsampling; each upsampling halves it.
    pub fn smallest_face_px(self) -> u32 {
        self.spec().smallest_face_px
    }
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.spec().name)
    }
}

/// What one rank's CPU can run: rank 0 gathers it from every rank before the job starts, so
/// that a job refuses, in one line naming the rank, what some rank could not do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RankCpu {
    /// The best HOG build ([`Isa::of_this_process`]).
    pub isa: Isa,
}

impl RankCpu {
    pub fn of_this_process() -> Self {
        RankCpu { isa: Isa::of_this_process() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn each_spec_is_named_as_its_flag_value() {
        for &detector in Detector::ALL {
            let value = detector.to_possible_value().expect("every detector is a --detector value");
            assert_eq!(value.get_name(), detector.spec().name);
        }
    }
}
