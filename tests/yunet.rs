//! YuNet, the default detector: the model `make setup` fetches, run by ONNX Runtime, finds the
//! faces of a real group photo where OpenCV's dnn found them when the fixture was made, runs on
//! one core per worker thread, gives the same detections on 1 and 2 ranks, and a missing or
//! damaged model, a missing ONNX Runtime or a CUDA route without a GPU runtime is a one-line
//! error with nothing written.

mod common;

use common::*;
use opencv::imgcodecs;
use opencv::prelude::*;
use rollcall::face::{Detector, DetectorSetup, FacePipeline};

fn yunet_pipeline() -> FacePipeline {
    FacePipeline::load(&setup_file("data/models"), &DetectorSetup::new(Detector::Yunet, 0)).unwrap()
}

/// This thread's and this process's CPU time (user + system), in clock ticks, from /proc.
fn cpu_ticks() -> (u64, u64) {
    let of = |stat: &str| {
        let text = read(std::path::Path::new(stat));
        // Fields after the command name (in parentheses): utime and stime are the 12th and 13th.
        let fields: Vec<u64> =
            text[text.rfind(')').unwrap() + 2..].split(' ').skip(11).take(2).map(|f| f.parse().unwrap()).collect();
        fields[0] + fields[1]
    };
    (of("/proc/thread-self/stat"), of("/proc/self/stat"))
}

/// The six faces of insightface's group photo (data/faces/t1.jpg), as YuNet on OpenCV's dnn
/// found them when tests/fixtures/yunet-t1.csv was made (`x,y,w,h` a line): ONNX Runtime gives
/// the same boxes, to a pixel.
#[test]
fn yunet_finds_the_faces_of_the_fixture_photo() {
    let photo = setup_file("data/faces/t1.jpg");
    let image = imgcodecs::imread(photo.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let found = yunet_pipeline().analyze(&image).unwrap().0;
    let fixture = read(&repo().join("tests/fixtures/yunet-t1.csv"));
    let expected: Vec<[i32; 4]> = fixture
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<i32> = l.split(',').map(|c| c.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    assert_eq!(expected.len(), 6, "the photo shows six people");
    let boxes: Vec<[i32; 4]> = found.iter().map(|f| [f.bbox.x, f.bbox.y, f.bbox.w, f.bbox.h]).collect();
    assert_eq!(boxes.len(), expected.len(), "found {boxes:?}");
    for (got, want) in boxes.iter().zip(&expected) {
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1), "box {got:?}, fixture {want:?}");
    }
}

/// One worker thread is one core: ONNX Runtime starts no threads of its own. The detector
/// alone is timed (the encoder's OpenBLAS in this process would use more threads: the binary's
/// ranks set OPENBLAS_NUM_THREADS, this test process cannot). It is the only test here that
/// computes in-process, so the process's CPU time is this thread's plus ONNX Runtime's.
#[test]
fn yunet_detects_on_one_core() {
    let photo = setup_file("data/faces/t1.jpg");
    let bgr = imgcodecs::imread(photo.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let (width, height) = (bgr.cols() as usize, bgr.rows() as usize);
    let mut rgb = opencv::core::Mat::default();
    opencv::imgproc::cvt_color(&bgr, &mut rgb, opencv::imgproc::COLOR_BGR2RGB, 0).unwrap();
    let detector =
        rollcall::face::detect::yunet::Yunet::load(&setup_file("data/models"), 0.5, rollcall::engine::Device::Cpu)
            .unwrap();
    let (thread_before, process_before) = cpu_ticks();
    for _ in 0..5 {
        assert_eq!(detector.face_locations(rgb.data_bytes().unwrap(), width, height).unwrap().len(), 6);
    }
    let (thread_after, process_after) = cpu_ticks();
    let (thread, process) = (thread_after - thread_before, process_after - process_before);
    assert!(thread > 0, "the detection took CPU time");
    assert!(
        process <= thread + thread / 10 + 5,
        "ONNX Runtime ran threads of its own: {process} ticks of CPU, {thread} on this thread"
    );
}

/// A model folder with every model but `model` as YuNet's file (None: no such file).
fn models_with_yunet(dir: &std::path::Path, model: Option<&[u8]>) -> std::path::PathBuf {
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for entry in std::fs::read_dir(setup_file("data/models")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != rollcall::face::detect::yunet::MODEL_FILE) {
            std::os::unix::fs::symlink(&path, models.join(path.file_name().unwrap())).unwrap();
        }
    }
    if let Some(bytes) = model {
        std::fs::write(models.join(rollcall::face::detect::yunet::MODEL_FILE), bytes).unwrap();
    }
    models
}

