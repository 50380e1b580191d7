//! MPI at the edge: the only module that talks to MPI. Everything else sees plain Rust values.
//!
//! Values cross ranks serialized with postcard, so the rest of the code never defines MPI
//! datatypes; the messages are small next to the work (a roster of 1000 students is 1 MB once).
//! Collectives carry `Result`s where a step can fail on one rank: every rank then learns of the
//! failure and leaves together, instead of the others waiting forever in the next collective.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::{Count, Tag};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::schedule::UnitSource;

/// The master: plans, hands out work, gathers and writes the reports.
pub const ROOT: usize = 0;

/// Worker → master: "send me my next unit". Carries nothing of interest.
const TAG_REQUEST: Tag = 1;
/// Master → worker: a unit index, or [`NO_MORE_UNITS`].
const TAG_UNIT: Tag = 2;
/// The reply that tells a worker the queue is empty.
const NO_MORE_UNITS: u64 = u64::MAX;

/// The world communicator of this process. A run without a launcher is a world of one, on the
/// same code path.
pub struct Comm {
    world: SimpleCommunicator,
    // Finalizes MPI when dropped; must outlive `world`.
    _universe: mpi::environment::Universe,
}

impl Comm {
    pub fn init() -> Result<Self> {
        let universe = mpi::initialize().ok_or_else(|| anyhow!("MPI was already initialised"))?;
        Ok(Comm { world: universe.world(), _universe: universe })
    }

    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    pub fn size(&self) -> usize {
        self.world.size() as usize
    }

    pub fn is_root(&self) -> bool {
        self.rank() == ROOT
    }

    /// Seconds on a clock all ranks may compare after [`Comm::barrier`].
    pub fn time(&self) -> f64 {
        mpi::time()
    }

    pub fn barrier(&self) {
        self.world.barrier();
    }

    /// Sends the root's `value` to every rank. The root passes `Some`, the others `None`.
    pub fn broadcast<T: Serialize + DeserializeOwned>(&self, value: Option<&T>) -> Result<T> {
        let root = self.world.process_at_rank(ROOT as i32);
        let mut bytes = match value {
            Some(v) if self.is_root() => postcard::to_stdvec(v)?,
            _ => Vec::new(),
        };
        let mut len = bytes.len() as u64;
        root.broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        root.broadcast_into(&mut bytes[..]);
        Ok(postcard::from_bytes(&bytes)?)
    }

    /// Collects every rank's `value` on the root, in rank order. Others get `None`.
    pub fn gather<T: Serialize + DeserializeOwned>(&self, value: &T) -> Result<Option<Vec<T>>> {
        let root = self.world.process_at_rank(ROOT as i32);
        let bytes = postcard::to_stdvec(value)?;
        let len = bytes.len() as Count;
        if !self.is_root() {
            root.gather_into(&len);
            root.gather_varcount_into(&bytes[..]);
            return Ok(None);
        }
        let mut lens = vec![0 as Count; self.size()];
        root.gather_into_root(&len, &mut lens[..]);
        let displs: Vec<Count> = lens
            .iter()
            .scan(0, |offset, &n| {
                let start = *offset;
                *offset += n;
                Some(start)
            })
            .collect();
        let mut all = vec![0u8; lens.iter().map(|&n| n as usize).sum()];
        {
            let mut partition = PartitionMut::new(&mut all[..], &lens[..], &displs[..]);
            root.gather_varcount_into_root(&bytes[..], &mut partition);
        }
        let values = lens
            .iter()
            .zip(&displs)
            .map(|(&n, &at)| postcard::from_bytes(&all[at as usize..(at + n) as usize]))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Some(values))
    }
}

impl Comm {
    /// This rank's end of the dynamic work queue over `0..n_units`: the master's on rank 0, a
    /// worker's elsewhere. On a single rank the master simply runs every unit.
    pub fn work_queue(&self, n_units: usize) -> Box<dyn UnitSource + '_> {
        if self.is_root() {
            Box::new(QueueMaster { comm: self, next: 0, n_units, workers_left: self.size() - 1, talking: Duration::ZERO })
        } else {
            Box::new(QueueWorker { comm: self, requested: false, talking: Duration::ZERO })
        }
    }
}

/// Rank 0's side of the queue: it hands out units in index order, answering requests between
/// (and, through `serve`, during) its own units, and runs units itself like any worker.
struct QueueMaster<'a> {
    comm: &'a Comm,
    next: usize,
    n_units: usize,
    /// Workers that have not yet been told the queue is empty.
    workers_left: usize,
    talking: Duration,
}

impl QueueMaster<'_> {
    fn take(&mut self) -> u64 {
        if self.next < self.n_units {
            self.next += 1;
            (self.next - 1) as u64
        } else {
            NO_MORE_UNITS
        }
    }

    fn answer(&mut self, worker: mpi::Rank) {
        let started = Instant::now();
        let unit = self.take();
        if unit == NO_MORE_UNITS {
            self.workers_left -= 1;
        }
        self.comm.world.process_at_rank(worker).send_with_tag(&unit, TAG_UNIT);
        self.talking += started.elapsed();
    }
}

impl UnitSource for QueueMaster<'_> {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        self.serve()?;
        if self.next < self.n_units {
            self.next += 1;
            return Ok(Some(self.next - 1));
        }
        // Nothing left for anyone: tell each worker as its last request arrives.
        while self.workers_left > 0 {
            let (_, status) = self.comm.world.any_process().receive_with_tag::<u64>(TAG_REQUEST);
            self.answer(status.source_rank());
        }
        Ok(None)
    }

    fn serve(&mut self) -> Result<()> {
        while let Some((message, status)) = self.comm.world.any_process().immediate_matched_probe_with_tag(TAG_REQUEST) {
            message.matched_receive::<u64>();
            self.answer(status.source_rank());
        }
        Ok(())
    }

    fn comm_time(&self) -> Duration {
        self.talking
    }
}

/// A worker's side: it asks for its next unit as soon as it starts the current one, so the
/// answer is usually waiting when it finishes and no round trip is spent idle.
struct QueueWorker<'a> {
    comm: &'a Comm,
    /// A request is in flight and its answer not yet received.
    requested: bool,
    talking: Duration,
}

impl QueueWorker<'_> {
    fn request(&mut self) {
        let started = Instant::now();
        self.comm.world.process_at_rank(ROOT as mpi::Rank).send_with_tag(&0u64, TAG_REQUEST);
        self.requested = true;
        self.talking += started.elapsed();
    }
}

impl UnitSource for QueueWorker<'_> {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        if !self.requested {
            self.request();
        }
        let (unit, _) = self.comm.world.process_at_rank(ROOT as mpi::Rank).receive_with_tag::<u64>(TAG_UNIT);
        self.requested = false;
        if unit == NO_MORE_UNITS {
            return Ok(None);
        }
        self.request(); // prefetch: the next answer travels while this unit runs
        Ok(Some(unit as usize))
    }

    fn comm_time(&self) -> Duration {
        self.talking
    }
}
