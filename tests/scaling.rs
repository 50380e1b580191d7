//! `rollcall scaling` over repetitions: mean, spread and range per (schedule, ranks), the
//! exports, and runs that are not one study refused.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn attend(video: &Path, roster: &Path, out: &Path, ranks: usize) -> PathBuf {
    let args = attend_args(video, roster, out, &["--every", "30", "-q"]);
    let command = if ranks == 1 { rollcall_command() } else { mpirun_command(ranks) };
    assert_success(&run(command, &args));
    out.join("attendance.h5")
}

#[test]
fn repetitions_give_a_spread_and_other_videos_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let mut runs = Vec::new();
    for rep in 0..3 {
        for ranks in [1, 2] {
            runs.push(attend(&lecture_video(), &roster, &tmp.path().join(format!("r{ranks}-{rep}")), ranks));
        }
    }
    let xlsx = tmp.path().join("study/scaling.xlsx");
    let mut args = vec!["scaling".to_owned()];
    args.extend(runs.iter().map(|p| p.to_str().unwrap().to_owned()));
    args.extend(["-o".to_owned(), xlsx.to_str().unwrap().to_owned()]);
    let o = run(rollcall_command(), &args);
    assert_success(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| schedule | ranks | threads | runs |"));

    let csv = read(&xlsx.with_extension("csv"));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    assert_eq!(rows.len(), 2, "one row per (schedule, ranks):\n{csv}");
    for (row, ranks) in rows.iter().zip(["1", "2"]) {
        assert_eq!((row[col("schedule")], row[col("ranks")], row[col("runs")]), ("block", ranks, "3"));
        let number = |name: &str| row[col(name)].parse::<f64>().unwrap();
        assert!(number("makespan_s_sd") > 0.0, "three real runs spread:\n{csv}");
        assert!(
            number("makespan_s_min") <= number("makespan_s_mean")
                && number("makespan_s_mean") <= number("makespan_s_max")
        );
    }
    assert!(rows[1][col("serial_fraction")].parse::<f64>().is_ok(), "Karp-Flatt on 2 ranks:\n{csv}");
    assert!(rows[0][col("serial_fraction")].is_empty(), "none on 1 rank");
    let json: serde_json::Value = serde_json::from_str(&read(&xlsx.with_extension("json"))).unwrap();
    assert!(json["results"][1]["speedup"]["mean"].as_f64().is_some_and(|s| s > 0.0));
    assert!(json["results"][1]["makespan_s"]["sd"].as_f64().unwrap() > 0.0);
    let md = read(&xlsx.with_extension("md"));
    assert!(md.lines().nth(3).is_some_and(|l| l.starts_with("| block | 2 | 1 | 3 |") && l.contains(" ± ")), "{md}");

    // A run of another recording is not a repetition of this study.
    let other = attend(&setup_file("data/videos/Megamind.avi"), &roster, &tmp.path().join("other"), 1);
    let o = run(
        rollcall_command(),
        &[
            "scaling",
            runs[0].to_str().unwrap(),
            other.to_str().unwrap(),
            "-o",
            tmp.path().join("mixed.xlsx").to_str().unwrap(),
        ],
    );
    let err = assert_refused(&o, "differ in video");
    assert!(err.contains("Megamind.avi"), "{err}");
    assert!(!tmp.path().join("mixed.xlsx").exists());
}
