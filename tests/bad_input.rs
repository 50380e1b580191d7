//! Bad input to `rollcall attend` → one clear line on stderr, a non-zero exit, nothing written.

mod common;

use std::path::Path;

use common::*;

struct Case {
    what: &'static str,
    /// Arguments after `attend`; `{v}` is the lecture video, `{r}` a good roster, `{t}` the
    /// case's scratch folder.
    args: &'static str,
    message: &'static str,
}

const CASES: &[Case] = &[
    Case { what: "missing video", args: "{t}/nope.avi --roster {r}", message: "video {t}/nope.avi does not exist" },
    Case { what: "empty video file", args: "{t}/empty.avi --roster {r}", message: "is empty (0 bytes)" },
    Case {
        what: "text file named .mp4",
        args: "{t}/text.mp4 --roster {r}",
        message: "cannot be opened: not a video file",
    },
    Case { what: "missing roster", args: "{v} --roster {t}/none.h5", message: "roster {t}/none.h5 does not exist" },
    // Inputs that are not regular files are named as what they are, before anything opens
    // them: a pipe would block the open (deaf to signals), /dev/zero would be read forever.
    Case { what: "roster is a folder", args: "{v} --roster {t}", message: "roster {t} is a folder, not a file" },
    Case {
        what: "roster is a device",
        args: "{v} --roster /dev/zero",
        message: "roster /dev/zero is not a regular file (a device, a pipe or a socket)",
    },
    Case {
        what: "roster is a pipe",
        args: "{v} --roster {t}/fifo",
        message: "roster {t}/fifo is not a regular file (a device, a pipe or a socket)",
    },
    Case {
        what: "config is a device",
        args: "{v} --roster {r} --config /dev/zero",
        message: "config file /dev/zero is not a regular file (a device, a pipe or a socket)",
    },
    Case {
        what: "config is a pipe",
        args: "{v} --roster {r} --config {t}/fifo",
        message: "config file {t}/fifo is not a regular file (a device, a pipe or a socket)",
    },
    Case {
        what: "config too large",
        args: "{v} --roster {r} --config {t}/big.yaml",
        message: "config file {t}/big.yaml is 4194305 bytes; rollcall reads config files of at most 4194304 bytes",
    },
    Case { what: "roster not HDF5", args: "{v} --roster {t}/text.mp4", message: "is not an HDF5 file" },
    Case {
        what: "HDF5 without a roster",
        args: "{v} --roster {t}/other.h5",
        message: "is not a rollcall roster: no /roster group",
    },
    Case { what: "bad YAML", args: "{v} --roster {r} --config {t}/bad.yaml", message: "config file {t}/bad.yaml:" },
    Case {
        what: "unknown config key",
        args: "{v} --roster {r} --config {t}/typo.yaml",
        message: "unknown field `tolerence`",
    },
    Case { what: "tolerance 0", args: "{v} --roster {r} --tolerance 0", message: "tolerance must be in (0, 1]" },
    Case {
        what: "yunet confidence above 1",
        args: "{v} --roster {r} --detector yunet --yunet-confidence 50",
        message: "yunet_confidence must be in [0, 1], got 50",
    },
    Case {
        what: "tolerance above 1",
        args: "{v} --roster {r} --tolerance 1.5",
        message: "tolerance must be in (0, 1]",
    },
    Case { what: "threshold above 1", args: "{v} --roster {r} --threshold 2", message: "threshold must be in [0, 1]" },
    Case { what: "every 0", args: "{v} --roster {r} --every 0", message: "every must be at least 1" },
    Case { what: "scale 0", args: "{v} --roster {r} --scale 0", message: "scale must be in (0, 4]" },
    Case { what: "negative scale", args: "{v} --roster {r} --scale=-1", message: "scale must be in (0, 4]" },
    Case {
        what: "threads 0",
        args: "{v} --roster {r} --threads 0",
        message: "threads must be between 1 and 1024, got 0",
    },
    Case {
        what: "window 0",
        args: "{v} --roster {r} --window 0",
        message: "window must be `auto` or a number of seconds > 0, got \"0\"",
    },
    Case {
        what: "window soon",
        args: "{v} --roster {r} --window soon",
        message: "window must be `auto` or a number of seconds > 0, got \"soon\"",
    },
    Case {
        what: "negative track gap",
        args: "{v} --roster {r} --track-gap -5",
        message: "track_gap must be a number of seconds ≥ 0, got -5",
    },
    Case {
        what: "unknown rule",
        args: "{v} --roster {r} --rule majority",
        message: "invalid value 'majority' for '--rule <RULE>' [possible values: windows, frames]",
    },
    Case {
        what: "unknown detector",
        args: "{v} --roster {r} --detector foo",
        message: "invalid value 'foo' for '--detector <DETECTOR>' [possible values: hog, cnn, yunet]",
    },
    Case {
        what: "unknown instruction set",
        args: "{v} --roster {r} --isa avx512",
        message: "invalid value 'avx512' for '--isa <ISA>' [possible values: auto, baseline, avx2]",
    },
    Case {
        what: "min face 0",
        args: "{v} --roster {r} --min-face 0",
        message: "min_face must be at least 1 px, got 0",
    },
    Case {
        what: "min face against upsample",
        args: "{v} --roster {r} --detector hog --min-face 24 --upsample 1",
        message: "min_face 24 contradicts upsample 1 and scale 1",
    },
    Case { what: "models missing", args: "{v} --roster {r} --models {t}", message: "face models not found" },
    // Checked before anything is written: afterwards a journal would be left that blocks the
    // rerun (they failed with OpenCV's assertion in the first unit).
    Case {
        what: "min face wider than the frame",
        args: "{v} --roster {r} --min-face 100000",
        message: "scale 0.0008 (min_face 100000 px) shrinks the 640×360 px frames to 1×0 px before detection",
    },
    Case {
        what: "scale to nothing",
        args: "{v} --roster {r} --scale 0.001",
        message: "shrinks the 640×360 px frames to 1×0 px before detection, smaller than the 16 px faces the yunet \
                  detector finds",
    },
    Case {
        what: "date in words",
        args: "{v} --roster {r} --date yesterday",
        message: "date \"yesterday\" is not a day of the calendar written YYYY-MM-DD (e.g. 2026-10-05)",
    },
    Case {
        what: "date off the calendar",
        args: "{v} --roster {r} --date 2026-13-45",
        message: "date \"2026-13-45\" is not a day of the calendar",
    },
    Case {
        what: "output not writable",
        args: "{v} --roster {r} -o {t}/text.mp4/out",
        message: "cannot create output directory",
    },
];

