//! `rollcall semester`: many lectures' results into one student × lecture workbook.

use anyhow::{bail, Context, Result};

use crate::analysis::semester::{self, Lecture, Manifest};
use crate::analysis::semester_files;
use crate::cli::SemesterArgs;
use crate::report;
use crate::util::output::{write_rendered, Access, Rendered};

pub fn run(args: SemesterArgs) -> Result<()> {
    crate::config::check_threshold(args.threshold)?;
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
    crate::util::output::refuse_to_overwrite([output.as_path(), csv_path.as_path()], args.force)?;
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
    // Paths given by hand are read as given (one missing is a typo, named by the reader); a
    // manifest lists lectures of which some may not have run yet.
    let sources = if manifest.is_some() { without_missing(sources, args.skip_missing)? } else { sources };
    let mut files = std::collections::HashMap::new();
    for (path, _) in &sources {
        if let Some(first) = path.canonicalize().ok().and_then(|file| files.insert(file, path)) {
            bail!("{} and {} are the same result file: each lecture counts once", first.display(), path.display());
        }
    }
    let mut lectures = Vec::new();
    let mut headings = std::collections::HashMap::new();
    for (path, heading) in sources {
        crate::util::interrupt::check().context("stopped while reading the lectures: no file written")?;
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
    let folder = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name_of = |path: &std::path::Path| path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    write_rendered(
        folder,
        &[
            Rendered { name: name_of(&output), bytes: semester_files::render_xlsx(&table)?, access: Access::OwnerOnly },
            Rendered {
                name: name_of(&csv_path),
                bytes: semester_files::render_csv(&table)?,
                access: Access::OwnerOnly,
            },
        ],
    )?;
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

/// The manifest's lectures that have a result. Those without one (not run yet, or failed) are
/// named all at once: refused, or with `skip` left out with a warning.
fn without_missing(
    sources: Vec<(std::path::PathBuf, Option<String>)>,
    skip: bool,
) -> Result<Vec<(std::path::PathBuf, Option<String>)>> {
    let total = sources.len();
    let (found, missing): (Vec<_>, Vec<_>) = sources.into_iter().partition(|(path, _)| path.exists());
    if missing.is_empty() {
        return Ok(found);
    }
    let list = missing.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", ");
    if !skip || found.is_empty() {
        bail!(
            "{} of the manifest's {total} lectures have no result yet ({list}): run them (slurm/submit-semester.sh), \
             or pass --skip-missing to leave them out{}",
            missing.len(),
            if found.is_empty() { " (no lecture has a result)" } else { "" }
        );
    }
    tracing::warn!("left out {} of {total} lectures without a result yet: {list}", missing.len());
    Ok(found)
}
