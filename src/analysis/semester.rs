//! `rollcall semester`: many lectures' results → one student × lecture table.
//!
//! Lectures may have different rosters (students join or drop a course): they are merged by
//! student id, and a student missing from a lecture's roster is shown as not enrolled, which
//! is not the same as absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::overrides::{Override, Overrides, Status};
use crate::attendance::result::RunResult;
use crate::config::ConfigFile;

/// A semester's recordings: what `slurm/submit-semester.sh` runs and `semester --manifest`
/// collects. Paths are relative to the manifest's own folder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub course: String,
    /// Roster used by every lecture that names none.
    pub roster: Option<PathBuf>,
    /// Results go to `<output>/<lecture name>/`.
    pub output: PathBuf,
    /// Config file for every lecture (sampling, schedule, ...).
    pub config: Option<PathBuf>,
    /// The teacher's corrections and excused absences (see [`super::overrides`]).
    pub overrides: Option<PathBuf>,
    pub lectures: Vec<ManifestLecture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestLecture {
    pub video: PathBuf,
    /// Folder name of the results; defaults to the video's file stem.
    pub name: Option<String>,
    pub date: Option<String>,
    pub title: Option<String>,
    pub roster: Option<PathBuf>,
}

/// Whether `name` is one ordinary path component, so that `output/name` stays inside `output`.
fn is_folder_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(_)), None)) && !name.contains('/')
}

impl Manifest {
    /// Reads a manifest and resolves its paths against its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::util::input::read_text(path, "manifest")?;
        let mut m: Manifest =
            serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("manifest {}: {e}", path.display()))?;
        if m.lectures.is_empty() {
            bail!("manifest {} lists no lectures", path.display());
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| *p = base.join(&*p);
        resolve(&mut m.output);
        m.roster.as_mut().map(resolve);
        m.config.as_mut().map(resolve);
        m.overrides.as_mut().map(resolve);
        for l in &mut m.lectures {
            resolve(&mut l.video);
            l.roster.as_mut().map(resolve);
            if l.roster.is_none() && m.roster.is_none() {
                bail!(
                    "manifest {}: lecture {} has no roster and there is no default `roster:`",
                    path.display(),
                    l.video.display()
                );
            }
        }
        if let Some(bad) = m.lectures.iter().map(ManifestLecture::name).find(|n| !is_folder_name(n)) {
            bail!(
                "manifest {}: lecture name {bad:?} is not a plain folder name (no `/`, not `.` or `..`, not empty): \
                 each lecture's results go to a folder of that name inside `output:`",
                path.display()
            );
        }
        let mut names: Vec<String> = m.lectures.iter().map(ManifestLecture::name).collect();
        names.sort();
        if let Some(dup) = names.windows(2).find(|w| w[0] == w[1]) {
            bail!("manifest {}: two lectures would write to {:?}; give them distinct `name:`s", path.display(), dup[0]);
        }
        Ok(m)
    }

    /// Where lecture `l`'s results are written.
    pub fn output_of(&self, l: &ManifestLecture) -> PathBuf {
        self.output.join(l.name())
    }

    /// Lecture `index` (0-based, as Slurm array task ids are).
    pub fn lecture(&self, index: usize) -> Result<&ManifestLecture> {
        self.lectures.get(index).with_context(|| match self.lectures.len() {
            0 => format!("the manifest has no lectures, so there is no lecture {index}"),
            n => format!("the manifest's lectures are numbered 0 to {} ({n} in all), not {index}", n - 1),
        })
    }

    /// The settings the manifest fixes for lecture `l`: a config layer between the manifest's
    /// config file and the command line.
    pub fn lecture_config(&self, l: &ManifestLecture) -> ConfigFile {
        ConfigFile {
            video: Some(l.video.clone()),
            roster: l.roster.clone().or_else(|| self.roster.clone()),
            output: Some(self.output_of(l)),
            title: l.title.clone(),
            date: l.date.clone(),
            ..Default::default()
        }
    }
}

impl ManifestLecture {
    pub fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.video.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
    }
}

