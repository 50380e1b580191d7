//! `make bench-gray`: tile-parallel grayscale of an 8K image on 1 and 2 ranks, against the
//! machine's memory bandwidth.
//!
//! The bandwidth is measured here as the best of several large `memcpy`s (counting bytes read
//! plus bytes written, as the grayscale throughput counts 3 bytes read and 1 written per
//! pixel), so the fraction compares like with like on this very machine.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{ensure, Result};
use opencv::core::{Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Best copy bandwidth over a buffer far larger than the caches, in bytes moved per second.
fn memcpy_bandwidth() -> f64 {
    const BYTES: usize = 512 << 20;
    let src = vec![1u8; BYTES];
    let mut dst = vec![0u8; BYTES];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        dst.copy_from_slice(&src);
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&dst);
    }
    2.0 * BYTES as f64 / best
}

fn main() -> Result<()> {
    let dir = repo().join("out/bench-gray");
    std::fs::create_dir_all(&dir)?;
    let image = dir.join("hall-8k.png");
    if !image.exists() {
        let photo = imgcodecs::imread(repo().join("data/faces/t1.jpg").to_str().unwrap(), imgcodecs::IMREAD_COLOR)?;
        ensure!(!photo.empty(), "run `make setup` first");
        let mut big = opencv::core::Mat::default();
        imgproc::resize(&photo, &mut big, Size::new(7680, 4320), 0.0, 0.0, imgproc::INTER_CUBIC)?;
        imgcodecs::imwrite(image.to_str().unwrap(), &big, &Vector::new())?;
    }
    let bandwidth = memcpy_bandwidth();
    println!("memory bandwidth (best memcpy of 512 MB, read + write): {:.2} GB/s", bandwidth / 1e9);
    println!(
        "{:<6} {:>10} {:>10} {:>8} {:>11} {:>10}",
        "ranks", "wall (s)", "busy (s)", "speedup", "efficiency", "of memcpy"
    );
    let mut one_rank_busy = None;
    for ranks in [1, 2] {
        let out = dir.join(format!("gray-{ranks}.png"));
        let o = Command::new("mpirun")
            .args(["--oversubscribe", "-n", &ranks.to_string(), env!("CARGO_BIN_EXE_rollcall"), "gray"])
            .arg(&image)
            .arg("-o")
            .arg(&out)
            .args(["--force", "--band-rows", "256", "-q"])
            .output()?;
        ensure!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let h5 = hdf5::File::open(out.with_extension("h5"))?;
        let timings: Vec<rollcall::attendance::result::RankTiming> = h5.dataset("ranks")?.read_raw()?;
        let makespan = timings.iter().map(|t| t.busy_s).fold(0.0, f64::max);
        let wall: f64 = h5.attr("wall_time_s")?.read_scalar()?;
        let moved: f64 = h5.attr("bytes_per_s")?.read_scalar()?;
        let base = *one_rank_busy.get_or_insert(makespan);
        // Speedup of the conversion itself: one rank's busy time over the busiest rank's.
        let speedup = base / makespan;
        println!(
            "{ranks:<6} {wall:>10.4} {makespan:>10.4} {speedup:>8.2} {:>10.0}% {:>9.0}%",
            100.0 * speedup / ranks as f64,
            100.0 * moved / bandwidth
        );
    }
    Ok(())
}