fn scratch(dir: &Path, roster: &Path) {
    std::fs::write(dir.join("empty.avi"), "").unwrap();
    std::fs::write(dir.join("text.mp4"), "this is not a video\n").unwrap();
    std::fs::write(dir.join("bad.yaml"), "every: [1, 2\n").unwrap();
    std::fs::write(dir.join("typo.yaml"), "tolerence: 0.5\n").unwrap();
    std::fs::write(dir.join("big.yaml"), vec![b'#'; rollcall::util::input::MAX_TEXT_BYTES as usize + 1]).unwrap();
    assert_success(&std::process::Command::new("mkfifo").arg(dir.join("fifo")).output().unwrap());
    // A valid HDF5 file that is not a roster: an attend result's roster stripped? Simpler: a
    // copy of the roster with its group renamed is overkill; h5 from a different tool will do.
    let other = hdf5::File::create(dir.join("other.h5")).unwrap();
    other.new_dataset_builder().with_data(&[1.0f64, 2.0]).create("numbers").unwrap();
    drop(other);
    assert!(roster.exists());
}

#[test]
fn each_bad_input_gets_one_clear_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let video = lecture_video();
    for case in CASES {
        let dir = tmp.path().join(case.what.replace(' ', "_"));
        std::fs::create_dir(&dir).unwrap();
        scratch(&dir, &roster);
        let t = dir.to_str().unwrap();
        let expand = |s: &str| {
            s.replace("{v}", video.to_str().unwrap()).replace("{r}", roster.to_str().unwrap()).replace("{t}", t)
        };
        let out = dir.join("out");
        let mut args = vec!["attend".to_string()];
        args.extend(expand(case.args).split(' ').map(String::from));
        if !case.args.contains(" -o ") {
            args.extend(["-o".into(), out.to_str().unwrap().into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused(&run(rollcall_command(), &args), &expand(case.message));
        assert!(!out.exists(), "{}: output written", case.what);
    }
}

/// `rollcall simulate` refuses what it cannot model, in one line.
#[test]
fn simulate_refuses_what_is_not_a_finished_video_run() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("sim");
    let run_dir = tmp.path().join("run");
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &run_dir, &["--every", "30"])));
    let h5 = run_dir.join("attendance.h5");
    let cases: [(&[&str], String); 4] = [
        (&[roster.to_str().unwrap()], format!("{} is not a rollcall result", roster.display())),
        (&[h5.to_str().unwrap(), "--ranks", "2", "--slow", "3:2"], "--slow names rank 3".to_owned()),
        (&[h5.to_str().unwrap(), "--minutes", "0"], "--minutes must be > 0".to_owned()),
        (&[h5.to_str().unwrap(), "--minutes", "1e9"], "at most 1440 (a day of recording), got 1000000000".to_owned()),
    ];
    for (args, message) in cases {
        let mut all = vec!["simulate", "-o", out.to_str().unwrap()];
        all.extend(args);
        assert_refused(&run(rollcall_command(), &all), &message);
    }
    assert!(!out.exists(), "nothing written");
}

