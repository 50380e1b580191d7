//! Helpers shared by the integration tests: they run the real binary, under a real `mpirun`,
//! on the ground-truth lecture that `make setup` generates.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file `make setup` provides; a clear failure if it has not run.
pub fn setup_file(relative: &str) -> PathBuf {
    let path = repo().join(relative);
    assert!(path.exists(), "{} is missing: run `make setup` first", path.display());
    path
}

pub fn lecture_video() -> PathBuf {
    setup_file("data/lecture/lecture.avi")
}

/// The short lecture hall (720p H.264) that `make setup` composes.
pub fn hall_video() -> PathBuf {
    setup_file("data/hall/hall.mp4")
}

pub fn lecture_photos() -> PathBuf {
    setup_file("data/lecture/photos")
}

/// `rollcall ARGS` with the environment the Makefile gives it.
pub fn rollcall_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    c.current_dir(repo()).env("OPENBLAS_NUM_THREADS", "1");
    c
}

/// `mpirun -n N rollcall ARGS`, oversubscribed as on a 2-core machine.
pub fn mpirun_command(ranks: usize) -> Command {
    mpirun_program(Path::new(env!("CARGO_BIN_EXE_rollcall")), ranks, None)
}

/// `[timeout SECONDS] mpirun -n N PROGRAM`: the time limit turns a protocol hang into a failure.
pub fn mpirun_program(program: &Path, ranks: usize, timeout_s: Option<u32>) -> Command {
    let mut c = match timeout_s {
        Some(s) => {
            let mut c = Command::new("timeout");
            c.args([s.to_string(), "mpirun".into()]);
            c
        }
        None => Command::new("mpirun"),
    };
    c.current_dir(repo())
        .args(["--oversubscribe", "-n", &ranks.to_string()])
        .arg(program)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_mpi_yield_when_idle", "1")
        .env("OPENBLAS_NUM_THREADS", "1");
    c
}

/// Runs a command, returning its output; panics with its stderr if it could not start.
pub fn run<S: AsRef<std::ffi::OsStr>>(mut command: Command, args: &[S]) -> Output {
    command.args(args).output().expect("cannot start the command")
}

/// Starts a command in the background, its output captured for `wait_with_output`.
pub fn spawn<S: AsRef<std::ffi::OsStr>>(mut command: Command, args: &[S]) -> std::process::Child {
    command.args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    command.spawn().expect("cannot start the command")
}

/// Sends `signal` (`-TERM`, `-KILL`, ...) to process `pid`.
pub fn send_signal(pid: u32, signal: &str) {
    assert!(Command::new("kill").args([signal, &pid.to_string()]).status().unwrap().success());
}

/// Sends SIGTERM to `child` as soon as it has installed its handler for it (bit 15 of
/// `SigCgt` in `/proc/PID/status`), that is at the start of its work rather than after a
/// guessed delay: what a short command does with a signal is then tested every time.
pub fn terminate_once_listening(child: &std::process::Child) {
    let status = format!("/proc/{}/status", child.id());
    let started = std::time::Instant::now();
    loop {
        let caught = std::fs::read_to_string(&status).ok().and_then(|s| {
            let mask = s.lines().find_map(|l| l.strip_prefix("SigCgt:"))?.trim().to_string();
            u64::from_str_radix(&mask, 16).ok()
        });
        if caught.is_some_and(|mask| mask & (1 << (15 - 1)) != 0) {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "process {} never listened for SIGTERM", child.id());
        std::thread::yield_now();
    }
    // SAFETY: kill(2) with a valid signal has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0, "kill failed");
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that `o` is a refusal as rollcall makes them: a failed exit and one line on stderr,
/// `rollcall: error: ...`, holding `message`, no panic. Returns that line for further checks.
pub fn assert_refused(o: &Output, message: &str) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "went ahead, expected {message:?}:\n{err}");
    assert!(err.contains(message), "expected {message:?} in:\n{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line, got:\n{err}");
    assert!(err.starts_with("rollcall: error: ") && !err.contains("panicked"), "{err}");
    err
}

