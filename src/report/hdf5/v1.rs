//! Format 1: results written before rollcall linked faces into tracks (up to commit 85fecf9).
//! Their detections have no track and their attendance no windows: presence was the share of
//! sampled frames in which the student was seen.

use hdf5::types::VarLenUnicode;

use super::Detection;
use crate::attendance::result::AttendanceRow;

#[derive(hdf5::H5Type, Clone, Debug)]
#[repr(C)]
pub(super) struct DetectionRow {
    frame: u64,
    time_s: f64,
    rank: u32,
    x_px: i32,
    y_px: i32,
    w_px: i32,
    h_px: i32,
    student_index: i32,
    distance: f64,
}

impl DetectionRow {
    /// As a row of today's table, in no track.
    pub(super) fn upgrade(self) -> Detection {
        super::DetectionRow {
            frame: self.frame,
            time_s: self.time_s,
            rank: self.rank,
            x_px: self.x_px,
            y_px: self.y_px,
            w_px: self.w_px,
            h_px: self.h_px,
            student_index: self.student_index,
            student_id: VarLenUnicode::default(), // not read back: the index names the student
            distance: self.distance,
            track: -1,
        }
        .into_detection()
    }
}

#[derive(hdf5::H5Type, Clone, Debug)]
#[repr(C)]
pub(super) struct AttendanceRecord {
    student_id: VarLenUnicode,
    name: VarLenUnicode,
    sampled_frames: u64,
    frames_seen: u64,
    presence: f64,
    first_seen_s: f64,
    last_seen_s: f64,
    status: VarLenUnicode,
}

impl AttendanceRecord {
    /// As a row of today's table: no windows (the presence strip is empty).
    pub(super) fn upgrade(self) -> AttendanceRow {
        super::AttendanceRecord {
            student_id: self.student_id,
            name: self.name,
            sampled_frames: self.sampled_frames,
            frames_seen: self.frames_seen,
            windows: 0,
            windows_seen: 0,
            presence: self.presence,
            first_seen_s: self.first_seen_s,
            last_seen_s: self.last_seen_s,
            status: self.status,
        }
        .into_row(Vec::new())
    }
}
