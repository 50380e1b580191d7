//! `attendance.h5`: everything a run knows, for h5py/pandas users and for `rollcall report`.
//! The layout is documented in docs/FORMAT.md.

use std::path::Path;
use std::str::FromStr;

use anyhow::Result;
use hdf5::types::VarLenUnicode;
use hdf5::H5Type;

use crate::h5util::{write_attr, write_str_attr};
use crate::output::{write_atomically, Access};
use crate::result::RunResult;

/// A row of `/detections`.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct DetectionRow {
    frame: u64,
    time_s: f64,
    rank: u32,
    x_px: i32,
    y_px: i32,
    w_px: i32,
    h_px: i32,
    /// Index into `/roster/student_id`, -1 for an unknown face.
    student_index: i32,
    student_id: VarLenUnicode,
    distance: f64,
}

/// A row of `/attendance`.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct AttendanceRecord {
    student_id: VarLenUnicode,
    name: VarLenUnicode,
    sampled_frames: u64,
    frames_seen: u64,
    presence: f64,
    /// NaN when never seen.
    first_seen_s: f64,
    last_seen_s: f64,
    status: VarLenUnicode,
}

fn vlu(s: &str) -> Result<VarLenUnicode> {
    Ok(VarLenUnicode::from_str(s)?)
}

/// Writes the run to `path` (owner-only: it holds face encodings).
pub fn write(result: &RunResult, path: &Path) -> Result<()> {
    write_atomically(path, Access::OwnerOnly, |tmp| {
        let file = hdf5::File::create(tmp)?;
        write_str_attr(&file, "rollcall_version", env!("CARGO_PKG_VERSION"))?;
        write_attr(&file, "ranks", &(result.ranks as u32))?;
        write_attr(&file, "wall_time_s", &result.wall_time_s)?;

        let settings = file.create_group("settings")?;
        for (key, value) in result.settings.describe() {
            write_str_attr(&settings, key, &value)?;
        }

        let video = file.create_group("video")?;
        let v = &result.video;
        write_str_attr(&video, "path", &v.path)?;
        write_attr(&video, "file_size_bytes", &v.file_size)?;
        write_attr(&video, "frame_count", &(v.frame_count as u64))?;
        write_attr(&video, "fps", &v.fps)?;
        write_attr(&video, "width_px", &v.width)?;
        write_attr(&video, "height_px", &v.height)?;
        write_attr(&video, "stride_frames", &(result.stride as u64))?;
        write_attr(&video, "sampled_frames", &result.sampled_frames)?;
        video.new_dataset_builder().with_data(&result.failed_frames).create("failed_frames")?;

        result.roster.write_h5(&file)?;

        let detections = result
            .detections
            .iter()
            .map(|d| {
                Ok(DetectionRow {
                    frame: d.frame,
                    time_s: d.time_s,
                    rank: d.rank,
                    x_px: d.bbox.x,
                    y_px: d.bbox.y,
                    w_px: d.bbox.w,
                    h_px: d.bbox.h,
                    student_index: d.student.map_or(-1, |s| s as i32),
                    student_id: vlu(d.student.map_or("", |s| &result.roster.ids[s as usize]))?,
                    distance: d.distance,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        file.new_dataset_builder().with_data(&detections).create("detections")?;

        let attendance = result
            .attendance
            .iter()
            .map(|a| {
                Ok(AttendanceRecord {
                    student_id: vlu(&a.student_id)?,
                    name: vlu(&a.name)?,
                    sampled_frames: a.sampled_frames,
                    frames_seen: a.frames_seen,
                    presence: a.presence,
                    first_seen_s: a.first_seen_s.unwrap_or(f64::NAN),
                    last_seen_s: a.last_seen_s.unwrap_or(f64::NAN),
                    status: vlu(a.status())?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ds = file.new_dataset_builder().with_data(&attendance).create("attendance")?;
        write_attr(&ds, "threshold", &result.settings.threshold)?;

        file.new_dataset_builder().with_data(&result.timings).create("ranks")?;
        file.new_dataset_builder().with_data(&result.units).create("units")?;
        file.close()?;
        Ok(())
    })
}