/// The same refusal under a launcher: reported once (by rank 0), and every rank exits.
#[test]
fn errors_under_mpirun_are_reported_once_and_every_rank_exits() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let o = run(
        mpirun_command(3),
        &[
            "attend",
            lecture_video().to_str().unwrap(),
            "--roster",
            roster.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--tolerance",
            "7",
        ],
    );
    // mpirun adds its own lines about the failed ranks: rollcall's is there once, not once a rank.
    assert!(!o.status.success());
    assert_eq!(stderr(&o).matches("tolerance must be in (0, 1]").count(), 1, "{}", stderr(&o));
    assert!(!out.exists());
}

/// A recording where no student is in view is a valid lecture: everyone absent, not an error.
/// (vtest's pedestrians show faces of 8-11 px, which YuNet finds and nobody's encoding matches.)
#[test]
fn a_video_without_faces_is_a_valid_run_with_everyone_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let video = setup_file("data/videos/vtest.avi");
    let o = run(mpirun_command(2), &attend_args(&video, &roster, &out, &["--every", "100"]));
    assert_success(&o);
    let attendance = read(&out.join("attendance.csv"));
    assert_eq!(attendance.lines().count(), 5);
    assert!(attendance.lines().skip(1).all(|l| l.ends_with(",0,0.0000,,,Absent")), "{attendance}");
    let detections = read(&out.join("detections.csv"));
    assert!(detections.lines().skip(1).all(|l| l.split(',').nth(7) == Some("")), "nobody recognised:\n{detections}");
}

