//! The teacher's word on a semester: `--overrides FILE.csv` (or `overrides:` in a manifest),
//! one corrected or excused cell a line, `student_id,lecture,status,reason,by`. Read whole and
//! checked against the semester's students and lectures before anything is written: a line that
//! names no student or lecture, a status outside the three, or a cell already overridden is
//! refused, naming the file and the line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use serde::Deserialize;

/// A lecture's status in the semester: measured by rollcall (Present or Absent at the
/// semester's threshold) or set by a teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Status {
    Present,
    Absent,
    /// Counts neither for nor against the student: out of their mean presence.
    Excused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Present => "Present",
            Status::Absent => "Absent",
            Status::Excused => "Excused",
        }
    }
}

/// One line of an overrides file, its lecture resolved to the lecture's index.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub status: Status,
    pub reason: String,
    pub by: String,
    /// Line of the file (the header is line 1).
    pub line: u64,
}

/// Overrides by (student id, lecture index).
pub type Overrides = BTreeMap<(String, usize), Override>;

/// A lecture as an override may name it: by its manifest name (`week1`) or by its column
/// heading in semester.csv (`2026-10-05 Introduction`).
pub struct LectureNames<'a> {
    pub name: &'a str,
    pub heading: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    student_id: String,
    lecture: String,
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    by: String,
}

/// Reads the overrides in `path` for a semester of `lectures` whose students are `enrolled`
/// (student id → the indices of the lectures on whose roster they were).
pub fn load(path: &Path, lectures: &[LectureNames], enrolled: &BTreeMap<String, Vec<usize>>) -> Result<Overrides> {
    let text = crate::util::input::read_text(path, "overrides file")?;
    let file = path.display();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    if header != ["student_id", "lecture", "status", "reason", "by"] {
        bail!(
            "overrides {file} line 1: the header must be student_id,lecture,status,reason,by, not {}",
            header.join(",")
        );
    }
    let mut overrides = Overrides::new();
    for record in reader.records() {
        let record = record.map_err(|e| anyhow::anyhow!("overrides {file}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = format!("overrides {file} line {line}");
        let l: Line = record.deserialize(None).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        let status = match l.status.as_str() {
            "Present" => Status::Present,
            "Absent" => Status::Absent,
            "Excused" => Status::Excused,
            other => bail!("{at}: status {other:?} is not Present, Absent or Excused"),
        };
        let Some(lecture) = lectures.iter().position(|n| n.name == l.lecture || n.heading == l.lecture) else {
            bail!(
                "{at}: no lecture {:?} in this semester (name a lecture by its manifest name or its column heading)",
                l.lecture
            );
        };
        let Some(on_rosters) = enrolled.get(&l.student_id) else {
            bail!("{at}: no student {:?} in this semester's rosters", l.student_id);
        };
        if !on_rosters.contains(&lecture) {
            bail!("{at}: student {:?} was not on the roster of lecture {:?}", l.student_id, l.lecture);
        }
        let this = Override { status, reason: l.reason, by: l.by, line };
        if let Some(first) = overrides.insert((l.student_id.clone(), lecture), this) {
            bail!(
                "{at}: student {:?} in lecture {:?} is overridden already, on line {}",
                l.student_id,
                l.lecture,
                first.line
            );
        }
    }
    Ok(overrides)
}
