//! A job across ranks: the plan of units, who runs which ([`schedule`], over [`comm`], the one
//! module that talks to MPI), the journal that lets a stopped job resume, and the work of one
//! rank ([`worker`], which encodes only the faces [`follow`] cannot vouch for). [`job`] puts them together for `attend` and `photo`; [`gray`] is the
//! same machinery on a grayscale image, the scaling demo.

pub mod comm;
pub mod follow;
pub mod gray;
pub mod job;
pub mod journal;
pub mod memory;
pub mod plan;
pub mod schedule;
pub mod worker;

use crate::attendance::result::UnitRecord;

/// The timeline row of a finished unit that covered `frames` frames (or rows). Here rather than
/// in [`schedule`], which deals in unit indices and knows nothing of what a unit holds.
pub fn timeline_row(done: &schedule::Finished, frames: u64) -> UnitRecord {
    UnitRecord { unit: done.unit, rank: done.rank, start_s: done.start_s, end_s: done.end_s, frames }
}
