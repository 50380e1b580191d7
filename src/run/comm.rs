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

use crate::config::Schedule;
use crate::run::schedule::{static_units, Answer, Dispatcher, Finished, UnitSource, MASTER};

/// The master: plans, hands out work, gathers and writes the reports.
pub const ROOT: usize = MASTER;

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
/// Master → worker: the run failed on the master (a full disk under the journal, a unit of its
/// own): stop at the next frame and report done. Carries nothing of interest.
const TAG_STOP: Tag = 6;
/// The reply that tells a worker the queue is empty.
const NO_MORE_UNITS: u64 = u64::MAX;
/// How often a rank with nothing to do looks for the message it waits for. MPI's blocking
/// probe and receive poll without pause: a rank done with its units would keep a core busy,
/// and where ranks or threads outnumber the cores that core is taken from a rank still working
/// (on 2 cores it cost the slowed rank of `tests/simulate.rs` a third of its speed).
const IDLE_POLL: Duration = Duration::from_millis(1);

/// Waits, without busying a core, for the next message from `source` with `tag` (`None`: any).
fn idle_probe(source: &impl Source, tag: Option<Tag>) -> (mpi::point_to_point::Message, mpi::point_to_point::Status) {
    loop {
        let probe = match tag {
            Some(tag) => source.immediate_matched_probe_with_tag(tag),
            None => source.immediate_matched_probe(),
        };
        if let Some(found) = probe {
            return found;
        }
        std::thread::sleep(IDLE_POLL);
    }
}

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

    /// Rank 0's `prepared` (the others pass `None`) on every rank: the same value, or the
    /// same error, so that a failed set-up makes every rank leave instead of wait.
    pub fn share<T: Serialize + DeserializeOwned>(&self, prepared: Option<Result<T>>) -> Result<T> {
        let prepared = prepared.filter(|_| self.is_root()).map(|p| p.map_err(|e| format!("{e:#}")));
        let shared: Result<T, String> = self.broadcast(prepared.as_ref())?;
        shared.map_err(|msg| anyhow!(msg))
    }

    /// Every rank's outcome, on rank 0 in rank order; the others get `None`. A rank's failure
    /// reaches rank 0 as its error, prefixed with the rank (the first failing rank's wins).
    pub fn gather_outcomes<T: Serialize + DeserializeOwned>(&self, mine: Result<T>) -> Result<Option<Vec<T>>> {
        let mine = mine.map_err(|e| format!("rank {}: {e:#}", self.rank()));
        let Some(all) = self.gather(&mine)? else {
            return Ok(None);
        };
        Ok(Some(all.into_iter().collect::<Result<Vec<T>, String>>().map_err(|e| anyhow!(e))?))
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
    /// The master hands units out on request (dynamic, guided); every rank knows its first.
    Queue { seed: Option<usize>, dispatcher: Dispatcher },
}

impl Assignment {
    /// This rank's assignment of the units `todo` under `schedule`, on `size` ranks.
    pub fn of(schedule: Schedule, todo: &[usize], rank: usize, size: usize) -> Self {
        if schedule.is_dynamic() {
            let (dispatcher, seeds) = Dispatcher::new(schedule, todo, size);
            Assignment::Queue { seed: seeds[rank], dispatcher }
        } else {
            Assignment::Static(static_units(schedule, todo.len(), rank, size).into_iter().map(|i| todo[i]).collect())
        }
    }
}

impl Comm {
    /// This rank's end of the schedule. On the master, `collect` receives every finished unit,
    /// its own and the workers', as it arrives (elsewhere it is never called). On a single
    /// rank the master simply runs everything.
    pub fn unit_source<'a>(
        &'a self,
        assignment: Assignment,
        collect: Box<dyn FnMut(Finished) -> Result<()> + 'a>,
    ) -> Box<dyn UnitSource + 'a> {
        let (units, dispatcher) = match assignment {
            Assignment::Static(units) => (VecDeque::from(units), None),
            Assignment::Queue { seed, dispatcher } => (seed.into_iter().collect(), Some(dispatcher)),
        };
        if self.is_root() {
            Box::new(Coordinator {
                comm: self,
                units,
                dispatcher,
                collect,
                workers_open: self.size() - 1,
                stopped: false,
                talking: Duration::ZERO,
            })
        } else {
            let dynamic = dispatcher.is_some();
            Box::new(Participant {
                comm: self,
                units,
                dynamic,
                requested: false,
                stopped: false,
                talking: Duration::ZERO,
            })
        }
    }

    fn root_process(&self) -> mpi::topology::Process<'_> {
        self.world.process_at_rank(ROOT as mpi::Rank)
    }
}

/// Rank 0's end: it runs units like any rank and, between and during them, answers requests
/// (as its [`Dispatcher`] decides), collects results and counts workers that are done.
struct Coordinator<'a> {
    comm: &'a Comm,
    /// Its own static share, or its first unit under a queue.
    units: VecDeque<usize>,
    /// The dynamic schedules' decisions; `None` under a static one.
    dispatcher: Option<Dispatcher>,
    collect: Box<dyn FnMut(Finished) -> Result<()> + 'a>,
    /// Workers that have not yet said they are done.
    workers_open: usize,
    /// The run has failed here and the workers were told to stop: their results are taken
    /// and dropped, their requests answered with no more units, until each says it is done.
    stopped: bool,
    talking: Duration,
}