/// A roster whose encodings are not numbers (a broken tool, a hand edit) is refused when it is
/// loaded, before any work, instead of giving everyone Absent at NaN distances.
#[test]
fn a_roster_with_nan_encodings_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = rollcall::roster::Roster::load(&enrol_lecture(tmp.path())).unwrap();
    bad.encodings[(1, 7)] = f64::NAN;
    let path = tmp.path().join("nan.h5");
    // Written by hand, as another tool would: the writer itself does not validate.
    let file = hdf5::File::create(&path).unwrap();
    bad.write_h5(&file).unwrap();
    drop(file);
    let out = tmp.path().join("out");
    let o = run(
        rollcall_command(),
        &["attend", lecture_video().to_str().unwrap(), "--roster", path.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    assert_refused(&o, "is not a dlib_resnet_v1 face encoding: not a number");
    assert!(!out.exists());
}

/// A roster made by another encoder (its `/roster/encoder` record, set here with h5py as a
/// later rollcall would write it) is refused in one line that says to enrol again: distances
/// between two encoders' encodings mean nothing.
#[test]
fn a_roster_made_by_another_encoder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let script = "import sys, h5py\nwith h5py.File(sys.argv[1], 'a') as f:\n    \
                  assert f['roster'].attrs['encoder'] == 'dlib_resnet_v1'\n    \
                  f['roster'].attrs['encoder'] = 'sface_2021dec'";
    let python =
        std::process::Command::new(setup_file(".venv/bin/python")).args(["-c", script]).arg(&roster).output().unwrap();
    assert_success(&python);
    let out = tmp.path().join("out");
    let o = run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &[]));
    let err =
        assert_refused(&o, "were made by the encoder sface_2021dec, and this rollcall encodes with dlib_resnet_v1");
    assert!(err.contains("rollcall enroll"), "{err}");
    assert!(!out.exists());
}

/// A roster file with a student twice (hand-edited, or written by another tool) is refused.
#[test]
fn a_roster_with_duplicate_ids_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let good = rollcall::roster::Roster::load(&enrol_lecture(tmp.path())).unwrap();
    let mut twice = good.clone();
    twice.ids[1] = twice.ids[0].clone();
    let path = tmp.path().join("twice.h5");
    rollcall::roster::enroll::write_roster(&twice, &path).unwrap();
    let out = tmp.path().join("out");
    let o = run(
        rollcall_command(),
        &["attend", lecture_video().to_str().unwrap(), "--roster", path.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    assert_refused(&o, &format!("duplicate student id {:?}", good.ids[0]));
    assert!(!out.exists());
}

/// An error keeps its cause: a roster nobody may read says "permission denied", not "not a
/// roster". Root reads any file, so as root the command runs without the capabilities that
/// let it (setpriv, util-linux), as an ordinary user would.
#[test]
fn an_unreadable_roster_says_permission_denied() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let locked = tmp.path().join("locked.h5");
    std::fs::copy(&roster, &locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    let command = match String::from_utf8_lossy(&uid.stdout).trim() {
        "0" => {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--bounding-set=-all", "--inh-caps=-all"]).arg(env!("CARGO_BIN_EXE_rollcall"));
            c.current_dir(repo());
            c
        }
        _ => rollcall_command(),
    };
    let out = tmp.path().join("out");
    let o = run(command, &attend_args(&lecture_video(), &locked, &out, &["--every", "50"]));
    assert_refused(&o, &format!("cannot read roster {}: Permission denied", locked.display()));
    assert!(!out.exists(), "nothing written");
}

/// A result file that refers to what is not there (written by another tool, damaged, or
/// crafted) is refused by `report` and `simulate` in one line, never with a panic (#17 item 11).
#[test]
fn a_result_naming_a_missing_student_or_a_nan_time_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let run_dir = tmp.path().join("run");
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &run_dir, &["--every", "30"])));
    let good = rollcall::report::hdf5::read(&run_dir.join("attendance.h5")).unwrap();
    let mut student_99 = good.clone();
    student_99.detections[0].student = Some(99);
    let mut nan_time = good.clone();
    nan_time.units[0].end_s = f64::NAN;
    for (name, bad, message) in [
        ("student-99.h5", student_99, "names student 99, but the roster has 4"),
        ("nan-time.h5", nan_time, "s to NaN s: not a time span"),
    ] {
        let path = tmp.path().join(name);
        rollcall::report::hdf5::write(&bad, &path).unwrap();
        let out = tmp.path().join(format!("out-{name}"));
        for command in ["report", "simulate"] {
            let o = run(rollcall_command(), &[command, path.to_str().unwrap(), "-o", out.to_str().unwrap()]);
            let err = assert_refused(&o, &format!("{} is damaged: ", path.display()));
            assert!(err.contains(message), "{command} {name}:\n{err}");
            assert!(!out.exists(), "{command} {name}: output written");
        }
    }
    // A result file that is not there says so (not "not an HDF5 file").
    let missing = tmp.path().join("missing.h5");
    let o =
        run(rollcall_command(), &["report", missing.to_str().unwrap(), "-o", tmp.path().join("x").to_str().unwrap()]);
    assert!(stderr(&o).contains("No such file or directory"), "{}", stderr(&o));
}

