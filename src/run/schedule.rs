//! Which rank runs which unit, and the loop that runs them. Knows nothing about faces, frames
//! or MPI.
//!
//! A unit is an index `0..n_units` into a plan that every rank computes identically, so a
//! schedule only ever deals in indices. Static schedules are pure functions of
//! `(n_units, rank, size)`: no message is needed once the plan is known. Dynamic schedules get
//! their indices from a [`UnitSource`] that talks to the master (`comm`'s coordinator on rank 0,
//! its participants elsewhere).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;

/// The units `rank` of `size` runs under a static schedule, in the order it should run them.
pub fn static_units(schedule: Schedule, n_units: usize, rank: usize, size: usize) -> Vec<usize> {
    assert!(rank < size, "rank {rank} out of {size}");
    match schedule {
        Schedule::Dynamic | Schedule::Guided => unreachable!("{schedule} units are handed out at run time"),
        Schedule::Block => {
            // The first `n_units % size` ranks take one extra unit, so run lengths differ by at
            // most one.
            let base = n_units / size;
            let extra = n_units % size;
            let start = rank * base + rank.min(extra);
            let len = base + usize::from(rank < extra);
            (start..start + len).collect()
        }
        Schedule::Cyclic => (rank..n_units).step_by(size).collect(),
    }
}

/// The queue a dynamic master hands units out from.
///
/// Under `dynamic` each rank starts on its own contiguous stretch of units (block's split), so
/// it reads the video forward instead of seeking past units other ranks take; a rank whose
/// stretch is done takes the second half of the largest stretch left, which becomes its own
/// (affinity scheduling: balance of a shared queue, locality of block). Under `guided` units
/// shrink along the video and must go out in order, largest first: one shared stretch.
#[derive(Debug, Clone)]
pub struct UnitQueue {
    /// Per rank (one shared stretch under guided), its units in order.
    stretches: Vec<VecDeque<usize>>,
}

impl UnitQueue {
    pub fn new(schedule: Schedule, todo: &[usize], ranks: usize) -> Self {
        let stretches = match schedule {
            Schedule::Guided => vec![todo.iter().copied().collect()],
            Schedule::Dynamic => (0..ranks)
                .map(|r| static_units(Schedule::Block, todo.len(), r, ranks).into_iter().map(|i| todo[i]).collect())
                .collect(),
            Schedule::Block | Schedule::Cyclic => unreachable!("{schedule} units are split up front"),
        };
        UnitQueue { stretches }
    }

    /// The unit each rank starts with, without asking (taken out of the queue): the same
    /// answer on every rank, so workers need no message to begin.
    pub fn seed(&mut self, ranks: usize) -> Vec<Option<usize>> {
        (0..ranks).map(|r| self.next_for(r)).collect()
    }

    /// The next unit for `rank`: its own stretch first, else half of the largest one left.
    pub fn next_for(&mut self, rank: usize) -> Option<usize> {
        let own = rank.min(self.stretches.len() - 1);
        if let Some(unit) = self.stretches[own].pop_front() {
            return Some(unit);
        }
        let victim = (0..self.stretches.len()).max_by_key(|&r| (self.stretches[r].len(), std::cmp::Reverse(r)))?;
        let left = self.stretches[victim].len();
        if left == 0 {
            return None;
        }
        // The victim keeps the first half, which it is reading towards.
        let stolen = self.stretches[victim].split_off(left / 2);
        self.stretches[own] = stolen;
        self.stretches[own].pop_front()
    }

    /// Units not yet handed out.
    pub fn len(&self) -> usize {
        self.stretches.iter().map(VecDeque::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rank that hands out units and gathers results.
pub const MASTER: usize = 0;

/// What the master tells a worker that asks for a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Unit(usize),
    /// The queue is empty: the worker is done.
    NoMore,
    /// Not yet: the request waits until the worker's unit in hand is settled (the tail rule).
    Hold,
}

/// The dynamic master's decisions, with no MPI and no clock: it is told of requests,
/// settled units and their durations, and answers with units (or "hold"). `comm` drives it
/// with real messages, the simulator with simulated ones, so the two cannot drift apart.
///
/// The tail rule: near the end of the queue (fewer than two units per rank left), a prefetch
/// (a request from a worker that still has a unit in hand) from a rank clearly slower than
/// the fastest is held until that unit is settled; otherwise the slow rank would take the
/// last units while faster ones run dry. Ranks of equal speed are never held.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    queue: UnitQueue,
    /// Per rank: units handed out whose results have not arrived yet.
    in_flight: Vec<usize>,
    /// Workers whose request waits for their unit in hand.
    held: Vec<usize>,
    /// Per rank: seconds per unit, a moving average over its recent units.
    pace: Vec<Option<f64>>,
}

impl Dispatcher {
    /// A rank is "clearly slower" beyond this multiple of the fastest rank's pace.
    const SLOWER: f64 = 1.25;
    /// The tail rule applies below this many units left per rank.
    const TAIL_UNITS_PER_RANK: usize = 2;