impl Coordinator<'_> {
    /// Tells every worker to stop (once): a failure on the master ends the run on every rank
    /// within a frame, instead of leaving workers blocked on a master that no longer listens.
    fn stop_workers(&mut self) {
        if !self.stopped {
            self.stopped = true;
            for worker in (0..self.comm.size()).filter(|&r| r != ROOT) {
                self.comm.world.process_at_rank(worker as mpi::Rank).send_with_tag(&0u64, TAG_STOP);
            }
        }
    }

    /// Hands `done` to the collector, unless the run has stopped; a collector's failure
    /// stops the workers.
    fn collect(&mut self, done: Finished) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        let collected = (self.collect)(done);
        if collected.is_err() {
            self.stop_workers();
        }
        collected
    }

    /// Sends worker `to` its answer; a held request is answered later, from `settled`.
    fn reply(&self, to: mpi::Rank, answer: Answer) {
        let unit = match answer {
            Answer::Unit(unit) => unit as u64,
            Answer::NoMore => NO_MORE_UNITS,
            Answer::Hold => return,
        };
        self.comm.world.process_at_rank(to).send_with_tag(&unit, TAG_UNIT);
    }

    /// A unit worker `from` had in hand is done (after `seconds`) or failed (`None`).
    fn settled(&mut self, from: mpi::Rank, seconds: Option<f64>) {
        if let Some(released) = self.dispatcher.as_mut().and_then(|d| d.settled(from as usize, seconds)) {
            self.reply(from, released);
        }
    }

    fn handle(&mut self, message: mpi::point_to_point::Message, status: mpi::point_to_point::Status) -> Result<()> {
        let started = Instant::now();
        let from = status.source_rank();
        match status.tag() {
            TAG_REQUEST => {
                message.matched_receive::<u64>();
                let answer = match self.dispatcher.as_mut() {
                    Some(d) if !self.stopped => d.request(from as usize),
                    _ => Answer::NoMore,
                };
                self.reply(from, answer);
            }
            TAG_RESULT => {
                let (bytes, _) = (message, status).matched_receive_vec::<u8>();
                let done: Finished =
                    postcard::from_bytes(&bytes).map_err(|e| anyhow!("rank {from} sent a garbled result: {e}"))?;
                self.settled(from, Some(done.end_s - done.start_s));
                self.collect(done)?;
            }
            TAG_FAILED => {
                message.matched_receive::<u64>();
                self.settled(from, None);
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
        Ok(self.units.pop_front().or_else(|| self.dispatcher.as_mut().and_then(Dispatcher::next_for_master)))
    }

    fn finished(&mut self, done: Finished) -> Result<()> {
        if let Some(d) = self.dispatcher.as_mut() {
            d.master_finished(done.end_s - done.start_s);
        }
        self.collect(done)
    }

    /// A unit of the master's own failed: the run has failed, so the workers stop too.
    fn failed(&mut self, _unit: usize) -> Result<()> {
        self.stop_workers();
        Ok(())
    }

    fn serve(&mut self) -> Result<()> {
        while let Some((message, status)) = self.comm.world.any_process().immediate_matched_probe() {
            self.handle(message, status)?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        // Answer the last requests, take the last results, until every worker is done; after
        // a failure, keep listening (the workers stop) and return the first error.
        let mut first_error = None;
        while self.workers_open > 0 {
            let (message, status) = idle_probe(&self.comm.world.any_process(), None);
            if let Err(e) = self.handle(message, status) {
                self.stop_workers();
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
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
    /// The master said to stop: no more units are taken.
    stopped: bool,
    talking: Duration,
}

/// What a worker reports when the master stopped it: the master's own error says why.
#[derive(Debug, thiserror::Error)]
#[error("stopped by rank 0, whose error says why")]
pub struct StoppedByMaster;

impl Participant<'_> {
    /// Whether the master has said to stop (looked for without waiting).
    fn told_to_stop(&mut self) -> bool {
        if !self.stopped {
            if let Some((message, _)) = self.comm.root_process().immediate_matched_probe_with_tag(TAG_STOP) {
                message.matched_receive::<u64>();
                self.stopped = true;
            }
        }
        self.stopped
    }

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
        if self.told_to_stop() {
            return Ok(None);
        }
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
        // The answer, unless the master says to stop first (it may hold a request until a
        // unit in hand elsewhere settles, which after a failure it never will).
        let message = loop {
            if self.told_to_stop() {
                return Ok(None);
            }
            match self.comm.root_process().immediate_matched_probe_with_tag(TAG_UNIT) {
                Some((message, _)) => break message,
                None => std::thread::sleep(IDLE_POLL),
            }
        };
        let (unit, _) = message.matched_receive::<u64>();
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

    /// Between frames: ends the unit in hand when the master has said to stop.
    fn serve(&mut self) -> Result<()> {
        if self.told_to_stop() {
            return Err(StoppedByMaster.into());
        }
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
