//! `rollcall probe`: a look at a recording before a job, as a table and as JSON.

mod common;

use common::*;

/// On the short hall (720p, faces 34-80 px): every trial is reported, the faces that match the
/// roster are counted, and the recommendation comes with a predicted wall time. One frame: the
/// CNN trial alone takes ~16 s a 720p frame, and one frame checks all of it.
#[test]
fn probe_on_the_hall_recommends_settings_and_its_json_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let hall = setup_file("data/hall/hall.mp4");
    let o = run(
        rollcall_command(),
        &[
            "probe",
            hall.to_str().unwrap(),
            "--roster",
            roster.to_str().unwrap(),
            "--frames",
            "1",
            "--ranks",
            "4",
            "--json",
        ],
    );
    assert_success(&o);
    let probe: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json prints JSON");
    let trials = probe["trials"].as_array().unwrap();
    let tried: Vec<(String, u64)> =
        trials.iter().map(|t| (t["detector"].as_str().unwrap().to_owned(), t["min_face"].as_u64().unwrap())).collect();
    assert_eq!(tried, [("hog".into(), 40), ("hog".into(), 20), ("cnn".into(), 40), ("yunet".into(), 20)]);
    let hog = &trials[0];
    assert!(hog["faces"].as_u64().unwrap() > 0, "{probe}");
    assert!(hog["matched"].as_u64().unwrap() <= hog["faces"].as_u64().unwrap());
    let faces_in_bins: u64 = probe["widths"].as_array().unwrap().iter().map(|b| b["faces"].as_u64().unwrap()).sum();
    assert_eq!(faces_in_bins, trials.iter().map(|t| t["faces"].as_u64().unwrap()).max().unwrap());
    let advice = &probe["recommendation"];
    assert_eq!(advice["ranks"], 4);
    assert!(advice["predicted_wall_s"].as_f64().unwrap() > 0.0, "{advice}");
    // Its cost per minute of recording: at least what the chosen trial's frames cost at its rate.
    let chosen =
        trials.iter().find(|t| t["detector"] == advice["detector"] && t["min_face"] == advice["min_face"]).unwrap();
    let analysing = 60.0 * advice["fps"].as_f64().unwrap() * chosen["ms_per_frame"].as_f64().unwrap() / 1000.0;
    assert!(advice["core_s_per_lecture_minute"].as_f64().unwrap() >= analysing * 0.99, "{advice} {chosen}");
    assert!(["hog", "cnn", "yunet"].contains(&advice["detector"].as_str().unwrap()));

    // The table, on the small lecture (quicker): one line of advice at the end.
    let o = run(rollcall_command(), &["probe", lecture_video().to_str().unwrap(), "--frames", "2"]);
    assert_success(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("recommended: --detector "), "{text}");
    assert!(last.contains("predicted wall time on 1 rank(s):"), "{text}");
    assert!(last.contains(" core-seconds per lecture-minute"), "{text}");
    assert!(last.contains("node contention NOT included"), "says what the prediction leaves out: {text}");
}

#[test]
fn probe_refuses_what_is_not_a_video_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("notes.mp4");
    std::fs::write(&text, "not a video\n").unwrap();
    for (args, message) in [
        (vec!["probe", text.to_str().unwrap()], "cannot be opened: not a video file".to_owned()),
        (vec!["probe", "/nonexistent.mp4"], "video /nonexistent.mp4 does not exist".to_owned()),
        (vec!["probe", lecture_video().to_str().unwrap(), "--ranks", "0"], "--ranks must be at least 1".to_owned()),
    ] {
        assert_refused(&run(rollcall_command(), &args), &message);
    }
}
