//! What a run produces, as plain values: the input of every report writer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::attendance::observation::{Detection, UnknownPerson, Windows};
use crate::attendance::track::Track;
use crate::config::{Rule, Settings};
use crate::face::FaceBox;
use crate::media::VideoInfo;
use crate::roster::Roster;

/// Where one rank's time went. Seconds throughout. Stored as-is as an HDF5 compound row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, hdf5::H5Type)]
#[repr(C)]
pub struct RankTiming {
    pub rank: u32,
    pub units: u64,
    /// Sampled frames analysed.
    pub frames: u64,
    /// Frames the decoder produced to get to them (≥ `frames`).
    pub decoded_frames: u64,
    pub faces: u64,
    /// Faces encoded, and faces that took the identity of the same seat's face in the frame
    /// before instead (`faces` = the two together).
    pub encodings: u64,
    pub encodings_saved: u64,
    /// Loading the dlib models and opening the video (before the common start).
    pub setup_s: f64,
    pub decode_s: f64,
    pub detect_s: f64,
    pub encode_s: f64,
    pub match_s: f64,
    /// Time inside units (decode + detect + encode + match + bookkeeping).
    pub busy_s: f64,
    /// Time blocked waiting for the next unit (dynamic schedules), communication excluded.
    pub wait_s: f64,
    /// Time sending requests (workers) or answering them (the dynamic master).
    pub comm_s: f64,
    /// From the common start (every rank set up) to this rank's last unit done.
    pub total_s: f64,
    /// CPU time of the rank's process, user + system over all its threads, from its start to
    /// its last unit done (setup included): what the rank cost.
    pub cpu_s: f64,
}

impl RunResult {
    /// CPU seconds the ranks spent per minute of recording (user + system, setup included),
    /// the figure a semester's core-hours are planned with; `None` for a photo (no minutes),
    /// or a result from before ranks recorded their CPU time. A resumed run's ranks analysed
    /// only the frames its journal lacked: per minute of those.
    pub fn core_seconds_per_lecture_minute(&self) -> Option<f64> {
        let cpu_s: f64 = self.timings.iter().map(|t| t.cpu_s).sum();
        let analysed: u64 = self.timings.iter().map(|t| t.frames).sum();
        let minutes = self.video.duration_s() / 60.0 * analysed as f64 / self.sampled_frames.max(1) as f64;
        (!self.settings.kind.is_photo() && cpu_s > 0.0 && minutes > 0.0).then(|| cpu_s / minutes)
    }

    /// Checks what a result read from a file refers to before anything indexes with it: the
    /// writers look students up by index and draw units by rank, and a crafted or damaged file
    /// must give an error, not a panic.
    pub fn check_consistent(&self) -> anyhow::Result<()> {
        let students = self.roster.ids.len();
        let student_ok = |s: Option<u32>| s.is_none_or(|s| (s as usize) < students);
        if let Some(d) = self.detections.iter().find(|d| !student_ok(d.student)) {
            anyhow::bail!(
                "a detection in frame {} names student {}, but the roster has {students}",
                d.frame,
                d.student.unwrap_or(0)
            );
        }
        if let Some(t) = self.tracks.iter().find(|t| !student_ok(t.student)) {
            anyhow::bail!("track {} names student {}, but the roster has {students}", t.id, t.student.unwrap_or(0));
        }
        if self.attendance.len() != students {
            anyhow::bail!("{} attendance rows for a roster of {students}", self.attendance.len());
        }
        if let Some(u) = self.units.iter().find(|u| {
            !(u.start_s.is_finite() && u.end_s.is_finite() && u.start_s <= u.end_s) || u.rank as usize >= self.ranks
        }) {
            anyhow::bail!(
                "unit {} ran on rank {} from {} s to {} s: not a time span of one of the run's {} rank(s)",
                u.unit,
                u.rank,
                u.start_s,
                u.end_s,
                self.ranks
            );
        }
        if let Some(t) = self.timings.iter().find(|t| t.rank as usize >= self.ranks) {
            anyhow::bail!("timings of rank {} in a run of {} rank(s)", t.rank, self.ranks);
        }
        Ok(())
    }
}

/// One unit of work as it ran: the timeline. Stored as-is as an HDF5 compound row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, hdf5::H5Type)]
#[repr(C)]
pub struct UnitRecord {
    pub unit: u64,
    pub rank: u32,
    /// Seconds since the common start.
    pub start_s: f64,
    pub end_s: f64,
    pub frames: u64,
}

