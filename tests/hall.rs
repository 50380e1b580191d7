//! The short lecture hall (data/hall: 720p H.264, faces 26–80 px, students looking down, late,
//! leaving early, leaving and coming back, never coming, an unenrolled attendee): at default
//! settings every student's status is the truth's, whatever the ranks, schedule and threads,
//! and the detections (tracks included) are identical, with the encodings of faces followed in
//! their seats saved or not.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

/// student_id → status, from a CSV whose first column is the id and which has a `status` column.
fn statuses(csv: &str) -> Vec<(String, String)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let status = header.iter().position(|&h| h == "status").unwrap();
    let mut rows: Vec<(String, String)> = lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_owned(), c[status].to_owned())
        })
        .collect();
    rows.sort();
    rows
}

fn eval_last_line(out: &Path) -> String {
    let truth = setup_file("data/hall/truth.csv");
    let o = run(rollcall_command(), &["eval", out.to_str().unwrap(), "--truth", truth.to_str().unwrap()]);
    assert_success(&o);
    String::from_utf8_lossy(&o.stdout).trim_end().lines().last().unwrap().to_owned()
}

#[test]
fn the_short_hall_is_right_for_any_ranks_schedule_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let truth = statuses(&read(&setup_file("data/hall/truth.csv")));
    let students = truth.len();

    let single = tmp.path().join("single");
    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &single, &["-q"])));
    assert_eq!(statuses(&read(&single.join("attendance.csv"))), truth);
    assert_eq!(eval_last_line(&single), format!("students right: {students}/{students}"));
    let at_defaults = detections_without_rank(&single);
    let tracks: std::collections::BTreeSet<&str> =
        at_defaults.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    assert!(tracks.len() >= 6 && !tracks.contains(""), "every face has a track: {tracks:?}");

    // Ranks, schedules and threads on one frame in four (15 sampled frames, 4 units: enough to
    // spread over 3 ranks), so that the seven runs cost what two at defaults would; the
    // reference at that rate, without a launcher, is right too.
    let sparse = ["-q", "--fps", "0.25"];
    let sparse_single = tmp.path().join("sparse");
    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &sparse_single, &sparse)));
    assert_eq!(statuses(&read(&sparse_single.join("attendance.csv"))), truth, "one frame in four");
    let reference = detections_without_rank(&sparse_single);
    // OpenCV's reader and libav's (which skips what nothing refers to and seeks to the
    // keyframe before a sample) find the same faces in this H.264 with B-frames.
    let opencv = tmp.path().join("opencv");
    let args = attend_args(&hall_video(), &roster, &opencv, &[&sparse[..], &["--reader", "opencv"]].concat());
    assert_success(&run(rollcall_command(), &args));
    assert_eq!(detections_without_rank(&opencv), reference, "OpenCV's reader");
    // The matrix below runs with encodings saved (a face followed in its seat takes the
    // identity of the frame before's), so its identical detections say that saving them does
    // not depend on ranks, schedule or threads; encoding every face gets the same statuses.
    let sum = |out: &Path, field: &str| ranks_field(out, field).iter().sum::<f64>();
    let saved = sum(&sparse_single, "encodings_saved");
    assert!(saved > 0.0, "faces followed in their seats are not encoded again");
    assert_eq!(sum(&sparse_single, "encodings") + saved, sum(&sparse_single, "faces"));
    let every_face = tmp.path().join("every-face");
    let args = attend_args(&hall_video(), &roster, &every_face, &[&sparse[..], &["--reencode-every", "1"]].concat());
    assert_success(&run(rollcall_command(), &args));
    assert_eq!(statuses(&read(&every_face.join("attendance.csv"))), truth, "every face encoded");
    assert_eq!(sum(&every_face, "encodings_saved"), 0.0);
    assert_eq!(sum(&every_face, "encodings"), sum(&sparse_single, "faces"), "the same faces found");

    let mut runs: Vec<(String, std::process::Command, Vec<&str>)> = Vec::new();
    for ranks in 1..=3 {
        for schedule in ["block", "dynamic"] {
            runs.push((format!("{ranks} ranks {schedule}"), mpirun_command(ranks), vec!["--schedule", schedule]));
        }
    }
    runs.push(("1 rank x 2 threads".into(), rollcall_command(), vec!["--threads", "2"]));
    for (case, command, extra) in runs {
        let out = tmp.path().join(case.replace(' ', "-"));
        let mut args = attend_args(&hall_video(), &roster, &out, &sparse);
        args.extend(extra.iter().map(|s| s.to_string()));
        assert_success(&run(command, &args));
        assert_eq!(statuses(&read(&out.join("attendance.csv"))), truth, "{case}");
        assert_eq!(detections_without_rank(&out), reference, "{case}: detections and tracks");
    }
}

/// Frame → the enrolled students found in it, and every box, from detections.csv.
fn per_frame(out: &Path) -> (BTreeMap<u64, BTreeSet<String>>, BTreeSet<String>) {
    let (mut students, mut boxes) = (BTreeMap::<u64, BTreeSet<String>>::new(), BTreeSet::new());
    for line in read(&out.join("detections.csv")).lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let frame: u64 = c[0].parse().unwrap();
        let entry = students.entry(frame).or_default();
        if !c[7].is_empty() {
            entry.insert(c[7].to_owned());
        }
        boxes.insert(format!("{},{},{},{},{}", c[0], c[3], c[4], c[5], c[6]));
    }
    (students, boxes)
}

/// The HOG detector's two builds, x86-64 baseline and AVX2, on two real ranks each: the same
/// students in every frame of the hall (one frame in two seconds), and the reports name the
/// build that ran.
#[test]
fn the_baseline_and_avx2_detectors_find_the_same_students() {
    if !has_avx2_or_skip("there is one build to run") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let mut found = Vec::new();
    for isa in ["baseline", "avx2"] {
        let out = tmp.path().join(isa);
        assert_success(&run(
            mpirun_command(2),
            &attend_args(&hall_video(), &roster, &out, &["-q", "--fps", "0.5", "--detector", "hog", "--isa", isa]),
        ));
        assert!(h5_attribute(&out, "/software/isa_in_use").contains(&format!("\"{isa}:")), "{isa} recorded");
        assert!(h5_attribute(&out, "/settings/isa").contains(&format!("\"{isa}\"")), "{isa} in the settings");
        found.push(per_frame(&out));
    }
    let [(baseline, baseline_boxes), (avx2, avx2_boxes)] = <[_; 2]>::try_from(found).unwrap();
    assert_eq!(baseline.keys().collect::<Vec<_>>(), avx2.keys().collect::<Vec<_>>(), "frames with faces");
    let disagree: Vec<_> = baseline.iter().filter(|(frame, ids)| avx2[frame] != **ids).collect();
    assert!(disagree.is_empty(), "frames whose students differ between the builds: {disagree:?}");
    let differing = baseline_boxes.symmetric_difference(&avx2_boxes).count();
    eprintln!(
        "{} frames, same students in all; {differing} of {} boxes differ between the builds",
        baseline.len(),
        baseline_boxes.len().max(avx2_boxes.len())
    );
}
