//! How the work is cut and spread: units, their schedule over ranks, threads per rank, a
//! photo's tiles.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::file::{BenchConfig, ConfigFile, RankKey};
use super::ranges::Ranges;
use super::units::default_units;

/// More threads than any node has cores is a typo.
pub const MAX_THREADS: usize = 1024;

/// How units are distributed over ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Contiguous runs of units, one run per rank: each rank reads its part of the video
    /// sequentially and seeks once.
    #[default]
    Block,
    /// Units dealt round-robin: rank r runs r, r+N, r+2N, ... Evens out cost that drifts
    /// slowly along the video (a lecture hall filling up).
    Cyclic,
    /// Rank 0 hands out units on request as ranks become free: all finish together even when
    /// ranks or frames differ in speed. Each rank starts on its own stretch of the video and
    /// reads it forward; one that runs out takes half of the largest stretch left.
    Dynamic,
    /// Dynamic, with units that shrink as the queue drains (big units early for little
    /// traffic, small ones at the end so nobody is left with a long tail).
    Guided,
}

impl Schedule {
    /// Whether units are handed out at run time by the master.
    pub fn is_dynamic(self) -> bool {
        matches!(self, Schedule::Dynamic | Schedule::Guided)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schedule::Block => "block",
            Schedule::Cyclic => "cyclic",
            Schedule::Dynamic => "dynamic",
            Schedule::Guided => "guided",
        })
    }
}

/// How the work is cut and spread: units, their schedule, threads per rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parallel {
    pub schedule: Schedule,
    /// Sampled frames per unit; `None` until rank 0 fits it to the recording
    /// ([`Settings::fit_units_to`]).
    pub chunk: Option<usize>,
    /// Worker threads per rank, each with its own copy of the models; the rank's own thread
    /// decodes the frames of a unit and hands them to whichever is free.
    pub threads: usize,
    /// Benchmark knob `bench.slow_ranks` (empty in a normal run).
    pub slow_ranks: BTreeMap<u32, f64>,
}

/// What a job analyses, which decides how its work is cut: a video's sampled frames, or one
/// photo cut into tiles (whose faces seen by two tiles are merged).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum JobKind {
    Video,
    Photo(Tiling),
}

impl JobKind {
    /// A photo when a layer sets `tile` or `overlap` (what `rollcall photo` does), else a video.
    pub(super) fn from_layer(c: &ConfigFile) -> Result<Self> {
        Ok(match (c.tile, c.overlap) {
            (None, None) => JobKind::Video,
            (tile, overlap) => {
                let t = Tiling {
                    tile: tile.unwrap_or(Tiling::DEFAULT_TILE),
                    overlap: overlap.unwrap_or(Tiling::DEFAULT_OVERLAP),
                };
                if t.tile < 64 || t.overlap >= t.tile {
                    bail!(
                        "tile must be at least 64 px and larger than overlap (tile {}, overlap {})",
                        t.tile,
                        t.overlap
                    );
                }
                JobKind::Photo(t)
            }
        })
    }

    /// Writes `tile` and `overlap` (a photo's) into `c`.
    pub(super) fn write_to(self, c: &mut ConfigFile) {
        let tiling = self.tiling();
        (c.tile, c.overlap) = (tiling.map(|t| t.tile), tiling.map(|t| t.overlap));
    }

    /// A photo's tiles; `None` for a video.
    pub fn tiling(self) -> Option<Tiling> {
        match self {
            JobKind::Video => None,
            JobKind::Photo(tiling) => Some(tiling),
        }
    }

    pub fn is_photo(self) -> bool {
        matches!(self, JobKind::Photo(_))
    }
}

/// Tiles of a photo job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tiling {
    pub tile: u32,
    pub overlap: u32,
}

impl Tiling {
    /// 2048 px tiles keep a tile's HOG pyramid (doubled: 4096² px) within a few hundred MB.
    pub const DEFAULT_TILE: u32 = 2048;
    /// At least the largest face expected: the front row of an 8K lecture-hall photo shows
    /// faces of up to ~300 px; 384 adds the margin HOG needs around a face.
    pub const DEFAULT_OVERLAP: u32 = 384;
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling { tile: Tiling::DEFAULT_TILE, overlap: Tiling::DEFAULT_OVERLAP }
    }
}

impl Parallel {
    /// Sampled frames per unit: as fitted to the recording, or a short recording's default.
    pub fn chunk(&self) -> usize {
        self.chunk.unwrap_or_else(|| default_units(0, self.threads).0)
    }

    /// The parallel settings a layer sets, their ranges checked.
    pub(super) fn from_layer(c: &ConfigFile, ranges: Ranges) -> Result<Self> {
        let threads = c.threads.unwrap_or(1);
        ranges.check((1..=MAX_THREADS).contains(&threads), || {
            format!("threads must be between 1 and {MAX_THREADS}, got {threads}")
        })?;
        // Left open, the chunk comes from the recording (`fit_units_to`, on rank 0).
        if c.chunk == Some(0) {
            bail!("chunk must be at least 1 sampled frame per unit");
        }
        let slow_ranks = c
            .bench
            .as_ref()
            .map(|b| b.slow_ranks.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|(key, factor)| Ok((key.rank()?, factor)))
            .collect::<Result<BTreeMap<u32, f64>>>()?;
        if let Some((rank, factor)) = slow_ranks.iter().find(|(_, &f)| !(f >= 1.0 && f.is_finite())) {
            bail!("bench.slow_ranks: rank {rank} has factor {factor}; factors are ≥ 1 (2.0 = twice as slow)");
        }
        Ok(Parallel { schedule: c.schedule.unwrap_or_default(), chunk: c.chunk, threads, slow_ranks })
    }

    /// Writes the parallel keys into `c`.
    pub(super) fn write_to(&self, c: &mut ConfigFile) {
        c.schedule = Some(self.schedule);
        c.chunk = self.chunk;
        c.threads = Some(self.threads);
        c.bench = (!self.slow_ranks.is_empty()).then(|| BenchConfig {
            slow_ranks: self.slow_ranks.iter().map(|(&r, &f)| (RankKey::Number(r), f)).collect(),
        });
    }

    /// `bench.slow_ranks` as `rank:factor` pairs, empty when off.
    pub fn slow_ranks_text(&self) -> String {
        let pairs: Vec<String> = self.slow_ranks.iter().map(|(r, f)| format!("{r}:{f}")).collect();
        pairs.join(" ")
    }
}
