//! What a person meets: help with examples, a version naming the commit, progress in a batch
//! log, and the HTML report as Chromium renders it.

mod common;

use std::process::Command;

use common::*;

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in ["enroll", "attend", "report", "semester", "scaling", "lectures", "synth", "eval"] {
        let o = run(rollcall_command(), &[sub, "--help"]);
        assert_success(&o);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(help.contains("Example"), "`rollcall {sub} --help` has no example:\n{help}");
    }
    let o = run(rollcall_command(), &["--version"]);
    let version = String::from_utf8_lossy(&o.stdout);
    assert!(version.starts_with(&format!("rollcall {} (commit ", env!("CARGO_PKG_VERSION"))), "{version}");
}

/// Under sbatch stderr is a file: progress must come as plain lines with a rate and an ETA,
/// and the run must end with the summary on stdout.
#[test]
fn a_batch_log_shows_progress_with_an_eta() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let video = lecture_video();
    let o = run(mpirun_command(2), &attend_args(&video, &roster, &out, &["--every", "5"]));
    assert_success(&o);
    let log = stderr(&o);
    let progress: Vec<&str> = log.lines().filter(|l| l.contains("progress: ")).collect();
    assert!(progress.len() >= 3, "too few progress lines:\n{log}");
    for line in &progress {
        assert!(line.contains("rank 0 progress: ") && line.contains(" frames/s, ETA "), "{line}");
    }
    assert!(progress.last().unwrap().contains("60/60 frames (100%)"), "{log}");
    assert!(!log.lines().any(|l| l.contains("rank 1 ")), "worker ranks stay quiet when all is well:\n{log}");
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("2 present / 2 absent") && summary.contains("report.html"), "{summary}");

    // -q: no progress, no summary.
    let o = run(mpirun_command(2), &attend_args(&video, &roster, &out, &["--every", "30", "--force", "-q"]));
    assert_success(&o);
    assert!(o.stdout.is_empty() && !stderr(&o).contains("progress"), "{}", stderr(&o));
}

/// A damaged recording (the tail of the file cut off) is not an error: the frames that cannot
/// be decoded are counted, warned about, summarised and recorded.
#[test]
fn undecodable_frames_are_warned_about_and_summarised() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let bytes = std::fs::read(lecture_video()).unwrap();
    let cut = tmp.path().join("cut.avi");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let out = tmp.path().join("out");
    let o = run(
        mpirun_command(2),
        &["attend", cut.to_str().unwrap(), "--roster", roster.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    assert_success(&o);
    let log = stderr(&o);
    assert!(log.contains("WARN frame 290 could not be decoded"), "{log}");
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("warning(s) during the run:") && summary.contains("... and"), "{summary}");
    let failed: usize = summary.split(" warning(s)").next().unwrap().lines().last().unwrap().trim().parse().unwrap();
    let attendance = read(&out.join("attendance.csv"));
    let sampled: usize = attendance.lines().nth(1).unwrap().split(',').nth(2).unwrap().parse().unwrap();
    assert_eq!(sampled + failed, 30, "every sampled frame is either analysed or reported");
}

/// report.html in headless Chromium: the DOM holds every student with the right status, and a
/// screenshot is taken (the README's picture comes from the same page of the demo run).
#[test]
fn the_html_report_renders_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let video = lecture_video();
    assert_success(&run(
        mpirun_command(2),
        &attend_args(&video, &roster, &out, &["--schedule", "dynamic", "--title", "Week 1"]),
    ));
    let page = format!("file://{}", out.join("report.html").display());
    let chromium = |extra: &[&str]| {
        let profile = tempfile::tempdir().unwrap();
        let o = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1100,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&page)
            .output()
            .expect("chromium is installed by make setup");
        assert_success(&o);
        o
    };
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"]).stdout).into_owned();
    for (student, status) in [("ana", "Absent"), ("biden", "Absent"), ("hanks", "Present"), ("obama", "Present")] {
        let row = dom
            .split(&format!("<tr data-student=\"{student}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no row for {student}"));
        let row = row.split("</tr>").next().unwrap();
        assert!(row.contains(&format!("class=\"status {status}\">{status}<")), "{student}: {row}");
    }
    assert!(
        dom.contains("<b id=\"present\">2</b>") && dom.contains("<svg id=\"timeline\""),
        "summary cards and timeline"
    );
    assert!(!dom.contains("http://") && !dom.contains("https://"), "the page fetches nothing");
    let shot = tmp.path().join("report.png");
    chromium(&[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "screenshot of {} bytes", png.len());
}
