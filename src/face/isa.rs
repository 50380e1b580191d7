//! Which build of dlib's HOG detector a job runs: the x86-64 baseline (SSE2) that the
//! dlib-face-recognition crate compiles, or the same detector compiled for AVX2
//! (`cpp/hog_avx2.cpp`: HOG 1.23x faster on a 720p frame doubled, the detect stage 1.15x in
//! `make bench`, with dlib 19.24). One level is chosen per job, the best every
//! rank can run, so that no box depends on which rank analysed which frame.
//!
//! The AVX2 build is a shared library embedded in the binary. It is loaded (from an anonymous
//! memory file) only on CPUs with AVX2, so a baseline node never maps AVX2 code.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use dlib_face_recognition::Rectangle;

/// The instruction-set level of the HOG detector (`--isa`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// The best level every rank of the job can run.
    #[default]
    Auto,
    /// x86-64 baseline (SSE2): runs everywhere.
    Baseline,
    /// AVX2 (no FMA: same rounding as the baseline's sums).
    Avx2,
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Isa::Auto => "auto",
            Isa::Baseline => "baseline",
            Isa::Avx2 => "avx2",
        })
    }
}

/// Caps the level this process offers to the job (`baseline`): for nodes whose AVX2 code should
/// not run (say, one that lowers its clock for it), and to try ranks that differ on one machine.
pub const MAX_ISA_ENV: &str = "ROLLCALL_MAX_ISA";

impl Isa {
    /// The best level this process can run: AVX2 when the CPU has it and the AVX2 library
    /// loads, else the baseline; at most what `ROLLCALL_MAX_ISA` allows.
    pub fn of_this_process() -> Isa {
        match std::env::var(MAX_ISA_ENV).as_deref() {
            Err(_) | Ok("avx2") => {}
            Ok("baseline") => return Isa::Baseline,
            Ok(other) => tracing::warn!("{MAX_ISA_ENV}={other} is neither baseline nor avx2: ignored"),
        }
        match avx2_library() {
            Ok(_) => Isa::Avx2,
            Err(reason) => {
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx2") {
                    tracing::warn!("this CPU has AVX2 but {reason}: the HOG detector runs its baseline build");
                }
                Isa::Baseline
            }
        }
    }

    /// The level a job runs at, given what each rank can run (in rank order): `auto` is the
    /// lowest of them; a level asked for by name must be one every rank has.
    pub fn resolve(self, ranks: &[Isa]) -> Result<Isa> {
        let shared = ranks.iter().copied().min().unwrap_or(Isa::Baseline);
        match self {
            Isa::Auto => Ok(shared),
            Isa::Baseline => Ok(Isa::Baseline),
            Isa::Avx2 => match ranks.iter().position(|&r| r < Isa::Avx2) {
                Some(rank) => bail!(
                    "isa avx2: rank {rank} cannot run AVX2 code (its CPU lacks AVX2, {MAX_ISA_ENV}=baseline is set \
                     there, or the AVX2 detector would not load there: see its warning); pass --isa auto to use what \
                     every rank has"
                ),
                None => Ok(Isa::Avx2),
            },
        }
    }

    /// What the software list of the reports says (`isa_in_use`).
    pub fn describe(self) -> &'static str {
        match self {
            Isa::Auto => "auto (not yet chosen)",
            Isa::Baseline => "baseline: HOG detector built for x86-64 (SSE2)",
            Isa::Avx2 => "avx2: HOG detector built with -mavx2 (no FMA)",
        }
    }
}

/// The C functions of the AVX2 library (see `cpp/hog_avx2.cpp` for what each does).
struct Avx2Library {
    new: unsafe extern "C" fn() -> *mut c_void,
    clone: unsafe extern "C" fn(*const c_void) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    detect: unsafe extern "C" fn(*mut c_void, *const u8, i64, i64, *mut i64, i64) -> i64,
    pyramid_up: unsafe extern "C" fn(*const u8, i64, i64, *mut u8) -> i32,
    /// Keeps the library mapped for as long as the functions above may be called.
    _library: libloading::Library,
}

