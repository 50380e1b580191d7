//! `rollcall gray`: byte-identical output for any number of ranks and schedule, equal to the
//! formula computed directly on the decoded input.

mod common;

use std::path::Path;

use common::*;
use opencv::core::{Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

/// A 3840x2656 colour image with real content: the group photo, enlarged.
fn large_image(dir: &Path) -> std::path::PathBuf {
    let photo = imgcodecs::imread(setup_file("data/faces/t1.jpg").to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let mut big = opencv::core::Mat::default();
    imgproc::resize(&photo, &mut big, Size::new(3840, 2656), 0.0, 0.0, imgproc::INTER_CUBIC).unwrap();
    let path = dir.join("big.png");
    assert!(imgcodecs::imwrite(path.to_str().unwrap(), &big, &Vector::new()).unwrap());
    path
}

#[test]
fn gray_is_identical_for_any_ranks_and_equals_the_formula() {
    let tmp = tempfile::tempdir().unwrap();
    let image = large_image(tmp.path());

    // The formula, computed here directly in exact arithmetic: round(0.299 R + 0.587 G + 0.114 B).
    let bgr = imgcodecs::imread(image.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let expected: Vec<u8> = bgr
        .data_bytes()
        .unwrap()
        .chunks_exact(3)
        .map(|p| {
            let thousandths = 299 * u32::from(p[2]) + 587 * u32::from(p[1]) + 114 * u32::from(p[0]);
            (thousandths / 1000 + u32::from(thousandths % 1000 >= 500)) as u8
        })
        .collect();

    let mut first: Option<Vec<u8>> = None;
    for schedule in ["block", "cyclic", "dynamic"] {
        for ranks in 1..=3 {
            let out = tmp.path().join(format!("{schedule}{ranks}.png"));
            let o = run(
                mpirun_command(ranks),
                &[
                    "gray",
                    image.to_str().unwrap(),
                    "-o",
                    out.to_str().unwrap(),
                    "--band-rows",
                    "200",
                    "--schedule",
                    schedule,
                ],
            );
            assert_success(&o);
            let bytes = std::fs::read(&out).unwrap();
            match &first {
                None => {
                    let decoded = imgcodecs::imread(out.to_str().unwrap(), imgcodecs::IMREAD_UNCHANGED).unwrap();
                    assert_eq!((decoded.channels(), decoded.cols(), decoded.rows()), (1, 3840, 2656));
                    assert!(decoded.data_bytes().unwrap() == expected.as_slice(), "the output is not the formula");
                    first = Some(bytes);
                }
                Some(reference) => assert!(&bytes == reference, "{schedule} on {ranks} ranks: different bytes"),
            }
            // The timing reports, read back.
            let h5 = hdf5::File::open(out.with_extension("h5")).unwrap();
            let timings: Vec<rollcall::attendance::result::RankTiming> =
                h5.dataset("ranks").unwrap().read_raw().unwrap();
            assert_eq!(timings.len(), ranks);
            assert_eq!(timings.iter().map(|t| t.units).sum::<u64>(), 14, "2656 rows in bands of 200");
            assert!(h5.attr("speedup").unwrap().read_scalar::<f64>().unwrap() > 0.0);
            assert!(out.with_extension("xlsx").exists());
        }
    }
}
