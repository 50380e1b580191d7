//! `rollcall semester`: three lectures, one with a different roster, merged by student id.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Enrols the lecture photos, leaving out `skip` (a student who joined the course later).
fn enrol_without(dir: &Path, skip: &str) -> PathBuf {
    let photos = dir.join(format!("photos-without-{skip}"));
    std::fs::create_dir_all(&photos).unwrap();
    for entry in std::fs::read_dir(lecture_photos()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "roster.csv" {
            let kept: String =
                read(&path).lines().filter(|l| !l.starts_with(&format!("{skip},"))).map(|l| format!("{l}\n")).collect();
            std::fs::write(photos.join(name), kept).unwrap();
        } else if !name.starts_with(skip) {
            std::fs::copy(&path, photos.join(name)).unwrap();
        }
    }
    let roster = dir.join(format!("roster-without-{skip}.h5"));
    assert_success(&run(rollcall_command(), &["enroll", photos.to_str().unwrap(), "-o", roster.to_str().unwrap()]));
    roster
}

/// Runs the lecture every 30th frame (t = 0, 3, ..., 27 s) into `out`.
fn attend(roster: &Path, out: &Path, extra: &[&str]) {
    // Presence by sampled frames: the numbers below are shares of the 10 sampled frames.
    let every: Vec<&str> = ["--every", "30", "--rule", "frames"].into_iter().chain(extra.iter().copied()).collect();
    assert_success(&run(rollcall_command(), &attend_args(&lecture_video(), roster, out, &every)));
}

#[test]
fn lectures_merge_by_student_and_not_enrolled_is_not_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let full = enrol_lecture(tmp.path());
    let without_hanks = enrol_without(tmp.path(), "hanks");
    let runs = tmp.path().join("runs");
    attend(&full, &runs.join("w1"), &["--title", "Week 1", "--date", "2026-10-05"]);
    attend(&without_hanks, &runs.join("w2"), &["--title", "Week 2", "--date", "2026-10-12"]);
    attend(&full, &runs.join("w3"), &[]);

    let workbook = tmp.path().join("semester.xlsx");
    let result = |w: &str| runs.join(w).join("attendance.h5").to_str().unwrap().to_owned();
    let o = run(
        rollcall_command(),
        &["semester", &result("w1"), &result("w2"), &result("w3"), "-o", workbook.to_str().unwrap()],
    );
    assert_success(&o);
    assert!(tmp.path().join("attendance-long.csv").exists(), "the long table beside semester.xlsx");
    // The same lecture twice, or a workbook named .csv (which the csv would overwrite): refused.
    let again = runs.join("w1/../w1/attendance.h5");
    let other = tmp.path().join("twice.xlsx");
    let o =
        run(rollcall_command(), &["semester", &result("w1"), again.to_str().unwrap(), "-o", other.to_str().unwrap()]);
    assert!(stderr(&o).contains("are the same result file: each lecture counts once"), "{}", stderr(&o));
    // Two runs of one lecture (same date and title, from different folders): refused too.
    attend(&full, &runs.join("w1-again"), &["--title", "Week 1", "--date", "2026-10-05"]);
    let o = run(rollcall_command(), &["semester", &result("w1"), &result("w1-again"), "-o", other.to_str().unwrap()]);
    assert!(stderr(&o).contains("are both lecture \"2026-10-05 Week 1\": each lecture counts once"), "{}", stderr(&o));
    let o = run(rollcall_command(), &["semester", &result("w1"), "-o", tmp.path().join("x.csv").to_str().unwrap()]);
    assert!(stderr(&o).contains("name the workbook FILE.xlsx"), "{}", stderr(&o));
    assert!(!other.exists() && !tmp.path().join("x.csv").exists(), "nothing written");
    // By construction: sampled at t = 0, 3, ..., 27 s, Biden leaves at 15 s (5 of 10 frames),
    // Hanks arrives at 5 s (8 of 10), Ana never comes; Hanks is not on week 2's roster.
    assert_eq!(
        read(&tmp.path().join("semester.csv")),
        "student_id,name,2026-10-05 Week 1,2026-10-12 Week 2,w3,lectures_enrolled,lectures_present,mean_presence,below_threshold,lectures_excused\n\
         ana,Ana Absent,0.0000,0.0000,0.0000,3,0,0.0000,yes,0\n\
         biden,Joe Biden,0.5000,0.5000,0.5000,3,0,0.5000,yes,0\n\
         hanks,Tom Hanks,0.8000,not enrolled,0.8000,2,2,0.8000,no,0\n\
         obama,Barack Obama,1.0000,1.0000,1.0000,3,3,1.0000,no,0\n"
    );
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&workbook).unwrap();
    let sheet = wb.worksheet_range("Semester").unwrap();
    assert_eq!(sheet.get_value((3, 3)), Some(&Data::String("not enrolled".into())));
    assert_eq!(sheet.get_value((3, 2)), Some(&Data::Float(0.8)));

    // The manifest form: headings from the manifest, results found under its output folder.
    let manifest = tmp.path().join("course.yaml");
    let video = lecture_video();
    std::fs::write(
        &manifest,
        format!(
            "course: CS101\nroster: roster.h5\noutput: runs\nlectures:\n\
             \x20 - {{video: {v}, name: w1, date: 2026-10-05, title: Intro}}\n\
             \x20 - {{video: {v}, name: w2, date: 2026-10-12, title: Sorting, roster: roster-without-hanks.h5}}\n",
            v = video.display()
        ),
    )
    .unwrap();
    let o = run(
        rollcall_command(),
        &["semester", "--manifest", manifest.to_str().unwrap(), "-o", tmp.path().join("cs101.xlsx").to_str().unwrap()],
    );
    assert_success(&o);
    let csv = read(&tmp.path().join("cs101.csv"));
    assert!(csv.starts_with("student_id,name,2026-10-05 Intro,2026-10-12 Sorting,lectures_enrolled"), "{csv}");
    assert!(csv.contains("hanks,Tom Hanks,0.8000,not enrolled,1,1,0.8000,no,0\n"), "{csv}");

    // The same manifest drives `attend` for one lecture, and `lectures` checks it.
    let o = run(rollcall_command(), &["lectures", manifest.to_str().unwrap()]);
    assert_success(&o);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 2);
    let o = run(rollcall_command(), &["attend", "--manifest", manifest.to_str().unwrap(), "--lecture", "2"]);
    assert!(stderr(&o).contains("the manifest's lectures are numbered 0 to 1 (2 in all), not 2"), "{}", stderr(&o));
    std::fs::write(
        &manifest,
        read(&manifest)
            .replace("name: w2", "name: w2, video: nowhere.avi")
            .replace(&format!("{{video: {}, name: w2", video.display()), "{name: w2"),
    )
    .unwrap();
    let o = run(rollcall_command(), &["lectures", manifest.to_str().unwrap()]);
    assert_refused(&o, "nowhere.avi does not exist");

    // A file that is not a result: one line, nothing written.
    let o = run(
        rollcall_command(),
        &["semester", full.to_str().unwrap(), "-o", tmp.path().join("bad.xlsx").to_str().unwrap()],
    );
    assert_refused(&o, "is not a rollcall result");
    assert!(!tmp.path().join("bad.xlsx").exists() && !tmp.path().join("bad.csv").exists());
}

