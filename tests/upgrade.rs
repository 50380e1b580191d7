//! A semester survives an upgrade: result files and a journal written by earlier commits of
//! this repository (tests/fixtures/upgrade; its README says how each was made) are read by
//! every reader, or refused in one line that names both versions.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The result fixtures and the format each was written in.
const RESULTS: [(&str, u32); 3] = [("format1-85fecf9.h5", 1), ("format2-1d86aa9.h5", 2), ("format2-dd52a8b.h5", 2)];

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/upgrade").join(name)
}

/// `student_id,presence,status` of every row of `/attendance`, as h5py reads the file.
fn stored_attendance(h5: &Path) -> Vec<String> {
    let script = "import sys, h5py\n\
                  for r in h5py.File(sys.argv[1])['attendance'][:]:\n\
                  \x20   print(f\"{r['student_id'].decode()},{r['presence']:.4f},{r['status'].decode()}\")";
    let o = Command::new(setup_file(".venv/bin/python")).args(["-c", script]).arg(h5).output().unwrap();
    assert_success(&o);
    String::from_utf8(o.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// The same three columns of an attendance.csv.
fn csv_attendance(csv: &Path) -> Vec<String> {
    read(csv)
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{}", f[0], f[6], f[9])
        })
        .collect()
}

#[test]
fn results_of_every_earlier_format_are_read_by_report_semester_and_simulate() {
    let dir = tempfile::tempdir().unwrap();
    // Today's result beside them, for the semester.
    let roster = enrol_lecture(dir.path());
    let today = dir.path().join("today");
    let args =
        attend_args(&lecture_video(), &roster, &today, &["--date", "2026-12-04", "--title", "Fixture lecture", "-q"]);
    assert_success(&run(rollcall_command(), &args));
    let today_h5 = today.join("attendance.h5");
    assert!(h5_attribute(&today, "/format_version").contains("(0): 3"), "today's result carries its format");

    for (name, format) in RESULTS {
        let h5 = fixture(name);
        let stored = stored_attendance(&h5);
        assert_eq!(stored.len(), 4, "{name}: the fixture's roster");

        let rebuilt = dir.path().join(format!("report-{name}"));
        let o = run(rollcall_command(), &["report".as_ref(), h5.as_os_str(), "-o".as_ref(), rebuilt.as_os_str()]);
        assert_success(&o);
        assert_eq!(csv_attendance(&rebuilt.join("attendance.csv")), stored, "{name}: report keeps its attendance");
        let html = read(&rebuilt.join("report.html"));
        assert!(html.contains("<table id=\"attendance\">") && !html.contains("NaN"), "{name}: the page renders");
        assert!(html.contains("reader</th><td>opencv<"), "{name}: was read with OpenCV's reader");
        if format == 1 {
            assert!(
                read(&rebuilt.join("detections.csv")).lines().skip(1).all(|l| l.ends_with(',')),
                "no tracks in format 1"
            );
        }

        let sim = dir.path().join(format!("sim-{name}"));
        let o = run(rollcall_command(), &["simulate".as_ref(), h5.as_os_str(), "-o".as_ref(), sim.as_os_str()]);
        assert_success(&o);
        assert!(read(&sim.join("simulation.csv")).lines().count() > 2, "{name}: simulate predicts from its timeline");
    }

    // One semester of all four: each lecture's column is the presence its own file holds.
    let semester = dir.path().join("semester.xlsx");
    let mut args: Vec<PathBuf> = RESULTS.iter().map(|(name, _)| fixture(name)).collect();
    args.push(today_h5.clone());
    let o = run(rollcall_command(), &[&["semester".into(), "-o".into(), semester.clone()][..], &args].concat());
    assert_success(&o);
    let table = read(&semester.with_extension("csv"));
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(|l| l.split(',').collect()).collect();
    for (column, file) in args.iter().enumerate() {
        let presence: Vec<String> =
            stored_attendance(file).iter().map(|r| r.split(',').nth(1).unwrap().to_owned()).collect();
        let in_table: Vec<&str> = rows.iter().map(|r| r[2 + column]).collect();
        assert_eq!(in_table, presence, "semester column {column} ({})", file.display());
    }
}

