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
    let dirty = output_of("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
    println!("cargo:rustc-env=ROLLCALL_GIT_COMMIT={commit}{}", if dirty { "-dirty" } else { "" });
    let dlib = output_of("pkg-config", &["--modversion", "dlib-1"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ROLLCALL_DLIB_VERSION={dlib}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