/// One lecture's column: its names, and each enrolled student's presence.
pub struct Lecture {
    /// The lecture's manifest name, or the name of its result's folder.
    pub name: String,
    pub heading: String,
    pub date: Option<String>,
    pub title: Option<String>,
    /// student id → (name, presence)
    pub presence: BTreeMap<String, (String, f64)>,
    /// Mean face encodings of the lecture's unenrolled people, when it was run with
    /// `--keep-unknown` (else empty).
    pub unknown: Vec<Vec<f32>>,
}

/// A lecture's column heading: `date title`, either part optional (empty when neither is set).
pub fn heading_of(date: Option<&str>, title: Option<&str>) -> String {
    [date, title].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

impl Lecture {
    /// From a run named `name`, dated and titled by `manifest` (its lecture's date and title)
    /// where it gives either, else by the run's settings; headed `date title`, or `name` when neither is set.
    pub fn from_run(run: &RunResult, name: &str, manifest: Option<(Option<String>, Option<String>)>) -> Self {
        let (date, title) = manifest
            .filter(|(date, title)| date.is_some() || title.is_some())
            .unwrap_or_else(|| (run.settings.date.clone(), run.settings.title.clone()));
        let heading = match heading_of(date.as_deref(), title.as_deref()) {
            h if h.is_empty() => name.to_owned(),
            h => h,
        };
        let presence = run.attendance.iter().map(|a| (a.student_id.clone(), (a.name.clone(), a.presence))).collect();
        let unknown = run.unknown.iter().filter(|u| !u.encoding.is_empty()).map(|u| u.encoding.clone()).collect();
        Lecture { name: name.to_owned(), heading, date, title, presence, unknown }
    }
}

/// Unenrolled people followed across the lectures that kept their encodings: each person (in
/// order of first appearance) with the number of lectures they were seen in. People are the
/// same across lectures when their mean faces cluster together, as within a lecture.
pub fn recurring_unknown(lectures: &[Lecture]) -> Vec<usize> {
    let (points, lecture_of): (Vec<Vec<f32>>, Vec<usize>) =
        lectures.iter().enumerate().flat_map(|(k, l)| l.unknown.iter().map(move |e| (e.clone(), k))).unzip();
    let labels = crate::attendance::track::cluster(&points, crate::attendance::track::SAME_UNKNOWN_PERSON);
    let people = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let mut seen_in: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); people];
    for (&label, &lecture) in labels.iter().zip(&lecture_of) {
        seen_in[label as usize].insert(lecture);
    }
    seen_in.iter().map(|s| s.len()).collect()
}

/// A student's cell of one lecture they were enrolled in: what rollcall measured, and the
/// status that counts (rollcall's, or a teacher's override).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Presence as rollcall measured it.
    pub presence: f64,
    /// Present at the semester's threshold, or Absent.
    pub measured: Status,
    /// What counts: `measured`, or the override's status.
    pub status: Status,
    pub overridden: Option<Override>,
}

impl Cell {
    /// The presence the student's mean counts for this lecture: rollcall's, or 1 and 0 where a
    /// teacher says Present or Absent; `None` when excused (out of the mean).
    pub fn counted_presence(&self) -> Option<f64> {
        match (&self.overridden, self.status) {
            (_, Status::Excused) => None,
            (None, _) => Some(self.presence),
            (Some(_), Status::Present) => Some(1.0),
            (Some(_), Status::Absent) => Some(0.0),
        }
    }
}

/// A student's row of the semester table.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentRow {
    pub student_id: String,
    pub name: String,
    /// One cell per lecture; `None` where the student was not on that lecture's roster.
    pub cells: Vec<Option<Cell>>,
    pub lectures_enrolled: usize,
    /// Lectures whose status is Present.
    pub lectures_present: usize,
    /// Lectures excused: in neither the count nor the mean.
    pub lectures_excused: usize,
    /// Mean presence over the lectures the student was enrolled in and not excused from.
    pub mean_presence: f64,
    /// Mean presence under the threshold: someone to talk to.
    pub below_threshold: bool,
}

pub struct SemesterTable {
    pub lectures: Vec<LectureColumn>,
    pub rows: Vec<StudentRow>,
    pub threshold: f64,
}

/// A lecture's column: its names, date and title.
#[derive(Debug, Clone, PartialEq)]
pub struct LectureColumn {
    pub name: String,
    pub heading: String,
    pub date: Option<String>,
    pub title: Option<String>,
}

