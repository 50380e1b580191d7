//! `rollcall lectures`: a manifest's lectures, one line each, for a Slurm array script.

use anyhow::{bail, Result};

use crate::analysis::semester::Manifest;
use crate::cli::LecturesArgs;

pub fn run(args: LecturesArgs) -> Result<()> {
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
