//! `rollcall enroll`: good folders become rosters; bad photos are each named, and nothing is written.

mod common;

use std::path::Path;

use common::*;
use opencv::core::{Mat, Scalar, Vector, CV_8UC3};
use opencv::imgcodecs;
use rollcall::roster::Roster;

fn enroll(dir: &Path, roster: &Path) -> std::process::Output {
    run(rollcall_command(), &["enroll", dir.to_str().unwrap(), "-o", roster.to_str().unwrap()])
}

fn copy_face(name: &str, to: &Path) {
    std::fs::copy(setup_file(&format!("data/faces/{name}")), to).unwrap();
}

#[test]
fn every_bad_photo_is_named_and_no_roster_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    copy_face("obama.jpg", &photos.join("obama.jpg"));
    // No face: an empty grey wall.
    let wall = Mat::new_rows_cols_with_default(300, 400, CV_8UC3, Scalar::all(128.0)).unwrap();
    assert!(imgcodecs::imwrite(photos.join("wall.png").to_str().unwrap(), &wall, &Vector::new()).unwrap());
    // Two faces: the lecture's first frame, where Obama and Biden sit side by side.
    let mut reader = rollcall::media::VideoReader::open(&lecture_video(), Default::default(), 0).unwrap();
    let mut frame = Mat::default();
    assert!(reader.read(0, &mut frame).unwrap());
    assert!(imgcodecs::imwrite(photos.join("pair.png").to_str().unwrap(), &frame, &Vector::new()).unwrap());
    // Not an image at all.
    std::fs::write(photos.join("notes.jpg"), "just text").unwrap();

    let roster = tmp.path().join("roster.h5");
    let o = enroll(&photos, &roster);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("wall.png: no face found"), "{err}");
    assert!(err.contains("pair.png: 2 faces found"), "{err}");
    assert!(err.contains("notes.jpg: not a readable image"), "{err}");
    assert!(!err.contains("obama.jpg"), "the good photo is not blamed: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!roster.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "no partial file left behind");
}

#[test]
fn several_photos_per_student_and_names_from_roster_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(photos.join("obama")).unwrap();
    copy_face("obama.jpg", &photos.join("obama/a.jpg"));
    copy_face("obama2.jpg", &photos.join("obama/b.jpg"));
    copy_face("biden.jpg", &photos.join("biden.jpg"));
    std::fs::write(photos.join("roster.csv"), "student_id,name\nobama,Barack Obama\n").unwrap();

    let roster_path = tmp.path().join("roster.h5");
    assert_success(&enroll(&photos, &roster_path));
    let roster = Roster::load(&roster_path).unwrap();
    assert_eq!(roster.ids, ["biden", "obama"]);
    assert_eq!(roster.names, ["biden", "Barack Obama"], "name defaults to the id");
    assert_eq!(roster.encodings.dim(), (3, 128));
    assert_eq!(roster.owner, [0, 1, 1]);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&roster_path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "encodings are biometric data");
    // Two photos of one man are closer to each other than to another man.
    let d = |a: usize, b: usize| (&roster.encodings.row(a) - &roster.encodings.row(b)).mapv(|x| x * x).sum().sqrt();
    assert!(d(1, 2) < 0.6 && d(0, 1) > 0.6, "same {} other {}", d(1, 2), d(0, 1));

    // The same names saved by a spreadsheet set to `;` between fields (much of Europe).
    std::fs::write(photos.join("roster.csv"), "student_id;name\nobama;Barack Obama\nbiden;Joe Biden\n").unwrap();
    let o =
        run(rollcall_command(), &["enroll", photos.to_str().unwrap(), "-o", roster_path.to_str().unwrap(), "--force"]);
    assert_success(&o);
    assert_eq!(Roster::load(&roster_path).unwrap().names, ["Joe Biden", "Barack Obama"]);
}

/// `ROLLCALL_MODELS` set to a folder without the models is an error, not a silent fall-back
/// to `data/models`.
#[test]
fn a_models_variable_naming_a_folder_without_models_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut command = rollcall_command();
    command.env("ROLLCALL_MODELS", tmp.path());
    let o =
        run(command, &["enroll", lecture_photos().to_str().unwrap(), "-o", tmp.path().join("r.h5").to_str().unwrap()]);
    assert_refused(&o, &format!("ROLLCALL_MODELS={} does not hold the face models", tmp.path().display()));
}

