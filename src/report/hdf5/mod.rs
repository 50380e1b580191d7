//! `attendance.h5`: everything a run knows, for h5py/pandas users and for `rollcall report`.
//! The layout is documented in docs/FORMAT.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use hdf5::types::VarLenUnicode;
use hdf5::H5Type;

use crate::about::HostInfo;
use crate::attendance::observation::{Detection, UnknownPerson};
use crate::attendance::result::{AttendanceRow, RankTiming, RunResult};
use crate::attendance::track::Track;
use crate::config::Settings;
use crate::face::FaceBox;
use crate::media::VideoInfo;
use crate::roster::Roster;
use crate::util::h5util::{read_str_attr, write_attr, write_str_attr};
use crate::util::output::{write_atomically, Access};

mod v1;

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
    /// Index into `/tracks`.
    track: i32,
}

/// A row of `/tracks`.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct TrackRow {
    id: u32,
    /// Index into `/roster/student_id`, -1 for an unknown track.
    student_index: i32,
    student_id: VarLenUnicode,
    frames: u64,
    first_seen_s: f64,
    last_seen_s: f64,
    /// NaN for an unknown track.
    mean_distance: f64,
    /// Row of `/unknown` for an unknown track, else -1.
    unknown_person: i32,
}

/// A row of `/unknown`.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct UnknownRow {
    id: u32,
    tracks: u64,
    frames_seen: u64,
    windows_seen: u64,
    first_seen_s: f64,
    last_seen_s: f64,
}

/// A row of `/provenance/ranks`: what one rank ran on.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct HostRow {
    rank: u32,
    host: VarLenUnicode,
    cpu: VarLenUnicode,
    logical_cores: u32,
    isa_level: VarLenUnicode,
    memory_bytes: u64,
}

/// A row of `/attendance`.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct AttendanceRecord {
    student_id: VarLenUnicode,
    name: VarLenUnicode,
    sampled_frames: u64,
    frames_seen: u64,
    windows: u64,
    windows_seen: u64,
    presence: f64,
    /// NaN when never seen.
    first_seen_s: f64,
    last_seen_s: f64,
    status: VarLenUnicode,
}

/// The layout of `attendance.h5` this rollcall writes, kept in the root attribute
/// `format_version`; docs/FORMAT.md ("Format versions") says what each version holds. Bump it
/// with any change that a reader of the previous version would misread, and teach [`read`]
/// the version before.
pub const FORMAT_VERSION: u32 = 3;

/// Attribute of `/settings` holding the whole configuration as YAML: a `--config` file that
/// repeats the run, and what `read` rebuilds the settings from.
const CONFIG_ATTR: &str = "config_yaml";

fn vlu(s: &str) -> Result<VarLenUnicode> {
    Ok(VarLenUnicode::from_str(s)?)
}

/// Writes the run to `path` (owner-only: it holds face encodings).
pub fn write(result: &RunResult, path: &Path) -> Result<()> {
    let bytes = render(result)?;
    write_atomically(path, Access::OwnerOnly, |tmp| Ok(std::fs::write(tmp, bytes)?))
}