pub fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// `attend VIDEO --roster ROSTER -o OUT EXTRA...`, ready for [`run`].
pub fn attend_args(video: &Path, roster: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let paths = [video, roster, out].map(|p| p.to_str().expect("UTF-8 test paths").to_owned());
    let [video, roster, out] = paths;
    let mut args = vec!["attend".to_owned(), video, "--roster".into(), roster, "-o".into(), out];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Enrols the short hall's photos (data/hall/photos) into `dir/roster.h5`.
pub fn enrol_hall(dir: &Path) -> PathBuf {
    let roster = dir.join("roster.h5");
    let photos = setup_file("data/hall/photos");
    assert_success(&run(rollcall_command(), &["enroll", photos.to_str().unwrap(), "-o", roster.to_str().unwrap()]));
    roster
}

/// Enrols the ground-truth lecture's photos into `dir/roster.h5`.
pub fn enrol_lecture(dir: &Path) -> PathBuf {
    let roster = dir.join("roster.h5");
    let o = run(rollcall_command(), &["enroll", lecture_photos().to_str().unwrap(), "-o", roster.to_str().unwrap()]);
    assert_success(&o);
    roster
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// detections.csv without its `rank` column (the only one allowed to depend on the schedule).
pub fn detections_without_rank(out: &Path) -> String {
    read(&out.join("detections.csv"))
        .lines()
        .map(|line| {
            let mut cols: Vec<&str> = line.split(',').collect();
            cols.remove(2);
            cols.join(",") + "\n"
        })
        .collect()
}

/// An attribute of OUT/attendance.h5 as h5dump, the HDF5 project's own reader, prints it.
pub fn h5_attribute(out: &Path, path: &str) -> String {
    h5dump(out, "-a", path)
}

/// A dataset of OUT/attendance.h5 as h5dump prints it.
pub fn h5_dataset(out: &Path, path: &str) -> String {
    h5dump(out, "-d", path)
}

/// A one-dimensional integer dataset of OUT/attendance.h5, as h5dump prints it.
pub fn h5_integers(out: &Path, path: &str) -> Vec<u64> {
    let dump = h5_dataset(out, path);
    let (_, data) = dump.split_once("DATA {").expect("h5dump prints the data");
    // Lines such as `(0): 0, 20, 40,`: the position in brackets, then the values.
    data.lines()
        .filter_map(|line| line.split_once("):").map(|(_, values)| values))
        .flat_map(|values| values.split(',').filter_map(|v| v.trim().parse().ok()))
        .collect()
}

fn h5dump(out: &Path, flag: &str, path: &str) -> String {
    let o = Command::new("h5dump").args([flag, path]).arg(out.join("attendance.h5")).output().unwrap();
    assert!(o.status.success(), "h5dump {flag} {path}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Whether this CPU has AVX2 (both HOG builds can run); if not, says the test is skipped and why.
pub fn has_avx2_or_skip(why: &str) -> bool {
    let has = std::arch::is_x86_feature_detected!("avx2");
    if !has {
        eprintln!("skipped: this CPU has no AVX2, so {why}");
    }
    has
}

/// One field of OUT/attendance.h5's `/ranks` table, rank by rank, as h5dump prints it (the
/// HDF5 project's own reader, not rollcall's).
pub fn ranks_field(out: &Path, field: &str) -> Vec<f64> {
    let o = Command::new("h5dump").args(["-d", "/ranks"]).arg(out.join("attendance.h5")).output().unwrap();
    assert!(o.status.success(), "h5dump -d /ranks: {}", stderr(&o));
    let dump = String::from_utf8_lossy(&o.stdout).into_owned();
    let (types, data) = dump.split_once("DATA {").expect("h5dump prints the data");
    let names: Vec<&str> =
        types.lines().filter_map(|l| l.trim().strip_suffix("\";")?.split_once('"')).map(|(_, n)| n).collect();
    let column = names.iter().position(|&n| n == field).unwrap_or_else(|| panic!("no field {field} in {names:?}"));
    data.split("): {")
        .skip(1)
        .map(|row| {
            let values: Vec<&str> = row.split('}').next().unwrap().split(',').map(str::trim).collect();
            values[column].parse().unwrap_or_else(|e| panic!("{field} = {:?}: {e}", values[column]))
        })
        .collect()
}
