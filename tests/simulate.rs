//! `rollcall simulate` calibrated on this machine: the 2-rank runs (even and with a slowed
//! rank) predicted from a 1-rank run's timeline, against the same runs measured.
//!
//! Alone in its test binary, and run last and alone by `make test` (its TIMED list), so that no
//! other test's ranks (nor the Slurm flow's jobs) share the cores while it measures.

mod common;

use std::path::Path;

use common::*;

/// The measured makespan: common start to the last unit done.
fn measured_makespan(out: &Path) -> f64 {
    let run = rollcall::report::hdf5::read(&out.join("attendance.h5")).unwrap();
    run.units.iter().map(|u| u.end_s).fold(0.0, f64::max)
}

/// The prediction of `rollcall simulate` for `ranks` ranks of `schedule`.
fn predicted_makespan(run: &Path, sim: &Path, schedule: &str, ranks: usize, slow: Option<&str>) -> f64 {
    let mut args = vec!["simulate", run.to_str().unwrap(), "-o", sim.to_str().unwrap(), "--schedule", schedule];
    let ranks = ranks.to_string();
    args.extend(["--ranks", &ranks]);
    if let Some(slow) = slow {
        args.extend(["--slow", slow]);
    }
    let o = run_cmd(&args);
    let csv = read(&sim.join("simulation.csv"));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row: Vec<&str> = lines.next().unwrap_or_else(|| panic!("no rows:\n{csv}\n{}", stderr(&o))).split(',').collect();
    assert_eq!(row[column("ranks")], ranks);
    row[column("makespan_s")].parse().unwrap()
}

fn run_cmd(args: &[&str]) -> std::process::Output {
    let o = run(rollcall_command(), args);
    assert_success(&o);
    o
}

#[test]
fn predicts_the_measured_two_rank_runs_from_a_one_rank_run() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let video = lecture_video();
    let sampling = ["--every", "2", "--chunk", "4"];
    let one = tmp.path().join("one");
    assert_success(&run(rollcall_command(), &attend_args(&video, &roster, &one, &sampling)));
    let one_h5 = one.join("attendance.h5");
    let slow_config = tmp.path().join("slow.yaml");
    std::fs::write(&slow_config, "bench:\n  slow_ranks: {1: 2.0}\n").unwrap();

    let mut report = String::new();
    let mut worst: f64 = 0.0;
    for schedule in ["block", "dynamic"] {
        for slow in [false, true] {
            let case = format!("{schedule}{}", if slow { "-slow" } else { "" });
            let out = tmp.path().join(&case);
            let mut args = attend_args(&video, &roster, &out, &sampling);
            args.extend(["--schedule", schedule].map(String::from));
            if slow {
                args.extend(["--config".to_owned(), slow_config.to_str().unwrap().to_owned()]);
            }
            assert_success(&run(mpirun_command(2), &args));
            let measured = measured_makespan(&out);
            let sim = tmp.path().join(format!("sim-{case}"));
            let predicted = predicted_makespan(&one_h5, &sim, schedule, 2, slow.then_some("1:2"));
            let error = (predicted - measured).abs() / measured;
            worst = worst.max(error);
            report +=
                &format!("{case}: measured {measured:.2} s, predicted {predicted:.2} s, error {:.0}%\n", error * 100.0);
        }
    }
    // The 1-rank run predicts itself closely (its own costs, no messages).
    let itself = predicted_makespan(&one_h5, &tmp.path().join("sim-one"), "block", 1, None);
    let measured = measured_makespan(&one);
    report += &format!("1 rank: measured {measured:.2} s, predicted {itself:.2} s\n");
    eprintln!("{report}");
    assert!((itself - measured).abs() / measured < 0.05, "{report}");
    // Generous: the 2-rank runs share this machine's two cores with the OS and MPI.
    assert!(worst < 0.25, "prediction error {:.0}% > 25%:\n{report}", worst * 100.0);
}
