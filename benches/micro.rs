//! `make bench` (micro part): the hot pure-Rust paths, with criterion.
//!
//! - matching a face against rosters of 30, 300 and 3000 students (one encoding each);
//! - merging the duplicate detections of an 8K photo's overlapping tiles;
//! - the scheduler's own cost per unit (`run_units` with no work: result encoding and hand-off);
//! - the simulator on 1024 ranks (what `rollcall simulate` costs per prediction);
//! - `pyramid_up` of a 1280×720 frame (the upsampling before HOG);
//! - dlib's ResNet encoder, on dlib and converted to ONNX Runtime: 8 faces in one call (one
//!   batch, as rollcall encodes a frame's faces) against 8 calls of one face (as
//!   `face_recognition.face_encodings` does);
//! - YuNet's forward pass on a 1088×1920 frame (a 1080p frame padded to its strides) on one
//!   core, on ONNX Runtime. (Its runtime before, OpenCV 4.6's dnn, was measured beside it here
//!   until commit 8f791b4; rollcall no longer builds OpenCV's dnn bindings.)

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array1, Array2};
use rollcall::attendance::observation::Detection;
use rollcall::attendance::result::merge_overlapping;
use rollcall::config::Schedule;
use rollcall::face::{matching, FaceBox, ENCODING_LEN};
use rollcall::run::plan::{TilePlan, TileRect};
use rollcall::run::schedule::{run_units, Finished, UnitSource};
use rollcall::simulate::des::{simulate, Scenario, SimUnit};

/// Deterministic pseudo-random numbers in [-0.25, 0.25) (the range of dlib encodings' values).
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.5
        })
        .collect()
}

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("match one face");
    let face = Array1::from(values(7, ENCODING_LEN));
    for students in [30, 300, 3000] {
        let roster = Array2::from_shape_vec((students, ENCODING_LEN), values(students as u64, students * ENCODING_LEN))
            .expect("shape");
        group.throughput(Throughput::Elements(students as u64));
        group.bench_with_input(BenchmarkId::from_parameter(students), &roster, |b, roster| {
            b.iter(|| matching::nearest(black_box(roster), face.view()))
        });
    }
    group.finish();
}

/// The detections of an 8K photo (7680×4320) cut into the default 2048-px tiles overlapping
/// by 384 px: a 90-px face every 150 px, found by every tile that holds it whole.
fn tile_detections() -> Vec<Detection> {
    let tiles = TilePlan::new(7680, 4320, 2048, 384);
    let face = 90;
    let mut out = Vec::new();
    for y in (0..4320 - face).step_by(150) {
        for x in (0..7680 - face).step_by(150) {
            let holds = |t: &TileRect| x >= t.x && y >= t.y && x + face <= t.x + t.w && y + face <= t.y + t.h;
            for _ in (0..tiles.n_units()).map(|u| tiles.rect(u)).filter(holds) {
                out.push(Detection {
                    frame: 0,
                    time_s: 0.0,
                    rank: 0,
                    bbox: FaceBox { x: x as i32, y: y as i32, w: face as i32, h: face as i32 },
                    student: Some((x + y) % 300),
                    distance: 0.4,
                    track: None,
                    encoding: Vec::new(),
                });
            }
        }
    }
    out
}

fn tile_merging(c: &mut Criterion) {
    let detections = tile_detections();
    let mut group = c.benchmark_group("merge tile detections (8K photo)");
    group.throughput(Throughput::Elements(detections.len() as u64));
    group.bench_function(format!("{} detections", detections.len()), |b| {
        b.iter_batched(|| detections.clone(), merge_overlapping, criterion::BatchSize::SmallInput)
    });
    group.finish();
}

/// A rank's units from memory: the scheduler's bookkeeping with no MPI underneath.
struct InMemory {
    next: usize,
    units: usize,
    results: usize,
}

impl UnitSource for InMemory {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        self.next += 1;
        Ok((self.next <= self.units).then_some(self.next - 1))
    }
    fn finished(&mut self, done: Finished) -> Result<()> {
        self.results += done.payload.len();
        Ok(())
    }
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

fn scheduling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scheduler overhead");
    const UNITS: usize = 1000;
    group.throughput(Throughput::Elements(UNITS as u64));
    group.bench_function("run_units, 1000 empty units", |b| {
        let start = Instant::now();
        let clock = move || start.elapsed().as_secs_f64();
        b.iter(|| {
            let mut source = InMemory { next: 0, units: UNITS, results: 0 };
            let run = run_units(&mut source, 0, &clock, 1.0, |unit, _| Ok(vec![unit as u64; 8]));
            black_box((run.stats.units, source.results))
        })
    });
    group.finish();

    let units: Vec<SimUnit> =
        (0..13_500).map(|i| SimUnit { first_frame: 4 * i, frames: 4, work_s: 0.56 + 0.01 * (i % 7) as f64 }).collect();
    let none = BTreeMap::new();
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.bench_function("dynamic, 1024 ranks, 13500 units", |b| {
        b.iter(|| {
            simulate(&Scenario {
                schedule: Schedule::Dynamic,
                ranks: 1024,
                units: &units,
                stride: 1,
                decode_s: 0.001,
                slow: &none,
                master_s: 100e-6,
                latency_s: 5e-6,
                poll_s: 0.002,
                contention: None,
            })
            .unwrap()
        })
    });
    group.finish();
}

