//! Plumbing every part uses: output files that are whole or absent, bounded reads of the text
//! files users name, HDF5 helpers, signals,
//! progress on rank 0, and logging that says which rank spoke.

pub mod h5util;
pub mod input;
pub mod interrupt;
pub mod log;
pub mod output;
pub mod progress;
