//! The reports as their users read them: attendance.h5 through h5py, attendance.xlsx through
//! openpyxl and LibreOffice, docs/FORMAT.md against what is really written, and
//! `rollcall report` rebuilding the spreadsheets from the HDF5 file alone.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

/// One 2-rank dynamic run of the ground-truth lecture, every 30th frame.
fn run_lecture(dir: &Path) -> std::path::PathBuf {
    let roster = enrol_lecture(dir);
    let out = dir.join("run");
    let video = lecture_video();
    let o = run(
        mpirun_command(2),
        &attend_args(
            &video,
            &roster,
            &out,
            &[
                "--every",
                "30",
                "--rule",
                "frames",
                "--schedule",
                "dynamic",
                "--chunk",
                "2",
                "--title",
                "Week 1",
                "--date",
                "2026-10-05",
            ],
        ),
    );
    assert_success(&o);
    out
}

fn inspect(out: &Path) -> Value {
    let python = setup_file(".venv/bin/python");
    let o = Command::new(python).arg(repo().join("tests/py/inspect_outputs.py")).arg(out).output().unwrap();
    assert_success(&o);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Every group, dataset, compound field and attribute in the file is documented, and every
/// path the document lists is in the file.
#[test]
fn h5py_reads_every_dataset_and_format_md_matches_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_lecture(tmp.path());
    let found = inspect(&out);
    let doc = read(&repo().join("docs/FORMAT.md"));

    let objects = found["h5"].as_object().unwrap();
    for (path, entry) in objects {
        if path != "/" {
            assert!(doc.contains(&format!("`{path}`")), "{path} is written but not documented in docs/FORMAT.md");
        }
        let attrs = entry["attrs"].as_object().unwrap().keys().map(String::as_str);
        let fields = entry["fields"].as_array().into_iter().flatten().map(|f| f.as_str().unwrap());
        for name in attrs.chain(fields) {
            assert!(doc.contains(&format!("`{name}`")), "{path}: `{name}` is written but not documented");
        }
    }
    let documented: BTreeSet<&str> =
        doc.lines().filter_map(|l| l.strip_prefix("| `/")).map(|l| l.split('`').next().unwrap()).collect();
    for path in documented {
        assert!(objects.contains_key(&format!("/{path}")), "docs/FORMAT.md lists /{path}, which the file lacks");
    }
    // h5py saw real content, not just names.
    assert_eq!(objects["/roster/encoding"]["shape"], serde_json::json!([4, 128]));
    assert_eq!(
        objects["/detections"]["rows"], 26,
        "obama 10 + biden 5 + hanks 8 + stranger 3 faces at frames 0, 30, ..., 270"
    );
    let statuses: Vec<(String, String)> = found["h5_attendance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["student_id"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        statuses,
        [("ana", "Absent"), ("biden", "Absent"), ("hanks", "Present"), ("obama", "Present")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(objects["/settings"]["attrs"]["title"], "Week 1");
    assert_eq!(objects["/video"]["attrs"]["frame_count"], 300);
    assert!(objects["/software"]["attrs"]["opencv"].as_str().unwrap().starts_with('4'));
    // Provenance, real: this machine's host and CPU for both ranks, the command line as run.
    let provenance = &objects["/provenance"]["attrs"];
    assert!(provenance["command_line"].as_str().unwrap().contains("attend"), "{provenance}");
    assert!(provenance["start_utc"].as_str().unwrap().starts_with("20"), "{provenance}");
    assert_eq!(objects["/provenance/ranks"]["rows"], 2);
    let hosts = found["h5_hosts"].as_array().unwrap();
    for (rank, h) in hosts.iter().enumerate() {
        assert_eq!(h["rank"], rank);
        assert_eq!(h["host"].as_str(), Some(rollcall::about::host_name().as_str()));
        assert_eq!(h["cpu"].as_str(), Some(rollcall::about::cpu_model().as_str()));
        assert!(h["memory_bytes"].as_u64().unwrap() > 1 << 30);
    }
}

#[test]
fn the_workbook_opens_in_openpyxl_and_libreoffice() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_lecture(tmp.path());
    let xlsx = &inspect(&out)["xlsx"];
    let sheets: Vec<&str> = xlsx.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec!["Attendance", "Detections", "Ranks", "Settings", "Unenrolled", "Units"];
    expected.sort();
    assert_eq!(sheets, expected);

    let attendance = xlsx["Attendance"]["rows"].as_array().unwrap();
    assert_eq!(attendance[0][0], "Student ID");
    let hanks = attendance.iter().find(|r| r[0] == "hanks").unwrap();
    assert_eq!((hanks[2].as_f64(), hanks[3].as_f64(), &hanks[7]), (Some(10.0), Some(8.0), &Value::from("Present")));
    assert!((hanks[4].as_f64().unwrap() - 0.8).abs() < 1e-9, "presence is a number formatted as %");
    assert_eq!(xlsx["Attendance"]["conditional_formats"], 1, "status colours are conditional formats");
    for sheet in ["Attendance", "Detections", "Ranks", "Units", "Settings"] {
        assert_eq!(xlsx[sheet]["freeze"], "A2", "{sheet}: header row frozen");
    }
    assert_eq!(xlsx["Ranks"]["charts"], 1);
    assert_eq!(xlsx["Units"]["charts"], 1);
    assert_eq!(xlsx["Detections"]["rows"].as_array().unwrap().len(), 27);
    let settings = xlsx["Settings"]["rows"].as_array().unwrap();
    assert!(settings.iter().any(|r| r[0] == "schedule" && r[1] == "dynamic"));
    let host_row = format!("{}: {}", rollcall::about::host_name(), rollcall::about::cpu_model());
    for rank in 0..2 {
        let key = format!("rank {rank} ran on");
        assert!(
            settings.iter().any(|r| r[0] == key.as_str() && r[1].as_str().unwrap().starts_with(&host_row)),
            "{key}"
        );
    }
    assert!(settings.iter().any(|r| r[0] == "command_line"));
    let html = read(&out.join("report.html"));
    assert!(html.contains("<table id=\"provenance\">") && html.contains(&host_row), "report.html names the hosts");

    // LibreOffice, in a profile of its own so parallel tests don't share one.
    let pdf_dir = tmp.path().join("pdf");
    let o = Command::new("libreoffice")
        .arg(format!("-env:UserInstallation=file://{}", tmp.path().join("lo-profile").display()))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&pdf_dir)
        .arg(out.join("attendance.xlsx"))
        .output()
        .unwrap();
    assert_success(&o);
    let pdf = std::fs::read(pdf_dir.join("attendance.pdf")).expect("LibreOffice wrote no PDF");
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 10_000, "{} bytes", pdf.len());
}

