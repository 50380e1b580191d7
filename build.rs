//! Records what `rollcall --version` and the reports name: the git commit this binary was
//! built from, and the dlib the face models run on (its headers are compiled into the binary,
//! so the version is fixed at build time).

use std::process::Command;

fn output_of(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}

/// Compiles `cpp/hog_avx2.cpp` into `$OUT_DIR/librollcall_hog_avx2.so`, which the binary
/// embeds (src/face/isa.rs says why it is a library of its own). Flags: AVX2 without FMA, so
/// that sums round as in the baseline build; hidden symbols and a version script, so that
/// nothing but its C functions is visible outside it.
fn build_avx2_detector() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let library = out.join("librollcall_hog_avx2.so");
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let status = Command::new(&compiler)
        .args(["-std=c++14", "-O3", "-mavx2", "-mno-fma", "-ffp-contract=off", "-fPIC", "-shared"])
        .args(["-fvisibility=hidden", "-fvisibility-inlines-hidden", "-Wl,-Bsymbolic"])
        .arg("-Wl,--version-script=cpp/hog_avx2.map")
        .args(["-o".as_ref(), library.as_os_str(), "cpp/hog_avx2.cpp".as_ref(), "-ldlib".as_ref()])
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C++ compiler {compiler}: {e}"));
    assert!(status.success(), "compiling cpp/hog_avx2.cpp failed ({status}); is libdlib-dev installed? (make setup)");
    println!("cargo:rerun-if-changed=cpp/hog_avx2.cpp");
    println!("cargo:rerun-if-changed=cpp/hog_avx2.map");
    println!("cargo:rerun-if-env-changed=CXX");
}

/// Compiles `cpp/face_chips.cpp` (dlib's aligned face chips, which the ONNX Runtime encoder
/// reads) into a static library linked into rollcall. Default flags, as the dlib wrapper's own
/// C++ has: the chips' interpolation then rounds as dlib's encoder path does.
fn build_face_chips() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let object = out.join("face_chips.o");
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let status = Command::new(&compiler)
        .args(["-std=c++14", "-O3", "-fPIC", "-c", "cpp/face_chips.cpp", "-o"])
        .arg(&object)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C++ compiler {compiler}: {e}"));
    assert!(status.success(), "compiling cpp/face_chips.cpp failed ({status}); is libdlib-dev installed? (make setup)");
    let status = Command::new("ar")
        .arg("rcs")
        .arg(out.join("librollcall_face_chips.a"))
        .arg(&object)
        .status()
        .unwrap_or_else(|e| panic!("cannot run ar: {e}"));
    assert!(status.success(), "ar failed ({status})");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=rollcall_face_chips");
    println!("cargo:rustc-link-lib=dlib");
    println!("cargo:rerun-if-changed=cpp/face_chips.cpp");
}

/// `lavf_index_fields` when libavformat is older than 58.78 (FFmpeg 4, as on Debian 11, where
/// the relocatable bundle is built): it has no accessors for a stream's index, which lives in
/// the stream's own fields instead (src/media/container.rs reads one or the other).
fn index_accessors_cfg() {
    println!("cargo:rustc-check-cfg=cfg(lavf_index_fields)");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let version = output_of("pkg-config", &["--modversion", "libavformat"]).unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if major > 0 && (major, minor) < (58, 78) {
        println!("cargo:rustc-cfg=lavf_index_fields");
    }
}

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        build_avx2_detector();
    }
    build_face_chips();
    index_accessors_cfg();
    let commit = output_of("git", &["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ROLLCALL_GIT_COMMIT={commit}");
    let dlib = output_of("pkg-config", &["--modversion", "dlib-1"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ROLLCALL_DLIB_VERSION={dlib}");
    // Rebuild when the commit changes: HEAD, the branch it points at, packed refs. (Not the
    // index: `git` rewrites it on many read-only commands, which would rebuild every time.)
    // Only files that exist: cargo treats a missing one as always changed.
    let branch = std::fs::read_to_string(".git/HEAD")
        .ok()
        .and_then(|h| h.strip_prefix("ref: ").map(|r| format!(".git/{}", r.trim())));
    for path in [Some(".git/HEAD".to_owned()), Some(".git/packed-refs".to_owned()), branch].into_iter().flatten() {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
