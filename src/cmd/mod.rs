//! One driver per subcommand: each takes its parsed flags, validates what clap cannot, calls
//! the library, and prints what the user reads. `main.rs` only parses and dispatches here.

mod attend;
mod calibrate;
mod enroll;
mod eval;
mod gray;
mod lectures;
mod probe;
mod report;
mod scaling;
mod semester;
mod simulate;
mod synth;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the subcommand `cli` names.
pub fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Enroll(args) => enroll::run(args, quiet),
        Command::Attend(args) => attend::run(args, quiet),
        Command::Photo(args) => attend::photo(args, quiet),
        Command::Gray(args) => gray::run(args, quiet),
        Command::Report(args) => report::run(args),
        Command::Semester(args) => semester::run(args),
        Command::Lectures(args) => lectures::run(args),
        Command::Scaling(args) => scaling::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::CalibrateNode(args) => calibrate::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Probe(args) => probe::run(args),
    }
}
