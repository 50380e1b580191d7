//! `rollcall attend` and `rollcall photo`: their settings from config, manifest and flags, the
//! job on every rank, and the summary rank 0 prints.

use anyhow::{bail, Result};

use crate::analysis::semester::Manifest;
use crate::attendance::result::RunResult;
use crate::cli::{AttendArgs, JobArgs, PhotoArgs};
use crate::config::{ConfigFile, JobKind, Settings, Tiling};
use crate::report;
use crate::run::{comm, job};

pub fn run(args: AttendArgs, quiet: bool) -> Result<()> {
    let settings = attend_settings(&args).and_then(|s| match s.kind {
        JobKind::Photo(_) => bail!("tile and overlap are settings of `rollcall photo`, not of a video"),
        JobKind::Video => Ok(s),
    });
    run_job(settings, &args.job, quiet)
}

pub fn photo(args: PhotoArgs, quiet: bool) -> Result<()> {
    let config = match &args.job.config {
        Some(path) => ConfigFile::load(path),
        None => Ok(ConfigFile::default()),
    };
    // A config file may be shared with videos: only the flags are held to the photo's settings.
    let flags = &args.job.settings;
    let settings = config
        .and_then(|c| match flags.every.is_some() || flags.fps.is_some() {
            true => bail!("--every and --fps sample a video; `rollcall photo` analyses its one image"),
            false => Settings::from_config(c.overridden_by(args.as_overrides())?),
        })
        .map(|mut s| {
            if s.kind == JobKind::Video {
                s.kind = JobKind::Photo(Tiling::default());
            }
            s
        });
    run_job(settings, &args.job, quiet)
}

/// Runs an attend or photo job on every rank; rank 0 prints the summary.
fn run_job(settings: Result<Settings>, job_args: &JobArgs, quiet: bool) -> Result<()> {
    let comm = comm::Comm::init()?;
    let Some(result) = job::run(&comm, settings, job_args.existing(), quiet)? else {
        return Ok(());
    };
    if !quiet {
        print_summary(&result);
    }
    Ok(())
}

/// Settings from, lowest first: the config file (--config, else the manifest's `config:`), the
/// manifest's entry for --lecture, the flags.
fn attend_settings(args: &AttendArgs) -> Result<Settings> {
    let manifest = args.manifest.as_deref().map(Manifest::load).transpose()?;
    let config_path = args.job.config.clone().or_else(|| manifest.as_ref().and_then(|m| m.config.clone()));
    let mut config = match &config_path {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    if let (Some(m), Some(index)) = (&manifest, args.lecture) {
        config = config.overridden_by(m.lecture_config(m.lecture(index)?))?;
    }
    Settings::from_config(config.overridden_by(args.as_overrides())?)
}

/// The end of a run, on stdout: the attendance table, the warnings, the figures, and where the
/// reports are.
fn print_summary(result: &RunResult) {
    println!(
        "{:<14} {:<24} {:>9} {:>8} {:>8} {:>6} {:>6}  status",
        "student_id", "name", "presence", "windows", "frames", "first", "last"
    );
    let clock = |t: Option<f64>| t.map_or("-".to_owned(), |t| format!("{}:{:02}", (t / 60.0) as u64, t as u64 % 60));
    for a in &result.attendance {
        let flags = a.flags();
        println!(
            "{:<14} {:<24} {:>8.1}% {:>8} {:>8} {:>6} {:>6}  {}{}",
            a.student_id,
            a.name,
            a.presence * 100.0,
            format!("{}/{}", a.windows_seen, a.windows),
            format!("{}/{}", a.frames_seen, a.sampled_frames),
            clock(a.first_seen_s),
            clock(a.last_seen_s),
            a.status(),
            if flags.is_empty() { String::new() } else { format!(" ({flags})") }
        );
    }
    if !result.warnings.is_empty() {
        const SHOWN: usize = 5;
        println!("{} warning(s) during the run:", result.warnings.len());
        for w in result.warnings.iter().take(SHOWN) {
            println!("  {w}");
        }
        if result.warnings.len() > SHOWN {
            println!("  ... and {} more", result.warnings.len() - SHOWN);
        }
    }
    let present = result.attendance.iter().filter(|a| a.present).count();
    // Frames analysed by this run (a resumed run's journal brought the others).
    let analysed: u64 = result.timings.iter().map(|t| t.frames).sum();
    let busy: Vec<String> =
        result.timings.iter().map(|t| format!("{:.0}%", 100.0 * t.busy_s / t.total_s.max(1e-9))).collect();
    println!(
        "{} sampled frames, {} faces, {} present / {} absent, {} unenrolled attended; {:.1} s on {} rank(s), {:.2} frames/s; busy per rank: {}",
        result.sampled_frames,
        result.detections.len(),
        present,
        result.attendance.len() - present,
        result.unknown.len(),
        result.wall_time_s,
        result.ranks,
        analysed as f64 / result.wall_time_s.max(1e-9),
        busy.join(" ")
    );
    if let Some(cost) = result.core_seconds_per_lecture_minute() {
        println!(
            "cost: {cost:.1} core-seconds per lecture-minute (CPU time of all ranks; {:.1} core-hours per 1,000 lecture-hours)",
            cost * 60.0 * 1000.0 / 3600.0
        );
    }
    println!("reports: {}/{{{}}}", result.settings.output.display(), report::all_outputs().join(","));
}