    /// The master of a dynamic `schedule` over the units `todo` on `ranks` ranks, and each
    /// rank's first unit (taken out of the queue). Every rank can compute the same seeds, so
    /// workers start without asking; the seeds of workers count as in hand.
    pub fn new(schedule: Schedule, todo: &[usize], ranks: usize) -> (Self, Vec<Option<usize>>) {
        let mut queue = UnitQueue::new(schedule, todo, ranks);
        let seeds = queue.seed(ranks);
        let in_flight = seeds.iter().enumerate().map(|(r, s)| usize::from(r != MASTER && s.is_some())).collect();
        (Dispatcher { queue, in_flight, held: Vec::new(), pace: vec![None; ranks] }, seeds)
    }

    /// The master's own next unit: it never waits on itself.
    pub fn next_for_master(&mut self) -> Option<usize> {
        self.queue.next_for(MASTER)
    }

    /// The master finished a unit of its own in `seconds`.
    pub fn master_finished(&mut self, seconds: f64) {
        self.observe(MASTER, seconds);
    }

    /// Worker `rank` asks for its next unit.
    pub fn request(&mut self, rank: usize) -> Answer {
        let left = self.queue.len();
        let near_the_end = left > 0 && left < Self::TAIL_UNITS_PER_RANK * self.pace.len();
        let fastest = self.pace.iter().flatten().copied().reduce(f64::min);
        let slow = matches!((self.pace[rank], fastest), (Some(mine), Some(best)) if mine > Self::SLOWER * best);
        if near_the_end && slow && self.in_flight[rank] > 0 {
            self.held.push(rank);
            return Answer::Hold;
        }
        match self.queue.next_for(rank) {
            Some(unit) => {
                self.in_flight[rank] += 1;
                Answer::Unit(unit)
            }
            None => Answer::NoMore,
        }
    }

    /// A unit worker `rank` had in hand is settled: finished after `seconds`, or failed
    /// (`None`). Returns the answer to its held request, if one was waiting for this.
    pub fn settled(&mut self, rank: usize, seconds: Option<f64>) -> Option<Answer> {
        if let Some(seconds) = seconds {
            self.observe(rank, seconds);
        }
        self.in_flight[rank] = self.in_flight[rank].saturating_sub(1);
        let i = self.held.iter().position(|&r| r == rank)?;
        self.held.swap_remove(i);
        Some(self.request(rank))
    }

    fn observe(&mut self, rank: usize, seconds: f64) {
        let pace = &mut self.pace[rank];
        *pace = Some(pace.map_or(seconds, |p| 0.5 * p + 0.5 * seconds));
    }
}

/// A finished unit on its way to the master: which, who, when, and its encoded result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub unit: u64,
    pub rank: u32,
    /// Seconds since the common start.
    pub start_s: f64,
    pub end_s: f64,
    /// The work's result, postcard-encoded.
    pub payload: Vec<u8>,
}

impl Finished {
    pub fn decode<R: DeserializeOwned>(&self) -> Result<R> {
        postcard::from_bytes(&self.payload).with_context(|| format!("unit {}: undecodable result", self.unit))
    }
}

