//! `rollcall calibrate-node`: what busy cores cost each other on this node.

use anyhow::Result;

use crate::cli::CalibrateNodeArgs;
use crate::simulate::calibrate;

pub fn run(args: CalibrateNodeArgs) -> Result<()> {
    crate::util::output::refuse_to_overwrite([args.output.as_path()], args.force)?;
    crate::util::output::check_writable(&args.output)?; // before minutes of measuring
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
