//! `rollcall attend` end to end: real ranks, the real ground-truth lecture, real files read back.

mod common;

use common::*;

/// Without a launcher, and on 1–4 ranks under every schedule, the attendance equals the
/// scenario's ground truth and the detections are identical.
#[test]
fn attendance_is_the_ground_truth_for_any_ranks_and_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let video = lecture_video();
    let expected = read(&repo().join("data/lecture/expected_attendance.csv"));

    let single = tmp.path().join("single");
    assert_success(&run(rollcall_command(), &attend_args(&video, &roster, &single, &[])));
    assert_eq!(read(&single.join("attendance.csv")), expected);
    let reference = detections_without_rank(&single);
    assert!(reference.lines().count() > 30, "too few detections:\n{reference}");

    for schedule in ["block", "cyclic", "dynamic", "guided"] {
        for ranks in 1..=4 {
            let out = tmp.path().join(format!("{schedule}{ranks}"));
            let mut args = attend_args(&video, &roster, &out, &[]);
            args.extend(["--schedule", schedule].map(String::from));
            let o = run(mpirun_command(ranks), &args);
            assert_success(&o);
            let case = format!("{schedule} on {ranks} ranks");
            assert_eq!(read(&out.join("attendance.csv")), expected, "{case}");
            assert_eq!(detections_without_rank(&out), reference, "{case}");
            if schedule != "dynamic" && schedule != "guided" {
                // Static schedules give every rank work (8 units ≥ 4 ranks); dynamic ones may not.
                let used_ranks: std::collections::BTreeSet<String> = read(&out.join("detections.csv"))
                    .lines()
                    .skip(1)
                    .map(|l| l.split(',').nth(2).unwrap().to_owned())
                    .collect();
                assert_eq!(used_ranks.len(), ranks, "{case}: every rank analysed frames with faces");
            }
        }
    }
}

/// `frame,x,y,w,h,student_id` of a run's detections.csv, or of the fixture's rows on frames
/// that are multiples of `every`.
fn boxes(csv: &str, every: usize, fixture: bool) -> Vec<String> {
    csv.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let c: Vec<&str> = line.split(',').collect();
            let row = if fixture { c.join(",") } else { [c[0], c[3], c[4], c[5], c[6], c[7]].join(",") };
            (i == 0 || c[0].parse::<usize>().unwrap() % every == 0).then_some(row)
        })
        .collect()
}

/// The boxes and identities are Python face_recognition's, to the pixel, with either detector:
/// the fixtures hold what face_recognition 1.3 with dlib 19.24.6 (the dlib-bin wheel) found in
/// the same frames, made by benches/reference/face_recognition_ref.py --every 10 (`--model cnn
/// --upsample 1` for the CNN's; see benches/reference/README.md). The CNN is checked on every
/// sixth of those frames: it takes seconds a frame.
#[test]
fn boxes_and_identities_are_face_recognitions() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    for (every, extra, fixture) in [
        ("10", &["--detector", "hog"][..], "data/lecture/face_recognition_boxes.csv"),
        ("60", &["--detector", "cnn", "--upsample", "1"][..], "data/lecture/face_recognition_cnn_boxes.csv"),
    ] {
        let out = tmp.path().join(format!("every-{every}"));
        let mut args = vec!["--every", every];
        args.extend(extra);
        assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &args)));
        let every: usize = every.parse().unwrap();
        let ours = boxes(&read(&out.join("detections.csv")), every, false);
        let reference = boxes(&read(&repo().join(fixture)), every, true);
        assert!(ours.len() > 10, "{fixture}: {ours:?}");
        assert_eq!(ours, reference, "{fixture}");
    }
}

