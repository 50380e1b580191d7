//! The `rollcall` command: parses the command line, hands it to the subcommand's driver in
//! `rollcall::cmd`, and turns any error into one line on stderr and a non-zero exit code.

use std::process::ExitCode;

use clap::Parser;

use rollcall::cli::Cli;

/// True in a process that a launcher started as a rank other than 0: such a process keeps
/// quiet about errors every rank sees alike (a bad flag), so the user reads them once.
fn is_launched_worker() -> bool {
    rollcall::util::log::launcher_rank() != 0
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if is_launched_worker() => return ExitCode::from(e.exit_code() as u8),
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            eprintln!("rollcall: error: {}", one_line(&e));
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    rollcall::util::log::init(cli.verbosity());
    rollcall::run::worker::one_blas_thread_per_worker();
    let outcome = rollcall::util::interrupt::install()
        .and_then(|()| rollcall::media::quiet_codec_logs())
        .and_then(|()| rollcall::cmd::run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !is_launched_worker() {
                eprintln!("rollcall: error: {e:#}");
            }
            // Like a shell: 128 + the signal for a run stopped by one.
            match e.downcast_ref::<rollcall::util::interrupt::Interrupted>() {
                Some(i) => ExitCode::from(128 + i.signal as u8),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// A command-line error as one line, like every other error: clap's message with its hints
/// (possible values, a similar flag) on the same line, without the "try --help" footer.
fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    parts.join(" ")
}