#[test]
fn empty_folders_and_duplicate_ids_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = enroll(&empty, &tmp.path().join("r.h5"));
    assert_refused(&o, "no photos in");

    let dup = tmp.path().join("dup");
    std::fs::create_dir(&dup).unwrap();
    copy_face("biden.jpg", &dup.join("biden.jpg"));
    std::fs::write(dup.join("roster.csv"), "student_id,name\nbiden,Joe\nbiden,Joseph\n").unwrap();
    let o = enroll(&dup, &tmp.path().join("r.h5"));
    assert_refused(&o, "duplicate student id \"biden\"");

    let o = enroll(&tmp.path().join("missing"), &tmp.path().join("r.h5"));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!tmp.path().join("r.h5").exists());
}

#[test]
fn a_small_face_is_enrolled_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let obama =
        imgcodecs::imread(setup_file("data/faces/obama.jpg").to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let mut small = Mat::default();
    opencv::imgproc::resize(&obama, &mut small, opencv::core::Size::default(), 0.22, 0.22, opencv::imgproc::INTER_AREA)
        .unwrap();
    assert!(imgcodecs::imwrite(photos.join("obama.png").to_str().unwrap(), &small, &Vector::new()).unwrap());
    let o = enroll(&photos, &tmp.path().join("roster.h5"));
    assert_success(&o);
    assert!(stderr(&o).contains("obama.png: the face is only"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(1 warning(s) above)"));
}

/// SIGTERM (scancel) or SIGINT (Ctrl-C) during enrolment stops it between photos: exit
/// 128 + signal, one line, no roster (#17 item 4).
#[test]
fn a_signal_stops_enrolment_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    // Enough photos to take many seconds: ten of each of four students.
    for name in ["obama", "biden", "hanks", "ana"] {
        let dir = photos.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for k in 0..10 {
            std::fs::copy(lecture_photos().join(format!("{name}.jpg")), dir.join(format!("{k}.jpg"))).unwrap();
        }
    }
    let roster = tmp.path().join("roster.h5");
    let child = spawn(rollcall_command(), &["enroll", photos.to_str().unwrap(), "-o", roster.to_str().unwrap()]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    send_signal(child.id(), "-TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(128 + 15), "{}", stderr(&o));
    assert_refused(&o, "enrolment stopped: no roster written");
    assert!(!roster.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "nothing beside the photos");
}

/// An output that cannot be written is refused before the models load and the photos are
/// encoded; `-q` leaves stdout empty.
#[test]
fn an_unwritable_output_is_refused_first_and_quiet_is_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let bad = blocker.join("roster.h5");
    let o = run(
        rollcall_command(),
        &["enroll", lecture_photos().to_str().unwrap(), "-o", bad.to_str().unwrap(), "--models", "/nonexistent"],
    );
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains(&format!("cannot create the folder {}", blocker.display())), "{err}");
    // A folder given as -o is named as one, with or without --force (--force used to be
    // advised, then fail with "Is a directory").
    let photos = lecture_photos();
    for force in [&[][..], &["--force"]] {
        let args = [&["enroll", photos.to_str().unwrap(), "-o", tmp.path().to_str().unwrap()], force].concat();
        let expected = format!("{} is a folder: -o names the roster file to write, e.g. ", tmp.path().display());
        assert_refused(&run(rollcall_command(), &args), &expected);
    }
    let roster = tmp.path().join("roster.h5");
    let o =
        run(rollcall_command(), &["-q", "enroll", lecture_photos().to_str().unwrap(), "-o", roster.to_str().unwrap()]);
    assert_success(&o);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "", "-q prints no summary");
    assert!(roster.exists());
}