/// Every student of the lectures' rosters with the lectures they were on.
pub fn enrolment(lectures: &[Lecture]) -> BTreeMap<String, Vec<usize>> {
    let mut on: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, l) in lectures.iter().enumerate() {
        for id in l.presence.keys() {
            on.entry(id.clone()).or_default().push(k);
        }
    }
    on
}

/// The semester: students merged by id over the lectures, each cell measured against
/// `threshold` and replaced where `overrides` say so.
pub fn table(lectures: &[Lecture], threshold: f64, overrides: &Overrides) -> SemesterTable {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for l in lectures {
        for (id, (name, _)) in &l.presence {
            names.insert(id, name); // later lectures win: the most recent spelling
        }
    }
    let rows = names
        .into_iter()
        .map(|(id, name)| {
            let cells: Vec<Option<Cell>> = lectures
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    let &(_, presence) = l.presence.get(id)?;
                    let measured = if presence >= threshold { Status::Present } else { Status::Absent };
                    let overridden = overrides.get(&(id.to_owned(), k)).cloned();
                    let status = overridden.as_ref().map_or(measured, |o| o.status);
                    Some(Cell { presence, measured, status, overridden })
                })
                .collect();
            let enrolled: Vec<&Cell> = cells.iter().flatten().collect();
            let counted: Vec<f64> = enrolled.iter().filter_map(|c| c.counted_presence()).collect();
            let mean = counted.iter().sum::<f64>() / counted.len().max(1) as f64;
            StudentRow {
                student_id: id.to_owned(),
                name: name.to_owned(),
                lectures_enrolled: enrolled.len(),
                lectures_present: enrolled.iter().filter(|c| c.status == Status::Present).count(),
                lectures_excused: enrolled.iter().filter(|c| c.status == Status::Excused).count(),
                mean_presence: mean,
                below_threshold: !counted.is_empty() && mean < threshold,
                cells,
            }
        })
        .collect();
    let lectures = lectures
        .iter()
        .map(|l| LectureColumn {
            name: l.name.clone(),
            heading: l.heading.clone(),
            date: l.date.clone(),
            title: l.title.clone(),
        })
        .collect();
    SemesterTable { lectures, rows, threshold }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unenrolled_regular_is_recognised_across_lectures() {
        let face = |x: f32| vec![x, 0.0, 0.0];
        let mut lectures = vec![lecture("w1", &[]), lecture("w2", &[]), lecture("w3", &[])];
        lectures[0].unknown = vec![face(0.0), face(5.0)];
        lectures[1].unknown = vec![face(0.1)];
        lectures[2].unknown = vec![face(0.05), face(9.0)];
        assert_eq!(recurring_unknown(&lectures), [3, 1, 1], "the person at 0 came to all three");
    }

    fn lecture(heading: &str, students: &[(&str, f64)]) -> Lecture {
        Lecture {
            name: heading.into(),
            heading: heading.into(),
            date: None,
            title: None,
            presence: students.iter().map(|(id, p)| (id.to_string(), (id.to_uppercase(), *p))).collect(),
            unknown: Vec::new(),
        }
    }

    #[test]
    fn students_are_merged_by_id_and_not_enrolled_is_not_absent() {
        let lectures = [lecture("w1", &[("a", 1.0), ("b", 0.5)]), lecture("w2", &[("a", 0.8), ("c", 0.0)])];
        let t = table(&lectures, 0.75, &Overrides::new());
        assert_eq!(t.lectures.iter().map(|l| l.heading.as_str()).collect::<Vec<_>>(), ["w1", "w2"]);
        let ids: Vec<&str> = t.rows.iter().map(|r| r.student_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let b = &t.rows[1];
        assert_eq!(b.cells.iter().map(|c| c.as_ref().map(|c| c.presence)).collect::<Vec<_>>(), [Some(0.5), None]);
        assert_eq!((b.lectures_enrolled, b.lectures_present, b.mean_presence), (1, 0, 0.5));
        assert!(b.below_threshold);
        let a = &t.rows[0];
        assert_eq!((a.lectures_present, a.below_threshold), (2, false));
        assert!((a.mean_presence - 0.9).abs() < 1e-12);
    }
}
