//! `rollcall eval`: how right a finished run is, against the ground truth of a recording.
//!
//! The truth is what a teacher would have written down (`truth.csv`: who was Present, when they
//! came and left) and, optionally, what the camera saw frame by frame (`visibility.csv`: every
//! face in the room, its box, whether it was turned to the camera). `rollcall synth` writes
//! both next to the recordings it makes. The scores are measurements: they never fail a run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use crate::attendance::observation::Detection;
use crate::attendance::result::RunResult;
use crate::face::FaceBox;
use crate::synth::truth::{TRUTH_HEADER, VISIBILITY_HEADER};

/// A detection and a true face are the same face when their boxes overlap this much
/// (intersection over union): HOG's box and the pasted face's box differ by a few pixels.
const SAME_FACE_IOU: f64 = 0.3;

/// Face-width bands for detection recall, pixels of the original frame: (label, from, to).
pub const WIDTH_BANDS: [(&str, i32, i32); 4] =
    [("< 30 px", 0, 30), ("30-40 px", 30, 40), ("40-60 px", 40, 60), (">= 60 px", 60, i32::MAX)];

/// One enrolled student as the truth has them.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthRow {
    pub student_id: String,
    pub present: bool,
    pub arrive_s: Option<f64>,
    pub leave_s: Option<f64>,
}

/// One person's face in one frame, from `visibility.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub frame: u64,
    pub person_id: String,
    pub visible: bool,
    pub bbox: FaceBox,
}

/// One student's line of the comparison.
#[derive(Debug, Clone)]
pub struct StudentScore {
    pub student_id: String,
    pub truth: TruthRow,
    pub run_present: bool,
    pub first_seen_s: Option<f64>,
    pub last_seen_s: Option<f64>,
}

impl StudentScore {
    pub fn right(&self) -> bool {
        self.truth.present == self.run_present
    }
}

/// Mean and largest absolute error, over the students both sides have a time for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Errors {
    pub count: usize,
    pub mean_abs_s: f64,
    pub max_abs_s: f64,
}

impl Errors {
    fn of(pairs: impl Iterator<Item = (Option<f64>, Option<f64>)>) -> Errors {
        let errors: Vec<f64> = pairs.filter_map(|(t, r)| Some((r? - t?).abs())).collect();
        if errors.is_empty() {
            return Errors::default();
        }
        Errors {
            count: errors.len(),
            mean_abs_s: errors.iter().sum::<f64>() / errors.len() as f64,
            max_abs_s: errors.iter().copied().fold(0.0, f64::max),
        }
    }
}

/// Scores that need the per-frame truth.
#[derive(Debug, Clone, Default)]
pub struct FaceScores {
    /// Per band of [`WIDTH_BANDS`]: (visible faces found, visible faces).
    pub recall: Vec<(usize, usize)>,
    /// Found faces that were given a student: (the right one, all).
    pub identity: (usize, usize),
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub students: Vec<StudentScore>,
    pub arrival: Errors,
    pub departure: Errors,
    pub faces: Option<FaceScores>,
    /// Detections given to a student who was not in the room then, and how many students.
    pub false_identities: (usize, usize),
}

impl Evaluation {
    pub fn right(&self) -> usize {
        self.students.iter().filter(|s| s.right()).count()
    }

