//! The `rollcall` command: parses the command line, runs a subcommand of the library, and turns
//! any error into one line on stderr and a non-zero exit code.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;

use rollcall::analysis::semester::{self, Lecture, Manifest};
use rollcall::attendance::result::RunResult;
use rollcall::cli::{
    AttendArgs, Cli, Command, EnrollArgs, EvalArgs, GrayArgs, LecturesArgs, PhotoArgs, ProbeArgs, ReportArgs,
    ScalingArgs, SemesterArgs, SimulateArgs, SynthArgs,
};
use rollcall::config::Tiling;
use rollcall::config::{ConfigFile, Settings};
use rollcall::face::{self, FacePipeline};
use rollcall::roster::enroll;
use rollcall::run::{comm, job as attend};
use rollcall::{report, synth};

/// True in a process that a launcher started as a rank other than 0: such a process keeps
/// quiet about errors every rank sees alike (a bad flag), so the user reads them once.
fn is_launched_worker() -> bool {
    rollcall::util::log::launcher_rank() != 0
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if is_launched_worker() => return ExitCode::from(e.exit_code() as u8),
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            eprintln!("rollcall: error: {}", one_line(&e));
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    rollcall::util::log::init(cli.verbosity());
    rollcall::run::worker::one_blas_thread_per_worker();
    let outcome = rollcall::util::interrupt::install()
        .and_then(|()| rollcall::media::video::quiet_codec_logs())
        .and_then(|()| run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !is_launched_worker() {
                eprintln!("rollcall: error: {e:#}");
            }
            // Like a shell: 128 + the signal for a run stopped by one.
            match e.downcast_ref::<rollcall::util::interrupt::Interrupted>() {
                Some(i) => ExitCode::from(128 + i.signal as u8),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// A command-line error as one line, like every other error: clap's message with its hints
/// (possible values, a similar flag) on the same line, without the "try --help" footer.
fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    parts.join(" ")
}

fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Enroll(args) => enroll(args, quiet),
        Command::Attend(args) => attend(args, quiet),
        Command::Photo(args) => photo(args, quiet),
        Command::Gray(args) => gray(args, quiet),
        Command::Report(args) => rebuild_reports(args),
        Command::Semester(args) => semester(args),
        Command::Lectures(args) => lectures(args),
        Command::Scaling(args) => scaling(args),
        Command::Simulate(args) => simulate(args),
        Command::CalibrateNode(args) => calibrate_node(args),
        Command::Synth(args) => synth(args),
        Command::Eval(args) => eval(args),
        Command::Probe(args) => probe(args),
    }
}

fn enroll(args: EnrollArgs, quiet: bool) -> Result<()> {
    rollcall::util::output::refuse_to_overwrite([args.output.as_path()], args.force)?;
    rollcall::util::output::check_writable(&args.output)?;
    let pipeline = FacePipeline::load(
        &face::find_model_dir(args.models.as_deref())?,
        &face::DetectorSetup::new(args.detector, args.upsample),
    )?;
    let roster = enroll::build_roster(&args.photos_dir, &pipeline)?;
    enroll::write_roster(&roster, &args.output)?;
    let warnings = rollcall::util::log::take_warnings();
    if quiet {
        return Ok(());
    }
    println!(
        "enrolled {} students from {} photos into {}{}",
        roster.ids.len(),
        roster.owner.len(),
        args.output.display(),
        if warnings.is_empty() { String::new() } else { format!(" ({} warning(s) above)", warnings.len()) }
    );
    let single: Vec<&str> = (0..roster.ids.len())
        .filter(|&s| roster.owner.iter().filter(|&&o| o as usize == s).count() == 1)
        .map(|s| roster.ids[s].as_str())
        .collect();
    if !single.is_empty() {
        let named = if single.len() <= 5 { format!(" ({})", single.join(", ")) } else { String::new() };
        println!(
            "{} of {} students have a single photo{named}: three (front, left and right three-quarter, \
             in PHOTOS/<id>/) match turned faces far better",
            single.len(),
            roster.ids.len()
        );
    }
    Ok(())
}

fn attend(args: AttendArgs, quiet: bool) -> Result<()> {
    let settings = attend_settings(&args).and_then(|s| match s.tiling {
        Some(_) => bail!("tile and overlap are settings of `rollcall photo`, not of a video"),
        None => Ok(s),
    });
    run_job(settings, &args.job, quiet)
}

