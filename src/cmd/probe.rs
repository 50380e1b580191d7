//! `rollcall probe`: a short look at a recording, and what a job would cost.

use anyhow::Result;

use crate::cli::ProbeArgs;

pub fn run(args: ProbeArgs) -> Result<()> {
    let spec = crate::simulate::probe::ProbeSpec {
        video: args.video,
        roster: args.roster,
        models: args.models,
        ranks: args.ranks,
        frames: args.frames,
        node: args.node.load()?,
    };
    let found = crate::simulate::probe::run(&spec)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", found.text());
    }
    Ok(())
}