/// The run as the bytes of an HDF5 file, built in memory (HDF5's core driver): its size is
/// known before anything touches the disk, and a full disk cannot leave half a file.
pub fn render(result: &RunResult) -> Result<Vec<u8>> {
    in_memory_file(|file| {
        write_str_attr(file, "rollcall_version", env!("CARGO_PKG_VERSION"))?;
        write_attr(file, "format_version", &FORMAT_VERSION)?;
        let software = file.create_group("software")?;
        for (name, version) in &result.software {
            write_str_attr(&software, name, version)?;
        }
        write_attr(file, "ranks", &(result.ranks as u32))?;
        write_attr(file, "wall_time_s", &result.wall_time_s)?;
        write_provenance(file, result)?;

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
        write_attr(&video, "stream", &(v.stream as u64))?;
        write_attr(&video, "stride_frames", &(result.stride as u64))?;
        write_attr(&video, "sampled_frames", &result.sampled_frames)?;
        video.new_dataset_builder().with_data(&result.failed_frames).create("failed_frames")?;
        video.new_dataset_builder().with_data(&result.sampled).create("sampled")?;

        result.roster.write_h5(file)?;

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
                    // `get`: a result read from a damaged file is written back as it is, not panicked on.
                    student_id: vlu(d
                        .student
                        .and_then(|s| result.roster.ids.get(s as usize))
                        .map_or("", String::as_str))?,
                    distance: d.distance,
                    track: d.track.map_or(-1, |t| t as i32),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        file.new_dataset_builder().with_data(&detections).create("detections")?;
        write_tracks(file, result)?;

        let attendance = result
            .attendance
            .iter()
            .map(|a| {
                Ok(AttendanceRecord {
                    student_id: vlu(&a.student_id)?,
                    name: vlu(&a.name)?,
                    sampled_frames: a.sampled_frames,
                    frames_seen: a.frames_seen,
                    windows: a.windows,
                    windows_seen: a.windows_seen,
                    presence: a.presence,
                    first_seen_s: a.first_seen_s.unwrap_or(f64::NAN),
                    last_seen_s: a.last_seen_s.unwrap_or(f64::NAN),
                    status: vlu(a.status())?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ds = file.new_dataset_builder().with_data(&attendance).create("attendance")?;
        write_attr(&ds, "threshold", &result.settings.attendance.threshold)?;
        write_attr(&ds, "window_s", &result.window_s)?;
        let windows = result.attendance.first().map_or(0, |a| a.strip.len());
        let strip: Vec<u8> = result.attendance.iter().flat_map(|a| a.strip.iter().map(|&s| u8::from(s))).collect();
        let strip = ndarray::Array2::from_shape_vec((result.attendance.len(), windows), strip)?;
        file.new_dataset_builder().with_data(&strip).create("presence_windows")?;
        // The crops as one byte string and where each student's starts: HDF5 has no cheaper
        // way to hold a few dozen small blobs, and h5py slices it in one line.
        let crops = file.create_group("crops")?;
        let offsets: Vec<u64> = std::iter::once(0)
            .chain(result.crops.iter().scan(0u64, |end, c| {
                *end += c.len() as u64;
                Some(*end)
            }))
            .collect();
        crops.new_dataset_builder().with_data(&result.crops.concat()).create("jpeg")?;
        crops.new_dataset_builder().with_data(&offsets).create("offset")?;

        file.new_dataset_builder().with_data(&result.timings).create("ranks")?;
        file.new_dataset_builder().with_data(&result.units).create("units")?;
        Ok(())
    })
}

/// Runs `fill` on a new HDF5 file that lives in memory only, and returns the file's bytes.
fn in_memory_file(fill: impl FnOnce(&hdf5::File) -> Result<()>) -> Result<Vec<u8>> {
    static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // The name only has to differ from other files open in this process.
    let name =
        format!("rollcall-{}-{}.h5", std::process::id(), FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let file = hdf5::File::with_options().with_fapl(|p| p.core_options(1 << 20, false)).create(&name)?;
    fill(&file)?;
    file.flush()?;
    let bytes = hdf5::sync::sync(|| {
        // SAFETY: `file` is open; the first call asks for the size, the second fills a buffer
        // of exactly that size.
        let size = unsafe { hdf5_sys::h5f::H5Fget_file_image(file.id(), std::ptr::null_mut(), 0) };
        let mut bytes = vec![0u8; usize::try_from(size).map_err(|_| anyhow!("HDF5 could not size the file image"))?];
        let copied = unsafe { hdf5_sys::h5f::H5Fget_file_image(file.id(), bytes.as_mut_ptr().cast(), bytes.len()) };
        anyhow::ensure!(copied == size, "HDF5 could not copy the file image");
        Ok(bytes)
    })?;
    file.close()?;
    Ok(bytes)
}

/// `/provenance`: the job's attributes (command line, UTC start, Slurm job) and a row per rank.
fn write_provenance(file: &hdf5::File, result: &RunResult) -> Result<()> {
    let group = file.create_group("provenance")?;
    for (key, value) in &result.job {
        write_str_attr(&group, key, value)?;
    }
    let rows = result
        .hosts
        .iter()
        .map(|h| {
            Ok(HostRow {
                rank: h.rank,
                host: vlu(&h.host)?,
                cpu: vlu(&h.cpu)?,
                logical_cores: h.logical_cores,
                isa_level: vlu(&h.isa_level)?,
                memory_bytes: h.memory_bytes,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    group.new_dataset_builder().with_data(&rows).create("ranks")?;
    Ok(())
}

/// Name → value of a group's string attributes.
fn string_attrs(group: &hdf5::Group) -> Result<BTreeMap<String, String>> {
    group
        .attr_names()?
        .into_iter()
        .map(|name| Ok((read_str_attr(group, &name)?, name)))
        .map(|r| r.map(|(v, n)| (n, v)))
        .collect()
}

/// The provenance of a result file; empty for files written before rollcall kept it.
fn read_provenance(file: &hdf5::File) -> Result<(Vec<HostInfo>, BTreeMap<String, String>)> {
    let Ok(group) = file.group("provenance") else {
        return Ok(Default::default());
    };
    let job = string_attrs(&group)?;
    let hosts = group
        .dataset("ranks")?
        .read_raw::<HostRow>()?
        .into_iter()
        .map(|r| HostInfo {
            rank: r.rank,
            host: r.host.to_string(),
            cpu: r.cpu.to_string(),
            logical_cores: r.logical_cores,
            isa_level: r.isa_level.to_string(),
            memory_bytes: r.memory_bytes,
        })
        .collect();
    Ok((hosts, job))
}

/// `/tracks`, `/unknown` and, when the user kept them, `/unknown_encodings`.
fn write_tracks(file: &hdf5::File, result: &RunResult) -> Result<()> {
    let tracks = result
        .tracks
        .iter()
        .map(|t| {
            Ok(TrackRow {
                id: t.id,
                student_index: t.student.map_or(-1, |s| s as i32),
                student_id: vlu(t.student.and_then(|s| result.roster.ids.get(s as usize)).map_or("", String::as_str))?,
                frames: t.frames,
                first_seen_s: t.first_seen_s,
                last_seen_s: t.last_seen_s,
                mean_distance: t.mean_distance,
                unknown_person: t.unknown_person.map_or(-1, |p| p as i32),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    file.new_dataset_builder().with_data(&tracks).create("tracks")?;
    let unknown: Vec<UnknownRow> = result
        .unknown
        .iter()
        .map(|u| UnknownRow {
            id: u.id,
            tracks: u.tracks,
            frames_seen: u.frames_seen,
            windows_seen: u.windows_seen,
            first_seen_s: u.first_seen_s,
            last_seen_s: u.last_seen_s,
        })
        .collect();
    file.new_dataset_builder().with_data(&unknown).create("unknown")?;
    // Rows only when the user kept them (`--keep-unknown`); otherwise an empty table.
    let kept: Vec<&[f32]> = result.unknown.iter().map(|u| u.encoding.as_slice()).filter(|e| !e.is_empty()).collect();
    let flat: Vec<f32> = kept.concat();
    let encodings = ndarray::Array2::from_shape_vec((kept.len(), crate::face::ENCODING_LEN), flat)?;
    file.new_dataset_builder().with_data(&encodings).create("unknown_encodings")?;
    Ok(())
}

/// Reads a run back from `path`, as `rollcall report` needs it: no video, no models. Files of
/// every earlier format are read (what they lack is empty: a result from before tracks has no
/// tracks); a file of a newer format is refused with the versions and what to do.
pub fn read(path: &Path) -> Result<RunResult> {
    let file = crate::util::h5util::open(path, "result file")?;
    let not_ours = |e: anyhow::Error| anyhow!("{} is not a rollcall result: {e:#}", path.display());
    let version = format_version(&file).map_err(not_ours)?;
    if version > FORMAT_VERSION {
        let writer = read_str_attr(&file, "rollcall_version").unwrap_or_else(|_| "?".into());
        bail!(
            "{} was written by a newer rollcall ({writer}, result format {version}); this rollcall ({}) reads \
             result formats 1 to {FORMAT_VERSION}: read it with the rollcall that wrote it, or upgrade",
            path.display(),
            env!("CARGO_PKG_VERSION")
        );
    }
    // A file with rollcall's groups whose reading fails is a damaged or unexpected result: its
    // cause is said as it is, not as "not a rollcall result".
    let layout = file.link_exists("settings") && file.link_exists("video");
    let result = read_file(&file, version).map_err(|e| match layout {
        true => anyhow!("{} cannot be read as a rollcall result: {e:#}", path.display()),
        false => not_ours(e),
    })?;
    result.check_consistent().map_err(|e| anyhow!("{} is damaged: {e:#}", path.display()))?;
    Ok(result)
}

/// The format of a result file: its `format_version` attribute, or for a file written before
/// rollcall kept one, what its layout says (version 1 has no `/tracks`).
fn format_version(file: &hdf5::File) -> Result<u32> {
    if !file.attr_names()?.iter().any(|n| n == "format_version") {
        return Ok(if file.link_exists("tracks") { 2 } else { 1 });
    }
    match file.attr("format_version")?.read_scalar::<u32>() {
        Ok(v) if v >= 1 => Ok(v),
        Ok(v) => bail!("its format_version attribute is {v}, and formats start at 1"),
        Err(e) => bail!("its format_version attribute cannot be read as a number ({e})"),
    }
}

fn read_file(file: &hdf5::File, version: u32) -> Result<RunResult> {
    let (hosts, job) = read_provenance(file)?;
    let settings_group = file.group("settings")?;
    let mut config: crate::config::ConfigFile =
        serde_norway::from_str(&read_str_attr(&settings_group, CONFIG_ATTR)?)
            .with_context(|| format!("its settings (/settings, attribute {CONFIG_ATTR})"))?;
    // Runs before the setting ran dlib's HOG, the default then (yunet is today's).
    config.detector.get_or_insert(crate::face::Detector::Hog);
    // Runs before the setting read every video with OpenCV.
    let reader = config.reader.unwrap_or(crate::media::Reader::Opencv);
    let mut settings = Settings::as_recorded(config).context("its settings (/settings)")?;
    settings.reader = reader;
    if version == 1 {
        // Presence was the share of sampled frames then; the setting came later.
        settings.attendance.rule = crate::config::Rule::Frames;
    }
    let v = file.group("video")?;
    let video = VideoInfo {
        path: read_str_attr(&v, "path")?,
        file_size: v.attr("file_size_bytes")?.read_scalar()?,
        frame_count: v.attr("frame_count")?.read_scalar::<u64>()? as usize,
        fps: v.attr("fps")?.read_scalar()?,
        // Files written before `/video/stream` read stream 0.
        stream: v.attr("stream").and_then(|a| a.read_scalar::<u64>()).map_or(0, |s| s as usize),
        width: v.attr("width_px")?.read_scalar()?,
        height: v.attr("height_px")?.read_scalar()?,
    };
    let stride = v.attr("stride_frames")?.read_scalar::<u64>()? as usize;
    // Files written before `/video/sampled` sampled every stride-th frame.
    let sampled = match v.dataset("sampled") {
        Ok(listed) => listed.read_raw()?,
        Err(_) => (0..video.frame_count as u64).step_by(stride.max(1)).collect(),
    };
    let roster = Roster::read_h5(file)?;
    let detections = if version >= 2 {
        file.dataset("detections")?.read_raw::<DetectionRow>()?.into_iter().map(DetectionRow::into_detection).collect()
    } else {
        file.dataset("detections")?.read_raw::<v1::DetectionRow>()?.into_iter().map(v1::DetectionRow::upgrade).collect()
    };
    let Since2 { tracks, unknown, crops } = if version >= 2 { read_since_2(file)? } else { Since2::default() };
    let (attendance, window_s) = if version >= 2 {
        let strip: ndarray::Array2<u8> = file.dataset("presence_windows")?.read_2d()?;
        let ds = file.dataset("attendance")?;
        let rows = ds
            .read_raw::<AttendanceRecord>()?
            .into_iter()
            .zip(strip.rows())
            .map(|(a, strip)| a.into_row(strip.iter().map(|&s| s != 0).collect()))
            .collect();
        (rows, ds.attr("window_s")?.read_scalar()?)
    } else {
        let rows = file.dataset("attendance")?.read_raw::<v1::AttendanceRecord>()?;
        (rows.into_iter().map(v1::AttendanceRecord::upgrade).collect(), 0.0)
    };
    Ok(RunResult {
        settings,
        video,
        roster,
        ranks: file.attr("ranks")?.read_scalar::<u32>()? as usize,
        stride,
        sampled,
        sampled_frames: v.attr("sampled_frames")?.read_scalar()?,
        failed_frames: v.dataset("failed_frames")?.read_raw()?,
        detections,
        tracks,
        unknown,
        window_s,
        crops,
        attendance,
        timings: read_ranks(&file.dataset("ranks")?)?,
        units: file.dataset("units")?.read_raw()?,
        warnings: Vec::new(),
        software: string_attrs(&file.group("software")?)?,
        hosts,
        job,
        wall_time_s: file.attr("wall_time_s")?.read_scalar()?,
    })
}

impl DetectionRow {
    fn into_detection(self) -> Detection {
        Detection {
            frame: self.frame,
            time_s: self.time_s,
            rank: self.rank,
            bbox: FaceBox { x: self.x_px, y: self.y_px, w: self.w_px, h: self.h_px },
            student: u32::try_from(self.student_index).ok(),
            distance: self.distance,
            track: u32::try_from(self.track).ok(),
            encoding: Vec::new(),
        }
    }
}

impl AttendanceRecord {
    fn into_row(self, strip: Vec<bool>) -> AttendanceRow {
        AttendanceRow {
            student_id: self.student_id.as_str().to_owned(),
            name: self.name.as_str().to_owned(),
            sampled_frames: self.sampled_frames,
            frames_seen: self.frames_seen,
            windows: self.windows,
            windows_seen: self.windows_seen,
            strip,
            presence: self.presence,
            first_seen_s: Some(self.first_seen_s).filter(|t| !t.is_nan()),
            last_seen_s: Some(self.last_seen_s).filter(|t| !t.is_nan()),
            present: self.status.as_str() == "Present",
        }
    }
}

/// What a result holds since format 2 and a format-1 result has none of.
#[derive(Default)]
struct Since2 {
    tracks: Vec<Track>,
    unknown: Vec<UnknownPerson>,
    /// One JPEG per crop, in `/crops/offset` order.
    crops: Vec<Vec<u8>>,
}

/// `/tracks`, `/unknown` (with `/unknown_encodings` where kept) and `/crops`.
fn read_since_2(file: &hdf5::File) -> Result<Since2> {
    let tracks = file
        .dataset("tracks")?
        .read_raw::<TrackRow>()?
        .into_iter()
        .map(|t| Track {
            id: t.id,
            student: u32::try_from(t.student_index).ok(),
            frames: t.frames,
            first_seen_s: t.first_seen_s,
            last_seen_s: t.last_seen_s,
            mean_distance: t.mean_distance,
            unknown_person: u32::try_from(t.unknown_person).ok(),
        })
        .collect();
    let kept: ndarray::Array2<f32> = file.dataset("unknown_encodings")?.read_2d()?;
    let unknown = file
        .dataset("unknown")?
        .read_raw::<UnknownRow>()?
        .into_iter()
        .enumerate()
        .map(|(i, u)| UnknownPerson {
            id: u.id,
            tracks: u.tracks,
            frames_seen: u.frames_seen,
            windows_seen: u.windows_seen,
            first_seen_s: u.first_seen_s,
            last_seen_s: u.last_seen_s,
            encoding: if kept.nrows() > i { kept.row(i).to_vec() } else { Vec::new() },
        })
        .collect();
    let jpeg: Vec<u8> = file.dataset("crops/jpeg")?.read_raw()?;
    let offset: Vec<u64> = file.dataset("crops/offset")?.read_raw()?;
    let crops = offset
        .windows(2)
        .map(|w| {
            jpeg.get(w[0] as usize..w[1] as usize).map(<[u8]>::to_vec).context("/crops/offset points past /crops/jpeg")
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Since2 { tracks, unknown, crops })
}

/// `/ranks`, rank by rank. A file written before a field existed (`encodings`, `cpu_s`) has
/// it read as 0: HDF5 converts the members the file has and leaves the others as the buffer
/// held them, so the buffer starts as zeros, not as whatever memory held.
fn read_ranks(ranks: &hdf5::Dataset) -> Result<Vec<RankTiming>> {
    let mut rows = vec![RankTiming::default(); ranks.size()];
    ranks.as_reader().read_into_raw(&mut rows)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/ranks` as the first releases wrote it: fewer fields.
    #[derive(Clone, Copy, hdf5::H5Type)]
    #[repr(C)]
    struct EarlyRank {
        rank: u32,
        frames: u64,
        total_s: f64,
    }

    #[test]
    fn fields_a_file_lacks_read_as_zero() {
        let dir = tempfile::tempdir().unwrap();
        let file = hdf5::File::create(dir.path().join("early.h5")).unwrap();
        let early = [EarlyRank { rank: 0, frames: 30, total_s: 2.5 }, EarlyRank { rank: 1, frames: 28, total_s: 2.4 }];
        let ranks = file.new_dataset_builder().with_data(&early).create("ranks").unwrap();
        let rows = read_ranks(&ranks).unwrap();
        assert_eq!(
            rows.iter().map(|r| (r.rank, r.frames, r.total_s)).collect::<Vec<_>>(),
            [(0, 30, 2.5), (1, 28, 2.4)]
        );
        assert!(rows.iter().all(|r| r.cpu_s == 0.0 && r.encodings == 0 && r.decoded_frames == 0));
        // What the zeros rest on: the members the file lacks keep the buffer's values.
        let mut marked = vec![RankTiming { cpu_s: 7.0, ..Default::default() }; 2];
        ranks.as_reader().read_into_raw(&mut marked).unwrap();
        assert!(marked.iter().all(|r| r.cpu_s == 7.0));
    }
}
