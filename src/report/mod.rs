//! Report writers: pure functions of a [`RunResult`], one module per format, and the table
//! writer (`study`) the studies of `analysis` and `simulate` render their own files with.

pub mod csv;
pub mod hdf5;
pub mod html;
pub mod study;
pub mod xlsx;

use std::path::Path;

use anyhow::{Context, Result};

use crate::attendance::result::RunResult;
use crate::util::output::{write_rendered, Access, Rendered};

/// Makes sure `dir` exists and is writable, and that no earlier run's outputs would be
/// silently replaced.
pub fn prepare_output_dir(dir: &Path, outputs: &[&str], force: bool) -> Result<()> {
    crate::util::output::create_folder(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let probe = dir.join(".rollcall-write-test");
    crate::util::output::create_fresh(&probe, crate::util::output::OWNER_ONLY)
        .with_context(|| format!("output directory {} is not writable", dir.display()))?;
    std::fs::remove_file(&probe)?;
    crate::util::output::refuse_to_overwrite(outputs.iter().map(|o| dir.join(o)), force)
}

/// Colours of the ranks in every chart and timeline, cycled, so rank 3 looks the same in the
/// workbook and the HTML page.
pub const RANK_COLOURS: [&str; 8] =
    ["#4472C4", "#ED7D31", "#70AD47", "#FFC000", "#5B9BD5", "#A5A5A5", "#9E480E", "#264478"];

/// The file that holds everything a run knows.
pub const RESULT_FILE: &str = "attendance.h5";
/// The reports `rollcall report` can rebuild from [`RESULT_FILE`] alone.
pub const DERIVED: [&str; 4] = ["attendance.xlsx", "attendance.csv", "detections.csv", "report.html"];

/// Every file a job writes into its output directory.
pub fn all_outputs() -> Vec<&'static str> {
    std::iter::once(RESULT_FILE).chain(DERIVED).collect()
}

/// Writes every report of a run into `dir`: HDF5 first (it holds everything), then the rest.
pub fn write_all(result: &RunResult, dir: &Path) -> Result<()> {
    let mut files =
        vec![Rendered { name: RESULT_FILE.into(), bytes: hdf5::render(result)?, access: Access::OwnerOnly }];
    files.extend(render_derived(result)?);
    write_rendered(dir, &files)
}

/// Writes the reports that are functions of what the HDF5 file holds.
pub fn write_derived(result: &RunResult, dir: &Path) -> Result<()> {
    write_rendered(dir, &render_derived(result)?)
}

/// The reports in [`DERIVED`]'s order: each names students, so each is the owner's only.
fn render_derived(result: &RunResult) -> Result<Vec<Rendered>> {
    let [workbook, attendance, detections, page] = DERIVED;
    Ok(vec![
        Rendered { name: workbook.into(), bytes: xlsx::render(result)?, access: Access::OwnerOnly },
        Rendered { name: attendance.into(), bytes: csv::render_attendance(result)?, access: Access::OwnerOnly },
        Rendered { name: detections.into(), bytes: csv::render_detections(result)?, access: Access::OwnerOnly },
        Rendered { name: page.into(), bytes: html::render(result)?.into_bytes(), access: Access::OwnerOnly },
    ])
}
