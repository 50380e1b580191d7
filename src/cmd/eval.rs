//! `rollcall eval`: a finished run scored against a recording's ground truth.

use anyhow::{Context, Result};

use crate::analysis::eval;
use crate::cli::EvalArgs;
use crate::report;

pub fn run(args: EvalArgs) -> Result<()> {
    let run = report::hdf5::read(&eval::result_file(&args.run)?)?;
    let truth = eval::read_truth(&args.truth)?;
    let visibility_path = args.visibility.clone().or_else(|| {
        let sibling = args.truth.with_file_name("visibility.csv");
        sibling.is_file().then_some(sibling)
    });
    let visibility = visibility_path.as_deref().map(eval::read_visibility).transpose()?;
    let evaluation = eval::evaluate(&run, &truth, visibility.as_deref())?;
    crate::util::interrupt::check().context("stopped before the scores were written")?;
    if let Some(path) = &args.csv {
        evaluation.write_csv(path)?;
    }
    println!("{}", evaluation.table());
    Ok(())
}