/// Every entry of the photos folder is used or reported (#17 item 12): a FIFO, a dangling
/// link and a link to a device named like photos are errors (never read, never skipped);
/// files that are not photos are named in a warning; a student left without a photo is an
/// error.
#[test]
fn every_entry_of_the_photos_folder_is_used_or_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    copy_face("obama.jpg", &photos.join("obama.jpg"));
    assert!(std::process::Command::new("mkfifo").arg(photos.join("fifo.jpg")).status().unwrap().success());
    std::os::unix::fs::symlink(tmp.path().join("gone.jpg"), photos.join("dangling.jpg")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", photos.join("zero.png")).unwrap();
    std::fs::write(photos.join("notes.txt"), "bring the register").unwrap();
    std::fs::write(photos.join("ana.webp"), "RIFF....WEBP").unwrap();
    copy_face("biden.jpg", &photos.join(".biden.jpg"));
    std::fs::write(photos.join(".DS_Store"), "Bud1").unwrap();
    let roster = tmp.path().join("roster.h5");
    let o = enroll(&photos, &roster);
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("fifo.jpg: not a regular file"), "{err}");
    assert!(err.contains("zero.png: not a regular file"), "{err}");
    assert!(err.contains("dangling.jpg: cannot read"), "{err}");
    assert!(!roster.exists());
    for bad in ["fifo.jpg", "dangling.jpg", "zero.png"] {
        std::fs::remove_file(photos.join(bad)).unwrap();
    }
    let o = enroll(&photos, &roster);
    let err = stderr(&o);
    assert_success(&o);
    assert!(err.contains("notes.txt: ignored (photos are .jpg, .jpeg or .png)"), "{err}");
    assert!(err.contains("ana.webp: ignored"), "{err}");
    assert!(err.contains(".biden.jpg: skipped, its name starts with a dot (hidden): rename it to enrol it"), "{err}");
    assert!(!err.contains(".DS_Store"), "a hidden file that is no photo is passed over quietly: {err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("(3 warning(s) above)"));
}

/// An EXIF segment saying the picture is to be turned 90° clockwise to be seen upright
/// (Orientation = 6), as a phone held upright writes it.
fn exif_turn_clockwise() -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0".to_vec(); // little-endian TIFF, first directory at byte 8
    tiff.extend([1, 0]); // one entry:
    tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation, SHORT, 1 value, 6
    tiff.extend([0, 0, 0, 0]); // no further directory
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let length = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    [[0xFF, 0xE1].as_slice(), &length, &payload].concat()
}

/// A phone photo whose pixels lie on their side, with the EXIF tag that says so (#17 item 8),
/// is enrolled as the face it shows; without the tag it is (rightly) a photo with no face.
#[test]
fn a_photo_on_its_side_is_turned_as_its_exif_says() {
    let tmp = tempfile::tempdir().unwrap();
    let upright =
        imgcodecs::imread(setup_file("data/faces/obama.jpg").to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let mut on_side = Mat::default();
    opencv::core::rotate(&upright, &mut on_side, opencv::core::ROTATE_90_COUNTERCLOCKWISE).unwrap();
    let mut jpeg = Vector::<u8>::new();
    assert!(imgcodecs::imencode(".jpg", &on_side, &mut jpeg, &Vector::new()).unwrap());
    let jpeg: Vec<u8> = jpeg.iter().collect();
    let tagged = [&jpeg[..2], &exif_turn_clockwise(), &jpeg[2..]].concat(); // after the start marker

    for (folder, bytes, turned) in [("untagged", &jpeg, false), ("tagged", &tagged, true)] {
        let photos = tmp.path().join(folder);
        std::fs::create_dir(&photos).unwrap();
        std::fs::write(photos.join("obama.jpg"), bytes).unwrap();
        let roster = tmp.path().join(format!("{folder}.h5"));
        let o = enroll(&photos, &roster);
        let err = stderr(&o);
        if turned {
            assert_success(&o);
            assert_eq!(Roster::load(&roster).unwrap().ids, ["obama"]);
        } else {
            assert!(err.contains("obama.jpg: no face found"), "the control: HOG sees no face on its side:\n{err}");
        }
    }
}

/// A PNG chunk: length, type, data, CRC of type and data.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(&[kind.as_slice(), data].concat());
    [&u32::try_from(data.len()).unwrap().to_be_bytes(), kind.as_slice(), data, &crc.to_be_bytes()].concat()
}

