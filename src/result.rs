//! What a run produces, as plain values: the input of every report writer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::face::FaceBox;
use crate::roster::Roster;
use crate::video::VideoInfo;

/// One face found in one sampled frame, in original-frame pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub frame: u64,
    pub time_s: f64,
    /// The rank that analysed the frame (the only field that depends on the schedule).
    pub rank: u32,
    pub bbox: FaceBox,
    /// Index into the roster's students; `None` for a face nobody on the roster matches.
    pub student: Option<u32>,
    /// Distance to the nearest enrolled encoding, matched or not.
    pub distance: f64,
}

/// Where one rank's time went. Seconds throughout. Stored as-is as an HDF5 compound row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, hdf5::H5Type)]
#[repr(C)]
pub struct RankTiming {
    pub rank: u32,
    pub units: u64,
    /// Sampled frames analysed.
    pub frames: u64,
    /// Frames the decoder produced to get to them (≥ `frames`).
    pub decoded_frames: u64,
    pub faces: u64,
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

/// One student's attendance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRow {
    pub student_id: String,
    pub name: String,
    pub sampled_frames: u64,
    pub frames_seen: u64,
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
    /// Sampled frames that were decoded and analysed (the presence denominator).
    pub sampled_frames: u64,
    /// Sampled frames the decoder could not produce: left out of every count, and reported.
    pub failed_frames: Vec<u64>,
    /// Sorted by (frame, x, y).
    pub detections: Vec<Detection>,
    pub attendance: Vec<AttendanceRow>,
    pub timings: Vec<RankTiming>,
    /// Sorted by unit.
    pub units: Vec<UnitRecord>,
    pub wall_time_s: f64,
    /// Name → version of rollcall and its native libraries on the master.
    pub software: BTreeMap<String, String>,
    /// Warnings logged on any rank during the run, for the end-of-run summary (not stored).
    pub warnings: Vec<String>,
}

/// Attendance per student from the detections: a student counts as seen in a frame if at least
/// one face in it matched them; presence is the share of sampled frames they were seen in.
pub fn attendance(
    roster: &Roster,
    detections: &[Detection],
    sampled_frames: u64,
    threshold: f64,
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
            let frames_seen = frames.len() as u64;
            let presence = if sampled_frames == 0 { 0.0 } else { frames_seen as f64 / sampled_frames as f64 };
            AttendanceRow {
                student_id: id.clone(),
                name: name.clone(),
                sampled_frames,
                frames_seen,
                presence,
                first_seen_s: frames.first().map(|&(_, t)| t),
                last_seen_s: frames.last().map(|&(_, t)| t),
                present: presence >= threshold,
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
        let rows = attendance(&roster, &dets, 4, 0.75);
        assert_eq!(rows[0].frames_seen, 3);
        assert_eq!(rows[0].presence, 0.75);
        assert!(rows[0].present, "presence equal to the threshold is Present");
        assert_eq!((rows[0].first_seen_s, rows[0].last_seen_s), (Some(0.0), Some(2.0)));
        assert_eq!(rows[1].frames_seen, 0);
        assert_eq!(rows[1].first_seen_s, None);
        assert_eq!(rows[1].status(), "Absent");
    }
}