    /// The table `rollcall eval` prints; its last line is `students right: K/N`.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let status = |p: bool| if p { "Present" } else { "Absent" };
        let time = |t: Option<f64>| t.map_or("-".to_owned(), |t| format!("{t:.1}"));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:<9} {:>7} {:>10} {:>7} {:>9}",
            "student_id", "truth", "rollcall", "arrive", "first seen", "leave", "last seen"
        );
        for s in &self.students {
            let _ = writeln!(
                out,
                "{:<14} {:<8} {:<9} {:>7} {:>10} {:>7} {:>9}{}",
                s.student_id,
                status(s.truth.present),
                status(s.run_present),
                time(s.truth.arrive_s),
                time(s.first_seen_s),
                time(s.truth.leave_s),
                time(s.last_seen_s),
                if s.right() { "" } else { "   <- wrong" }
            );
        }
        out.push('\n');
        for (name, value) in self.metrics() {
            let _ = writeln!(out, "{name:<34} {value}");
        }
        let _ = write!(out, "students right: {}/{}", self.right(), self.students.len());
        out
    }

    /// Every figure as (name, value), in the order of the table; the rows of `--csv`.
    pub fn metrics(&self) -> Vec<(String, String)> {
        let share = |(k, n): (usize, usize)| {
            if n == 0 {
                "-".to_owned()
            } else {
                // Never "100.0%" for a share that misses some, nor "0.0%" for one that has some.
                let percent = 100.0 * k as f64 / n as f64;
                let decimals = if (k < n && percent > 99.9) || (k > 0 && percent < 0.1) { 2 } else { 1 };
                format!("{k}/{n} ({percent:.decimals$}%)")
            }
        };
        let errors = |e: Errors| {
            if e.count == 0 {
                "-".to_owned()
            } else {
                format!("mean {:.1} s, max {:.1} s ({} students)", e.mean_abs_s, e.max_abs_s, e.count)
            }
        };
        let wrong: Vec<&str> = self.students.iter().filter(|s| !s.right()).map(|s| s.student_id.as_str()).collect();
        let mut rows = vec![
            ("students right".to_owned(), format!("{}/{}", self.right(), self.students.len())),
            ("wrong students".to_owned(), if wrong.is_empty() { "-".to_owned() } else { wrong.join(" ") }),
            ("arrival error".to_owned(), errors(self.arrival)),
            ("departure error".to_owned(), errors(self.departure)),
        ];
        match &self.faces {
            Some(f) => {
                for ((label, _, _), &counts) in WIDTH_BANDS.iter().zip(&f.recall) {
                    rows.push((format!("detection recall {label}"), share(counts)));
                }
                let all = f.recall.iter().fold((0, 0), |(a, b), &(k, n)| (a + k, b + n));
                rows.push(("detection recall (all widths)".to_owned(), share(all)));
                rows.push(("identity precision".to_owned(), share(f.identity)));
            }
            None => rows.push(("detection recall".to_owned(), "- (no --visibility file)".to_owned())),
        }
        let (detections, students) = self.false_identities;
        rows.push((
            "false identities".to_owned(),
            format!("{detections} faces given to {students} student(s) not in the room"),
        ));
        rows
    }

    /// Writes the metrics as `metric,value` rows.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        crate::util::output::write_atomically(path, crate::util::output::Access::Shared, |tmp| {
            let mut w = csv::Writer::from_path(tmp)?;
            w.write_record(["metric", "value"])?;
            for (name, value) in self.metrics() {
                w.write_record([name, value])?;
            }
            w.flush()?;
            Ok(())
        })
    }
}

/// The result file of a run folder (or the file itself when given one).
pub fn result_file(run: &Path) -> Result<PathBuf> {
    let file = if run.is_dir() { run.join(crate::report::RESULT_FILE) } else { run.to_path_buf() };
    ensure!(
        file.is_file(),
        "{} has no {}: not the output folder of a finished rollcall run",
        run.display(),
        crate::report::RESULT_FILE
    );
    Ok(file)
}