fn photo(args: PhotoArgs, quiet: bool) -> Result<()> {
    let config = match &args.job.config {
        Some(path) => ConfigFile::load(path),
        None => Ok(ConfigFile::default()),
    };
    // A config file may be shared with videos: only the flags are held to the photo's settings.
    let flags = &args.job.settings;
    let settings = config
        .and_then(|c| match flags.every.is_some() || flags.fps.is_some() {
            true => bail!("--every and --fps sample a video; `rollcall photo` analyses its one image"),
            false => Settings::from_config(c.overridden_by(args.as_overrides())),
        })
        .map(|mut s| {
            s.tiling.get_or_insert(Tiling { tile: Tiling::DEFAULT_TILE, overlap: Tiling::DEFAULT_OVERLAP });
            s
        });
    run_job(settings, &args.job, quiet)
}

fn gray(args: GrayArgs, quiet: bool) -> Result<()> {
    let comm = comm::Comm::init()?;
    let Some(run) =
        rollcall::run::gray::run(&comm, &args.image, &args.output, args.band_rows, args.schedule, args.force)?
    else {
        return Ok(());
    };
    if !quiet {
        for t in &run.timings {
            println!("rank {}: {} bands, busy {:.4} s, total {:.4} s", t.rank, t.units, t.busy_s, t.total_s);
        }
        println!(
            "{} px in {:.4} s on {} rank(s): speedup {:.2}, efficiency {:.0}%, {:.2} GB/s moved; wrote {} (+ .h5, .xlsx)",
            run.pixels,
            run.wall_time_s,
            run.timings.len(),
            run.speedup(),
            run.efficiency() * 100.0,
            run.bytes_per_s() / 1e9,
            args.output.display()
        );
    }
    Ok(())
}

/// Runs an attend or photo job on every rank; rank 0 prints the summary.
fn run_job(settings: Result<Settings>, job: &rollcall::cli::JobArgs, quiet: bool) -> Result<()> {
    let comm = comm::Comm::init()?;
    let Some(result) = attend::run(&comm, settings, job.existing(), quiet)? else {
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
        config = config.overridden_by(m.lecture_config(m.lecture(index)?));
    }
    Settings::from_config(config.overridden_by(args.as_overrides()))
}

fn scaling(args: ScalingArgs) -> Result<()> {
    if args.output.extension().and_then(|e| e.to_str()) != Some("xlsx") {
        bail!(
            "-o {}: name the workbook FILE.xlsx (FILE.csv, FILE.json and FILE.md go next to it)",
            args.output.display()
        );
    }
    let runs =
        args.runs.iter().map(|p| Ok((p.display().to_string(), report::hdf5::read(p)?))).collect::<Result<Vec<_>>>()?;
    rollcall::analysis::scaling::check_comparable(&runs)?;
    let runs: Vec<_> = runs.into_iter().map(|(_, run)| run).collect();
    let rows = rollcall::analysis::scaling::table(&runs);
    let study = report::scaling::study(&rows);
    study.write_xlsx(&args.output)?;
    study.write_csv(&args.output.with_extension("csv"))?;
    report::scaling::write_json(&rows, &args.output.with_extension("json"))?;
    report::scaling::write_markdown(&rows, &args.output.with_extension("md"))?;
    print!("{}", report::scaling::markdown(&rows));
    println!(
        "table and charts in {}; also {}.csv, .json and .md",
        args.output.display(),
        args.output.with_extension("").display()
    );
    Ok(())
}

/// The longest recording `simulate --minutes` predicts.
const MAX_MINUTES: f64 = 24.0 * 60.0;