/// A header promising 60000×60000 pixels is refused in one line naming the photo and its size,
/// not with OpenCV's assertion, before anything decodes it; a photo cut short is enrolled
/// with a warning naming it (#17 item 13).
#[test]
fn a_huge_header_is_named_and_a_cut_photo_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let huge = tmp.path().join("huge");
    std::fs::create_dir(&huge).unwrap();
    let header = [60000u32.to_be_bytes().as_slice(), &60000u32.to_be_bytes(), &[8, 2, 0, 0, 0]].concat();
    let chunks =
        [png_chunk(b"IHDR", &header), png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0, 0, 0, 0, 1]), png_chunk(b"IEND", &[])];
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &chunks.concat()].concat();
    std::fs::write(huge.join("bomb.png"), png).unwrap();
    let o = enroll(&huge, &tmp.path().join("huge.h5"));
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("bomb.png: 60000×60000 px (3600 megapixels) is more than an enrolment photo needs"), "{err}");
    assert!(!err.contains("Assertion"), "no raw OpenCV assertion:\n{err}");

    let cut = tmp.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    let whole = std::fs::read(setup_file("data/faces/obama.jpg")).unwrap();
    std::fs::write(cut.join("obama.jpg"), &whole[..whole.len() * 3 / 4]).unwrap();
    let o = enroll(&cut, &tmp.path().join("cut.h5"));
    assert_success(&o);
    let err = stderr(&o);
    assert!(err.contains("obama.jpg: the file is cut short (no end-of-image marker)"), "{err}");
    // The whole photo has no such warning.
    std::fs::write(cut.join("obama.jpg"), &whole).unwrap();
    let o = run(
        rollcall_command(),
        &["enroll", cut.to_str().unwrap(), "-o", tmp.path().join("whole.h5").to_str().unwrap()],
    );
    assert!(!stderr(&o).contains("cut short"), "{}", stderr(&o));
}

/// The same photo under two ids (`Obama.jpg`, `obama.jpg`) is warned about, naming both:
/// whichever sorts second would be Absent in every lecture. Three different photos of one
/// person under three ids are not near-identical.
#[test]
fn the_same_face_under_two_ids_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let twice = tmp.path().join("twice");
    std::fs::create_dir(&twice).unwrap();
    copy_face("obama.jpg", &twice.join("Obama.jpg"));
    copy_face("obama.jpg", &twice.join("obama.jpg"));
    let o = enroll(&twice, &tmp.path().join("twice.h5"));
    assert_success(&o);
    assert!(
        stderr(&o).contains("Obama (Obama.jpg) and obama (obama.jpg) are near-identical faces (distance 0.00)"),
        "{}",
        stderr(&o)
    );
    let three = tmp.path().join("three");
    std::fs::create_dir(&three).unwrap();
    for (id, photo) in [("a", "obama.jpg"), ("b", "obama2.jpg"), ("c", "obama3.jpg")] {
        copy_face(photo, &three.join(format!("{id}.jpg")));
    }
    let o = enroll(&three, &tmp.path().join("three.h5"));
    assert_success(&o);
    assert!(!stderr(&o).contains("near-identical"), "{}", stderr(&o));
}

/// A real decompression bomb: a PNG of 20000×20000 black pixels, about 1 MB on disk, which
/// decoded and upsampled for detection once took 9.5 GB and 42 s before failing. It is refused
/// from its header, naming it, and enrolment's memory stays that of the models.
#[test]
fn a_decompression_bomb_photo_is_refused_before_it_is_decoded() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    copy_face("obama.jpg", &photos.join("obama.jpg"));
    let bomb = photos.join("biden.png");
    // Streamed row by row with Python's zlib (the standard library): the test never holds it.
    let make = r#"
import struct, sys, zlib
side = 20000
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
deflate, row, parts = zlib.compressobj(9), bytes(1 + 3 * side), []
for _ in range(side):
    parts.append(deflate.compress(row))