/// A rank's end of the schedule: where its units come from and where their results go.
///
/// Results stream to the master unit by unit, so the master can show progress and journal
/// them as they arrive rather than learn everything at the end.
pub trait UnitSource {
    /// The next unit to run, or `None` when this rank is done. May block waiting for work.
    fn next_unit(&mut self) -> Result<Option<usize>>;
    /// Hands a finished unit to the master (on the master, straight to its collector).
    fn finished(&mut self, done: Finished) -> Result<()>;
    /// Tells the master that `unit` will bring no result (its work failed): the master stops
    /// counting it as in hand.
    fn failed(&mut self, _unit: usize) -> Result<()> {
        Ok(())
    }
    /// Lets a master answer messages in the middle of its own work. Cheap when there is
    /// nothing to do; a no-op for everyone but the master.
    fn serve(&mut self) -> Result<()> {
        Ok(())
    }
    /// After this rank's last unit: tells the master it is done; the master waits here until
    /// every rank is.
    fn close(&mut self) -> Result<()>;
    /// Time spent sending or answering messages so far.
    fn comm_time(&self) -> Duration {
        Duration::ZERO
    }
}

/// Where this rank's time went while running units.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunStats {
    pub units: u64,
    /// Inside units (including any benchmark slow-down).
    pub busy_s: f64,
    /// Waiting for the next unit (and, on the master, for the others to finish), communication
    /// excluded.
    pub wait_s: f64,
    /// Sending requests and results, answering them.
    pub comm_s: f64,
}

/// What a rank did: its time, and the first error, if any.
pub struct RankRun {
    pub stats: RunStats,
    pub error: Option<anyhow::Error>,
}

/// Runs units from `source` until it is exhausted, sending each result on as it is done.
///
/// `work(unit, source)` does one unit; it may call `source.serve()` between steps so that a
/// master stays responsive during long units. `slowdown` ≥ 1 stretches every unit by sleeping
/// (a benchmark knob that imitates a slower node). After an error the rank keeps draining its
/// source without working, so that a dynamic master is never left waiting for its requests;
/// the error is returned for the caller to report.
pub fn run_units<R: Serialize>(
    source: &mut dyn UnitSource,
    rank: u32,
    clock: &dyn Fn() -> f64,
    slowdown: f64,
    mut work: impl FnMut(usize, &mut dyn UnitSource) -> Result<R>,
) -> RankRun {
    let mut stats = RunStats::default();
    let mut error: Option<anyhow::Error> = None;
    loop {
        let (waiting, comm_before) = (Instant::now(), source.comm_time());
        let next = source.next_unit();
        stats.wait_s += idle_since(waiting, comm_before, source);
        let unit = match next {
            Ok(Some(unit)) => unit,
            Ok(None) => break,
            Err(e) => {
                error.get_or_insert(e);
                break;
            }
        };
        if error.is_some() {
            let _ = source.failed(unit);
            continue;
        }
        let start_s = clock();
        let started = Instant::now();
        let outcome = work(unit, source).and_then(|output| {
            if slowdown > 1.0 {
                std::thread::sleep(started.elapsed().mul_f64(slowdown - 1.0));
            }
            let end_s = clock();
            stats.busy_s += end_s - start_s;
            stats.units += 1;
            let payload = postcard::to_stdvec(&output)?;
            source.finished(Finished { unit: unit as u64, rank, start_s, end_s, payload })
        });
        if let Err(e) = outcome {
            error = Some(e.context(format!("unit {unit}")));
            let _ = source.failed(unit);
        }
    }
    let (waiting, comm_before) = (Instant::now(), source.comm_time());
    if let Err(e) = source.close() {
        error.get_or_insert(e);
    }
    stats.wait_s += idle_since(waiting, comm_before, source);
    stats.comm_s = source.comm_time().as_secs_f64();
    RankRun { stats, error }
}

/// Runs this rank's units with `worker` (`work(worker, unit, source)` does one), or, when the
/// worker could not be set up, drains the source without working, so that nobody waits for
/// this rank, and returns the set-up error. Gives the worker back for its timings.
pub fn run_units_with<W, R: Serialize>(
    source: &mut dyn UnitSource,
    rank: u32,
    clock: &dyn Fn() -> f64,
    slowdown: f64,
    worker: Result<W>,
    mut work: impl FnMut(&mut W, usize, &mut dyn UnitSource) -> Result<R>,
) -> Result<(W, RunStats)> {
    match worker {
        Ok(mut worker) => {
            let run = run_units(source, rank, clock, slowdown, |unit, source| work(&mut worker, unit, source));
            match run.error {
                Some(e) => Err(e),
                None => Ok((worker, run.stats)),
            }
        }
        Err(e) => {
            run_units(source, rank, clock, slowdown, |_, _| -> Result<R> { anyhow::bail!("not set up") });
            Err(e)
        }
    }
}

