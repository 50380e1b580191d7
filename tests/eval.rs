//! `rollcall eval` against the truth `rollcall synth` writes, and its refusals of bad input.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A finished 1-rank run of the built-in lecture in `dir/run`.
fn lecture_run(dir: &Path) -> PathBuf {
    let roster = enrol_lecture(dir);
    let out = dir.join("run");
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["-q"])));
    out
}

fn eval(run_dir: &Path, truth: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["eval", run_dir.to_str().unwrap(), "--truth", truth.to_str().unwrap()];
    args.extend(extra);
    run(rollcall_command(), &args)
}

#[test]
fn the_lecture_is_scored_against_its_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let out = lecture_run(tmp.path());
    let truth = setup_file("data/lecture/truth.csv");
    let csv = tmp.path().join("scores.csv");
    let o = eval(&out, &truth, &["--csv", csv.to_str().unwrap()]);
    assert_success(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.trim_end().lines().last(), Some("students right: 4/4"), "{stdout}");
    // Every visible face of the lecture is 100 px wide and found; every found face is named right.
    assert!(stdout.contains("detection recall >= 60 px"), "{stdout}");
    let scores = read(&csv);
    assert!(scores.starts_with("metric,value\n"), "{scores}");
    assert!(scores.contains("identity precision,"), "{scores}");
    let recall_line = scores.lines().find(|l| l.starts_with("detection recall (all widths)")).unwrap();
    let (found, visible) = fraction(recall_line);
    assert!(visible > 0 && found == visible, "{recall_line}");
    let precision = scores.lines().find(|l| l.starts_with("identity precision")).unwrap();
    let (right, named) = fraction(precision);
    assert!(named > 0 && right == named, "{precision}");
}

/// `K/N` at the start of a `metric,value` row's value.
fn fraction(row: &str) -> (usize, usize) {
    let value = row.split_once(',').unwrap().1.trim_matches('"');
    let (k, rest) = value.split_once('/').unwrap();
    (k.parse().unwrap(), rest.split_whitespace().next().unwrap().parse().unwrap())
}

#[test]
fn bad_input_to_eval_gets_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let out = lecture_run(t);
    let good = read(&setup_file("data/lecture/truth.csv"));
    std::fs::write(t.join("header.csv"), good.replacen("student_id,status", "id,status", 1)).unwrap();
    std::fs::write(t.join("stranger.csv"), format!("{good}zed,Present,0,30\n")).unwrap();
    std::fs::write(t.join("status.csv"), good.replacen("Present", "Here", 1)).unwrap();
    std::fs::write(t.join("vis.csv"), "frame,person\n0,obama\n").unwrap();
    std::fs::write(t.join("backwards.csv"), good.replacen("hanks,Present,5,30", "hanks,Present,30,5", 1)).unwrap();
    std::fs::write(t.join("nan.csv"), good.replacen("hanks,Present,5,30", "hanks,Present,NaN,30", 1)).unwrap();
    std::fs::write(t.join("timeless.csv"), good.replacen("hanks,Present,5,30", "hanks,Present,,", 1)).unwrap();
    std::fs::create_dir(t.join("empty-run")).unwrap();
    let truth = setup_file("data/lecture/truth.csv");
    let cases: Vec<(PathBuf, PathBuf, Vec<String>, String)> = vec![
        (
            out.clone(),
            t.join("missing.csv"),
            vec![],
            format!("cannot read the truth file {}", t.join("missing.csv").display()),
        ),
        (
            out.clone(),
            t.join("header.csv"),
            vec![],
            "the header must be exactly `student_id,status,arrive_s,leave_s`".into(),
        ),
        (out.clone(), t.join("stranger.csv"), vec![], "truth student \"zed\" is not on the run's roster".into()),
        (out.clone(), t.join("status.csv"), vec![], "status \"Here\" is neither Present nor Absent".into()),
        (
            out.clone(),
            t.join("backwards.csv"),
            vec![],
            "arrive_s 30 and leave_s 5 must be seconds from the start".into(),
        ),
        (out.clone(), t.join("nan.csv"), vec![], "arrive_s NaN and leave_s 30 must be seconds from the start".into()),
        (out.clone(), t.join("timeless.csv"), vec![], "\"hanks\" is Present but has no arrive_s and leave_s".into()),
        (
            t.join("empty-run"),
            truth.clone(),
            vec![],
            "has no attendance.h5: not the output folder of a finished rollcall run".into(),
        ),
        (
            out.clone(),
            truth.clone(),
            vec!["--visibility".into(), t.join("vis.csv").display().to_string()],
            "visibility file".into(),
        ),
    ];
    for (run_dir, truth, extra, expected) in cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let o = eval(&run_dir, &truth, &extra);
        assert_refused(&o, &expected);
    }
}