fn simulate(args: SimulateArgs) -> Result<()> {
    use rollcall::simulate::{self, CostModel, StudySpec};
    if let Some(rank) = args.slow.iter().map(|s| s.0).find(|&r| !args.ranks.iter().any(|&n| r < n as u32)) {
        bail!("--slow names rank {rank}, but no simulated run has that many ranks");
    }
    if let Some(&bad) = args.ranks.iter().find(|&&n| n == 0 || n > 1 << 20) {
        bail!("--ranks: {bad} is not a number of ranks (1 to 1048576)");
    }
    if !(args.latency_us >= 0.0 && args.latency_us.is_finite()) {
        bail!("--latency-us must be ≥ 0");
    }
    if args.master_us.is_some_and(|us| !(us >= 0.0 && us.is_finite())) {
        bail!("--master-us must be ≥ 0");
    }
    // Sorted and once each: the table and its charts run along ranks, a line per schedule.
    let (mut ranks, mut schedules) = (args.ranks, args.schedule);
    ranks.sort_unstable();
    ranks.dedup();
    schedules.sort_by_key(|s| s.to_string());
    schedules.dedup();
    let run = report::hdf5::read(&args.run)?;
    let mut model = CostModel::from_run(&run)?;
    if let Some(minutes) = args.minutes {
        // Beyond a day it is not a lecture, and the profile would fill memory (--minutes 1e9
        // once asked for 480 GB).
        if !(minutes > 0.0 && minutes <= MAX_MINUTES) {
            bail!("--minutes must be > 0 and at most {MAX_MINUTES} (a day of recording), got {minutes}");
        }
        model = model.repeated_to(minutes * 60.0);
    }
    let chunk = args.chunk.unwrap_or(model.chunk);
    if chunk == 0 {
        bail!("--chunk must be at least 1");
    }
    let spec = StudySpec {
        ranks,
        schedules,
        chunk,
        slow: args.slow.into_iter().collect(),
        latency_s: args.latency_us * 1e-6,
        master_s: args.master_us.map(|us| us * 1e-6).or(model.master_s).unwrap_or(simulate::DEFAULT_MASTER_S),
        node: args.node.load()?,
    };
    let rows = simulate::study(&model, &spec).context("simulation stopped: nothing written")?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create output directory {}", args.output.display()))?;
    let study = report::simulation::study(&rows);
    study.write_csv(&args.output.join("simulation.csv"))?;
    study.write_xlsx(&args.output.join("simulation.xlsx"))?;
    println!(
        "{:.0} s of video, {} sampled frames, {:.1} ms/frame measured, chunk {chunk}, master {:.0} us/message, latency {} us",
        model.video_seconds(),
        model.frame_s.len(),
        1e3 * model.frame_s.iter().sum::<f64>() / model.frame_s.len() as f64,
        spec.master_s * 1e6,
        spec.latency_s * 1e6
    );
    println!(
        "{:<9} {:>6} {:>7} {:>12} {:>8} {:>10} {:>8} {:>9}",
        "schedule", "ranks", "units", "makespan (s)", "speedup", "efficiency", "master", "decoded"
    );
    for r in &rows {
        println!(
            "{:<9} {:>6} {:>7} {:>12.2} {:>8.1} {:>9.0}% {:>7.2}% {:>8.2}x",
            r.schedule.to_string(),
            r.ranks,
            r.units,
            r.outcome.makespan_s,
            r.speedup,
            r.efficiency * 100.0,
            r.master_share() * 100.0,
            r.decoded_per_sample()
        );
    }
    println!("{}", spec.node.describe());
    println!("table and charts in {}", args.output.join("simulation.xlsx").display());
    Ok(())
}

fn calibrate_node(args: rollcall::cli::CalibrateNodeArgs) -> Result<()> {
    use rollcall::simulate::calibrate;
    rollcall::util::output::refuse_to_overwrite([args.output.as_path()], args.force)?;
    rollcall::util::output::check_writable(&args.output)?; // before minutes of measuring
    let spec = calibrate::CalibrateSpec {
        run: args.run,
        max_cores: args.max_ranks,
        units: args.units,
        repeat: args.repeat,
        models: args.models,
    };
    let file = calibrate::run(&spec)?;
    calibrate::write(&file, &args.output)?;
    println!("busy cores  slowdown  spread  ms/frame   ({} on {})", file.detector, file.cpu);
    for (busy, factor) in &file.slowdown {
        println!("{busy:>10}  {factor:>8.3}  {:>6.3}  {:>8.1}", file.spread[busy], file.ms_per_frame[busy]);
    }
    println!("wrote {}", args.output.display());
    Ok(())
}

fn lectures(args: LecturesArgs) -> Result<()> {
    let m = Manifest::load(&args.manifest)?;
    for l in &m.lectures {
        let config = m.lecture_config(l);
        for path in [config.video.as_ref(), config.roster.as_ref()].into_iter().flatten() {
            if !path.is_file() {
                bail!("manifest {}: {} does not exist", args.manifest.display(), path.display());
            }
        }
    }
    if args.count {
        println!("{}", m.lectures.len());
        return Ok(());
    }
    for (i, l) in m.lectures.iter().enumerate() {
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        println!("{i}\t{}\t{}\t{}\t{}", l.name(), l.video.display(), text(&l.date), text(&l.title));
    }
    Ok(())
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
    println!("reports: {}/{{{}}}", result.settings.output.display(), report::all_outputs().join(","));
}

fn rebuild_reports(args: ReportArgs) -> Result<()> {
    let result = report::hdf5::read(&args.run)?;
    report::prepare_output_dir(&args.output, &report::DERIVED, args.force)?;
    report::write_derived(&result, &args.output)?;
    println!("rebuilt {} in {}", report::DERIVED.join(", "), args.output.display());
    Ok(())
}

