//! `rollcall enroll`: a folder of photos into a roster, and what the user should know about it.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::cli::EnrollArgs;
use crate::face::{self, FacePipeline};
use crate::roster::{enroll, Roster};

pub fn run(args: EnrollArgs, quiet: bool) -> Result<()> {
    if let (Some(run), Some(person), Some(id), Some(roster)) = (&args.from_run, args.unknown, &args.as_id, &args.roster)
    {
        return from_run(run, person, id, args.name.as_deref(), roster, quiet);
    }
    let (Some(photos_dir), Some(output)) = (&args.photos_dir, &args.output) else {
        bail!("give a folder of photos and -o ROSTER.h5, or --from-run RUN.h5 --unknown N --as ID --roster ROSTER.h5");
    };
    if output.is_dir() {
        bail!(
            "{} is a folder: -o names the roster file to write, e.g. {}",
            output.display(),
            output.join("roster.h5").display()
        );
    }
    crate::util::output::refuse_to_overwrite([output.as_path()], args.force)?;
    crate::util::output::check_writable(output)?;
    let pipeline = FacePipeline::load(
        &face::find_model_dir(args.models.as_deref())?,
        &face::DetectorSetup::new(args.detector, args.upsample),
    )?;
    let roster = enroll::build_roster(photos_dir, &pipeline)?;
    enroll::write_roster(&roster, output)?;
    let warnings = crate::util::log::take_warnings();
    if quiet {
        return Ok(());
    }
    println!(
        "enrolled {} students from {} photos into {}{}",
        roster.ids.len(),
        roster.owner.len(),
        output.display(),
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

/// Unenrolled person `person` (as report.html numbers them) of the result `run` becomes an
/// enrolment of student `id` in `roster_path`, which is rewritten whole or not at all, its
/// source recording the run, the person and the lecture's date.
fn from_run(run_path: &Path, person: u32, id: &str, name: Option<&str>, roster_path: &Path, quiet: bool) -> Result<()> {
    let roster = Roster::load(roster_path)?;
    let run = crate::report::hdf5::read(run_path)?;
    let unknown = &run.unknown;
    let Some(found) = unknown.iter().find(|u| u.id + 1 == person) else {
        bail!(
            "{} has no unenrolled person #{person} (it has {}{})",
            run_path.display(),
            unknown.len(),
            if unknown.is_empty() { "" } else { ", numbered from 1 as report.html shows them" }
        );
    };
    if found.encoding.is_empty() {
        bail!(
            "{} kept no face encodings of unenrolled people: run that lecture again with --keep-unknown, then enrol \
             from the new result",
            run_path.display()
        );
    }
    let enrolled = roster.ids.iter().position(|i| i == id);
    let name = name.map(str::to_owned).unwrap_or_else(|| enrolled.map_or(id.to_owned(), |s| roster.names[s].clone()));
    let date = run.settings.date.as_deref().unwrap_or("undated");
    let source = format!("run {}, unenrolled #{person}, {date}", run_path.display());
    let encoding: Vec<f64> = found.encoding.iter().map(|&v| f64::from(v)).collect();
    let roster = roster
        .with_enrolment(id, &name, &encoding, source)
        .with_context(|| format!("enrolling unenrolled #{person} of {} as {id}", run_path.display()))?;
    enroll::warn_of_near_identical_students(&roster);
    enroll::write_roster(&roster, roster_path)?;
    if !quiet {
        let what = if enrolled.is_some() {
            format!("another enrolment of {id} ({name})")
        } else {
            format!("new student {id} ({name})")
        };
        println!(
            "enrolled unenrolled #{person} of {} as {what} in {} ({} students, {} enrolments)",
            run_path.display(),
            roster_path.display(),
            roster.ids.len(),
            roster.owner.len()
        );
    }
    Ok(())
}