fn open_csv(path: &Path, what: &str, header: &[&str]) -> Result<csv::Reader<std::fs::File>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read the {what} file {}", path.display()))?;
    let found: Vec<String> = reader
        .headers()
        .with_context(|| format!("{what} file {}", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if found != header {
        bail!(
            "{what} file {}: the header must be exactly `{}`, found `{}`",
            path.display(),
            header.join(","),
            found.join(",")
        );
    }
    Ok(reader)
}

fn number<T: std::str::FromStr>(text: &str, path: &Path, line: usize, column: &str) -> Result<T> {
    text.trim().parse().map_err(|_| anyhow::anyhow!("{}:{line}: {column} {text:?} is not a number", path.display()))
}

pub fn read_truth(path: &Path) -> Result<Vec<TruthRow>> {
    let mut reader = open_csv(path, "truth", &TRUTH_HEADER)?;
    let mut rows = Vec::new();
    let mut ids = HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.with_context(|| format!("{}:{line}: not a CSV row", path.display()))?;
        let id = r[0].trim().to_owned();
        ensure!(ids.insert(id.clone()), "{}:{line}: student {id:?} appears twice", path.display());
        let present = match r[1].trim() {
            "Present" => true,
            "Absent" => false,
            other => bail!("{}:{line}: status {other:?} is neither Present nor Absent", path.display()),
        };
        let time = |text: &str, column| -> Result<Option<f64>> {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                number(text, path, line, column).map(Some)
            }
        };
        let (arrive_s, leave_s) = (time(&r[2], "arrive_s")?, time(&r[3], "leave_s")?);
        ensure!(
            arrive_s.is_some() == leave_s.is_some(),
            "{}:{line}: give both arrive_s and leave_s, or neither (a student who never came)",
            path.display()
        );
        if let (Some(arrive), Some(leave)) = (arrive_s, leave_s) {
            ensure!(
                arrive.is_finite() && leave.is_finite() && (0.0..=leave).contains(&arrive),
                "{}:{line}: arrive_s {arrive} and leave_s {leave} must be seconds from the start, with 0 <= arrive_s <= leave_s",
                path.display()
            );
        }
        ensure!(
            !present || arrive_s.is_some(),
            "{}:{line}: {id:?} is Present but has no arrive_s and leave_s: say when they were in the room",
            path.display()
        );
        rows.push(TruthRow { student_id: id, present, arrive_s, leave_s });
    }
    ensure!(!rows.is_empty(), "truth file {} has no students", path.display());
    Ok(rows)
}

pub fn read_visibility(path: &Path) -> Result<Vec<Sighting>> {
    let mut reader = open_csv(path, "visibility", &VISIBILITY_HEADER)?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.with_context(|| format!("{}:{line}: not a CSV row", path.display()))?;
        let int = |k: usize| number::<i32>(&r[k], path, line, VISIBILITY_HEADER[k]);
        rows.push(Sighting {
            frame: number(&r[0], path, line, "frame")?,
            person_id: r[2].to_owned(),
            visible: r[4].trim() == "1",
            bbox: FaceBox { x: int(5)?, y: int(6)?, w: int(7)?, h: int(8)? },
        });
    }
    Ok(rows)
}

/// Compares `run` with the truth. Every truth student must be on the run's roster and every
/// rostered student in the truth, or the comparison would silently skip someone.
pub fn evaluate(run: &RunResult, truth: &[TruthRow], visibility: Option<&[Sighting]>) -> Result<Evaluation> {
    let by_id: HashMap<&str, usize> =
        run.attendance.iter().enumerate().map(|(i, a)| (a.student_id.as_str(), i)).collect();
    if let Some(t) = truth.iter().find(|t| !by_id.contains_key(t.student_id.as_str())) {
        bail!("truth student {:?} is not on the run's roster ({} students)", t.student_id, run.attendance.len());
    }
    let in_truth: HashSet<&str> = truth.iter().map(|t| t.student_id.as_str()).collect();
    if let Some(a) = run.attendance.iter().find(|a| !in_truth.contains(a.student_id.as_str())) {
        bail!("the run's roster has student {:?}, whom the truth file does not list", a.student_id);
    }
    let students: Vec<StudentScore> = truth
        .iter()
        .map(|t| {
            let a = &run.attendance[by_id[t.student_id.as_str()]];
            StudentScore {
                student_id: t.student_id.clone(),
                truth: t.clone(),
                run_present: a.present,
                first_seen_s: a.first_seen_s,
                last_seen_s: a.last_seen_s,
            }
        })
        .collect();
    let arrival = Errors::of(students.iter().map(|s| (s.truth.arrive_s, s.first_seen_s)));
    let departure = Errors::of(students.iter().map(|s| (s.truth.leave_s, s.last_seen_s)));
    let sampled: HashSet<u64> = crate::attendance::result::analysed_frames(&run.sampled, &run.failed_frames).collect();
    let visibility: Option<Vec<&Sighting>> =
        visibility.map(|v| v.iter().filter(|s| sampled.contains(&s.frame)).collect());
    let faces = visibility.as_deref().map(|v| face_scores(run, v));
    let false_identities = false_identities(run, truth, visibility.as_deref());
    Ok(Evaluation { students, arrival, departure, faces, false_identities })
}

