//! What is computed from finished runs: one table for a semester, speedup and efficiency
//! across rank counts, and how right a run is against a recording's ground truth.

pub mod eval;
pub mod overrides;
pub mod scaling;
pub mod scaling_files;
pub mod semester;
pub mod semester_files;