#[test]
fn a_missing_or_damaged_yunet_model_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    for (case, model) in [("missing", None), ("damaged", Some(&b"not an ONNX model"[..]))] {
        let dir = tmp.path().join(case);
        let models = models_with_yunet(&dir, model);
        let out = dir.join("out");
        let extra = ["--models", models.to_str().unwrap()];
        let o = run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &extra));
        let err = assert_refused(&o, rollcall::face::detect::yunet::MODEL_FILE);
        assert!(err.contains("make setup"), "{case}: {err}");
        assert!(!out.join("attendance.csv").exists(), "{case}: nothing half-written");
    }
}

/// The short hall at defaults (yunet) on 1 and 2 ranks: the same detections and tracks, every
/// the settings and reports say which detector and engine ran (tests/hall.rs checks statuses).
#[test]
fn one_and_two_ranks_find_the_same_faces_with_yunet() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let extra = ["-q"];
    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &one, &extra)));
    assert_success(&run(mpirun_command(2), &attend_args(&hall_video(), &roster, &two, &extra)));
    let reference = detections_without_rank(&one);
    assert!(reference.lines().count() > 60, "yunet finds the hall's faces:\n{reference}");
    assert_eq!(detections_without_rank(&two), reference, "1 and 2 ranks");
    assert!(h5_attribute(&one, "/settings/detector").contains("\"yunet\""));
    assert!(h5_attribute(&one, "/settings/device").contains("\"cpu\""));
    assert!(h5_attribute(&one, "/software/onnxruntime").contains(rollcall::engine::PINNED_VERSION));
    assert!(h5_attribute(&two, "/software/execution_provider").contains("CPUExecutionProvider"));
}

/// ONNX Runtime not where ROLLCALL_ORT says, or not a library: one line naming the file and
/// `make setup`, before anything is written.
#[test]
fn a_missing_onnx_runtime_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let not_a_library = tmp.path().join("libonnxruntime.so");
    std::fs::write(&not_a_library, b"not a shared library").unwrap();
    let missing = tmp.path().join("no-such-folder");
    for (case, library) in [("missing", &missing), ("damaged", &not_a_library)] {
        let out = tmp.path().join(case);
        let mut command = rollcall_command();
        command.env("ROLLCALL_ORT", library);
        let o = run(command, &attend_args(&lecture_video(), &roster, &out, &[]));
        let err = assert_refused(&o, library.to_str().unwrap());
        assert!(err.contains("ROLLCALL_ORT") && err.contains("make setup"), "{case}: {err}");
        assert!(!out.exists(), "{case}: nothing written");
    }
}

/// `--device cuda` where ONNX Runtime has no CUDA provider (the CPU build `make setup` fetches),
/// with yunet or with HOG (the encoder runs on ONNX Runtime too): one line saying what is
/// missing, nothing written.
#[test]
fn the_cuda_route_without_a_gpu_runtime_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    for (case, extra, message) in [
        ("cpu-build", &["--device", "cuda"][..], "is a build without CUDA"),
        ("hog", &["--device", "cuda", "--detector", "hog"][..], "is a build without CUDA"),
    ] {
        let out = tmp.path().join(case);
        let o = run(mpirun_command(2), &attend_args(&lecture_video(), &roster, &out, extra));
        let err = stderr(&o);
        assert!(!o.status.success() && err.contains(message), "{case}: {err}");
        assert!(err.contains("--device cpu"), "{case}: says how to go on: {err}");
        assert!(!err.contains("panicked"), "{case}: {err}");
        assert!(
            !out.join("attendance.csv").exists() && !out.join("attendance.journal").exists(),
            "{case}: nothing written"
        );
    }
}