#[test]
fn a_result_of_a_newer_format_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("attendance.h5");
    std::fs::copy(fixture("format2-dd52a8b.h5"), &newer).unwrap();
    let script = "import sys, h5py, numpy\nh5py.File(sys.argv[1], 'a').attrs['format_version'] = numpy.uint32(99)";
    assert_success(&Command::new(setup_file(".venv/bin/python")).args(["-c", script]).arg(&newer).output().unwrap());
    for command in ["report", "simulate"] {
        let out = dir.path().join(command);
        let o = run(rollcall_command(), &[command.as_ref(), newer.as_os_str(), "-o".as_ref(), out.as_os_str()]);
        assert_refused(&o, "was written by a newer rollcall (0.1.0, result format 99); this rollcall (0.1.0) reads result formats 1 to 3");
        assert!(!out.exists(), "{command} wrote nothing");
    }
}

/// Replaces `from` with `to` in the settings a result recorded (`/settings`, `config_yaml`).
fn edit_recorded_settings(h5: &Path, from: &str, to: &str) {
    let script = "import sys, h5py\n\
                  s = h5py.File(sys.argv[1], 'a')['settings']\n\
                  text = s.attrs['config_yaml']\n\
                  text = text.decode() if isinstance(text, bytes) else text\n\
                  assert sys.argv[2] in text\n\
                  s.attrs['config_yaml'] = text.replace(sys.argv[2], sys.argv[3])";
    let o =
        Command::new(setup_file(".venv/bin/python")).args(["-c", script]).arg(h5).args([from, to]).output().unwrap();
    assert_success(&o);
}

/// Stored settings are what ran: a value today's ranges refuse (as a later release narrowing
/// a range would) is read as it is, and settings that cannot be read at all are named as the
/// cause, not as "not a rollcall result".
#[test]
fn recorded_settings_are_read_as_they_ran_and_unreadable_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let stored = dir.path().join("attendance.h5");
    std::fs::copy(fixture("format2-dd52a8b.h5"), &stored).unwrap();
    edit_recorded_settings(&stored, "tolerance: 0.6", "tolerance: 1.5");
    let out = dir.path().join("rebuilt");
    assert_success(&run(rollcall_command(), &["report".as_ref(), stored.as_os_str(), "-o".as_ref(), out.as_os_str()]));
    let html = read(&out.join("report.html"));
    assert!(html.contains("tolerance") && html.contains("1.5"), "the settings table shows what ran");

    edit_recorded_settings(&stored, "tolerance: 1.5", "tolerance: [");
    let out = dir.path().join("unreadable");
    let o = run(rollcall_command(), &["report".as_ref(), stored.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    let err = assert_refused(
        &o,
        &format!(
            "{} cannot be read as a rollcall result: its settings (/settings, attribute config_yaml): ",
            stored.display()
        ),
    );
    assert!(!err.contains("not a rollcall result"), "{err}");
}

#[test]
fn a_journal_of_an_earlier_version_asks_for_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let journal = out.join("attendance.journal");
    std::fs::copy(fixture("journal-dd52a8b"), &journal).unwrap();
    let o = run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["--resume"]));
    assert_refused(&o, "is from an earlier rollcall (written before journals had versions, journal format 1;");
    assert!(stderr(&o).contains("the run must start again (pass --force instead of --resume)"));
    assert_eq!(std::fs::read(&journal).unwrap(), std::fs::read(fixture("journal-dd52a8b")).unwrap(), "left as it was");
    // What the message says to do works.
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["--force", "-q"])));
    assert!(out.join("attendance.h5").exists() && !journal.exists());
}
