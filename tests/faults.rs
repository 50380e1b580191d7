//! Faults of the machine rather than of the input: a disk that fills up while the reports are
//! written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A small tmpfs, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (mount(8)'s syntax) at `path`, or `None` where mounting is not
    /// permitted (not root, or a container without CAP_SYS_ADMIN).
    fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs { path: path.to_path_buf() })
    }

    fn resize(&self, size: &str) {
        let status =
            Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.path).status().unwrap();
        assert!(status.success(), "remount {}", self.path.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_at_the_reports_says_what_is_needed_keeps_the_work_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&tmp.path().join("disk"), "48k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
        return;
    };
    let roster = enrol_lecture(tmp.path());
    let out = disk.path.join("out");
    let args = attend_args(&lecture_video(), &roster, &out, &["--every", "30", "-q"]);

    let o = run(rollcall_command(), &args);
    let err = stderr(&o);
    assert!(!o.status.success(), "a full disk went unnoticed:\n{err}");
    let message = format!("rollcall: error: not enough space in {}: the reports need ", out.display());
    assert!(err.starts_with(&message), "expected {message:?} in:\n{err}");
    assert!(err.contains("KiB free; the analysis is kept"), "says what is free and that the work is kept:\n{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line:\n{err}");
    let left: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["attendance.journal"], "only the journal, no report under a final name or half-written");

    disk.resize("4m");
    let mut resume = args.clone();
    resume.push("--resume".into());
    assert_success(&run(rollcall_command(), &resume));
    let reference = tmp.path().join("reference");
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &reference, &["--every", "30"])));
    for name in ["attendance.csv", "detections.csv"] {
        assert_eq!(read(&out.join(name)), read(&reference.join(name)), "{name} after the resume");
    }
    let h5 = hdf5::File::open(out.join("attendance.h5")).expect("the HDF5 file is whole");
    let students = read(&reference.join("attendance.csv")).lines().count() - 1;
    assert_eq!(h5.dataset("attendance").unwrap().size(), students, "one attendance row per student");
}
