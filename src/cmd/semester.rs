//! `rollcall semester`: many lectures' results into one student × lecture workbook.

use anyhow::{bail, Context, Result};

use crate::analysis::overrides::{self, LectureNames};
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
    let folder = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    let long_path = folder.join(semester_files::long_csv_name(&stem));
    crate::util::output::refuse_to_overwrite([output.as_path(), csv_path.as_path(), long_path.as_path()], args.force)?;
    let overrides_file = args.overrides.clone().or_else(|| manifest.as_ref().and_then(|m| m.overrides.clone()));
    let sources: Vec<Source> = match &manifest {
        Some(m) => m
            .lectures
            .iter()
            .map(|l| Source {
                path: m.output_of(l).join(report::RESULT_FILE),
                name: Some(l.name()),
                manifest: Some((l.date.clone(), l.title.clone())),
            })
            .collect(),
        None => args.runs.iter().map(|p| Source { path: p.clone(), name: None, manifest: None }).collect(),
    };
    // Paths given by hand are read as given (one missing is a typo, named by the reader); a
    // manifest lists lectures of which some may not have run yet.
    let sources = if manifest.is_some() { without_missing(sources, args.skip_missing)? } else { sources };
    let mut files = std::collections::HashMap::new();
    for Source { path, .. } in &sources {
        if let Some(first) = path.canonicalize().ok().and_then(|file| files.insert(file, path)) {
            bail!("{} and {} are the same result file: each lecture counts once", first.display(), path.display());
        }
    }
    let mut lectures = Vec::new();
    let mut headings = std::collections::HashMap::new();
    for Source { path, name, manifest } in sources {
        crate::util::interrupt::check().context("stopped while reading the lectures: no file written")?;
        let run = report::hdf5::read(&path)?;
        // A result given by hand is named by its folder (`runs/week1/attendance.h5`: week1).
        let name = name.unwrap_or_else(|| {
            path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        });
        let lecture = Lecture::from_run(&run, &name, manifest);
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
    let overrides = match &overrides_file {
        Some(file) => {
            let names: Vec<LectureNames> =
                lectures.iter().map(|l| LectureNames { name: &l.name, heading: &l.heading }).collect();
            overrides::load(file, &names, &semester::enrolment(&lectures))?
        }
        None => Default::default(),
    };
    let table = semester::table(&lectures, args.threshold, &overrides);
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
            Rendered {
                name: name_of(&long_path),
                bytes: semester_files::render_long_csv(&table)?,
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
    if let Some(file) = &overrides_file {
        println!("{} override(s) from {}", overrides.len(), file.display());
    }
    println!(
        "{} students × {} lectures ({} under {:.0}%) in {}, {} and {}",
        table.rows.len(),
        lectures.len(),
        flagged,
        args.threshold * 100.0,
        output.display(),
        csv_path.display(),
        long_path.display()
    );
    Ok(())
}

/// A lecture's result file, with the name, date and title a manifest gives it.
struct Source {
    path: std::path::PathBuf,
    name: Option<String>,
    manifest: Option<(Option<String>, Option<String>)>,
}

/// The manifest's lectures that have a result. Those without one (not run yet, or failed) are
/// named all at once: refused, or with `skip` left out with a warning.
fn without_missing(sources: Vec<Source>, skip: bool) -> Result<Vec<Source>> {
    let total = sources.len();
    let (found, missing): (Vec<_>, Vec<_>) = sources.into_iter().partition(|s| s.path.exists());
    if missing.is_empty() {
        return Ok(found);
    }
    let list = missing.iter().map(|s| s.path.display().to_string()).collect::<Vec<_>>().join(", ");
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
