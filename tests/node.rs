//! A node's slowdown curve: `calibrate-node` measures it here (1 and 2 busy cores), and
//! `simulate` stretches frame costs by it (the model, checked with a synthetic curve).

mod common;

use std::path::Path;

use common::*;

/// A 1-rank run of 50 one-frame units: enough units for 16 simulated ranks.
fn one_rank_run(dir: &Path) -> std::path::PathBuf {
    let roster = enrol_lecture(dir);
    let out = dir.join("one");
    assert_success(&run(
        rollcall_command(),
        &attend_args(&lecture_video(), &roster, &out, &["--every", "6", "--chunk", "1", "-q"]),
    ));
    out.join("attendance.h5")
}

/// The 16-rank dynamic makespan `simulate` predicts for a 10-minute lecture, and its stdout.
/// Ten minutes of the profile are ~67 units a rank, so that the makespan moves with the curve
/// and not by a whole unit landing elsewhere (the run's 50 units on 16 ranks are ~3 a rank, and
/// a curve that changes the order could add a quarter to the makespan on its own).
fn predicted_16(run_h5: &Path, out: &Path, extra: &[&str]) -> (f64, String) {
    let mut args = vec!["simulate", run_h5.to_str().unwrap(), "-o", out.to_str().unwrap(), "--schedule", "dynamic"];
    args.extend(["--ranks", "16", "--minutes", "10"]);
    args.extend(extra);
    let o = run(rollcall_command(), &args);
    assert_success(&o);
    let csv = read(&out.join("simulation.csv"));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let makespan = row[header.iter().position(|h| *h == "makespan_s").unwrap()].parse().unwrap();
    (makespan, String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn calibrate_node_measures_this_machine_and_simulate_applies_a_curve() {
    let tmp = tempfile::tempdir().unwrap();
    let run_h5 = one_rank_run(tmp.path());

    // calibrate-node on this 2-core machine: 1 and 2 busy cores.
    let node = tmp.path().join("node.yaml");
    let o = run(
        rollcall_command(),
        &[
            "calibrate-node",
            run_h5.to_str().unwrap(),
            "-o",
            node.to_str().unwrap(),
            "--max-ranks",
            "2",
            "--units",
            "2",
            "--repeat",
            "2",
        ],
    );
    assert_success(&o);
    let yaml: serde_norway::Value = serde_norway::from_str(&read(&node)).unwrap();
    let factor =
        |k: usize| yaml["slowdown"][k].as_f64().unwrap_or_else(|| panic!("slowdown[{k}] in:\n{}", read(&node)));
    assert_eq!(factor(1), 1.0, "one worker is the reference");
    assert!((0.5..3.0).contains(&factor(2)), "two busy cores: {}", factor(2));
    assert!(yaml["spread"][2].as_f64().is_some_and(|s| s >= 0.0));
    assert!(yaml["ms_per_frame"][1].as_f64().is_some_and(|ms| ms > 0.0));
    assert_eq!(yaml["host"].as_str(), Some(rollcall::about::host_name().as_str()));
    assert_eq!(yaml["cpu"].as_str(), Some(rollcall::about::cpu_model().as_str()));
    assert!(rollcall::about::cpu_model() != "unknown", "this machine names its CPU");

    // The model: +30 % at 16 busy cores stretches the 16-rank makespan by about that much.
    let synthetic = tmp.path().join("sixteen.yaml");
    std::fs::write(&synthetic, "slowdown: {1: 1.0, 16: 1.30}\n").unwrap();
    let (plain, said) = predicted_16(&run_h5, &tmp.path().join("plain"), &[]);
    assert!(said.contains("node contention NOT included"), "{said}");
    let (crowded, said) = predicted_16(&run_h5, &tmp.path().join("crowded"), &["--node", synthetic.to_str().unwrap()]);
    assert!(said.contains("node contention included: slowdown curve"), "{said}");
    let ratio = crowded / plain;
    assert!(
        (1.15..=1.40).contains(&ratio),
        "16 ranks: {crowded:.2} s with the curve, {plain:.2} s without ({ratio:.2}x)"
    );
    // Spread over 4 nodes of 4 ranks, each node has 4 busy cores: +6 % at most.
    let (spread, _) = predicted_16(
        &run_h5,
        &tmp.path().join("spread"),
        &["--node", synthetic.to_str().unwrap(), "--ranks-per-node", "4"],
    );
    assert!(spread / plain < 1.08, "4 ranks a node: {spread:.2} s against {plain:.2} s");

    // Bad curves: one line each.
    std::fs::write(tmp.path().join("bad.yaml"), "slowdown: {0: 1.0}\n").unwrap();
    for (file, message) in [("missing.yaml", "missing.yaml does not exist"), ("bad.yaml", "counts start at 1")] {
        let path = tmp.path().join(file);
        let o = run(
            rollcall_command(),
            &[
                "simulate",
                run_h5.to_str().unwrap(),
                "-o",
                tmp.path().join("x").to_str().unwrap(),
                "--node",
                path.to_str().unwrap(),
            ],
        );
        assert_refused(&o, message);
    }
}

/// `calibrate-node` refuses in one line, before measuring and writing nothing: a missing run,
/// `--max-ranks 0`, an existing file without `--force`, a folder it cannot write.
#[test]
fn calibrate_node_refuses_bad_input_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.h5");
    let existing = tmp.path().join("node.yaml");
    std::fs::write(&existing, "slowdown: {1: 1.0}\n").unwrap();
    let blocked = tmp.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let unwritable = blocked.join("node.yaml");
    let new = tmp.path().join("new.yaml");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let cases: [(Vec<String>, String); 4] = [
        (vec![path(&missing), "-o".into(), path(&new)], format!("cannot read result file {}", missing.display())),
        (
            vec![path(&missing), "-o".into(), path(&existing)],
            format!("{} already exists: pass --force to overwrite it", existing.display()),
        ),
        (vec![path(&missing), "-o".into(), path(&unwritable)], "cannot create the folder".to_owned()),
        (
            vec![path(&missing), "-o".into(), path(&new), "--max-ranks".into(), "0".into()],
            "--max-ranks must be at least 1".to_owned(),
        ),
    ];
    for (args, message) in cases {
        assert_refused(&run(rollcall_command(), &[vec!["calibrate-node".to_owned()], args.clone()].concat()), &message);
    }
    assert!(!new.exists(), "nothing written");
    assert_eq!(read(&existing), "slowdown: {1: 1.0}\n", "the existing file is left alone");
}
