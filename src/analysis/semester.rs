//! `rollcall semester`: many lectures' results → one student × lecture table.
//!
//! Lectures may have different rosters (students join or drop a course): they are merged by
//! student id, and a student missing from a lecture's roster is shown as not enrolled, which
//! is not the same as absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

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

/// One lecture's column: its heading and each enrolled student's presence.
pub struct Lecture {
    pub heading: String,
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
    /// From a run, headed by `date title` (from `heading` if given, else the run's settings,
    /// else `fallback`).
    pub fn from_run(run: &RunResult, heading: Option<String>, fallback: &str) -> Self {
        let from_settings = heading_of(run.settings.date.as_deref(), run.settings.title.as_deref());
        let heading = heading.filter(|h| !h.is_empty()).unwrap_or(if from_settings.is_empty() {
            fallback.to_owned()
        } else {
            from_settings
        });
        let presence = run.attendance.iter().map(|a| (a.student_id.clone(), (a.name.clone(), a.presence))).collect();
        let unknown = run.unknown.iter().filter(|u| !u.encoding.is_empty()).map(|u| u.encoding.clone()).collect();
        Lecture { heading, presence, unknown }
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

/// A student's row of the semester table.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentRow {
    pub student_id: String,
    pub name: String,
    /// Presence per lecture; `None` where the student was not on that lecture's roster.
    pub presence: Vec<Option<f64>>,
    pub lectures_enrolled: usize,
    /// Lectures with presence ≥ the threshold.
    pub lectures_present: usize,
    /// Mean presence over the lectures the student was enrolled in.
    pub mean_presence: f64,
    /// Mean presence under the threshold: someone to talk to.
    pub below_threshold: bool,
}

pub struct SemesterTable {
    pub headings: Vec<String>,
    pub rows: Vec<StudentRow>,
    pub threshold: f64,
}

pub fn table(lectures: &[Lecture], threshold: f64) -> SemesterTable {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for l in lectures {
        for (id, (name, _)) in &l.presence {
            names.insert(id, name); // later lectures win: the most recent spelling
        }
    }
    let rows = names
        .into_iter()
        .map(|(id, name)| {
            let presence: Vec<Option<f64>> = lectures.iter().map(|l| l.presence.get(id).map(|(_, p)| *p)).collect();
            let enrolled: Vec<f64> = presence.iter().flatten().copied().collect();
            let mean = enrolled.iter().sum::<f64>() / enrolled.len().max(1) as f64;
            StudentRow {
                student_id: id.to_owned(),
                name: name.to_owned(),
                lectures_enrolled: enrolled.len(),
                lectures_present: enrolled.iter().filter(|&&p| p >= threshold).count(),
                mean_presence: mean,
                below_threshold: mean < threshold,
                presence,
            }
        })
        .collect();
    SemesterTable { headings: lectures.iter().map(|l| l.heading.clone()).collect(), rows, threshold }
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
            heading: heading.into(),
            presence: students.iter().map(|(id, p)| (id.to_string(), (id.to_uppercase(), *p))).collect(),
            unknown: Vec::new(),
        }
    }

    #[test]
    fn students_are_merged_by_id_and_not_enrolled_is_not_absent() {
        let t = table(&[lecture("w1", &[("a", 1.0), ("b", 0.5)]), lecture("w2", &[("a", 0.8), ("c", 0.0)])], 0.75);
        assert_eq!(t.headings, ["w1", "w2"]);
        let ids: Vec<&str> = t.rows.iter().map(|r| r.student_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let b = &t.rows[1];
        assert_eq!(b.presence, [Some(0.5), None]);
        assert_eq!((b.lectures_enrolled, b.lectures_present, b.mean_presence), (1, 0, 0.5));
        assert!(b.below_threshold);
        let a = &t.rows[0];
        assert_eq!((a.lectures_present, a.below_threshold), (2, false));
        assert!((a.mean_presence - 0.9).abs() < 1e-12);
    }
}
