//! A run's result put together on rank 0 from what every rank found: faces merged across tiles,
//! tracks over time, the presence rule applied, evidence crops, and the ranks' timings. Who ran
//! which unit leaves no trace here beyond the timings.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::about::HostInfo;
use crate::attendance::evidence;
use crate::attendance::observation::{Detection, Windows};
use crate::attendance::result::{self, PresenceRule, RankTiming, RunResult, UnitRecord};
use crate::attendance::track;
use crate::config::Settings;
use crate::media::VideoInfo;
use crate::roster::Roster;

/// What was analysed, as planned: the settings that ran, the recording, the roster, and
/// every frame sampled (frame 0 of a photo) with the stride between them.
pub struct Analysed {
    pub settings: Settings,
    pub video: VideoInfo,
    pub roster: Roster,
    pub sampled: Vec<u64>,
    pub stride: usize,
}

/// What the units brought back, in any order.
#[derive(Default)]
pub struct Collected {
    pub detections: Vec<Detection>,
    pub units: Vec<UnitRecord>,
    pub failed_frames: Vec<u64>,
}

/// What a rank sends back at the end: its timings and warnings (results went unit by unit).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankReport {
    pub timing: RankTiming,
    pub warnings: Vec<String>,
    pub host: HostInfo,
}

/// The collected results and the ranks' reports as one result, independent of who ran what.
pub fn assemble(job: Analysed, collected: Collected, reports: Vec<RankReport>, wall_time_s: f64) -> Result<RunResult> {
    let Collected { mut detections, mut units, failed_frames: mut failed } = collected;
    if job.settings.kind.is_photo() {
        let found = detections.len();
        detections = result::merge_overlapping(detections);
        tracing::info!("{found} faces found in the tiles, {} after merging faces seen by two tiles", detections.len());
    }
    detections.sort_by_key(|d| (d.frame, d.bbox.x, d.bbox.y));
    units.sort_by_key(|u| u.unit);
    failed.sort_unstable();
    let sampled_frames = job.sampled.len() as u64 - failed.len() as u64;
    let sampled_times = result::analysed_frames(&job.sampled, &failed).map(|f| job.video.time_of(f as usize));
    let settings = &job.settings;
    let windows = Windows::new(settings.attendance.window.seconds(job.video.duration_s()), sampled_times);
    let over_time = track::over_time(
        &mut detections,
        &job.roster,
        &windows,
        settings.attendance.track_gap,
        settings.reports.keep_unknown,
    );
    let rule = PresenceRule { rule: settings.attendance.rule, threshold: settings.attendance.threshold };
    let attendance = result::attendance(&job.roster, &detections, sampled_frames, &windows, rule);
    let crops = if settings.reports.crops {
        evidence::best_face_crops(&job.video, settings.reader, settings.kind, job.roster.ids.len(), &detections)?
    } else {
        Vec::new()
    };
    for d in &mut detections {
        d.encoding = Vec::new(); // biometric data: used for tracks, never written
    }
    let started = std::time::SystemTime::now() - std::time::Duration::from_secs_f64(wall_time_s);
    let hosts = reports.iter().map(|r| r.host.clone()).collect();
    let (timings, warnings): (Vec<_>, Vec<_>) = reports.into_iter().map(|r| (r.timing, r.warnings)).unzip();
    let software =
        crate::about::software_versions(job.settings.detection.isa).into_iter().map(|(k, v)| (k.to_owned(), v));
    Ok(RunResult {
        tracks: over_time.tracks,
        unknown: over_time.unknown,
        window_s: windows.length_s,
        crops,
        stride: job.stride,
        sampled: job.sampled,
        ranks: timings.len(),
        settings: job.settings,
        video: job.video,
        roster: job.roster,
        sampled_frames,
        failed_frames: failed,
        detections,
        attendance,
        timings,
        units,
        wall_time_s,
        warnings: warnings.into_iter().flatten().collect(),
        software: software.collect(),
        hosts,
        job: crate::about::job_provenance(started).into_iter().collect(),
    })
}