/// `--threads 1000` (a typo, or a guess) runs with the threads that can work, and says so,
/// instead of loading a thousand copies of the models (#17 item 2).
#[test]
fn too_many_threads_are_cut_to_what_can_work() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let o =
        run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["--every", "50", "--threads", "1000"]));
    assert_success(&o);
    let err = stderr(&o);
    assert!(err.contains("threads 1000 cut to "), "{err}");
    assert!(out.join("attendance.csv").exists());
}

/// A long simulation (a million ranks, a day of recording) stops at SIGTERM like a job does:
/// exit 128 + 15, one line, nothing written (#17 item 3).
#[test]
fn a_long_simulation_stops_at_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let run_dir = tmp.path().join("run");
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), &roster, &run_dir, &["--every", "30"])));
    let out = tmp.path().join("sim");
    let child = spawn(
        rollcall_command(),
        &[
            "simulate",
            run_dir.join("attendance.h5").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--ranks",
            "1048576,1000000,900000,800000",
            "--minutes",
            "1440",
        ],
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    let started = std::time::Instant::now();
    send_signal(child.id(), "-TERM");
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(128 + 15), "still running after 3 s, then stopped by SIGTERM:\n{err}");
    assert!(started.elapsed().as_secs() < 10, "it took {:?} to stop", started.elapsed());
    assert!(err.contains("simulation stopped: nothing written"), "{err}");
    assert!(!out.exists());
}

/// Two runs on one output folder at once: the second stops at once, naming the first's
/// process, and the first finishes with its own results (#17 item 9).
#[test]
fn a_second_run_on_a_busy_output_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    // The first run slowed 10x (the benchmark knob: the same results, later), so that it is
    // still running when the second starts, however fast the machine.
    let slow = tmp.path().join("slow.yaml");
    std::fs::write(&slow, "bench:\n  slow_ranks: {\"0\": 10}\n").unwrap();
    let first =
        spawn(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["--config", slow.to_str().unwrap()]));
    let journal = out.join("attendance.journal");
    let waited = std::time::Instant::now();
    while !journal.exists() && waited.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(journal.exists(), "the first run started");
    let o = run(rollcall_command(), &attend_args(&lecture_video(), &roster, &out, &["--force", "--every", "50"]));
    assert_refused(&o, &format!("{} is in use by another rollcall run (process {})", out.display(), first.id()));
    let o = first.wait_with_output().unwrap();
    assert_success(&o);
    assert_eq!(read(&out.join("attendance.csv")), read(&repo().join("data/lecture/expected_attendance.csv")));
}

