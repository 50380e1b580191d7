//! The discrete-event simulation of one schedule on N ranks: the same protocol as `comm`
//! (seeds, prefetching workers, the master's tail rule, results streamed to rank 0), with
//! time taken from a cost model instead of a clock.
//!
//! What is modelled: each unit's work (from the measured run), the decoding a rank does to
//! reach a unit that does not follow its previous one (a grab walk or a seek), a slow-down per
//! rank, the network latency of every message, and the master: one message at a time, each
//! costing `master_s` of rank 0's time, looked at every `poll_s` while rank 0 works (as its
//! own thread does while its workers analyse) and at once when it has nothing else to do, and,
//! given a node's slowdown curve, what the ranks busy on a node cost each other (a unit costs
//! its work times the curve's factor for the cores busy on its node when it starts). Not
//! modelled: bandwidth (messages are a few hundred bytes) and the threads of a rank (a unit's
//! cost is what the measured run's ranks took, with its threads).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use super::node::Contention;
use crate::config::Schedule;
use crate::media::{MAX_GRAB_GAP, SEEK_DECODES};
use crate::run::schedule::{static_units, Answer, Dispatcher, MASTER};

/// One unit of the simulated plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimUnit {
    /// Video frame index of its first sampled frame.
    pub first_frame: usize,
    /// Sampled frames in it.
    pub frames: usize,
    /// Seconds of work for one rank at normal speed, reaching the unit excluded.
    pub work_s: f64,
}

/// Frames a reader decodes to get to a frame `gap` frames past its position (a negative gap
/// is a backwards jump): walk forward over short gaps, seek otherwise (see `VideoReader`).
pub fn decodes_to_reach(gap: i64) -> u64 {
    if (0..=MAX_GRAB_GAP as i64).contains(&gap) {
        gap as u64 + 1
    } else {
        SEEK_DECODES as u64 + 1
    }
}

/// Everything one simulation needs.
#[derive(Debug, Clone)]
pub struct Scenario<'a> {
    pub schedule: Schedule,
    pub ranks: usize,
    pub units: &'a [SimUnit],
    /// Frames between sampled frames: a reader continuing its previous unit walks `stride - 1`.
    pub stride: usize,
    /// Seconds to decode one frame.
    pub decode_s: f64,
    /// Rank → factor ≥ 1 by which it is slower.
    pub slow: &'a BTreeMap<u32, f64>,
    /// Seconds of rank 0's time per message it handles (results include journaling them).
    pub master_s: f64,
    /// One-way message latency, seconds.
    pub latency_s: f64,
    /// How often rank 0 looks for messages while it works.
    pub poll_s: f64,
    /// What ranks sharing a node cost each other; `None`: nothing.
    pub contention: Option<Contention<'a>>,
}

/// What a simulation predicts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Common start to the master's last message handled (or the last unit done).
    pub makespan_s: f64,
    /// Seconds rank 0 spent handling messages and results.
    pub master_busy_s: f64,
    pub messages: u64,
    /// Frames decoded over all ranks.
    pub decoded_frames: u64,
    /// Mean over ranks of time inside units / makespan.
    pub busy_share: f64,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    UnitDone { rank: usize, version: u64 },
    AtMaster(Message),
    Reply { rank: usize, unit: Option<usize> },
}

#[derive(Debug, Clone, Copy)]
enum Message {
    Request { rank: usize },
    Result { rank: usize, seconds: f64 },
    Done,
}

struct Event {
    t: f64,
    seq: u64,
    kind: Kind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Earliest first out of a max-heap; ties in the order they were scheduled.
    fn cmp(&self, other: &Self) -> Ordering {
        other.t.total_cmp(&self.t).then(other.seq.cmp(&self.seq))
    }
}

#[derive(Default)]
struct RankState {
    /// Next frame its reader decodes.
    position: usize,
    /// The unit in hand: (unit, started, ends).
    current: Option<(usize, f64, f64)>,
    version: u64,
    /// A reply that arrived while the rank was busy.
    reply: Option<Option<usize>>,
    waiting: bool,
    static_units: VecDeque<usize>,
    busy_s: f64,
}

