//! The ground truth written next to a generated recording, for `rollcall eval`.
//!
//! `truth.csv` is what a teacher would have recorded: one row per enrolled student with
//! Present/Absent and when they arrived and left. `visibility.csv` is what the camera saw:
//! one row per frame per person in the room, with their face box and whether the face was
//! turned to the camera, so that detection can be scored face by face.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::scenario::Scenario;

/// Header of `truth.csv` (a contract with `rollcall eval`).
pub const TRUTH_HEADER: [&str; 4] = ["student_id", "status", "arrive_s", "leave_s"];
/// Header of `visibility.csv`.
pub const VISIBILITY_HEADER: [&str; 9] = ["frame", "time_s", "person_id", "enrolled", "visible", "x", "y", "w", "h"];

pub fn truth_path(video: &Path) -> PathBuf {
    video.with_file_name("truth.csv")
}

pub fn visibility_path(video: &Path) -> PathBuf {
    video.with_file_name("visibility.csv")
}

/// Writes `truth.csv`: Present when in the room for at least the scenario's threshold share
/// of the recording; arrival is the first time in, departure the last time out.
pub fn write_truth(scenario: &Scenario, path: &Path) -> Result<()> {
    let mut out = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    out.write_record(TRUTH_HEADER)?;
    for p in scenario.people.iter().filter(|p| p.enrolled) {
        let share = p.time_in_room(scenario.seconds) / scenario.seconds;
        let status = if share >= scenario.threshold { "Present" } else { "Absent" };
        let intervals = p.intervals();
        let arrive = intervals.iter().map(|i| i[0].max(0.0)).reduce(f64::min);
        let leave = intervals.iter().map(|i| i[1].min(scenario.seconds)).reduce(f64::max);
        let text = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        out.write_record([p.id.as_str(), status, &text(arrive), &text(leave)])?;
    }
    out.flush()?;
    Ok(())
}

/// One person's face in one frame.
pub struct Sighting<'a> {
    pub person_id: &'a str,
    pub enrolled: bool,
    pub visible: bool,
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

pub struct VisibilityWriter {
    out: csv::Writer<std::fs::File>,
}

impl VisibilityWriter {
    pub fn create(path: &Path) -> Result<Self> {
        let mut out = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
        out.write_record(VISIBILITY_HEADER)?;
        Ok(VisibilityWriter { out })
    }

    pub fn write(&mut self, frame: usize, time_s: f64, s: &Sighting) -> Result<()> {
        self.out.write_record([
            frame.to_string(),
            format!("{time_s:.3}"),
            s.person_id.to_owned(),
            u8::from(s.enrolled).to_string(),
            u8::from(s.visible).to_string(),
            s.x.to_string(),
            s.y.to_string(),
            s.w.to_string(),
            s.h.to_string(),
        ])?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        Ok(self.out.flush()?)
    }
}
