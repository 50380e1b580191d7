//! rollcall: attendance from lecture recordings and class photos across MPI ranks.
//!
//! The binary (`src/main.rs`) parses the command line and hands each subcommand to its driver
//! in [`cmd`]. Below the drivers, each folder owns one thing, and the arrows point one way:
//!
//! - [`run`]: a job across ranks — the plan of units, the schedules, the journal, each rank's
//!   worker; only [`run::comm`] talks to MPI, and scheduling knows nothing about faces;
//! - [`face`]: detect → landmarks → 128-d encoding on an image, MPI-free; the detectors sit
//!   in [`face::detect`];
//! - [`media`]: frames of a video and its container's index, and images;
//! - [`attendance`]: what a run found as plain values — detections, tracks, the presence rule
//!   and [`attendance::result::RunResult`], the input of every report;
//! - [`roster`]: the enrolled students and `rollcall enroll`;
//! - [`report`]: the files of a run (HDF5, xlsx, csv, html), functions of a `RunResult`
//!   alone, which is why `rollcall report` can rebuild them from the HDF5 file;
//! - [`analysis`]: what is computed from finished runs (semester table, scaling, eval);
//! - [`simulate`]: predictions before a run (the discrete-event model, node contention,
//!   `calibrate-node`, `probe`);
//! - [`synth`]: test recordings composed from photos, with their ground truth;
//! - [`engine`]: ONNX Runtime, the inference engine the detector runs on (CPU or CUDA);
//! - [`util`]: output files written whole, HDF5 helpers, signals, progress, logging;
//! - [`config`] (the settings, from YAML and flags), [`cli`] (the flags), [`about`]
//!   (provenance: versions, host, CPU).

pub mod about;
pub mod analysis;
pub mod attendance;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod engine;
pub mod face;
pub mod media;
pub mod report;
pub mod roster;
pub mod run;
pub mod simulate;
pub mod synth;
pub mod util;
