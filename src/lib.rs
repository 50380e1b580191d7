//! rollcall: attendance from lecture recordings and class photos across MPI ranks.
//!
//! The binary (`src/main.rs`) is a thin layer over these modules, each owning one thing:
//! scheduling knows nothing about faces, only [`comm`] talks to MPI, the [`face`] pipeline
//! knows nothing about MPI, and the reports of a run (`report::write_all`) are functions of a
//! [`result::RunResult`] alone, which is why `rollcall report` can rebuild them from the HDF5 file.

pub mod about;
pub mod attend;
pub mod calibrate;
pub mod cli;
pub mod comm;
pub mod config;
pub mod container;
pub mod enroll;
pub mod eval;
pub mod evidence;
pub mod face;
pub mod gray;
pub mod h5util;
pub mod interrupt;
pub mod journal;
pub mod log;
pub mod memory;
pub mod output;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod report;
pub mod result;
pub mod roster;
pub mod scaling;
pub mod schedule;
pub mod semester;
pub mod simulate;
pub mod synth;
pub mod track;
pub mod video;
pub mod worker;
