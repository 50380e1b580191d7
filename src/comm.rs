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

use crate::schedule::{static_units, Finished, Schedule, UnitQueue, UnitSource};

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
/// Worker → master: a unit index whose work failed: no result will come for it.
const TAG_FAILED: Tag = 5;
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
        // Worker threads run dlib and OpenCV; only this thread calls MPI.
        let (universe, provided) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| anyhow!("MPI was already initialised"))?;
        if provided < mpi::Threading::Funneled {
            tracing::warn!("this MPI library offers no thread support ({provided:?}); use --threads 1 with it");
        }
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
    Queue(UnitQueue),
}

impl Assignment {
    /// This rank's assignment of the units `todo` under `schedule`, on `size` ranks.
    pub fn of(schedule: Schedule, todo: &[usize], rank: usize, size: usize) -> Self {
        if schedule.is_dynamic() {
            Assignment::Queue(UnitQueue::new(schedule, todo, size))
        } else {
            Assignment::Static(static_units(schedule, todo.len(), rank, size).into_iter().map(|i| todo[i]).collect())
        }
    }
}

impl Comm {
    /// This rank's end of the schedule. On the master, `collect` receives every finished unit,
    /// its own and the workers', as it arrives (elsewhere it is never called). On a single
    /// rank the master simply runs everything. With a static assignment, pass this rank's
    /// share; with a queue, pass the same whole queue on every rank.
    pub fn unit_source<'a>(
        &'a self,
        assignment: Assignment,
        collect: Box<dyn FnMut(Finished) -> Result<()> + 'a>,
    ) -> Box<dyn UnitSource + 'a> {
        let (rank, size) = (self.rank(), self.size());
        let (units, queue, in_flight) = match assignment {
            Assignment::Static(units) => (VecDeque::from(units), None, vec![0; size]),
            // Every rank starts with one unit it knows without asking (the same on every
            // rank), so nobody spends the first round trip idle; the master keeps the rest.
            Assignment::Queue(mut queue) => {
                let seeds = queue.seed(size);
                let in_flight = seeds.iter().enumerate().map(|(r, s)| usize::from(r != ROOT && s.is_some())).collect();
                (seeds[rank].into_iter().collect(), Some(queue), in_flight)
            }
        };
        if self.is_root() {
            Box::new(Coordinator {
                comm: self,
                units,
                queue,
                collect,
                workers_open: size - 1,
                in_flight,
                deferred: Vec::new(),
                pace: vec![None; size],
                talking: Duration::ZERO,
            })
        } else {
            let dynamic = queue.is_some();
            Box::new(Participant { comm: self, units, dynamic, requested: false, talking: Duration::ZERO })
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
    /// Its own static share, or its first unit under a queue.
    units: VecDeque<usize>,
    /// The dynamic schedules' queue, for everyone including itself.
    queue: Option<UnitQueue>,
    collect: Box<dyn FnMut(Finished) -> Result<()> + 'a>,
    /// Workers that have not yet said they are done.
    workers_open: usize,
    /// Per rank: units handed out whose results have not arrived yet.
    in_flight: Vec<usize>,
    /// Workers whose prefetch request waits until their unit in hand is done (see `answer`).
    deferred: Vec<mpi::Rank>,
    /// Per rank: seconds per unit, a moving average over its recent units.
    pace: Vec<Option<f64>>,
    talking: Duration,
}

impl Coordinator<'_> {
    /// Answers worker `from`'s request for a unit. Near the end of the queue, a prefetch (a
    /// request from a worker that still has a unit in hand) from a rank clearly slower than
    /// the fastest is held back until its unit is done: otherwise the slow rank would take
    /// the last units while faster ones run dry. Ranks of equal speed are never held back.
    fn answer(&mut self, from: mpi::Rank) {
        let rank = from as usize;
        let left = self.queue.as_ref().map_or(0, UnitQueue::len);
        let near_the_end = left > 0 && left < 2 * self.comm.size();
        let fastest = self.pace.iter().flatten().copied().reduce(f64::min);
        let slow = matches!((self.pace[rank], fastest), (Some(mine), Some(best)) if mine > 1.25 * best);
        if near_the_end && slow && self.in_flight[rank] > 0 {
            self.deferred.push(from);
            return;
        }
        let next = self.queue.as_mut().and_then(|q| q.next_for(rank));
        if next.is_some() {
            self.in_flight[rank] += 1;
        }
        self.comm.world.process_at_rank(from).send_with_tag(&next.map_or(NO_MORE_UNITS, |u| u as u64), TAG_UNIT);
    }

    fn handle(&mut self, message: mpi::point_to_point::Message, status: mpi::point_to_point::Status) -> Result<()> {
        let started = Instant::now();
        let from = status.source_rank();
        match status.tag() {
            TAG_REQUEST => {
                message.matched_receive::<u64>();
                self.answer(from);
            }
            TAG_RESULT => {
                let (bytes, _) = (message, status).matched_receive_vec::<u8>();
                let done: Finished =
                    postcard::from_bytes(&bytes).map_err(|e| anyhow!("rank {from} sent a garbled result: {e}"))?;
                self.observe(&done);
                self.unit_settled(from);
                (self.collect)(done)?;
            }
            TAG_FAILED => {
                message.matched_receive::<u64>();
                self.unit_settled(from);
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

impl Coordinator<'_> {
    /// Folds a finished unit's duration into its rank's pace.
    fn observe(&mut self, done: &Finished) {
        let seconds = done.end_s - done.start_s;
        let pace = &mut self.pace[done.rank as usize];
        *pace = Some(pace.map_or(seconds, |p| 0.5 * p + 0.5 * seconds));
    }

    /// A unit worker `from` had in hand is done, one way or the other.
    fn unit_settled(&mut self, from: mpi::Rank) {
        self.in_flight[from as usize] = self.in_flight[from as usize].saturating_sub(1);
        if let Some(i) = self.deferred.iter().position(|&r| r == from) {
            self.deferred.swap_remove(i);
            self.answer(from);
        }
    }
}

impl UnitSource for Coordinator<'_> {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        self.serve()?;
        Ok(self.units.pop_front().or_else(|| self.queue.as_mut().and_then(|q| q.next_for(ROOT))))
    }

    fn finished(&mut self, done: Finished) -> Result<()> {
        self.observe(&done);
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
    /// The static share, or under a queue the one unit it starts with unasked.
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
        if let Some(unit) = self.units.pop_front() {
            if self.dynamic {
                self.request(); // prefetch, as below
            }
            return Ok(Some(unit));
        }
        if !self.dynamic {
            return Ok(None);
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

    fn failed(&mut self, unit: usize) -> Result<()> {
        self.send(&(unit as u64), TAG_FAILED);
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
