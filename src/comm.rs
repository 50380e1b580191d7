//! MPI at the edge: the only module that talks to MPI. Everything else sees plain Rust values.
//!
//! Values cross ranks serialized with postcard, so the rest of the code never defines MPI
//! datatypes; the messages are small next to the work (a roster of 1000 students is 1 MB once).
//! Collectives carry `Result`s where a step can fail on one rank: every rank then learns of the
//! failure and leaves together, instead of the others waiting forever in the next collective.

use anyhow::{anyhow, Result};
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Count;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The master: plans, hands out work, gathers and writes the reports.
pub const ROOT: usize = 0;

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
