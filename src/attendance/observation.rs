//! What the camera saw, as plain values below both the tracks and the result: a face in a
//! frame, an unenrolled person, and the time windows presence is judged in. Kept apart so
//! that `track` (which fills them in) and `result` (which holds them) need not import each
//! other.

use serde::{Deserialize, Serialize};

use crate::face::FaceBox;

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
    /// Distance to the nearest enrolled encoding, matched or not; once tracks are made, the
    /// distance to the track's student.
    pub distance: f64,
    /// The face track this face belongs to (set on rank 0 once every result is in).
    pub track: Option<u32>,
    /// The face's 128-d encoding, for linking tracks and grouping the unenrolled on rank 0;
    /// emptied before anything is written (encodings are biometric data).
    pub encoding: Vec<f32>,
}

/// An unenrolled person: one or more unknown tracks whose faces are alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownPerson {
    pub id: u32,
    pub tracks: u64,
    pub frames_seen: u64,
    pub windows_seen: u64,
    pub first_seen_s: f64,
    pub last_seen_s: f64,
    /// Mean face encoding: only with `keep_unknown` (empty otherwise).
    pub encoding: Vec<f32>,
}

/// The time windows presence is judged in: `[k·length, (k+1)·length)`, of which only those
/// holding a sampled frame count.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    pub length_s: f64,
    /// Indices k of the windows that hold a sampled frame, ascending.
    pub counted: Vec<u64>,
}

impl Windows {
    pub fn new(length_s: f64, sampled_times: impl IntoIterator<Item = f64>) -> Windows {
        let mut counted: Vec<u64> = sampled_times.into_iter().map(|t| (t / length_s).floor() as u64).collect();
        counted.sort_unstable();
        counted.dedup();
        Windows { length_s, counted }
    }

    /// Position in `counted` of the window holding time `t`.
    pub fn position(&self, t: f64) -> Option<usize> {
        self.counted.binary_search(&((t / self.length_s).floor() as u64)).ok()
    }
}