parts.append(deflate.flush())
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)))
    f.write(chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
"#;
    let o = std::process::Command::new("python3").args(["-c", make]).arg(&bomb).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(&bomb).unwrap().len() < 5 << 20, "a small file");

    // Peak memory of the enrolment alone, as the kernel counts it for a child process.
    let measure = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); \
                   sys.stderr.buffer.write(r.stderr); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); \
                   sys.exit(r.returncode)";
    let roster = tmp.path().join("roster.h5");
    let o = std::process::Command::new("python3")
        .args(["-c", measure, env!("CARGO_BIN_EXE_rollcall"), "enroll"])
        .args([photos.to_str().unwrap(), "-o", roster.to_str().unwrap()])
        .current_dir(repo())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("biden.png: 20000×20000 px (400 megapixels) is more than an enrolment photo needs"), "{err}");
    let peak_kib: u64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(peak_kib < 1 << 20, "peak memory {} MiB", peak_kib >> 10);
    assert!(!roster.exists(), "no roster written");
}

/// `enroll --upsample` is held to what a job accepts (0 to 2): a photo doubled five times would
/// ask for gigabytes.
#[test]
fn enroll_refuses_an_upsampling_jobs_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = tmp.path().join("r.h5");
    let o = run(
        rollcall_command(),
        &["enroll", lecture_photos().to_str().unwrap(), "-o", roster.to_str().unwrap(), "--upsample", "5"],
    );
    assert_refused(&o, "invalid value '5' for '--upsample <N>': 5 is not in 0..=2");
    assert!(!roster.exists());
}

/// The short hall's unenrolled attendee (t1_e, there the whole lecture), enrolled from a run
/// that kept encodings under a new id, is Present in the next run with the roster rewritten
/// whole (0600, its source naming the run); report.html gave the command. A run without
/// --keep-unknown, or a person it does not have, is refused in one line and the roster is left.
#[test]
fn an_unenrolled_attendee_enrolled_from_the_recording_is_present_in_the_next_run() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let (kept, plain, next) = (tmp.path().join("kept"), tmp.path().join("plain"), tmp.path().join("next"));
    assert_success(&run(mpirun_command(2), &attend_args(&hall_video(), &roster, &kept, &["--keep-unknown", "-q"])));
    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &plain, &["--fps", "0.25", "-q"])));
    let html = read(&kept.join("report.html"));
    assert!(
        html.contains(&format!(
            "rollcall enroll --from-run {} --unknown 1 --as ID",
            kept.join("attendance.h5").display()
        )),
        "report.html gives the command"
    );

    let enrol = |result: &Path, person: &str| {
        let (result, roster) = (result.join("attendance.h5"), roster.to_str().unwrap().to_owned());
        let args = [
            "enroll",
            "--from-run",
            result.to_str().unwrap(),
            "--unknown",
            person,
            "--as",
            "eve",
            "--name",
            "Eve Visitor",
            "--roster",
            &roster,
        ];
        run(rollcall_command(), &args)
    };
    let before = std::fs::read(&roster).unwrap();
    assert_refused(
        &enrol(&plain, "1"),
        "kept no face encodings of unenrolled people: run that lecture again with --keep-unknown",
    );
    assert_refused(
        &enrol(&kept, "2"),
        "has no unenrolled person #2 (it has 1, numbered from 1 as report.html shows them)",
    );
    assert_eq!(std::fs::read(&roster).unwrap(), before, "the roster is left as it was");

    let o = enrol(&kept, "1");
    assert_success(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("as new student eve (Eve Visitor)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(std::fs::metadata(&roster).unwrap().permissions().mode() & 0o777, 0o600);
    let dump =
        std::process::Command::new("h5dump").args(["-d", "/roster/encoding_source"]).arg(&roster).output().unwrap();
    let sources = String::from_utf8_lossy(&dump.stdout);
    assert!(sources.contains(&format!("run {}, unenrolled #1", kept.join("attendance.h5").display())), "{sources}");

    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &next, &["-q"])));
    let attendance = read(&next.join("attendance.csv"));
    let eve = attendance.lines().find(|l| l.starts_with("eve,")).unwrap_or_else(|| panic!("{attendance}"));
    assert!(eve.ends_with(",Present"), "{eve}");
}
