//! `rollcall scaling`: runs on different rank counts into a speedup table and charts.

use anyhow::{bail, Result};

use crate::analysis::scaling_files;
use crate::cli::ScalingArgs;
use crate::report;

pub fn run(args: ScalingArgs) -> Result<()> {
    if args.output.extension().and_then(|e| e.to_str()) != Some("xlsx") {
        bail!(
            "-o {}: name the workbook FILE.xlsx (FILE.csv, FILE.json and FILE.md go next to it)",
            args.output.display()
        );
    }
    let runs =
        args.runs.iter().map(|p| Ok((p.display().to_string(), report::hdf5::read(p)?))).collect::<Result<Vec<_>>>()?;
    crate::analysis::scaling::check_comparable(&runs)?;
    let runs: Vec<_> = runs.into_iter().map(|(_, run)| run).collect();
    let rows = crate::analysis::scaling::table(&runs);
    let study = scaling_files::study(&rows);
    study.write_xlsx(&args.output)?;
    study.write_csv(&args.output.with_extension("csv"))?;
    scaling_files::write_json(&rows, &args.output.with_extension("json"))?;
    scaling_files::write_markdown(&rows, &args.output.with_extension("md"))?;
    print!("{}", scaling_files::markdown(&rows));
    println!(
        "table and charts in {}; also {}.csv, .json and .md",
        args.output.display(),
        args.output.with_extension("").display()
    );
    Ok(())
}
