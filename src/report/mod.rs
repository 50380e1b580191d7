//! Report writers: pure functions of a [`RunResult`], one module per format.

pub mod csv;
pub mod hdf5;
pub mod xlsx;

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::result::RunResult;

/// Makes sure `dir` exists and is writable, and that no earlier run's outputs would be
/// silently replaced.
pub fn prepare_output_dir(dir: &Path, outputs: &[&str], force: bool) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let probe = dir.join(".rollcall-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("output directory {} is not writable", dir.display()))?;
    std::fs::remove_file(&probe)?;
    if !force {
        if let Some(existing) = outputs.iter().map(|o| dir.join(o)).find(|p| p.exists()) {
            bail!("{} already exists: pass --force to overwrite it", existing.display());
        }
    }
    Ok(())
}

/// Writes every report of a run into `dir`: HDF5 first (it holds everything), then the
/// spreadsheets.
pub fn write_all(result: &RunResult, dir: &Path) -> Result<()> {
    hdf5::write(result, &dir.join("attendance.h5"))?;
    xlsx::write(result, &dir.join("attendance.xlsx"))?;
    csv::write_attendance(result, &dir.join("attendance.csv"))?;
    csv::write_detections(result, &dir.join("detections.csv"))?;
    Ok(())
}
