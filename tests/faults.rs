//! Faults of the machine rather than of the input: a disk that fills up while the reports are
//! written, memory too small for the threads asked for.

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
    let err = assert_refused(&o, &format!("rollcall: error: not enough space in {}: the reports need ", out.display()));
    assert!(err.contains("KiB free; the analysis is kept"), "says what is free and that the work is kept:\n{err}");
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

/// A disk that fills while rank 0 journals, on two ranks: every rank ends within seconds with
/// rank 0's one-line cause (before, rank 0 stopped listening and rank 1 blocked sending it a
/// finished unit, both spinning until killed), and what was journaled resumes to the right
/// attendance once there is room.
#[test]
fn a_full_disk_under_the_journal_ends_every_rank_with_its_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&tmp.path().join("disk"), "8k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
        return;
    };
    let roster = enrol_hall(tmp.path());
    let reference = tmp.path().join("reference");
    let sparse = ["-q", "--every", "25"];
    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &reference, &sparse)));
    for schedule in ["block", "dynamic"] {
        let out = disk.path.join(schedule);
        let args = attend_args(&hall_video(), &roster, &out, &[&sparse[..], &["--schedule", schedule]].concat());
        // The time limit only turns a hang into a failure; the run ends in seconds.
        let o = run(mpirun_program(Path::new(env!("CARGO_BIN_EXE_rollcall")), 2, Some(120)), &args);
        assert_ne!(o.status.code(), Some(124), "{schedule}: the ranks hung on the full disk");
        let err = stderr(&o);
        assert!(!o.status.success(), "{schedule}: succeeded on a full disk");
        assert!(
            err.lines().next().unwrap().starts_with("rollcall: error: rank 0: ")
                && err.contains("free some space and run the same command with --resume: writing the journal")
                && err.contains("No space left on device"),
            "{schedule}: rank 0's cause first, in one line:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");

        disk.resize("4m");
        let resume = [&args[..], &["--resume".to_owned()]].concat();
        assert_success(&run(mpirun_command(2), &resume));
        assert_eq!(read(&out.join("attendance.csv")), read(&reference.join("attendance.csv")), "{schedule}: resumed");
        std::fs::remove_dir_all(&out).unwrap();
        disk.resize("8k");
    }
}

/// A memory control group with a limit, removed when dropped.
struct MemoryCgroup {
    dir: PathBuf,
}

impl MemoryCgroup {
    /// A new group limited to `bytes` (cgroup v1's memory controller, or v2's), or `None` where
    /// this process may not make one.
    fn limited_to(bytes: u64) -> Option<Self> {
        let name = format!("rollcall-test-{}", std::process::id());
        for (root, limit_file) in [("/sys/fs/cgroup/memory", "memory.limit_in_bytes"), ("/sys/fs/cgroup", "memory.max")]
        {
            let dir = Path::new(root).join(&name);
            if std::fs::create_dir(&dir).is_ok() {
                if std::fs::write(dir.join(limit_file), bytes.to_string()).is_ok() {
                    return Some(MemoryCgroup { dir });
                }
                let _ = std::fs::remove_dir(&dir);
            }
        }
        None
    }

    /// `rollcall args…`, started inside the group.
    fn rollcall(&self, args: &[String]) -> std::process::Output {
        let procs = self.dir.join("cgroup.procs");
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!("echo $$ > {} && exec \"$@\"", procs.display())).arg("sh");
        command.arg(env!("CARGO_BIN_EXE_rollcall")).args(args);
        command.output().unwrap()
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The output folder removed while the job runs (a cleanup script, a user tidying up): the job
/// stops at its next unit with one line, and nothing is made again in its place (before, the
/// folder was silently recreated for the reports and the run then failed anyway).
#[test]
fn an_output_folder_deleted_mid_run_stops_the_run_and_is_not_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let out = tmp.path().join("out");
    let child =
        spawn(rollcall_command(), &attend_args(&hall_video(), &roster, &out, &["--every", "2", "--chunk", "2", "-q"]));
    let started = std::time::Instant::now();
    while !out.join("attendance.journal").exists() {
        assert!(started.elapsed().as_secs() < 60, "no journal after 60 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::remove_dir_all(&out).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_refused(&o, &format!("the output folder {} was deleted or replaced while the run went on", out.display()));
    assert!(!out.exists(), "the folder was made again");
}

/// Two CNN threads would not fit in 1.5 GB (each needs ~0.9 GB on the lecture's frames): the
/// run is cut to one thread, says why, and completes instead of being killed (#17 item 2).
#[test]
fn threads_are_cut_to_what_fits_in_the_memory_limit() {
    let Some(group) = MemoryCgroup::limited_to(1536 << 20) else {
        eprintln!("SKIPPED: cannot make a memory control group here (needs root and a writable cgroup fs)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let args = attend_args(
        &lecture_video(),
        &roster,
        &tmp.path().join("out"),
        &["--detector", "cnn", "--every", "100", "--chunk", "3", "--threads", "2"],
    );
    let o = group.rollcall(&args);
    assert_success(&o);
    let err = stderr(&o);
    assert!(err.contains("threads 2 cut to 1 to fit in memory: each needs about"), "{err}");
    assert!(err.contains("cnn detector on 640×360 px at scale 1 and upsample 1"), "{err}");
}