fn semester(args: SemesterArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!("threshold must be in [0, 1], got {}", args.threshold);
    }
    let manifest = args.manifest.as_deref().map(Manifest::load).transpose()?;
    let output = match (&args.output, &manifest) {
        (Some(o), _) => o.clone(),
        (None, Some(m)) => m.output.join("semester.xlsx"),
        (None, None) => bail!("no output given: pass -o FILE.xlsx"),
    };
    if output.extension().and_then(|e| e.to_str()) != Some("xlsx") {
        bail!("-o {}: name the workbook FILE.xlsx (the csv is written next to it as FILE.csv)", output.display());
    }
    let csv_path = output.with_extension("csv");
    rollcall::util::output::refuse_to_overwrite([output.as_path(), csv_path.as_path()], args.force)?;
    // (result file, heading from the manifest)
    let sources: Vec<(std::path::PathBuf, Option<String>)> = match &manifest {
        Some(m) => m
            .lectures
            .iter()
            .map(|l| {
                let heading = semester::heading_of(l.date.as_deref(), l.title.as_deref());
                (m.output_of(l).join(report::RESULT_FILE), Some(heading))
            })
            .collect(),
        None => args.runs.iter().map(|p| (p.clone(), None)).collect(),
    };
    let mut files = std::collections::HashMap::new();
    for (path, _) in &sources {
        if let Some(first) = path.canonicalize().ok().and_then(|file| files.insert(file, path)) {
            bail!("{} and {} are the same result file: each lecture counts once", first.display(), path.display());
        }
    }
    let mut lectures = Vec::new();
    let mut headings = std::collections::HashMap::new();
    for (path, heading) in sources {
        let run = report::hdf5::read(&path)?;
        let fallback =
            path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let lecture = Lecture::from_run(&run, heading, &fallback);
        if let Some(first) = headings.insert(lecture.heading.clone(), path.clone()) {
            bail!(
                "{} and {} are both lecture {:?}: each lecture counts once (runs of different lectures need different --date/--title)",
                first.display(),
                path.display(),
                lecture.heading
            );
        }
        lectures.push(lecture);
    }
    let table = semester::table(&lectures, args.threshold);
    report::semester::write_xlsx(&table, &output)?;
    report::semester::write_csv(&table, &csv_path)?;
    let kept = lectures.iter().filter(|l| !l.unknown.is_empty()).count();
    if kept > 0 {
        for (person, seen) in semester::recurring_unknown(&lectures).iter().enumerate() {
            println!("unenrolled person #{}: seen in {seen} of {kept} lectures", person + 1);
        }
        if kept < lectures.len() {
            println!(
                "({} lecture(s) were run without --keep-unknown: their unenrolled people are not followed)",
                lectures.len() - kept
            );
        }
    }
    let flagged = table.rows.iter().filter(|r| r.below_threshold).count();
    println!(
        "{} students × {} lectures ({} under {:.0}%) in {} and {}",
        table.rows.len(),
        lectures.len(),
        flagged,
        args.threshold * 100.0,
        output.display(),
        csv_path.display()
    );
    Ok(())
}

fn synth(args: SynthArgs) -> Result<()> {
    let pipeline = FacePipeline::load(
        &face::find_model_dir(args.models.as_deref())?,
        &face::DetectorSetup::new(face::Detector::Hog, 1),
    )?;
    synth::run(&args.scenario, &args.video, &args.photos, &pipeline)?;
    println!("wrote {} and enrolment photos in {}", args.video.display(), args.photos.display());
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    use rollcall::analysis::eval;
    let run = report::hdf5::read(&eval::result_file(&args.run)?)?;
    let truth = eval::read_truth(&args.truth)?;
    let visibility_path = args.visibility.clone().or_else(|| {
        let sibling = args.truth.with_file_name("visibility.csv");
        sibling.is_file().then_some(sibling)
    });
    let visibility = visibility_path.as_deref().map(eval::read_visibility).transpose()?;
    let evaluation = eval::evaluate(&run, &truth, visibility.as_deref())?;
    if let Some(path) = &args.csv {
        evaluation.write_csv(path)?;
    }
    println!("{}", evaluation.table());
    Ok(())
}

fn probe(args: ProbeArgs) -> Result<()> {
    let spec = rollcall::simulate::probe::ProbeSpec {
        video: args.video,
        roster: args.roster,
        models: args.models,
        ranks: args.ranks,
        frames: args.frames,
        node: args.node.load()?,
    };
    let found = rollcall::simulate::probe::run(&spec)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", found.text());
    }
    Ok(())
}