/// A manifest whose lectures have not all run yet names every missing result at once, and
/// `--skip-missing` builds the table from the rest; a lecture name that would put results
/// outside the manifest's output folder is refused.
#[test]
fn a_manifest_with_missing_results_or_a_name_outside_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("res/wk1")).unwrap();
    std::fs::copy(repo().join("tests/fixtures/upgrade/format2-dd52a8b.h5"), dir.path().join("res/wk1/attendance.h5"))
        .unwrap();
    let video = lecture_video();
    let manifest = dir.path().join("semester.yaml");
    let lecture = |name: &str| format!("  - {{video: {}, name: {name}}}\n", video.display());
    let write = |names: &[&str]| {
        let lectures: String = names.iter().map(|n| lecture(n)).collect();
        std::fs::write(&manifest, format!("course: C\nroster: roster.h5\noutput: res\nlectures:\n{lectures}")).unwrap();
    };
    write(&["wk1", "wk2", "wk3"]);
    let m = manifest.to_str().unwrap();
    let o = run(rollcall_command(), &["semester", "--manifest", m]);
    let line = assert_refused(&o, "2 of the manifest's 3 lectures have no result yet (");
    assert!(
        line.contains("wk2/attendance.h5") && line.contains("wk3/attendance.h5") && line.contains("--skip-missing")
    );
    assert!(!dir.path().join("res/semester.xlsx").exists());
    let o = run(rollcall_command(), &["semester", "--manifest", m, "--skip-missing"]);
    assert_success(&o);
    assert!(stderr(&o).contains("left out 2 of 3 lectures without a result yet"), "{}", stderr(&o));
    assert_eq!(read(&dir.path().join("res/semester.csv")).lines().count(), 5, "4 students of the one lecture run");

    write(&["wk1", "../../escaped"]);
    for command in [&["semester", "--manifest", m][..], &["lectures", m]] {
        assert_refused(&run(rollcall_command(), command), "lecture name \"../../escaped\" is not a plain folder name");
    }
}