/// Threads split a rank's units further: any ranks × threads split gives the same detections,
/// including more threads than a unit has frames (cut to what can work, with a warning).
#[test]
fn the_same_detections_for_any_split_into_ranks_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let video = lecture_video();
    // Faces encoded every 2nd sampled frame, followed between: a grid that units of 2, 4 and 8
    // frames all start on, so that every split encodes the same faces.
    let following = ["--reencode-every", "2"];
    let single = tmp.path().join("single");
    assert_success(&run(rollcall_command(), &attend_args(&video, &roster, &single, &following)));
    let reference = detections_without_rank(&single);
    assert!(ranks_field(&single, "encodings_saved")[0] > 0.0, "faces were followed");

    for (ranks, threads, extra) in [(1, 2, vec![]), (2, 2, vec!["--schedule", "dynamic"]), (1, 3, vec!["--chunk", "2"])]
    {
        let out = tmp.path().join(format!("r{ranks}t{threads}"));
        let threads_flag = threads.to_string();
        let flags = [vec!["--threads", threads_flag.as_str()], extra.clone(), following.to_vec()].concat();
        let o = run(mpirun_command(ranks), &attend_args(&video, &roster, &out, &flags));
        assert_success(&o);
        let case = format!("{ranks} rank(s) x {threads} threads {extra:?}");
        assert_eq!(detections_without_rank(&out), reference, "{case}");
        assert_eq!(read(&out.join("attendance.csv")), read(&single.join("attendance.csv")), "{case}");
        // One reader per rank hands frames to its threads: nothing is decoded twice.
        assert!(decoded_frames(&out) <= decoded_frames(&single) * 105 / 100, "{case}: frames decoded more than once");
    }

    // OpenCV's reader, which decodes every frame of the MJPEG lecture on the way to the sampled
    // ones, gives the same detections and attendance as libav's, which decodes those only.
    let opencv = tmp.path().join("opencv");
    let flags = [&following[..], &["--reader", "opencv"]].concat();
    assert_success(&run(rollcall_command(), &attend_args(&video, &roster, &opencv, &flags)));
    assert_eq!(detections_without_rank(&opencv), reference, "OpenCV's reader");
    assert_eq!(read(&opencv.join("attendance.csv")), read(&single.join("attendance.csv")), "OpenCV's reader");
    let sampled = read(&single.join("attendance.csv")).lines().nth(1).unwrap().split(',').nth(2).unwrap().to_owned();
    assert_eq!(
        decoded_frames(&single).to_string(),
        sampled,
        "libav decodes the sampled frames of an intra-only stream"
    );
    assert!(decoded_frames(&opencv) > 5 * decoded_frames(&single), "OpenCV decodes the frames between them too");
}

/// Frames the decoders produced, over all ranks.
fn decoded_frames(out: &std::path::Path) -> u64 {
    let run = rollcall::report::hdf5::read(&out.join("attendance.h5")).unwrap();
    run.timings.iter().map(|t| t.decoded_frames).sum()
}

#[test]
fn hdf5_and_xlsx_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let o = run(mpirun_command(2), &attend_args(&lecture_video(), &roster, &out, &[]));
    assert_success(&o);

    // What the run cost: each rank's CPU time in /ranks; per minute of the 30-s lecture, the
    // figure the summary and report.html give.
    let cpu_s = ranks_field(&out, "cpu_s");
    assert!(cpu_s.len() == 2 && cpu_s.iter().all(|&s| s > 0.0), "cpu_s {cpu_s:?}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let said = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cost: ")?.split_once(" core-seconds per lecture-minute"))
        .unwrap_or_else(|| panic!("no cost line: {stdout}"))
        .0;
    let expected = cpu_s.iter().sum::<f64>() / 0.5;
    assert!((said.parse::<f64>().unwrap() - expected).abs() < 0.051, "said {said}, /ranks gives {expected}");
    assert!(read(&out.join("report.html")).contains(&format!("<b id=\"cost\">{said}</b>")), "{said}");

    // h5dump, the HDF5 project's own reader, sees every table.
    let h5 = out.join("attendance.h5");
    let dump = std::process::Command::new("h5dump").arg("-H").arg(&h5).output().unwrap();
    assert!(dump.status.success(), "h5dump failed: {}", stderr(&dump));
    let header = String::from_utf8_lossy(&dump.stdout);
    for dataset in ["/attendance", "/detections", "/ranks", "/units", "/roster/encoding", "/roster/student_id"] {
        let name = dataset.rsplit('/').next().unwrap();
        assert!(header.contains(&format!("DATASET \"{name}\"")), "{dataset} missing in:\n{header}");
    }
    let attendance = std::process::Command::new("h5dump").args(["-d", "/attendance"]).arg(&h5).output().unwrap();
    let attendance = String::from_utf8_lossy(&attendance.stdout);
    for id in ["obama", "biden", "hanks", "ana"] {
        assert!(attendance.contains(&format!("\"{id}\"")), "{id} missing in /attendance:\n{attendance}");
    }
    let encodings =
        std::process::Command::new("h5dump").args(["-H", "-d", "/roster/encoding"]).arg(&h5).output().unwrap();
    assert!(String::from_utf8_lossy(&encodings.stdout).contains("( 4, 128 )"), "4 students × 128-d encodings");

    // The workbook, through an independent xlsx reader.
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(out.join("attendance.xlsx")).unwrap();
    let sheets = wb.sheet_names();
    assert!(sheets.contains(&"Attendance".to_string()) && sheets.contains(&"Ranks".to_string()), "{sheets:?}");
    let att = wb.worksheet_range("Attendance").unwrap();
    let rows: Vec<Vec<String>> = att.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][0], "Student ID");
    let hanks = rows.iter().find(|r| r[0] == "hanks").expect("hanks row");
    assert_eq!(hanks[7], "Present");
    assert_eq!(att.get_value((3, 3)), Some(&Data::Float(25.0)), "hanks seen in 25 frames");
    let ranks = wb.worksheet_range("Ranks").unwrap();
    assert_eq!(ranks.height(), 3, "header + one row per rank");
    // 30 sampled frames in units of 4 (the default chunk): 8 units on the timeline.
    let units = wb.worksheet_range("Units").unwrap();
    assert_eq!(units.height(), 9, "header + one row per unit");
    let ranks_of_units: std::collections::BTreeSet<String> = units.rows().skip(1).map(|r| r[1].to_string()).collect();
    assert_eq!(ranks_of_units.len(), 2, "both ranks on the timeline");
}