/// Everything a finished `attend` run knows; the reports are functions of this.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub settings: Settings,
    pub video: VideoInfo,
    pub roster: Roster,
    pub ranks: usize,
    /// Frame stride actually used (from `every`, or from `fps` and the video's rate).
    pub stride: usize,
    /// Every frame sampled, decodable or not, in increasing order: every `stride`-th, or
    /// under `sample: keyframes` the keyframes nearest those.
    pub sampled: Vec<u64>,
    /// Sampled frames that were decoded and analysed (the presence denominator).
    pub sampled_frames: u64,
    /// Sampled frames the decoder could not produce: left out of every count, and reported.
    pub failed_frames: Vec<u64>,
    /// Sorted by (frame, x, y).
    pub detections: Vec<Detection>,
    /// Face tracks, by id (the `track` of a detection).
    pub tracks: Vec<Track>,
    /// Unenrolled people, numbered in order of first appearance.
    pub unknown: Vec<UnknownPerson>,
    /// Length of the presence windows, seconds.
    pub window_s: f64,
    pub attendance: Vec<AttendanceRow>,
    /// Each student's best-matching face in this lecture, as a small JPEG (empty: none, or
    /// crops are off).
    pub crops: Vec<Vec<u8>>,
    pub timings: Vec<RankTiming>,
    /// Sorted by unit.
    pub units: Vec<UnitRecord>,
    pub wall_time_s: f64,
    /// Name → version of rollcall and its native libraries on the master.
    pub software: BTreeMap<String, String>,
    /// What each rank ran on, in rank order (empty in results written before it was kept).
    pub hosts: Vec<crate::about::HostInfo>,
    /// The job's command line, UTC start and Slurm job (see `about::job_provenance`).
    pub job: BTreeMap<String, String>,
    /// Warnings logged on any rank during the run, for the end-of-run summary (not stored).
    pub warnings: Vec<String>,
}

/// One student's attendance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRow {
    pub student_id: String,
    pub name: String,
    pub sampled_frames: u64,
    pub frames_seen: u64,
    /// Time windows that hold a sampled frame, and those the student was seen in.
    pub windows: u64,
    pub windows_seen: u64,
    /// Seen or not, window by window: the presence strip of the reports.
    pub strip: Vec<bool>,
    /// Under the run's rule: windows seen / windows, or frames seen / sampled frames.
    pub presence: f64,
    pub first_seen_s: Option<f64>,
    pub last_seen_s: Option<f64>,
    pub present: bool,
}

impl AttendanceRow {
    pub fn status(&self) -> &'static str {
        if self.present {
            "Present"
        } else {
            "Absent"
        }
    }

    /// Seen, but not in the first window.
    pub fn late(&self) -> bool {
        self.windows_seen > 0 && self.strip.first() == Some(&false)
    }

    /// Seen, but not in the last window.
    pub fn left_early(&self) -> bool {
        self.windows_seen > 0 && self.strip.last() == Some(&false)
    }

    /// "late", "left early", both or nothing, for the reports.
    pub fn flags(&self) -> String {
        let flags: Vec<&str> = [(self.late(), "late"), (self.left_early(), "left early")]
            .into_iter()
            .filter_map(|(on, text)| on.then_some(text))
            .collect();
        flags.join(", ")
    }
}

/// The frames a run analysed: the `sampled` ones less the `failed` ones (both sorted), in order.
pub fn analysed_frames<'a>(sampled: &'a [u64], failed: &'a [u64]) -> impl Iterator<Item = u64> + 'a {
    sampled.iter().copied().filter(move |f| failed.binary_search(f).is_err())
}

/// How presence is judged, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct PresenceRule {
    pub rule: Rule,
    pub threshold: f64,
}

/// Attendance per student from the detections (each face already carrying its track's
/// student): a student counts as seen in a frame, and in that frame's window, if at least one
/// face in it is theirs.
pub fn attendance(
    roster: &Roster,
    detections: &[Detection],
    sampled_frames: u64,
    windows: &Windows,
    rule: PresenceRule,
) -> Vec<AttendanceRow> {
    // One pass over the detections, not one per student: a 3000-student roster meets a
    // semester's worth of detections.
    let mut seen: Vec<Vec<(u64, f64)>> = vec![Vec::new(); roster.ids.len()];
    for d in detections {
        if let Some(student) = d.student {
            seen[student as usize].push((d.frame, d.time_s));
        }
    }
    roster
        .ids
        .iter()
        .zip(&roster.names)
        .zip(seen)
        .map(|((id, name), mut frames)| {
            frames.sort_by_key(|&(f, _)| f);
            frames.dedup_by_key(|&mut (f, _)| f);
            let mut strip = vec![false; windows.counted.len()];
            for &(_, t) in &frames {
                if let Some(k) = windows.position(t) {
                    strip[k] = true;
                }
            }
            let frames_seen = frames.len() as u64;
            let windows_seen = strip.iter().filter(|&&s| s).count() as u64;
            let share = |k: u64, n: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
            let presence = match rule.rule {
                Rule::Windows => share(windows_seen, strip.len() as u64),
                Rule::Frames => share(frames_seen, sampled_frames),
            };
            AttendanceRow {
                student_id: id.clone(),
                name: name.clone(),
                sampled_frames,
                frames_seen,
                windows: strip.len() as u64,
                windows_seen,
                strip,
                presence,
                first_seen_s: frames.first().map(|&(_, t)| t),
                last_seen_s: frames.last().map(|&(_, t)| t),
                present: presence >= rule.threshold,
            }
        })
        .collect()
}