#[test]
fn report_rebuilds_the_spreadsheets_from_hdf5_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_lecture(tmp.path());
    // Copy the result somewhere else so nothing but the HDF5 file is at hand.
    let alone = tmp.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    std::fs::copy(out.join("attendance.h5"), alone.join("attendance.h5")).unwrap();
    let again = tmp.path().join("again");
    let o = run(
        rollcall_command(),
        &["report", alone.join("attendance.h5").to_str().unwrap(), "-o", again.to_str().unwrap()],
    );
    assert_success(&o);
    for csv in ["attendance.csv", "detections.csv"] {
        assert_eq!(read(&again.join(csv)), read(&out.join(csv)), "{csv} differs");
    }
    assert_eq!(inspect(&again)["xlsx"]["Attendance"], inspect(&out)["xlsx"]["Attendance"]);

    // Not a result file: one clear line.
    let roster = tmp.path().join("roster.h5"); // from run_lecture
    let o =
        run(rollcall_command(), &["report", roster.to_str().unwrap(), "-o", tmp.path().join("x").to_str().unwrap()]);
    assert_refused(&o, "is not a rollcall result");
    assert!(!tmp.path().join("x").exists());
}

/// Each student's best face is evidence in the reports unless `--no-crops`; encodings of the
/// unenrolled are written only with `--keep-unknown`; every file holding either is 0600.
#[test]
fn face_crops_and_unknown_encodings_only_as_asked() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_lecture(tmp.path());
    let video = lecture_video();
    let plain = tmp.path().join("plain");
    assert_success(&run(rollcall_command(), &attend_args(&video, &roster, &plain, &["--every", "30"])));
    let asked = tmp.path().join("asked");
    let flags = ["--every", "30", "--no-crops", "--keep-unknown"];
    assert_success(&run(rollcall_command(), &attend_args(&video, &roster, &asked, &flags)));
    let (p, a) = (inspect(&plain), inspect(&asked));
    assert_eq!(p["h5"]["/unknown_encodings"]["shape"], serde_json::json!([0, 128]), "not kept by default");
    assert_eq!(a["h5"]["/unknown_encodings"]["shape"], serde_json::json!([1, 128]), "the stranger, kept when asked");
    assert!(p["h5"]["/crops/jpeg"]["rows"].as_u64().unwrap() > 1000, "three students' crops");
    assert_eq!(a["h5"]["/crops/jpeg"]["rows"], 0);
    let obama = |out: &Path| {
        let page = read(&out.join("report.html"));
        page.split("<tr data-student=\"obama\">").nth(1).unwrap().split("</tr>").next().unwrap().to_owned()
    };
    assert!(obama(&plain).contains("src=\"data:image/jpeg;base64,/9j/"), "a JPEG crop in the page");
    assert!(!read(&asked.join("report.html")).contains("data:image/jpeg"), "--no-crops: no face image");
    for out in [&plain, &asked] {
        for file in ["attendance.h5", "attendance.xlsx", "report.html"] {
            let mode = std::fs::metadata(out.join(file)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file}");
        }
    }
}
