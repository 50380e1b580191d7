//! `attendance.h5`: everything a run knows, for h5py/pandas users and for `rollcall report`.
//! The layout is documented in docs/FORMAT.md.

use std::path::Path;
use std::str::FromStr;

use anyhow::{anyhow, Result};
use hdf5::types::VarLenUnicode;
use hdf5::H5Type;

use crate::config::Settings;
use crate::face::FaceBox;
use crate::h5util::{read_str_attr, write_attr, write_str_attr};
use crate::output::{write_atomically, Access};
use crate::result::{AttendanceRow, Detection, RunResult};
use crate::roster::Roster;
use crate::video::VideoInfo;

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

/// Attribute of `/settings` holding the whole configuration as YAML: a `--config` file that
/// repeats the run, and what `read` rebuilds the settings from.
const CONFIG_ATTR: &str = "config_yaml";

fn vlu(s: &str) -> Result<VarLenUnicode> {
    Ok(VarLenUnicode::from_str(s)?)
}

/// Writes the run to `path` (owner-only: it holds face encodings).
pub fn write(result: &RunResult, path: &Path) -> Result<()> {
    write_atomically(path, Access::OwnerOnly, |tmp| {
        let file = hdf5::File::create(tmp)?;
        write_str_attr(&file, "rollcall_version", env!("CARGO_PKG_VERSION"))?;
        let software = file.create_group("software")?;
        for (name, version) in &result.software {
            write_str_attr(&software, name, version)?;
        }
        write_attr(&file, "ranks", &(result.ranks as u32))?;
        write_attr(&file, "wall_time_s", &result.wall_time_s)?;

        let settings = file.create_group("settings")?;
        for (key, value) in result.settings.describe() {
            write_str_attr(&settings, key, &value)?;
        }
        write_str_attr(&settings, CONFIG_ATTR, &result.settings.to_yaml()?)?;

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

/// Reads a run back from `path`, as `rollcall report` needs it: no video, no models.
pub fn read(path: &Path) -> Result<RunResult> {
    let file = hdf5::File::open(path).map_err(|_| anyhow!("{} is not an HDF5 file", path.display()))?;
    read_file(&file).map_err(|e| anyhow!("{} is not a rollcall result: {e:#}", path.display()))
}

fn read_file(file: &hdf5::File) -> Result<RunResult> {
    let settings_group = file.group("settings")?;
    let settings = Settings::from_yaml(&read_str_attr(&settings_group, CONFIG_ATTR)?)?;
    let v = file.group("video")?;
    let video = VideoInfo {
        path: read_str_attr(&v, "path")?,
        file_size: v.attr("file_size_bytes")?.read_scalar()?,
        frame_count: v.attr("frame_count")?.read_scalar::<u64>()? as usize,
        fps: v.attr("fps")?.read_scalar()?,
        width: v.attr("width_px")?.read_scalar()?,
        height: v.attr("height_px")?.read_scalar()?,
    };
    let roster = Roster::read_h5(file)?;
    let detections = file
        .dataset("detections")?
        .read_raw::<DetectionRow>()?
        .into_iter()
        .map(|d| Detection {
            frame: d.frame,
            time_s: d.time_s,
            rank: d.rank,
            bbox: FaceBox { x: d.x_px, y: d.y_px, w: d.w_px, h: d.h_px },
            student: u32::try_from(d.student_index).ok(),
            distance: d.distance,
        })
        .collect();
    let attendance = file
        .dataset("attendance")?
        .read_raw::<AttendanceRecord>()?
        .into_iter()
        .map(|a| AttendanceRow {
            student_id: a.student_id.as_str().to_owned(),
            name: a.name.as_str().to_owned(),
            sampled_frames: a.sampled_frames,
            frames_seen: a.frames_seen,
            presence: a.presence,
            first_seen_s: Some(a.first_seen_s).filter(|t| !t.is_nan()),
            last_seen_s: Some(a.last_seen_s).filter(|t| !t.is_nan()),
            present: a.status.as_str() == "Present",
        })
        .collect();
    Ok(RunResult {
        settings,
        video,
        roster,
        ranks: file.attr("ranks")?.read_scalar::<u32>()? as usize,
        stride: v.attr("stride_frames")?.read_scalar::<u64>()? as usize,
        sampled_frames: v.attr("sampled_frames")?.read_scalar()?,
        failed_frames: v.dataset("failed_frames")?.read_raw()?,
        detections,
        attendance,
        timings: file.dataset("ranks")?.read_raw()?,
        units: file.dataset("units")?.read_raw()?,
        warnings: Vec::new(),
        software: {
            let g = file.group("software")?;
            g.attr_names()?
                .into_iter()
                .map(|name| Ok((read_str_attr(&g, &name)?, name)))
                .map(|r| r.map(|(v, n)| (n, v)))
                .collect::<Result<_>>()?
        },
        wall_time_s: file.attr("wall_time_s")?.read_scalar()?,
    })
}
