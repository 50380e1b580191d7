//! `rollcall report`: a run's derived reports rebuilt from its HDF5 file.

use anyhow::Result;

use crate::cli::ReportArgs;
use crate::report;

pub fn run(args: ReportArgs) -> Result<()> {
    let result = report::hdf5::read(&args.run)?;
    report::prepare_output_dir(&args.output, &report::DERIVED, args.force)?;
    report::write_derived(&result, &args.output)?;
    println!("rebuilt {} in {}", report::DERIVED.join(", "), args.output.display());
    Ok(())
}