/// The doubling of a 720p frame before detection (rollcall's bit-exact port of dlib's).
fn upsampling(c: &mut Criterion) {
    let (width, height) = (1280, 720);
    let frame: Vec<u8> = values(7, width * height * 3).iter().map(|v| ((v + 0.25) * 510.0) as u8).collect();
    let mut group = c.benchmark_group("pyramid_up");
    group.sample_size(20);
    group.throughput(Throughput::Elements((width * height) as u64));
    group.bench_function("1280x720", |b| {
        b.iter(|| black_box(rollcall::face::upsample::pyramid_up(&frame, width, height)))
    });
    group.finish();
}

/// Per face, one batch of 8 against 8 single-face calls: the same chips, the same network.
fn encoding_batches(c: &mut Criterion) {
    use dlib_face_recognition::{
        FaceDetector, FaceDetectorTrait, FaceEncoderNetwork, FaceEncoderTrait, ImageMatrix, LandmarkPredictor,
        LandmarkPredictorTrait,
    };
    use opencv::prelude::*;
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = repo.join("data/models");
    let photo = repo.join("data/lecture/photos/obama.jpg");
    let bgr = opencv::imgcodecs::imread(photo.to_str().unwrap(), opencv::imgcodecs::IMREAD_COLOR).unwrap();
    let mut rgb = opencv::core::Mat::default();
    opencv::imgproc::cvt_color(&bgr, &mut rgb, opencv::imgproc::COLOR_BGR2RGB, 0).unwrap();
    // SAFETY: imread gives a packed width×height×3 image.
    let image =
        unsafe { ImageMatrix::new(rgb.cols() as usize, rgb.rows() as usize, rgb.data_bytes().unwrap().as_ptr()) };
    let face = FaceDetector::new().face_locations(&image)[0];
    let landmarks = LandmarkPredictor::open(models.join(rollcall::face::models::LANDMARKS_FILE)).unwrap();
    let encoder = FaceEncoderNetwork::open(models.join(rollcall::face::models::ENCODER_FILE)).unwrap();
    let eight = vec![landmarks.face_landmarks(&image, &face); 8];

    let mut group = c.benchmark_group("encode 8 faces");
    group.sample_size(10);
    group.throughput(Throughput::Elements(8));
    group.bench_function("one batch of 8", |b| b.iter(|| black_box(encoder.get_face_encodings(&image, &eight, 0))));
    group.bench_function("8 calls of 1", |b| {
        b.iter(|| {
            for one in eight.chunks(1) {
                black_box(encoder.get_face_encodings(&image, one, 0));
            }
        })
    });
    let onnx = rollcall::face::onnx_encoder::OnnxEncoder::load(&models, rollcall::engine::Device::Cpu).unwrap();
    group.bench_function("ONNX Runtime, one batch of 8", |b| {
        b.iter(|| black_box(onnx.encodings(&image, &eight).unwrap()))
    });
    group.bench_function("ONNX Runtime, 8 calls of 1", |b| {
        b.iter(|| {
            for one in eight.chunks(1) {
                black_box(onnx.encodings(&image, one).unwrap());
            }
        })
    });
    group.finish();
}

/// One forward pass of YuNet on a 1088×1920 input, one thread, on the copy of opencv_zoo's
/// file with a symbolic input size.
fn yunet_forward(c: &mut Criterion) {
    use rollcall::face::detect::yunet::MODEL_FILE;
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models");
    let (height, width) = (1088usize, 1920usize);
    let input: Vec<f32> = values(11, 3 * height * width).iter().map(|v| ((v + 0.25) * 510.0) as f32).collect();

    let mut group = c.benchmark_group("YuNet forward pass, 1088x1920, one core");
    group.sample_size(10);
    let net =
        rollcall::engine::Net::load(&models.join(MODEL_FILE), "the benchmark", rollcall::engine::Device::Cpu).unwrap();
    group.bench_function("ONNX Runtime", |b| {
        b.iter(|| {
            let image = ort::value::TensorRef::from_array_view(([1, 3, height, width], input.as_slice())).unwrap();
            let mut session = net.session();
            let outputs = session.run(ort::inputs![image]).unwrap();
            black_box(outputs.len())
        })
    });
    group.finish();
}

criterion_group!(benches, matching, tile_merging, scheduling, upsampling, encoding_batches, yunet_forward);
criterion_main!(benches);