fn iou(a: &FaceBox, b: &FaceBox) -> f64 {
    let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
    let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
    if w <= 0 || h <= 0 {
        return 0.0;
    }
    let inter = f64::from(w) * f64::from(h);
    inter / (f64::from(a.w) * f64::from(a.h) + f64::from(b.w) * f64::from(b.h) - inter)
}

/// Pairs each visible face with at most one detection of its frame (greedy by overlap).
fn pair_faces<'a>(detections: &'a [Detection], visible: &[&'a Sighting]) -> Vec<(&'a Sighting, &'a Detection)> {
    let mut by_frame: BTreeMap<u64, (Vec<&Sighting>, Vec<&Detection>)> = BTreeMap::new();
    for s in visible {
        by_frame.entry(s.frame).or_default().0.push(s);
    }
    for d in detections {
        if let Some(entry) = by_frame.get_mut(&d.frame) {
            entry.1.push(d);
        }
    }
    let mut pairs = Vec::new();
    for (truths, found) in by_frame.into_values() {
        let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
        for (i, s) in truths.iter().enumerate() {
            for (j, d) in found.iter().enumerate() {
                let o = iou(&s.bbox, &d.bbox);
                if o >= SAME_FACE_IOU {
                    candidates.push((o, i, j));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        let (mut used_truth, mut used_found) = (HashSet::new(), HashSet::new());
        for (_, i, j) in candidates {
            if !used_truth.contains(&i) && !used_found.contains(&j) {
                used_truth.insert(i);
                used_found.insert(j);
                pairs.push((truths[i], found[j]));
            }
        }
    }
    pairs
}

fn face_scores(run: &RunResult, in_sampled: &[&Sighting]) -> FaceScores {
    let visible: Vec<&Sighting> = in_sampled.iter().copied().filter(|s| s.visible).collect();
    let pairs = pair_faces(&run.detections, &visible);
    let band_of = |w: i32| WIDTH_BANDS.iter().position(|&(_, lo, hi)| lo <= w && w < hi).unwrap_or(0);
    let mut recall = vec![(0, 0); WIDTH_BANDS.len()];
    for s in &visible {
        recall[band_of(s.bbox.w)].1 += 1;
    }
    for (s, _) in &pairs {
        recall[band_of(s.bbox.w)].0 += 1;
    }
    let named: Vec<_> = pairs.iter().filter_map(|(s, d)| Some((s, d.student?))).collect();
    let right = named.iter().filter(|(s, student)| run.roster.ids[*student as usize] == s.person_id).count();
    FaceScores { recall, identity: (right, named.len()) }
}

/// Detections given to a student who was not in the room at that frame: by the per-frame
/// truth when there is one, else outside the student's arrival–departure span.
fn false_identities(run: &RunResult, truth: &[TruthRow], visibility: Option<&[&Sighting]>) -> (usize, usize) {
    let in_room: Option<HashSet<(u64, &str)>> =
        visibility.map(|v| v.iter().map(|s| (s.frame, s.person_id.as_str())).collect());
    let span: HashMap<&str, (Option<f64>, Option<f64>)> =
        truth.iter().map(|t| (t.student_id.as_str(), (t.arrive_s, t.leave_s))).collect();
    let mut students = HashSet::new();
    let mut count = 0;
    for d in &run.detections {
        let Some(student) = d.student else { continue };
        let id = run.roster.ids[student as usize].as_str();
        let there = match &in_room {
            Some(set) => set.contains(&(d.frame, id)),
            None => matches!(span.get(id), Some(&(Some(a), Some(l))) if a <= d.time_s && d.time_s < l),
        };
        if !there {
            count += 1;
            students.insert(id);
        }
    }
    (count, students.len())
}