/// One detection per face of a tiled photo: a face inside the overlap of two tiles is found
/// in both. Two detections are the same face when the smaller box lies mostly (> 50 %) inside
/// the larger; the larger box wins (the tile that saw the whole face), then the closer match,
/// then the position, so the choice never depends on which rank ran which tile.
pub fn merge_overlapping(mut detections: Vec<Detection>) -> Vec<Detection> {
    let area = |d: &Detection| i64::from(d.bbox.w) * i64::from(d.bbox.h);
    detections.sort_by(|a, b| {
        area(b)
            .cmp(&area(a))
            .then(a.distance.total_cmp(&b.distance))
            .then((a.bbox.x, a.bbox.y).cmp(&(b.bbox.x, b.bbox.y)))
    });
    let mut kept: Vec<Detection> = Vec::new();
    for d in detections {
        let duplicate = kept.iter().any(|k| k.frame == d.frame && overlap_share(&k.bbox, &d.bbox) > 0.5);
        if !duplicate {
            kept.push(d);
        }
    }
    kept
}

/// Share of the smaller box covered by the intersection of two boxes.
fn overlap_share(a: &FaceBox, b: &FaceBox) -> f64 {
    let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
    let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
    if w <= 0 || h <= 0 {
        return 0.0;
    }
    let smaller = (i64::from(a.w) * i64::from(a.h)).min(i64::from(b.w) * i64::from(b.h)).max(1);
    (i64::from(w) * i64::from(h)) as f64 / smaller as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn det(frame: u64, student: Option<u32>) -> Detection {
        Detection {
            frame,
            time_s: frame as f64 / 10.0,
            rank: 0,
            bbox: FaceBox { x: 0, y: 0, w: 1, h: 1 },
            student,
            distance: 0.3,
            track: None,
            encoding: Vec::new(),
        }
    }

    #[test]
    fn a_face_seen_by_two_tiles_is_one_face() {
        let at = |x, y, w, distance| Detection { bbox: FaceBox { x, y, w, h: w }, distance, ..det(0, Some(0)) };
        let whole = at(100, 100, 80, 0.4);
        let cut = at(100, 100, 50, 0.3); // the same face, cut by a tile edge
        let other = at(300, 100, 80, 0.2);
        let mut merged = merge_overlapping(vec![cut, other.clone(), whole.clone()]);
        merged.sort_by_key(|d| d.bbox.x);
        assert_eq!(merged, vec![whole, other]);
    }

    #[test]
    fn presence_counts_frames_not_faces() {
        let roster = Roster {
            ids: vec!["a".into(), "b".into()],
            names: vec!["A".into(), "B".into()],
            encodings: Array2::zeros((2, 128)),
            owner: vec![0, 1],
            sources: vec!["a.jpg".into(), "b.jpg".into()],
        };
        // "a" matched twice in frame 10 (two photos of a look-alike): still one frame.
        let dets = [det(0, Some(0)), det(10, Some(0)), det(10, Some(0)), det(20, Some(0)), det(20, None)];
        let windows = Windows::new(10.0, [0.0, 1.0, 2.0, 3.0]);
        let rule = PresenceRule { rule: Rule::Frames, threshold: 0.75 };
        let rows = attendance(&roster, &dets, 4, &windows, rule);
        assert_eq!(rows[0].frames_seen, 3);
        assert_eq!(rows[0].presence, 0.75);
        assert!(rows[0].present, "presence equal to the threshold is Present");
        assert_eq!((rows[0].first_seen_s, rows[0].last_seen_s), (Some(0.0), Some(2.0)));
        assert_eq!(rows[1].frames_seen, 0);
        assert_eq!(rows[1].first_seen_s, None);
        assert_eq!(rows[1].status(), "Absent");
    }
}