struct Sim<'a> {
    s: &'a Scenario<'a>,
    events: BinaryHeap<Event>,
    seq: u64,
    ranks: Vec<RankState>,
    /// The dynamic schedules' decisions (the same type as a real master's).
    dispatcher: Option<Dispatcher>,
    master_free: f64,
    out: Outcome,
    end: f64,
    /// Ranks working on each node (with `contention`).
    node_busy: Vec<usize>,
}

/// Events between two looks for SIGTERM/SIGINT: a million ranks take minutes to simulate.
const EVENTS_PER_SIGNAL_CHECK: u64 = 1 << 16;

/// Runs `scenario` to the end, or until a SIGTERM or SIGINT arrives.
pub fn simulate(scenario: &Scenario) -> Result<Outcome, crate::util::interrupt::Interrupted> {
    let n = scenario.ranks;
    let mut sim = Sim {
        s: scenario,
        events: BinaryHeap::new(),
        seq: 0,
        ranks: (0..n).map(|_| RankState::default()).collect(),
        dispatcher: None,
        master_free: 0.0,
        out: Outcome::default(),
        end: 0.0,
        node_busy: scenario.contention.map_or(Vec::new(), |c| vec![0; c.node_of(n.saturating_sub(1)) + 1]),
    };
    sim.start();
    while let Some(Event { t, kind, seq }) = sim.events.pop() {
        if seq % EVENTS_PER_SIGNAL_CHECK == 0 {
            crate::util::interrupt::check()?;
        }
        match kind {
            Kind::UnitDone { rank, version } if version == sim.ranks[rank].version => sim.unit_done(rank, t),
            Kind::UnitDone { .. } => {} // superseded: rank 0 was interrupted by the master's work
            Kind::AtMaster(message) => sim.at_master(message, t),
            Kind::Reply { rank, unit } => sim.reply(rank, unit, t),
        }
    }
    let mut out = sim.out;
    out.makespan_s = sim.end;
    out.busy_share =
        if sim.end > 0.0 { sim.ranks.iter().map(|r| r.busy_s).sum::<f64>() / (n as f64 * sim.end) } else { 0.0 };
    Ok(out)
}

