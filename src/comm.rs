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

use std::collections::VecDeque;

use crate::schedule::{Finished, UnitSource};

/// The master: plans, hands out work, gathers and writes the reports.
pub const ROOT: usize = 0;

/// Worker → master: "send me my next unit" (dynamic schedules). Carries nothing of interest.
const TAG_REQUEST: Tag = 1;
/// Master → worker: a unit index, or [`NO_MORE_UNITS`].
const TAG_UNIT: Tag = 2;
/// Worker → master: a finished unit ([`Finished`], postcard-encoded).
const TAG_RESULT: Tag = 3;
/// Worker → master: "I have run my last unit". Carries nothing of interest.
const TAG_DONE: Tag = 4;
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


/// How units reach the ranks.
pub enum Assignment {
    /// Each rank knows its units up front (block, cyclic): only results travel.
    Static(Vec<usize>),
    /// The master holds the queue and hands units out on request (dynamic, guided).
    Queue(VecDeque<usize>),
}

impl Comm {
    /// This rank's end of the schedule. On the master, `collect` receives every finished unit,
    /// its own and the workers', as it arrives (elsewhere it is never called). On a single
    /// rank the master simply runs everything. With a static assignment, pass this rank's
    /// share; with a queue, pass the queue (only the master's copy is used).
    pub fn unit_source<'a>(&'a self, assignment: Assignment, collect: Box<dyn FnMut(Finished) -> Result<()> + 'a>) -> Box<dyn UnitSource + 'a> {
        let (units, queue) = match assignment {
            Assignment::Static(units) => (VecDeque::from(units), false),
            Assignment::Queue(units) => (units, true),
        };
        if self.is_root() {
            Box::new(Coordinator { comm: self, units, queue, collect, workers_open: self.size() - 1, talking: Duration::ZERO })
        } else {
            Box::new(Participant { comm: self, units, dynamic: queue, requested: false, talking: Duration::ZERO })
        }
    }

    fn root_process(&self) -> mpi::topology::Process<'_> {
        self.world.process_at_rank(ROOT as mpi::Rank)
    }
}

/// Rank 0's end: it runs units like any rank and, between and during them, answers requests
/// from the queue, collects results and counts workers that are done.
struct Coordinator<'a> {
    comm: &'a Comm,
    /// Its own static share, or (when `queue`) the queue it hands out to everyone.
    units: VecDeque<usize>,
    queue: bool,
    collect: Box<dyn FnMut(Finished) -> Result<()> + 'a>,
    /// Workers that have not yet said they are done.
    workers_open: usize,
    talking: Duration,
}

impl Coordinator<'_> {
    fn handle(&mut self, message: mpi::point_to_point::Message, status: mpi::point_to_point::Status) -> Result<()> {
        let started = Instant::now();
        let from = status.source_rank();
        match status.tag() {
            TAG_REQUEST => {
                message.matched_receive::<u64>();
                let next = if self.queue { self.units.pop_front() } else { None };
                let unit = next.map_or(NO_MORE_UNITS, |u| u as u64);
                self.comm.world.process_at_rank(from).send_with_tag(&unit, TAG_UNIT);
            }
            TAG_RESULT => {
                let (bytes, _) = (message, status).matched_receive_vec::<u8>();
                let done: Finished = postcard::from_bytes(&bytes).map_err(|e| anyhow!("rank {from} sent a garbled result: {e}"))?;
                (self.collect)(done)?;
            }
            TAG_DONE => {
                message.matched_receive::<u64>();
                self.workers_open -= 1;
            }
            tag => return Err(anyhow!("rank {from} sent a message with unknown tag {tag}")),
        }
        self.talking += started.elapsed();
        Ok(())
    }
}

impl UnitSource for Coordinator<'_> {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        self.serve()?;
        Ok(self.units.pop_front())
    }

    fn finished(&mut self, done: Finished) -> Result<()> {
        (self.collect)(done)
    }

    fn serve(&mut self) -> Result<()> {
        while let Some((message, status)) = self.comm.world.any_process().immediate_matched_probe() {
            self.handle(message, status)?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        // Answer the last requests, take the last results, until every worker is done.
        while self.workers_open > 0 {
            let (message, status) = self.comm.world.any_process().matched_probe();
            self.handle(message, status)?;
        }
        Ok(())
    }

    fn comm_time(&self) -> Duration {
        self.talking
    }
}

/// A worker's end. Under a queue it asks for its next unit as soon as it starts the current
/// one, so the answer is usually waiting when it finishes and no round trip is spent idle.
struct Participant<'a> {
    comm: &'a Comm,
    /// The static share (empty under a queue).
    units: VecDeque<usize>,
    dynamic: bool,
    /// A request is in flight and its answer not yet received.
    requested: bool,
    talking: Duration,
}

impl Participant<'_> {
    fn send<B: mpi::datatype::Buffer + ?Sized>(&mut self, message: &B, tag: Tag) {
        let started = Instant::now();
        self.comm.root_process().send_with_tag(message, tag);
        self.talking += started.elapsed();
    }

    fn request(&mut self) {
        self.send(&0u64, TAG_REQUEST);
        self.requested = true;
    }
}

impl UnitSource for Participant<'_> {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        if !self.dynamic {
            return Ok(self.units.pop_front());
        }
        if !self.requested {
            self.request();
        }
        let (unit, _) = self.comm.root_process().receive_with_tag::<u64>(TAG_UNIT);
        self.requested = false;
        if unit == NO_MORE_UNITS {
            return Ok(None);
        }
        self.request(); // prefetch: the next answer travels while this unit runs
        Ok(Some(unit as usize))
    }

    fn finished(&mut self, done: Finished) -> Result<()> {
        let bytes = postcard::to_stdvec(&done)?;
        self.send(&bytes[..], TAG_RESULT);
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.send(&0u64, TAG_DONE);
        Ok(())
    }

    fn comm_time(&self) -> Duration {
        self.talking
    }
}
