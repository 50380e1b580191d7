//! Records what `rollcall --version` and the reports name: the git commit this binary was
//! built from, and the dlib the face models run on (its headers are compiled into the binary,
//! so the version is fixed at build time).

use std::process::Command;

fn output_of(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}

fn main() {
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