/// A teacher's word on three lectures (real runs): Biden excused from week 2 (a medical note),
/// Ana marked Present in the lab the camera missed her in. The totals follow the overrides,
/// the workbook marks the cells and lists every override beside what rollcall measured, the
/// long CSV says which status is whose; a bad line is refused naming its line, writing nothing.
#[test]
fn overrides_excuse_and_correct_cells_with_an_audit_trail() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    std::fs::rename(&roster, tmp.path().join("roster.h5")).ok();
    for week in ["w1", "w2", "w3"] {
        attend(&tmp.path().join("roster.h5"), &tmp.path().join("runs").join(week), &[]);
    }
    let video = lecture_video();
    let manifest = tmp.path().join("course.yaml");
    let lecture = |name: &str, date: &str, title: &str| {
        format!("  - {{video: {}, name: {name}, date: {date}, title: {title}}}\n", video.display())
    };
    std::fs::write(
        &manifest,
        format!(
            "course: C\nroster: roster.h5\noutput: runs\noverrides: overrides.csv\nlectures:\n{}{}{}",
            lecture("w1", "2026-10-05", "Intro"),
            lecture("w2", "2026-10-12", "Sorting"),
            lecture("w3", "2026-10-19", "Lab")
        ),
    )
    .unwrap();
    let overrides = tmp.path().join("overrides.csv");
    let header = "student_id,lecture,status,reason,by\n";
    let good = "biden,w2,Excused,medical note,Dr. Smith\nana,2026-10-19 Lab,Present,camera missed her,TA Jones\n";
    let m = manifest.to_str().unwrap();
    let runs = tmp.path().join("runs");

    // Each bad line refused, naming the file and its line; nothing written.
    let bad = [
        ("nobody,w1,Present,,", "line 3: no student \"nobody\" in this semester's rosters"),
        ("obama,week9,Present,,", "line 3: no lecture \"week9\" in this semester"),
        ("obama,w1,Late,,", "line 3: status \"Late\" is not Present, Absent or Excused"),
        (
            "biden,2026-10-12 Sorting,Absent,,",
            "line 3: student \"biden\" in lecture \"2026-10-12 Sorting\" is overridden already, on line 2",
        ),
    ];
    for (line, message) in bad {
        std::fs::write(&overrides, format!("{header}biden,w2,Excused,medical note,Dr. Smith\n{line}\n")).unwrap();
        assert_refused(
            &run(rollcall_command(), &["semester", "--manifest", m]),
            &format!("overrides {} {message}", overrides.display()),
        );
        assert!(
            !runs.join("semester.xlsx").exists() && !runs.join("attendance-long.csv").exists(),
            "{line}: nothing written"
        );
    }

    std::fs::write(&overrides, format!("{header}{good}")).unwrap();
    let o = run(rollcall_command(), &["semester", "--manifest", m]);
    assert_success(&o);
    // Rollcall measured Ana 0 and Biden 0.5 everywhere (see the test above).
    assert_eq!(
        read(&runs.join("semester.csv")),
        "student_id,name,2026-10-05 Intro,2026-10-12 Sorting,2026-10-19 Lab,lectures_enrolled,lectures_present,mean_presence,below_threshold,lectures_excused\n\
         ana,Ana Absent,0.0000,0.0000,Present,3,1,0.3333,yes,0\n\
         biden,Joe Biden,0.5000,Excused,0.5000,3,0,0.5000,yes,1\n\
         hanks,Tom Hanks,0.8000,0.8000,0.8000,3,3,0.8000,no,0\n\
         obama,Barack Obama,1.0000,1.0000,1.0000,3,3,1.0000,no,0\n"
    );
    let long = read(&runs.join("attendance-long.csv"));
    let lines: Vec<&str> = long.lines().collect();
    assert_eq!(lines[0], "student_id,name,lecture,date,title,presence,status,source,reason,by");
    assert_eq!(lines.len(), 1 + 4 * 3, "a row per student per lecture");
    assert!(
        lines.contains(&"ana,Ana Absent,w3,2026-10-19,Lab,0.0000,Present,override,camera missed her,TA Jones"),
        "{long}"
    );
    assert!(
        lines.contains(&"biden,Joe Biden,w2,2026-10-12,Sorting,0.5000,Excused,override,medical note,Dr. Smith"),
        "{long}"
    );
    assert!(lines.contains(&"biden,Joe Biden,w1,2026-10-05,Intro,0.5000,Absent,rollcall,,"), "{long}");

    // The workbook as openpyxl reads it: the Overrides sheet, and a note on each overridden cell.
    let script = "import sys, openpyxl\n\
                  wb = openpyxl.load_workbook(sys.argv[1])\n\
                  for row in wb['Overrides'].iter_rows(values_only=True): print('|'.join(str(v) for v in row))\n\
                  ws = wb['Semester']\n\
                  for row in ws.iter_rows():\n\
                  \x20   for c in row:\n\
                  \x20       if c.comment: print(f'note {c.coordinate} {c.value}: {c.comment.text} ({c.comment.author})')";
    let o = std::process::Command::new(setup_file(".venv/bin/python"))
        .args(["-c", script])
        .arg(runs.join("semester.xlsx"))
        .output()
        .unwrap();
    assert_success(&o);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "Student ID|Name|Lecture|Status|rollcall's status|rollcall's presence|Reason|By\n\
         ana|Ana Absent|2026-10-19 Lab|Present|Absent|0|camera missed her|TA Jones\n\
         biden|Joe Biden|2026-10-12 Sorting|Excused|Absent|0.5|medical note|Dr. Smith\n\
         note E2 Present: TA Jones:\nPresent (rollcall measured 0%, Absent): camera missed her (TA Jones)\n\
         note D3 Excused: Dr. Smith:\nExcused (rollcall measured 50%, Absent): medical note (Dr. Smith)\n"
    );
}
