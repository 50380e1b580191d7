//! The face encoder rollcall runs, dlib's ResNet converted to ONNX and run by ONNX Runtime on
//! dlib's own chips, against dlib's encoder itself, the reference: on real faces (the lecture's
//! and the short hall's enrolment photos, the fixture group photo) every encoding is within
//! 1e-4 (largest absolute difference) of dlib's, so every match is the same.

mod common;

use common::*;
use dlib_face_recognition::{
    FaceEncoderNetwork, FaceEncoderTrait, FaceLandmarks, ImageMatrix, LandmarkPredictor, LandmarkPredictorTrait,
};
use opencv::prelude::*;
use rollcall::engine::Device;
use rollcall::face::onnx_encoder::OnnxEncoder;
use rollcall::face::{Detector, DetectorSetup, FacePipeline};

/// Every face YuNet (`pipeline`) finds in `bgr`: the image in dlib's form and the faces'
/// landmarks (and the RGB pixels the image points into, to keep alive).
fn faces_of(
    pipeline: &FacePipeline,
    bgr: &opencv::core::Mat,
    landmarks: &LandmarkPredictor,
) -> (ImageMatrix, Vec<FaceLandmarks>, opencv::core::Mat) {
    let found = pipeline.find(bgr).unwrap();
    let mut rgb = opencv::core::Mat::default();
    opencv::imgproc::cvt_color(bgr, &mut rgb, opencv::imgproc::COLOR_BGR2RGB, 0).unwrap();
    // SAFETY: imread gives a packed width×height×3 image, converted in place of order only.
    let image =
        unsafe { ImageMatrix::new(rgb.cols() as usize, rgb.rows() as usize, rgb.data_bytes().unwrap().as_ptr()) };
    let marks = found.rects().iter().map(|r| landmarks.face_landmarks(&image, r)).collect();
    (image, marks, rgb)
}

#[test]
fn the_onnx_encoder_gives_dlibs_encodings() {
    let models = setup_file("data/models");
    let landmarks = LandmarkPredictor::open(models.join(rollcall::face::models::LANDMARKS_FILE)).unwrap();
    let dlib = FaceEncoderNetwork::open(models.join(rollcall::face::models::ENCODER_FILE)).unwrap();
    let onnx = OnnxEncoder::load(&models, Device::Cpu).unwrap();
    let pipeline = FacePipeline::load(&models, &DetectorSetup::new(Detector::Yunet, 0)).unwrap();
    let mut photos: Vec<std::path::PathBuf> = vec![setup_file("data/faces/t1.jpg")];
    for folder in [lecture_photos(), setup_file("data/hall/photos")] {
        let entries = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path());
        photos.extend(entries.filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png")));
    }
    photos.sort();
    let mut images: Vec<(String, opencv::core::Mat)> = photos
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                opencv::imgcodecs::imread(p.to_str().unwrap(), opencv::imgcodecs::IMREAD_COLOR).unwrap(),
            )
        })
        .collect();
    // Frames of the lecture (faces of ~100 px) and of the short hall (26-80 px, H.264).
    for (video, frames) in [(lecture_video(), [0, 120, 240]), (hall_video(), [0, 600, 1200])] {
        let mut capture =
            opencv::videoio::VideoCapture::from_file(video.to_str().unwrap(), opencv::videoio::CAP_ANY).unwrap();
        for frame in frames {
            capture.set(opencv::videoio::CAP_PROP_POS_FRAMES, f64::from(frame)).unwrap();
            let mut bgr = opencv::core::Mat::default();
            assert!(capture.read(&mut bgr).unwrap(), "{} frame {frame}", video.display());
            images.push((format!("{} frame {frame}", video.display()), bgr));
        }
    }
    let (mut worst, mut pairs) = (0.0f64, Vec::new());
    for (what, bgr) in &images {
        let (image, marks, _rgb) = faces_of(&pipeline, bgr, &landmarks);
        let reference = dlib.get_face_encodings(&image, &marks, 0);
        let ours = onnx.encodings(&image, &marks).unwrap();
        assert_eq!(ours.len(), reference.len(), "{what}");
        for (a, b) in ours.iter().zip(reference.iter()) {
            let b: Vec<f64> = b.as_ref().to_vec();
            worst = worst.max(a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max));
            pairs.push((a.to_vec(), b));
        }
    }
    // Every face matched against all the others' dlib encodings, as against a roster: the same
    // nearest row, at the same distance to 1e-4.
    let faces = pairs.len();
    let known = ndarray::Array2::from_shape_fn((faces, 128), |(r, c)| pairs[r].1[c]);
    for (i, (ours, theirs)) in pairs.iter().enumerate() {
        let mut others = known.clone();
        others.row_mut(i).fill(1e3); // not itself
        let a = rollcall::face::matching::nearest(&others, ndarray::ArrayView1::from(ours)).unwrap();
        let b = rollcall::face::matching::nearest(&others, ndarray::ArrayView1::from(theirs)).unwrap();
        assert_eq!(a.encoding_row, b.encoding_row, "face {i}");
        assert!((a.distance - b.distance).abs() <= 1e-4, "face {i}: {} against {}", a.distance, b.distance);
    }
    eprintln!("{faces} faces, largest difference {worst:e}");
    assert!(faces >= 30, "real faces compared: {faces}");
    assert!(worst <= 1e-4, "largest difference {worst:e} over {faces} faces");
}