/// The slow-rank benchmark knob can never pass unnoticed: rank 0 warns, and the reports say so.
#[test]
fn the_slow_rank_knob_is_announced_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let config = tmp.path().join("slow.yaml");
    std::fs::write(&config, "every: 30\nbench:\n  slow_ranks: {\"1\": 1.5}\n").unwrap();
    let out = tmp.path().join("out");
    let video = lecture_video();
    let mut args = attend_args(&video, &roster, &out, &[]);
    args.extend(["--config", config.to_str().unwrap(), "--schedule", "dynamic"].map(String::from));
    let o = run(mpirun_command(2), &args);
    assert_success(&o);
    assert!(stderr(&o).contains("benchmark knob bench.slow_ranks is on (1:1.5)"), "{}", stderr(&o));
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(out.join("attendance.xlsx")).unwrap();
    let settings = wb.worksheet_range("Settings").unwrap();
    let row = settings.rows().find(|r| r[0] == "bench.slow_ranks").expect("setting listed");
    assert_eq!(row[1].to_string(), "1:1.5");

    // A rank the job does not have is a mistake, not a silent no-op.
    std::fs::write(&config, "bench:\n  slow_ranks: {\"5\": 2}\n").unwrap();
    let o = run(mpirun_command(2), &args);
    assert!(stderr(&o).contains("bench.slow_ranks names rank 5, but the job has 2 rank(s)"), "{}", stderr(&o));
}

#[test]
fn existing_outputs_are_not_overwritten_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("attendance.csv"), "precious").unwrap();
    let video = lecture_video();
    let args = attend_args(&video, &roster, &out, &[]);
    let o = run(rollcall_command(), &args);
    assert_refused(&o, "already exists: pass --force");
    assert_eq!(read(&out.join("attendance.csv")), "precious");

    let mut forced = args.clone();
    forced.push("--force".into());
    assert_success(&run(mpirun_command(2), &forced));
    assert!(read(&out.join("attendance.csv")).starts_with("student_id,"));
}

/// `--rule frames` gives the presence of the frame rule (shares of the 30 sampled frames),
/// with the same statuses and first/last seen as the default windows rule.
#[test]
fn the_frames_rule_gives_shares_of_sampled_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("frames");
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["--rule", "frames"])));
    assert_eq!(read(&out.join("attendance.csv")), read(&repo().join("data/lecture/expected_attendance_frames.csv")));
}

/// `mpirun -n 1 rollcall ARGS : -n 1 env ROLLCALL_MAX_ISA=baseline rollcall ARGS`: a job whose
/// rank 1 offers only the baseline build, as a node without AVX2 would.
fn mixed_isa_job(args: &[String]) -> std::process::Output {
    let rollcall = env!("CARGO_BIN_EXE_rollcall");
    let mut command = mpirun_program(std::path::Path::new(rollcall), 1, Some(300));
    command.args(args).args([":", "-n", "1", "env", "ROLLCALL_MAX_ISA=baseline", rollcall]).args(args);
    command.output().expect("cannot start mpirun")
}

/// Ranks that differ run the level they share (so no box depends on the rank), and a level
/// one rank cannot run is refused naming that rank.
#[test]
fn ranks_that_differ_run_the_build_they_share() {
    if !has_avx2_or_skip("its ranks cannot differ") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let refused = mixed_isa_job(&attend_args(
        &lecture_video(),
        &roster,
        &out,
        &["-q", "--detector", "hog", "--isa", "avx2", "--every", "10"],
    ));
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("isa avx2: rank 1 cannot run AVX2 code"),
        "refusal names the rank: {}",
        stderr(&refused)
    );
    let shared =
        mixed_isa_job(&attend_args(&lecture_video(), &roster, &out, &["-q", "--detector", "hog", "--every", "10"]));
    assert_success(&shared);
    assert!(h5_attribute(&out, "/software/isa_in_use").contains("\"baseline:"), "auto ran the baseline on both ranks");
}