/// A result file that is not there is named as missing, not as "not an HDF5 file", by every
/// command that reads results (#17 item 13).
#[test]
fn a_missing_result_file_is_called_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.h5");
    let (m, out) = (missing.to_str().unwrap(), tmp.path().join("out"));
    let o_ = out.to_str().unwrap();
    let xlsx = tmp.path().join("s.xlsx");
    for args in
        [vec!["report", m, "-o", o_], vec!["semester", m, "-o", xlsx.to_str().unwrap()], vec!["simulate", m, "-o", o_]]
    {
        assert_refused(
            &run(rollcall_command(), &args),
            &format!("cannot read result file {m}: No such file or directory"),
        );
        assert!(!out.exists() && !xlsx.exists(), "{args:?}: nothing written");
    }
}

/// SIGTERM (scancel, a job's time limit) or Ctrl-C during the short commands that read results
/// stops them before they write: exit 128 + 15, one line, and no file of theirs, so that an
/// earlier report set is never left half replaced (#29.3).
#[test]
fn sigterm_during_report_semester_or_eval_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = |name: &str| repo().join("tests/fixtures/upgrade").join(name).to_str().unwrap().to_string();
    let (new, old, oldest) =
        (fixture("format2-dd52a8b.h5"), fixture("format2-1d86aa9.h5"), fixture("format1-85fecf9.h5"));
    let out = tmp.path().join("out");
    let (o, xlsx, csv) = (out.to_str().unwrap(), out.join("s.xlsx"), out.join("scores.csv"));
    let truth = setup_file("data/lecture/truth.csv");
    let commands: [Vec<&str>; 3] = [
        vec!["report", &new, "-o", o],
        vec!["semester", &new, &old, &oldest, "-o", xlsx.to_str().unwrap()],
        vec!["eval", &new, "--truth", truth.to_str().unwrap(), "--csv", csv.to_str().unwrap()],
    ];
    for args in commands {
        let child = spawn(rollcall_command(), &args);
        terminate_once_listening(&child);
        let result = child.wait_with_output().unwrap();
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(128 + 15), "{args:?}:\n{err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line:\n{err}");
        assert!(err.contains("stopped by signal 15"), "{args:?}:\n{err}");
        let written: Vec<_> =
            std::fs::read_dir(&out).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(written.is_empty(), "{args:?}: wrote {written:?}");
    }
}

/// A path that is not UTF-8 (a file copied from an old Latin-1 system) is refused in one line,
/// not a panic: rollcall records every path in its reports and journal as text. `enroll` says
/// so of a photo named so, where it used to skip it as "hidden".
#[test]
fn paths_that_are_not_utf8_are_refused_in_one_line() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let latin1 = |dir: &Path, name: &[u8]| dir.join(OsStr::from_bytes(name));
    let video = latin1(tmp.path(), b"le\xe7on.avi");
    std::fs::copy(lecture_video(), &video).unwrap();
    let out = tmp.path().join("out");
    let o = run(
        rollcall_command(),
        &[
            OsStr::new("attend"),
            video.as_os_str(),
            "--roster".as_ref(),
            roster.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_refused(&o, "the video path");
    assert!(stderr(&o).contains("is not UTF-8 text: rename it"));
    assert!(!out.exists());
    let bad_out = latin1(tmp.path(), b"r\xe9sultats");
    let o = run(
        rollcall_command(),
        &[
            OsStr::new("attend"),
            lecture_video().as_os_str(),
            "--roster".as_ref(),
            roster.as_os_str(),
            "-o".as_ref(),
            bad_out.as_os_str(),
        ],
    );
    assert_refused(&o, "the output path");
    assert!(!bad_out.exists());

    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(lecture_photos().join("obama.jpg"), photos.join("obama.jpg")).unwrap();
    std::fs::copy(lecture_photos().join("biden.jpg"), latin1(&photos, b"bid\xe9n.jpg")).unwrap();
    let enrolled = tmp.path().join("latin1-roster.h5");
    let o = run(rollcall_command(), &[OsStr::new("enroll"), photos.as_os_str(), "-o".as_ref(), enrolled.as_os_str()]);
    assert_refused(&o, "its name is not UTF-8 text: rename it");
    assert!(!enrolled.exists());
}
