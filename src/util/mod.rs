//! Plumbing every part uses: output files that are whole or absent, HDF5 helpers, signals,
//! progress on rank 0, and logging that says which rank spoke.

pub mod h5util;
pub mod interrupt;
pub mod log;
pub mod output;
pub mod progress;