/// The AVX2 library, loaded on first use; the reason it cannot be on this process.
fn avx2_library() -> Result<&'static Avx2Library, &'static str> {
    static LIBRARY: OnceLock<Result<Avx2Library, String>> = OnceLock::new();
    LIBRARY.get_or_init(load_avx2_library).as_ref().map_err(String::as_str)
}

#[cfg(target_arch = "x86_64")]
fn load_avx2_library() -> Result<Avx2Library, String> {
    use std::io::Write;
    static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/librollcall_hog_avx2.so"));
    if !std::arch::is_x86_feature_detected!("avx2") {
        return Err("its CPU lacks AVX2".into());
    }
    let memfd = rustix::fs::memfd_create(c"rollcall-hog-avx2", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| format!("cannot create a memory file for the AVX2 detector: {e}"))?;
    let mut file = std::fs::File::from(memfd);
    file.write_all(IMAGE).map_err(|e| format!("cannot write the AVX2 detector: {e}"))?;
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
    // SAFETY: the library is rollcall's own; its initialisers only set up dlib's statics.
    let library =
        unsafe { libloading::Library::new(&path) }.map_err(|e| format!("cannot load the AVX2 detector: {e}"))?;
    // SAFETY: the signatures are those of the extern "C" functions in cpp/hog_avx2.cpp.
    unsafe {
        Ok(Avx2Library {
            new: symbol(&library, "rollcall_hog_new")?,
            clone: symbol(&library, "rollcall_hog_clone")?,
            free: symbol(&library, "rollcall_hog_free")?,
            detect: symbol(&library, "rollcall_hog_detect")?,
            pyramid_up: symbol(&library, "rollcall_pyramid_up")?,
            _library: library,
        })
    }
}

/// The function `name` of `library`, or why it is missing.
///
/// # Safety
/// `T` must be the function's type in cpp/hog_avx2.cpp.
#[cfg(target_arch = "x86_64")]
unsafe fn symbol<T: Copy>(library: &libloading::Library, name: &str) -> Result<T, String> {
    library.get::<T>(name.as_bytes()).map(|f| *f).map_err(|e| format!("the AVX2 detector lacks {name}: {e}"))
}

#[cfg(not(target_arch = "x86_64"))]
fn load_avx2_library() -> Result<Avx2Library, String> {
    Err("it is not an x86-64 CPU".into())
}

/// dlib's own `pyramid_up` of a packed RGB image, from the AVX2 library (None where that cannot
/// load): the reference that [`super::upsample::pyramid_up`], rollcall's port, is checked against.
pub fn dlib_pyramid_up(rgb: &[u8], width: usize, height: usize) -> Option<super::upsample::Rgb> {
    let library = avx2_library().ok()?;
    assert_eq!(rgb.len(), width * height * 3, "a packed RGB image");
    let (out_w, out_h) = super::upsample::enlarged_size(width, height);
    let mut pixels = vec![0u8; out_w * out_h * 3];
    // SAFETY: `rgb` is width×height×3 bytes; `pixels` has room for dlib's (2w+2)×(2h+1) result.
    let status = unsafe { (library.pyramid_up)(rgb.as_ptr(), width as i64, height as i64, pixels.as_mut_ptr()) };
    (status == 0).then_some(super::upsample::Rgb { width: out_w, height: out_h, pixels })
}

/// dlib's frontal face detector from the AVX2 library. Like the crate's, it keeps scratch
/// state: one per thread (`clone`).
pub struct HogAvx2 {
    detector: NonNull<c_void>,
    library: &'static Avx2Library,
}

// SAFETY: the detector is owned by this value alone and used by one thread at a time (&mut-free
// calls happen only through `&self` on the thread that owns the worker; it is not `Sync`).
unsafe impl Send for HogAvx2 {}

/// Boxes [`HogAvx2::face_locations`] makes room for before it knows how many were found: more
/// than any frame holds, as more found than fit means detecting again. With room for 16, a
/// hall of 45 people was detected twice a frame (the AVX2 build 1.5x slower than the baseline
/// on the long hall of make bench, which is how it was found).
const ROOM_FOR_FACES: usize = 1024;

impl HogAvx2 {
    pub fn new() -> Result<Self> {
        let library = avx2_library().map_err(|e| anyhow!("the AVX2 HOG detector cannot run here: {e}"))?;
        // SAFETY: a plain constructor; null means it failed.
        let detector =
            NonNull::new(unsafe { (library.new)() }).ok_or_else(|| anyhow!("cannot make the AVX2 HOG detector"))?;
        Ok(HogAvx2 { detector, library })
    }

