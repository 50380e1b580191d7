//! `rollcall gray`: the grayscale scaling demo, and its per-rank figures.

use anyhow::Result;

use crate::cli::GrayArgs;
use crate::run::comm;

pub fn run(args: GrayArgs, quiet: bool) -> Result<()> {
    let comm = comm::Comm::init()?;
    let Some(run) = crate::run::gray::run(&comm, &args.image, &args.output, args.band_rows, args.schedule, args.force)?
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
