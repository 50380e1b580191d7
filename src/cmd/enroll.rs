//! `rollcall enroll`: a folder of photos into a roster, and what the user should know about it.

use anyhow::Result;

use crate::cli::EnrollArgs;
use crate::face::{self, FacePipeline};
use crate::roster::enroll;

pub fn run(args: EnrollArgs, quiet: bool) -> Result<()> {
    if args.output.is_dir() {
        anyhow::bail!(
            "{} is a folder: -o names the roster file to write, e.g. {}",
            args.output.display(),
            args.output.join("roster.h5").display()
        );
    }
    crate::util::output::refuse_to_overwrite([args.output.as_path()], args.force)?;
    crate::util::output::check_writable(&args.output)?;
    let pipeline = FacePipeline::load(
        &face::find_model_dir(args.models.as_deref())?,
        &face::DetectorSetup::new(args.detector, args.upsample),
    )?;
    let roster = enroll::build_roster(&args.photos_dir, &pipeline)?;
    enroll::write_roster(&roster, &args.output)?;
    let warnings = crate::util::log::take_warnings();
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
