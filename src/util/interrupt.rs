//! SIGTERM (Slurm's warning before the time limit, `scancel`) and SIGINT (Ctrl-C): noted, not
//! obeyed on the spot. Ranks check between frames and stop after the frame in hand; rank 0's
//! journal already holds every finished unit, so the job ends with a hint to `--resume`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The last signal received, 0 for none; set from the signal handlers.
static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Installs the handlers. Call once, early.
pub fn install() -> anyhow::Result<()> {
    let received = RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    for signal in [SIGTERM, SIGINT] {
        signal_hook::flag::register_usize(signal, Arc::clone(received), signal as usize)?;
    }
    Ok(())
}

/// Prints `message` on stderr the moment a SIGTERM or SIGINT arrives, from a thread of its
/// own: under `mpirun` a signal may be followed by SIGKILL before the rank reaches a clean
/// stop, and the user must still learn how to resume.
pub fn announce_on_signal(message: String) -> anyhow::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
            eprintln!("rollcall: {name} received: stopping after the frame in hand; {message}");
        }
    });
    Ok(())
}

/// The signal that asked this process to stop, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.get()?.load(Ordering::Relaxed) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The error a rank stops with after a signal.
#[derive(Debug, thiserror::Error)]
#[error("stopped by signal {signal}")]
pub struct Interrupted {
    pub signal: i32,
}

/// `Err(Interrupted)` once a signal has arrived.
pub fn check() -> Result<(), Interrupted> {
    match received() {
        Some(signal) => Err(Interrupted { signal }),
        None => Ok(()),
    }
}
