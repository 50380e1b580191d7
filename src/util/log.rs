//! Logging: one line per event on stderr, saying which rank spoke, and every warning kept so
//! the run can end with a summary instead of leaving warnings lost in scroll-back.
//!
//! Rank 0 speaks at `info` by default; other ranks only at `warn`, so a 64-rank job's log is
//! the master's story plus whatever went wrong anywhere. `-v` and `-q` move both up or down.

use std::fmt;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Warnings of this process, in order.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Environment variables through which launchers tell a process its rank before MPI is up.
const LAUNCHER_RANK_VARS: [&str; 4] = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"];

/// This process's rank as its launcher announced it (0 without a launcher).
pub fn launcher_rank() -> usize {
    LAUNCHER_RANK_VARS.iter().find_map(|v| std::env::var(v).ok()?.parse().ok()).unwrap_or(0)
}

/// Whether this process was started by a launcher as one of several ranks.
fn launched() -> bool {
    LAUNCHER_RANK_VARS.iter().any(|v| std::env::var_os(v).is_some())
}

/// Installs the logger. `verbosity` is `-v` count minus one for `-q`.
pub fn init(verbosity: i8) {
    let rank = launcher_rank();
    let levels = [Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG, Level::TRACE];
    let base: i8 = if rank == 0 { 2 } else { 1 };
    let level = levels[(base + verbosity).clamp(0, 4) as usize];
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(RankFormat { rank: launched().then_some(rank) })
        .with_filter(tracing_subscriber::filter::LevelFilter::from_level(level));
    let subscriber = tracing_subscriber::registry().with(stderr).with(WarningLog);
    // A second init (tests calling into the library twice) keeps the first logger.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Takes the warnings logged so far by this process.
pub fn take_warnings() -> Vec<String> {
    std::mem::take(&mut *WARNINGS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// `HH:MM:SS rank N LEVEL message`, the rank only under a launcher.
struct RankFormat {
    rank: Option<usize>,
}

impl<S, N> FormatEvent<S, N> for RankFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let (h, m, s) = ((now / 3600) % 24, (now / 60) % 60, now % 60);
        write!(writer, "{h:02}:{m:02}:{s:02} ")?;
        if let Some(rank) = self.rank {
            write!(writer, "rank {rank} ")?;
        }
        let level = *event.metadata().level();
        if level != Level::INFO {
            write!(writer, "{level} ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Keeps every warning and error for the end-of-run summary.
struct WarningLog;

impl<S: Subscriber> Layer<S> for WarningLog {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() <= Level::WARN {
            let mut message = MessageText(String::new());
            event.record(&mut message);
            WARNINGS.lock().unwrap_or_else(|e| e.into_inner()).push(message.0);
        }
    }
}

struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
