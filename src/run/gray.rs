//! `rollcall gray`: a large image to grayscale, band by band across the ranks, reassembled on
//! rank 0. `Gray = 0.299 R + 0.587 G + 0.114 B`, rounded to nearest, in exact integer
//! arithmetic, so the output is byte-identical for any number of ranks and any schedule.
//!
//! The work is memory-bound (4 bytes moved per 4 flops-ish): the report gives the bytes per
//! second each rank reached, to compare with the machine's memory bandwidth.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use opencv::core::{Mat, Vector, CV_8UC1};
use opencv::imgcodecs;
use opencv::prelude::*;
use serde::{Deserialize, Serialize};

use crate::attendance::result::{RankTiming, UnitRecord};
use crate::config::Schedule;
use crate::run::comm::{Assignment, Comm};
use crate::run::schedule::{self, Finished};
use crate::util::h5util::{write_attr, write_str_attr};
use crate::util::output::{write_atomically, Access};

/// Rows per band when nobody says otherwise: 256 rows of an 8K image are 6 MB of input,
/// enough to dwarf per-unit overhead, and 17 bands balance 2–8 ranks.
pub const DEFAULT_BAND_ROWS: u32 = 256;

/// One pixel's gray value: `0.299 R + 0.587 G + 0.114 B` rounded to nearest (halves up),
/// computed exactly in integers.
#[inline]
pub fn gray(r: u8, g: u8, b: u8) -> u8 {
    ((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8
}

/// Converts packed BGR pixels (OpenCV's order) into `out`, one byte per pixel.
pub fn convert_bgr(bgr: &[u8], out: &mut [u8]) {
    for (px, o) in bgr.chunks_exact(3).zip(out.iter_mut()) {
        *o = gray(px[2], px[1], px[0]);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GraySetup {
    image: PathBuf,
    width: u32,
    height: u32,
    band_rows: u32,
    schedule: Schedule,
}

impl GraySetup {
    fn n_units(&self) -> usize {
        self.height.div_ceil(self.band_rows) as usize
    }

    fn rows(&self, unit: usize) -> (u32, u32) {
        let first = unit as u32 * self.band_rows;
        (first, (first + self.band_rows).min(self.height))
    }
}

/// What a gray run measured, on rank 0.
pub struct GrayRun {
    pub timings: Vec<RankTiming>,
    pub units: Vec<UnitRecord>,
    pub wall_time_s: f64,
    pub pixels: u64,
}

impl GrayRun {
    /// The busy time of all ranks over the makespan: what one rank alone would have taken,
    /// divided by what the ranks took together.
    pub fn speedup(&self) -> f64 {
        let busy: f64 = self.timings.iter().map(|t| t.busy_s).sum();
        let makespan = self.timings.iter().map(|t| t.total_s).fold(0.0, f64::max);
        busy / makespan.max(1e-12)
    }

    pub fn efficiency(&self) -> f64 {
        self.speedup() / self.timings.len().max(1) as f64
    }

    /// Bytes moved through memory by the conversion (3 read + 1 written per pixel), per
    /// second of the busiest rank's conversion time.
    pub fn bytes_per_s(&self) -> f64 {
        let makespan = self.timings.iter().map(|t| t.busy_s).fold(0.0, f64::max);
        4.0 * self.pixels as f64 / makespan.max(1e-12)
    }
}

/// Runs the job; rank 0 writes `output` (PNG) and, beside it, `.h5` and `.xlsx` timing reports.
pub fn run(
    comm: &Comm,
    image: &Path,
    output: &Path,
    band_rows: u32,
    schedule: Schedule,
    force: bool,
) -> Result<Option<GrayRun>> {
    let prepared = comm.is_root().then(|| {
        if band_rows == 0 {
            bail!("band-rows must be at least 1");
        }
        if output.extension().and_then(|e| e.to_str()) != Some("png") {
            bail!("{}: the output must be a .png (lossless, so the bytes can be compared)", output.display());
        }
        let outputs = [output.to_path_buf(), output.with_extension("h5"), output.with_extension("xlsx")];
        crate::util::output::refuse_to_overwrite(outputs, force)?;
        let bgr = crate::media::read_image(image)?;
        Ok(GraySetup {
            image: image.to_path_buf(),
            width: bgr.cols() as u32,
            height: bgr.rows() as u32,
            band_rows,
            schedule,
        })
    });
    let setup: GraySetup = comm.share(prepared)?;

    let started = Instant::now();
    let bgr = crate::media::read_image(&setup.image);
    let setup_s = started.elapsed().as_secs_f64();
    let todo: Vec<usize> = (0..setup.n_units()).collect();
    let assignment = Assignment::of(schedule, &todo, comm.rank(), comm.size());
    let mut gray_image = if comm.is_root() { vec![0u8; (setup.width * setup.height) as usize] } else { Vec::new() };
    let mut units = Vec::new();
    comm.barrier();
    let start = comm.time();
    let clock = || comm.time() - start;
    let width = setup.width as usize;
    let report: Result<RankTiming> = {
        let collect = |done: Finished| -> Result<()> {
            let band: Vec<u8> = done.decode()?;
            let (first, last) = setup.rows(done.unit as usize);
            gray_image[first as usize * width..last as usize * width].copy_from_slice(&band);
            units.push(super::timeline_row(&done, u64::from(last - first)));
            Ok(())
        };
        let mut source = comm.unit_source(assignment, Box::new(collect));
        let rank = comm.rank() as u32;
        schedule::run_units_with(source.as_mut(), rank, &clock, 1.0, bgr, |bgr, unit, _| {
            let (first, last) = setup.rows(unit);
            // imread returns a continuous image: a band of rows is a plain byte range.
            let pixels = &bgr.data_bytes()?[first as usize * width * 3..last as usize * width * 3];
            let mut band = vec![0u8; (last - first) as usize * width];
            convert_bgr(pixels, &mut band);
            Ok(band)
        })
        .map(|(_, run)| RankTiming {
            rank,
            units: run.units,
            frames: run.units,
            setup_s,
            busy_s: run.busy_s,
            wait_s: run.wait_s,
            comm_s: run.comm_s,
            total_s: clock(),
            ..Default::default()
        })
    };
    let Some(timings) = comm.gather_outcomes(report)? else {
        return Ok(None);
    };
    units.sort_by_key(|u| u.unit);
    let run = GrayRun {
        timings,
        units,
        wall_time_s: comm.time() - start,
        pixels: u64::from(setup.width) * u64::from(setup.height),
    };

    write_atomically(output, Access::Shared, |tmp| {
        // SAFETY-free: Mat::new_rows_cols_with_data borrows the buffer for the write only.
        let mat = Mat::new_rows_cols_with_data(setup.height as i32, setup.width as i32, &gray_image)?;
        debug_assert_eq!(mat.typ(), CV_8UC1);
        // imwrite picks the format from the name, so the temporary gets a .png one.
        let named = tmp.with_extension("partial.png");
        let ok = imgcodecs::imwrite(named.to_str().context("non-UTF-8 path")?, &mat, &Vector::new())?;
        if !ok {
            bail!("OpenCV could not write {}", named.display());
        }
        std::fs::rename(&named, tmp)?;
        Ok(())
    })?;
    let settings = settings_rows(&setup, &run, comm.size());
    write_h5(&run, &settings, &output.with_extension("h5"))?;
    crate::report::xlsx::write_timings(&run.timings, &run.units, &settings, &output.with_extension("xlsx"))?;
    Ok(Some(run))
}

fn settings_rows(setup: &GraySetup, run: &GrayRun, ranks: usize) -> Vec<(&'static str, String)> {
    vec![
        ("image", setup.image.display().to_string()),
        ("size (px)", format!("{}x{}", setup.width, setup.height)),
        ("band rows", setup.band_rows.to_string()),
        ("schedule", setup.schedule.to_string()),
        ("ranks", ranks.to_string()),
        ("wall time (s)", format!("{:.4}", run.wall_time_s)),
        ("speedup over one rank", format!("{:.3}", run.speedup())),
        ("efficiency", format!("{:.3}", run.efficiency())),
        ("bytes moved per second", format!("{:.3e}", run.bytes_per_s())),
    ]
}

fn write_h5(run: &GrayRun, settings: &[(&str, String)], path: &Path) -> Result<()> {
    write_atomically(path, Access::Shared, |tmp| {
        let file = hdf5::File::create(tmp)?;
        write_str_attr(&file, "rollcall_version", env!("CARGO_PKG_VERSION"))?;
        write_attr(&file, "ranks", &(run.timings.len() as u32))?;
        write_attr(&file, "wall_time_s", &run.wall_time_s)?;
        write_attr(&file, "speedup", &run.speedup())?;
        write_attr(&file, "efficiency", &run.efficiency())?;
        write_attr(&file, "bytes_per_s", &run.bytes_per_s())?;
        let g = file.create_group("settings")?;
        for (k, v) in settings {
            write_str_attr(&g, k, v)?;
        }
        file.new_dataset_builder().with_data(&run.timings).create("ranks")?;
        file.new_dataset_builder().with_data(&run.units).create("units")?;
        file.close()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_rounds_to_nearest() {
        assert_eq!(gray(255, 255, 255), 255);
        assert_eq!(gray(0, 0, 0), 0);
        assert_eq!(gray(255, 0, 0), 76); // 76.245
        assert_eq!(gray(0, 255, 0), 150); // 149.685
        assert_eq!(gray(0, 0, 255), 29); // 29.07
        assert_eq!(gray(1, 1, 0), 1); // 0.886
        let mut out = [0u8; 2];
        convert_bgr(&[255, 0, 0, 0, 0, 255], &mut out); // blue, red
        assert_eq!(out, [29, 76]);
    }
}