    /// Faces in a packed `width`×`height` RGB image, as dlib's detector returns them.
    pub fn face_locations(&self, rgb: &[u8], width: usize, height: usize) -> Result<Vec<Rectangle>> {
        self.face_locations_with_room(rgb, width, height, ROOM_FOR_FACES)
    }

    /// [`face_locations`](Self::face_locations) with room for `room` faces at first; more
    /// found than that, it detects again with room for all.
    fn face_locations_with_room(&self, rgb: &[u8], width: usize, height: usize, room: usize) -> Result<Vec<Rectangle>> {
        assert_eq!(rgb.len(), width * height * 3, "a packed RGB image");
        let mut boxes = vec![0i64; 4 * room.max(1)];
        loop {
            let capacity = (boxes.len() / 4) as i64;
            // SAFETY: `rgb` is width×height×3 bytes (checked); `boxes` has room for `capacity` boxes.
            let found = unsafe {
                (self.library.detect)(
                    self.detector.as_ptr(),
                    rgb.as_ptr(),
                    width as i64,
                    height as i64,
                    boxes.as_mut_ptr(),
                    capacity,
                )
            };
            if found < 0 {
                bail!("the AVX2 HOG detector failed on a {width}×{height} image");
            }
            if found <= capacity {
                return Ok(boxes
                    .chunks_exact(4)
                    .take(found as usize)
                    .map(|b| Rectangle { left: b[0], top: b[1], right: b[2], bottom: b[3] })
                    .collect());
            }
            boxes.resize(4 * found as usize, 0);
        }
    }
}

impl Clone for HogAvx2 {
    fn clone(&self) -> Self {
        // SAFETY: `detector` is live; the copy is a new, independently owned detector.
        let detector = unsafe { (self.library.clone)(self.detector.as_ptr()) };
        HogAvx2 {
            detector: NonNull::new(detector).expect("copying the AVX2 HOG detector ran out of memory"),
            library: self.library,
        }
    }
}

impl Drop for HogAvx2 {
    fn drop(&mut self) {
        // SAFETY: made by `new`/`clone` of this library, freed once.
        unsafe { (self.library.free)(self.detector.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use opencv::prelude::*;

    /// More faces than there is room for are detected again with room for all: the six of
    /// insightface's group photo (data/faces/t1.jpg, from make setup) with room for one.
    #[test]
    fn more_faces_than_room_are_all_returned() {
        let Ok(detector) = HogAvx2::new() else {
            eprintln!("no AVX2 here: nothing to test");
            return;
        };
        let photo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/faces/t1.jpg");
        let bgr = opencv::imgcodecs::imread(photo, opencv::imgcodecs::IMREAD_COLOR).unwrap();
        let mut rgb = opencv::core::Mat::default();
        opencv::imgproc::cvt_color(&bgr, &mut rgb, opencv::imgproc::COLOR_BGR2RGB, 0).unwrap();
        let (bytes, width, height) = (rgb.data_bytes().unwrap(), rgb.cols() as usize, rgb.rows() as usize);
        let roomy = detector.face_locations(bytes, width, height).unwrap();
        let cramped = detector.face_locations_with_room(bytes, width, height, 1).unwrap();
        assert!(roomy.len() >= 2, "found {}", roomy.len());
        assert_eq!(cramped, roomy);
    }

    #[test]
    fn auto_is_the_lowest_level_of_any_rank_and_a_named_level_is_checked() {
        let mixed = [Isa::Avx2, Isa::Baseline, Isa::Avx2];
        assert_eq!(Isa::Auto.resolve(&mixed).unwrap(), Isa::Baseline);
        assert_eq!(Isa::Auto.resolve(&[Isa::Avx2, Isa::Avx2]).unwrap(), Isa::Avx2);
        assert_eq!(Isa::Baseline.resolve(&[Isa::Avx2]).unwrap(), Isa::Baseline);
        let err = Isa::Avx2.resolve(&mixed).unwrap_err().to_string();
        assert!(err.starts_with("isa avx2: rank 1 cannot run AVX2 code"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}
