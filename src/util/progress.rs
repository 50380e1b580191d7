//! Progress of a job on rank 0, counted in sampled frames over all ranks.
//!
//! At a terminal: a live bar with frames done, frames/s and ETA. Anywhere else (a Slurm job's
//! .out file): a plain log line every [`LOG_EVERY`] or every tenth of the job, whichever
//! comes first, so the file shows how far the job got and when it will end.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    total: u64,
    done: u64,
    /// Frames done before this run (a resumed job): not part of the rate.
    already: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    last_logged: Instant,
    last_tenth: u64,
    quiet: bool,
}

impl Progress {
    /// `already` frames were done before this run started (a resumed job).
    pub fn new(total: u64, already: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {pos}/{len} frames {per_sec} ETA {eta}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_position(already);
            bar
        });
        Progress {
            total,
            done: already,
            already,
            started: Instant::now(),
            bar,
            last_logged: Instant::now(),
            last_tenth: 0,
            quiet,
        }
    }

    /// `frames` more sampled frames are done.
    pub fn advance(&mut self, frames: u64) {
        self.done += frames;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
            return;
        }
        let tenth = (self.done * 10).checked_div(self.total).unwrap_or(10);
        if self.quiet || (self.last_logged.elapsed() < LOG_EVERY && tenth == self.last_tenth) {
            return;
        }
        self.last_logged = Instant::now();
        self.last_tenth = tenth;
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = (self.done - self.already) as f64 / elapsed.max(1e-9);
        let eta = if rate > 0.0 { (self.total.saturating_sub(self.done)) as f64 / rate } else { f64::NAN };
        tracing::info!(
            "progress: {}/{} frames ({:.0}%), {:.1} frames/s, ETA {}",
            self.done,
            self.total,
            100.0 * self.done as f64 / self.total.max(1) as f64,
            rate,
            clock(eta)
        );
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `h:mm:ss`, or `?` when unknown.
fn clock(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "?".into();
    }
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_reads_like_a_clock() {
        assert_eq!(super::clock(3725.4), "1:02:05");
        assert_eq!(super::clock(f64::NAN), "?");
    }
}
