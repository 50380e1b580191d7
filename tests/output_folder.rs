//! What rollcall does inside the folders it writes to, as another user of a shared cluster
//! might try it: symbolic links planted there are never written through, and under a umask of
//! 000 every file naming students is still the owner's only and no folder is world-writable.

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use common::*;

/// `command` started with a umask of 000, as a careless login profile would leave it.
fn with_umask_000(mut command: Command) -> Command {
    // SAFETY: umask(2) is async-signal-safe and touches no memory.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    command
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

/// A file another user cares about, which the links below point at.
fn victim(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, "someone else's data\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    path
}

#[test]
fn links_planted_in_an_output_folder_are_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let probe_target = victim(&elsewhere, "probe-target");
    let partial_target = victim(&elsewhere, "partial-target");
    let dangling = elsewhere.join("journal-would-land-here");
    symlink(&probe_target, out.join(".rollcall-write-test")).unwrap();
    symlink(&partial_target, out.join(".attendance.csv.partial")).unwrap();
    symlink(&dangling, out.join("attendance.journal")).unwrap();

    let quick = ["-q", "--every", "50"];
    let o = run(with_umask_000(rollcall_command()), &attend_args(&lecture_video(), &roster, &out, &quick));
    assert_success(&o);
    assert_eq!(read(&probe_target), "someone else's data\n", "the write probe went through its link");
    assert_eq!(read(&partial_target), "someone else's data\n", "a temporary file went through its link");
    assert!(!dangling.exists(), "the journal was created through a dangling link, outside the folder");

    // Every file left names students or holds faces: the owner's only, whatever the umask.
    let files: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 5, "{files:?}");
    for file in &files {
        assert!(!file.is_symlink(), "{} is a link", file.display());
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&probe_target), 0o644, "the other file's mode untouched");

    // A journal linked to an existing file, then --force: the link is replaced, not followed.
    let journal_target = victim(&elsewhere, "journal-target");
    symlink(&journal_target, out.join("attendance.journal")).unwrap();
    let force = [&quick[..], &["--force"]].concat();
    assert_success(&run(with_umask_000(rollcall_command()), &attend_args(&lecture_video(), &roster, &out, &force)));
    assert_eq!(read(&journal_target), "someone else's data\n", "--force wrote through the journal's link");
    assert_eq!(mode(&journal_target), 0o644);

    // The semester table names students too.
    let semester = tmp.path().join("semester.xlsx");
    let o = run(
        with_umask_000(rollcall_command()),
        &["semester", out.join("attendance.h5").to_str().unwrap(), "-o", semester.to_str().unwrap()],
    );
    assert_success(&o);
    for file in [semester.clone(), semester.with_extension("csv")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // Resuming from a journal that is a link is refused in one line, before anything is written.
    symlink(&journal_target, out.join("attendance.journal")).unwrap();
    let resume = [&quick[..], &["--resume"]].concat();
    let o = run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &resume));
    assert_refused(&o, "attendance.journal is a symbolic link");
    assert_eq!(read(&journal_target), "someone else's data\n");
}

#[test]
fn folders_rollcall_creates_are_never_world_writable() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = tmp.path().join("new/rosters/roster.h5");
    let o = run(
        with_umask_000(rollcall_command()),
        &["enroll", lecture_photos().to_str().unwrap(), "-o", roster.to_str().unwrap()],
    );
    assert_success(&o);
    let out = tmp.path().join("runs/week1");
    let o = run(
        with_umask_000(rollcall_command()),
        &attend_args(&lecture_video(), &roster, &out, &["-q", "--every", "50"]),
    );
    assert_success(&o);
    for folder in ["new", "new/rosters", "runs", "runs/week1"] {
        assert_eq!(mode(&tmp.path().join(folder)), 0o755, "{folder}");
    }
    assert_eq!(mode(&roster), 0o600);
}