impl Sim<'_> {
    fn dynamic(&self) -> bool {
        self.s.schedule.is_dynamic()
    }

    fn push(&mut self, t: f64, kind: Kind) {
        self.seq += 1;
        self.events.push(Event { t, seq: self.seq, kind });
    }

    fn start(&mut self) {
        let (n, units) = (self.s.ranks, self.s.units.len());
        if self.dynamic() {
            // Every rank starts with its seed unasked; the master keeps the rest (comm::unit_source).
            let todo: Vec<usize> = (0..units).collect();
            let (dispatcher, seeds) = Dispatcher::new(self.s.schedule, &todo, n);
            self.dispatcher = Some(dispatcher);
            for (rank, seed) in seeds.into_iter().enumerate() {
                match seed {
                    Some(unit) => self.start_unit(rank, unit, 0.0),
                    None => self.next_unit(rank, 0.0),
                }
            }
        } else {
            for rank in 0..n {
                self.ranks[rank].static_units = static_units(self.s.schedule, units, rank, n).into();
                self.next_unit(rank, 0.0);
            }
        }
    }

    fn slow(&self, rank: usize) -> f64 {
        self.s.slow.get(&(rank as u32)).copied().unwrap_or(1.0)
    }

    fn start_unit(&mut self, rank: usize, unit: usize, t: f64) {
        let u = self.s.units[unit];
        let state = &mut self.ranks[rank];
        let gap = u.first_frame as i64 - state.position as i64;
        // The work of a unit includes walking `stride - 1` frames to its first; anything more
        // (or less) is this rank's own way of getting there.
        let walk = decodes_to_reach(gap) as f64 - decodes_to_reach(self.s.stride as i64 - 1) as f64;
        let crowding = match self.s.contention {
            Some(c) => {
                let busy = &mut self.node_busy[c.node_of(rank)];
                *busy += 1;
                c.factor(*busy)
            }
            None => 1.0,
        };
        let cost = (u.work_s + walk * self.s.decode_s).max(0.0) * self.slow(rank) * crowding;
        let within = (u.frames.saturating_sub(1) as u64) * decodes_to_reach(self.s.stride as i64 - 1);
        self.out.decoded_frames += decodes_to_reach(gap) + within;
        let state = &mut self.ranks[rank];
        state.position = u.first_frame + u.frames.saturating_sub(1) * self.s.stride + 1;
        state.current = Some((unit, t, t + cost));
        state.version += 1;
        let version = state.version;
        self.push(t + cost, Kind::UnitDone { rank, version });
        if self.dynamic() && rank != MASTER {
            self.send(Message::Request { rank }, t); // prefetch
        }
    }

    fn send(&mut self, message: Message, t: f64) {
        self.push(t + self.s.latency_s, Kind::AtMaster(message));
    }

    fn unit_done(&mut self, rank: usize, t: f64) {
        let (_, started, _) = self.ranks[rank].current.take().expect("a unit in hand");
        if let Some(c) = self.s.contention {
            self.node_busy[c.node_of(rank)] -= 1;
        }
        self.ranks[rank].busy_s += t - started;
        let seconds = t - started;
        let mut t = t;
        if rank == MASTER {
            // Rank 0 first answers what is waiting, then collects (and journals) its own
            // result, before it starts another unit.
            if let Some(d) = self.dispatcher.as_mut() {
                d.master_finished(seconds);
            }
            t = t.max(self.master_free) + self.s.master_s;
            self.master_free = t;
            self.out.master_busy_s += self.s.master_s;
        } else {
            self.send(Message::Result { rank, seconds }, t);
        }
        self.end = self.end.max(t);
        self.next_unit(rank, t);
    }

    fn next_unit(&mut self, rank: usize, t: f64) {
        if !self.dynamic() {
            match self.ranks[rank].static_units.pop_front() {
                Some(unit) => self.start_unit(rank, unit, t),
                None => self.finish(rank, t),
            }
        } else if rank == MASTER {
            match self.dispatcher.as_mut().and_then(Dispatcher::next_for_master) {
                Some(unit) => self.start_unit(MASTER, unit, t),
                None => self.finish(MASTER, t),
            }
        } else {
            match self.ranks[rank].reply.take() {
                Some(reply) => self.take_reply(rank, reply, t),
                None => {
                    if self.ranks[rank].version == 0 {
                        self.send(Message::Request { rank }, t); // no seed: ask for a first unit
                    }
                    self.ranks[rank].waiting = true;
                }
            }
        }
    }

    fn take_reply(&mut self, rank: usize, unit: Option<usize>, t: f64) {
        match unit {
            Some(unit) => self.start_unit(rank, unit, t),
            None => self.finish(rank, t),
        }
    }

    fn reply(&mut self, rank: usize, unit: Option<usize>, t: f64) {
        if std::mem::take(&mut self.ranks[rank].waiting) {
            self.take_reply(rank, unit, t);
        } else {
            self.ranks[rank].reply = Some(unit);
        }
    }

    fn finish(&mut self, rank: usize, t: f64) {
        if rank != MASTER {
            self.send(Message::Done, t);
        }
        self.end = self.end.max(t);
    }

    /// The master takes `message` at its next look (every `poll_s` while rank 0 works, at
    /// once otherwise), after the messages before it; handling it delays rank 0's own unit.
    fn at_master(&mut self, message: Message, arrived: f64) {
        let working = self.ranks[MASTER].current.is_some();
        let look = if working { (arrived / self.s.poll_s).ceil() * self.s.poll_s } else { arrived };
        let start = look.max(self.master_free);
        let t = start + self.s.master_s;
        self.master_free = t;
        self.out.master_busy_s += self.s.master_s;
        self.out.messages += 1;
        if let Some((unit, started, ends)) = self.ranks[MASTER].current {
            if ends > start {
                let state = &mut self.ranks[MASTER];
                state.current = Some((unit, started, ends + self.s.master_s));
                state.version += 1;
                let version = state.version;
                self.push(ends + self.s.master_s, Kind::UnitDone { rank: MASTER, version });
            }
        }
        match message {
            Message::Request { rank } => {
                let answer = self.dispatcher.as_mut().map_or(Answer::NoMore, |d| d.request(rank));
                self.answer(rank, answer, t);
            }
            Message::Result { rank, seconds } => {
                if let Some(released) = self.dispatcher.as_mut().and_then(|d| d.settled(rank, Some(seconds))) {
                    self.answer(rank, released, t);
                }
            }
            Message::Done => {}
        }
        self.end = self.end.max(t);
    }

    /// The master's answer reaches `rank` one latency later; a held request gets none yet.
    fn answer(&mut self, rank: usize, answer: Answer, t: f64) {
        let unit = match answer {
            Answer::Unit(unit) => Some(unit),
            Answer::NoMore => None,
            Answer::Hold => return,
        };
        self.push(t + self.s.latency_s, Kind::Reply { rank, unit });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario<'a>(
        schedule: Schedule,
        ranks: usize,
        units: &'a [SimUnit],
        slow: &'a BTreeMap<u32, f64>,
    ) -> Scenario<'a> {
        Scenario {
            schedule,
            ranks,
            units,
            stride: 1,
            decode_s: 0.0,
            slow,
            contention: None,
            master_s: 0.0,
            latency_s: 0.0,
            poll_s: 0.002,
        }
    }

    fn even_units(n: usize) -> Vec<SimUnit> {
        (0..n).map(|i| SimUnit { first_frame: 4 * i, frames: 4, work_s: 1.0 }).collect()
    }

    #[test]
    fn free_messages_and_equal_units_split_evenly() {
        let units = even_units(8);
        let none = BTreeMap::new();
        for schedule in [Schedule::Block, Schedule::Cyclic, Schedule::Dynamic] {
            let out = simulate(&scenario(schedule, 4, &units, &none)).unwrap();
            assert!((out.makespan_s - 2.0).abs() < 1e-9, "{schedule}: {out:?}");
            assert_eq!(out.busy_share, 1.0, "{schedule}");
        }
        let one = simulate(&scenario(Schedule::Block, 1, &units, &none)).unwrap();
        assert!((one.makespan_s - 8.0).abs() < 1e-9);
        assert_eq!(one.decoded_frames, 32, "one reader walking every frame once");
    }

    #[test]
    fn a_slow_rank_costs_block_more_than_dynamic() {
        let units = even_units(40);
        let slow = BTreeMap::from([(1, 2.0)]);
        let block = simulate(&scenario(Schedule::Block, 2, &units, &slow)).unwrap().makespan_s;
        let dynamic = simulate(&scenario(Schedule::Dynamic, 2, &units, &slow)).unwrap().makespan_s;
        assert!((block - 40.0).abs() < 1e-9, "block waits for the slow half: {block}");
        // Ideal: rank 0 does 2/3 of the work at full speed.
        assert!((40.0 * 2.0 / 3.0 - 1e-9..29.0).contains(&dynamic), "dynamic {dynamic}");
    }

    #[test]
    fn the_master_saturates_when_units_are_short_and_ranks_many() {
        let units: Vec<SimUnit> = (0..4096).map(|i| SimUnit { first_frame: i, frames: 1, work_s: 0.01 }).collect();
        let none = BTreeMap::new();
        let mut s = scenario(Schedule::Dynamic, 256, &units, &none);
        s.master_s = 100e-6;
        let out = simulate(&s).unwrap();
        // Two messages per unit at 100 us each bound the job below by 0.8 s, whatever the ranks.
        assert!(out.makespan_s >= 4096.0 * 2.0 * 100e-6, "{out:?}");
        assert!(out.master_busy_s / out.makespan_s > 0.9, "the master is the bottleneck: {out:?}");
    }
}
