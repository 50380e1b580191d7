//! Nothing lost: a run killed (SIGKILL of a worker or of rank 0, SIGTERM as Slurm sends before
//! the time limit) ends promptly, and `--resume` finishes it with the same outputs as a run
//! that was never interrupted. Resuming another job's journal is refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

const RANKS: usize = 3;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    roster: PathBuf,
    video: PathBuf,
    reference: PathBuf,
}

/// A roster, and the outputs of an uninterrupted run to compare with.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let roster = enrol_lecture(&dir);
    let f = Fixture { dir: dir.clone(), roster, video: lecture_video(), reference: dir.join("reference"), _tmp: tmp };
    assert_success(&run(mpirun_command(RANKS), &f.args(&f.reference, &[])));
    f
}

impl Fixture {
    /// Every 3rd frame in units of 2: 50 units, long enough to be killed in the middle.
    fn args(&self, out: &Path, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "attend",
            self.video.to_str().unwrap(),
            "--roster",
            self.roster.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--every",
            "3",
            "--chunk",
            "2",
            "--schedule",
            "dynamic",
        ]
        .map(String::from)
        .into();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    fn start(&self, out: &Path) -> Child {
        let mut c = mpirun_command(RANKS);
        c.args(self.args(out, &[])).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.spawn().unwrap()
    }

    fn resume(&self, out: &Path) -> std::process::Output {
        run(mpirun_command(RANKS), &self.args(out, &["--resume"]))
    }

    fn assert_same_as_reference(&self, out: &Path) {
        assert_eq!(read(&out.join("attendance.csv")), read(&self.reference.join("attendance.csv")));
        assert_eq!(detections_without_rank(out), detections_without_rank(&self.reference));
        assert!(!out.join("attendance.journal").exists(), "the journal is removed once the reports are written");
    }
}

/// Waits until the journal in `out` holds at least a few units' worth of records.
fn wait_for_progress(out: &Path) {
    let journal = out.join("attendance.journal");
    let started = Instant::now();
    while std::fs::metadata(&journal).map_or(0, |m| m.len()) < 1500 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress in the journal");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pid of the given MPI rank under `mpirun` (its child processes).
fn pid_of_rank(mpirun: &Child, rank: usize) -> u32 {
    let children = std::process::Command::new("pgrep").args(["-P", &mpirun.id().to_string()]).output().unwrap();
    String::from_utf8_lossy(&children.stdout)
        .lines()
        .map(|p| p.trim().parse::<u32>().unwrap())
        .find(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            env.split(|&b| b == 0).any(|v| v == format!("OMPI_COMM_WORLD_RANK={rank}").as_bytes())
        })
        .unwrap_or_else(|| panic!("rank {rank} not found under mpirun"))
}

/// Waits for the run to end; it must end within `limit`, and fail.
fn ends_promptly_and_fails(child: Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(started.elapsed() < limit, "the job took {:?} to end after the kill", started.elapsed());
    assert!(!o.status.success(), "the killed job reported success");
    o
}

#[test]
fn sigkill_of_a_worker_or_of_rank_0_then_resume_gives_the_same_outputs() {
    let f = fixture();
    for victim in [1, 0] {
        let out = f.dir.join(format!("killed-rank-{victim}"));
        let child = f.start(&out);
        wait_for_progress(&out);
        send_signal(pid_of_rank(&child, victim), "-KILL");
        ends_promptly_and_fails(child, Duration::from_secs(20));
        assert!(out.join("attendance.journal").exists());
        assert!(!out.join("attendance.csv").exists(), "no report that looks finished");

        let o = f.resume(&out);
        assert_success(&o);
        assert!(stderr(&o).contains("resuming: "), "{}", stderr(&o));
        f.assert_same_as_reference(&out);
    }
}

#[test]
fn sigterm_saves_and_says_how_to_resume_and_a_cut_journal_is_survived() {
    let f = fixture();
    let out = f.dir.join("terminated");
    let child = f.start(&out);
    wait_for_progress(&out);
    send_signal(child.id(), "-TERM");
    let o = ends_promptly_and_fails(child, Duration::from_secs(20));
    let err = stderr(&o);
    assert!(err.contains("SIGTERM received") && err.contains("--resume"), "{err}");

    // Killed mid-write: the last record is cut short. It is dropped, not trusted.
    let journal = out.join("attendance.journal");
    let bytes = std::fs::read(&journal).unwrap();
    std::fs::write(&journal, &bytes[..bytes.len() - 5]).unwrap();
    let o = f.resume(&out);
    assert_success(&o);
    assert!(stderr(&o).contains("dropped a damaged last record"), "{}", stderr(&o));
    f.assert_same_as_reference(&out);
}

#[test]
fn resuming_with_other_settings_or_roster_is_refused() {
    let f = fixture();
    let out = f.dir.join("interrupted");
    let child = f.start(&out);
    wait_for_progress(&out);
    send_signal(pid_of_rank(&child, 1), "-KILL");
    ends_promptly_and_fails(child, Duration::from_secs(20));

    let mut args = f.args(&out, &["--resume", "--tolerance", "0.5"]);
    let o = run(mpirun_command(2), &args);
    assert!(
        stderr(&o).contains("cannot resume: the setting `tolerance` (0.5 now, 0.6 in the interrupted run) differs"),
        "{}",
        stderr(&o)
    );

    // A roster enrolled differently (no upsampling) has other encodings.
    let other_roster = f.dir.join("other.h5");
    args = f.args(&out, &["--resume"]);
    let i = args.iter().position(|a| a == "--roster").unwrap();
    args[i + 1] = other_roster.to_str().unwrap().into();
    let photos = lecture_photos();
    let o = run(
        rollcall_command(),
        &["enroll", photos.to_str().unwrap(), "-o", other_roster.to_str().unwrap(), "--force", "--upsample", "0"],
    );
    assert_success(&o);
    let o = run(mpirun_command(2), &args);
    assert!(stderr(&o).contains("cannot resume: the roster file differs"), "{}", stderr(&o));

    // Without --resume or --force, an unfinished run is not silently replaced.
    let plain = f.args(&out, &[]);
    let o = run(rollcall_command(), &plain);
    assert!(stderr(&o).contains("holds an unfinished run") && stderr(&o).contains("--resume"), "{}", stderr(&o));

    // And it still resumes with the original inputs, the folder spelt another way (`./out`
    // for `out`: the same folder).
    let respelt = out.parent().unwrap().join(".").join(out.file_name().unwrap());
    assert_success(&f.resume(&respelt));
    f.assert_same_as_reference(&out);
}