/// A fixed list of units whose results stay in this process: one rank with nobody to talk to
/// (tests, and `calibrate-node` replaying a run's units).
pub struct LocalSource {
    units: std::vec::IntoIter<usize>,
    pub finished: Vec<Finished>,
    pub failed: Vec<usize>,
}

impl LocalSource {
    pub fn new(units: Vec<usize>) -> Self {
        LocalSource { units: units.into_iter(), finished: Vec::new(), failed: Vec::new() }
    }
}

impl UnitSource for LocalSource {
    fn next_unit(&mut self) -> Result<Option<usize>> {
        Ok(self.units.next())
    }

    fn finished(&mut self, done: Finished) -> Result<()> {
        self.finished.push(done);
        Ok(())
    }

    fn failed(&mut self, unit: usize) -> Result<()> {
        self.failed.push(unit);
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Seconds since `started` not spent communicating.
fn idle_since(started: Instant, comm_before: Duration, source: &dyn UnitSource) -> f64 {
    started.elapsed().saturating_sub(source.comm_time().saturating_sub(comm_before)).as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dispatcher over `n` units on 2 ranks, the master taking 1 s per unit and the worker
    /// `worker_s`, driven as the protocol does (the worker prefetches its next unit as it
    /// starts one) until the worker is held or the queue is empty.
    fn two_ranks(n: usize, worker_s: f64) -> (Dispatcher, Answer) {
        let todo: Vec<usize> = (0..n).collect();
        let (mut d, seeds) = Dispatcher::new(Schedule::Dynamic, &todo, 2);
        assert_eq!(seeds, vec![Some(0), Some(n / 2)], "each rank starts on its own stretch");
        let mut answer = d.request(1);
        while matches!(answer, Answer::Unit(_)) {
            assert_eq!(d.settled(1, Some(worker_s)), None, "nothing held yet");
            d.next_for_master();
            d.master_finished(1.0);
            answer = d.request(1);
        }
        (d, answer)
    }

    #[test]
    fn the_tail_rule_holds_a_slow_ranks_prefetch_until_its_unit_is_done() {
        let (mut d, answer) = two_ranks(12, 3.0);
        assert_eq!(answer, Answer::Hold, "3x slower, a unit in hand");
        assert!(!d.queue.is_empty() && d.queue.len() < 4, "only in the tail: {} left", d.queue.len());
        let released = d.settled(1, Some(3.0));
        assert!(matches!(released, Some(Answer::Unit(_))), "released once its unit is done: {released:?}");
    }

    #[test]
    fn ranks_of_equal_speed_are_never_held() {
        let (mut d, answer) = two_ranks(12, 1.1);
        assert_eq!(answer, Answer::NoMore);
        assert_eq!(d.next_for_master(), None);
    }

    #[test]
    fn a_failed_unit_releases_a_held_request_too() {
        let (mut d, answer) = two_ranks(12, 3.0);
        assert_eq!(answer, Answer::Hold);
        let released = d.settled(1, None);
        assert!(matches!(released, Some(Answer::Unit(_))), "{released:?}");
    }

    /// Every unit is run exactly once, whatever the number of ranks.
    fn assert_partition(schedule: Schedule, n_units: usize, size: usize) {
        let mut seen: Vec<usize> = (0..size).flat_map(|r| static_units(schedule, n_units, r, size)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n_units).collect::<Vec<_>>(), "{schedule} {n_units} units {size} ranks");
    }

    #[test]
    fn static_schedules_partition_the_units() {
        for schedule in [Schedule::Block, Schedule::Cyclic] {
            for n_units in [0, 1, 2, 7, 30] {
                for size in 1..=8 {
                    assert_partition(schedule, n_units, size);
                }
            }
        }
    }

    #[test]
    fn block_runs_are_contiguous_and_balanced() {
        let runs: Vec<Vec<usize>> = (0..3).map(|r| static_units(Schedule::Block, 10, r, 3)).collect();
        assert_eq!(runs, vec![vec![0, 1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
    }

    #[test]
    fn the_dynamic_queue_keeps_ranks_on_their_stretch_then_splits_the_largest() {
        let todo: Vec<usize> = (0..10).collect();
        let mut q = UnitQueue::new(Schedule::Dynamic, &todo, 2);
        assert_eq!(q.seed(2), vec![Some(0), Some(5)]);
        // Rank 1 runs through its stretch forward...
        assert_eq!([q.next_for(1), q.next_for(1), q.next_for(1), q.next_for(1)], [Some(6), Some(7), Some(8), Some(9)]);
        // ...then takes the second half of rank 0's remainder (1..=4), and reads it forward.
        assert_eq!(q.next_for(1), Some(3));
        assert_eq!(q.next_for(0), Some(1));
        assert_eq!(q.next_for(1), Some(4));
        assert_eq!(q.next_for(0), Some(2));
        assert_eq!((q.next_for(0), q.next_for(1), q.len()), (None, None, 0));
    }

    #[test]
    fn the_queues_hand_out_every_unit_once() {
        for schedule in [Schedule::Dynamic, Schedule::Guided] {
            for (units, ranks) in [(0, 1), (1, 3), (7, 3), (30, 4)] {
                let todo: Vec<usize> = (0..units).map(|u| u * 2).collect();
                let mut q = UnitQueue::new(schedule, &todo, ranks);
                let mut got: Vec<usize> = q.seed(ranks).into_iter().flatten().collect();
                let mut rank = 0;
                while let Some(u) = q.next_for(rank) {
                    got.push(u);
                    rank = (rank * 7 + 3) % ranks;
                }
                got.sort_unstable();
                assert_eq!(got, todo, "{schedule} {units} units {ranks} ranks");
            }
        }
    }

    #[test]
    fn guided_goes_out_in_order() {
        let mut q = UnitQueue::new(Schedule::Guided, &[0, 1, 2, 3], 2);
        assert_eq!(q.seed(2), vec![Some(0), Some(1)]);
        assert_eq!((q.next_for(1), q.next_for(0)), (Some(2), Some(3)));
    }

    #[test]
    fn cyclic_deals_round_robin() {
        assert_eq!(static_units(Schedule::Cyclic, 7, 1, 3), vec![1, 4]);
    }
}

#[cfg(test)]
mod runner_tests {
    use super::*;

    fn run(
        source: &mut LocalSource,
        slowdown: f64,
        work: impl FnMut(usize, &mut dyn UnitSource) -> Result<usize>,
    ) -> RankRun {
        let t0 = Instant::now();
        run_units(source, 0, &|| t0.elapsed().as_secs_f64(), slowdown, work)
    }

    #[test]
    fn runs_every_unit_in_order_and_sends_each_result_on() {
        let mut source = LocalSource::new(vec![2, 5, 7]);
        let run = run(&mut source, 1.0, |unit, _| Ok(unit * 10));
        assert!(run.error.is_none());
        assert_eq!(run.stats.units, 3);
        let got: Vec<(u64, usize)> = source.finished.iter().map(|f| (f.unit, f.decode().unwrap())).collect();
        assert_eq!(got, vec![(2, 20), (5, 50), (7, 70)]);
        assert!(source.finished.iter().all(|f| f.end_s >= f.start_s));
    }

    #[test]
    fn slowdown_stretches_units() {
        let run = run(&mut LocalSource::new(vec![0]), 3.0, |_, _| {
            std::thread::sleep(Duration::from_millis(20));
            Ok(0)
        });
        assert!(run.stats.busy_s >= 0.06, "busy {}", run.stats.busy_s);
    }

    #[test]
    fn after_an_error_the_source_is_drained_without_working() {
        let mut source = LocalSource::new(vec![0, 1, 2, 3]);
        let mut worked = Vec::new();
        let run = run(&mut source, 1.0, |unit, _| {
            worked.push(unit);
            anyhow::ensure!(unit != 1, "broken frame");
            Ok(unit)
        });
        assert_eq!(worked, vec![0, 1]);
        assert_eq!(format!("{:#}", run.error.unwrap()), "unit 1: broken frame");
        assert_eq!(source.finished.len(), 1);
        assert_eq!(source.failed, vec![1, 2, 3], "the master hears of every unit that brings no result");
        assert!(source.next_unit().unwrap().is_none(), "drained");
    }
}
