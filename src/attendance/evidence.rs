//! Evidence people can check: each student's best-matching face of the lecture, cut out of
//! the recording as a small JPEG for the reports.
//!
//! Rank 0 holds no frames once the ranks have finished, so it reads back the one frame per
//! student that holds their best face: a seek per student, negligible next to the job.

use anyhow::{ensure, Result};
use opencv::core::{Mat, Rect, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use crate::attendance::observation::Detection;
use crate::config::JobKind;
use crate::media::{self, VideoInfo, VideoReader};

/// Width of a crop in the reports, pixels.
const CROP_WIDTH: i32 = 96;

/// Per student (by roster index), the JPEG of their closest face, or nothing when they were
/// never seen or the frame cannot be read back (a warning says so).
/// `photo`: the run analysed a photo (`rollcall photo`), not a recording, however many frames
/// (a one-frame video is still a video, read with the video reader).
pub fn best_face_crops(
    video: &VideoInfo,
    reader: media::Reader,
    kind: JobKind,
    students: usize,
    detections: &[Detection],
) -> Result<Vec<Vec<u8>>> {
    let mut best: Vec<Option<&Detection>> = vec![None; students];
    for d in detections {
        if let Some(s) = d.student {
            let slot = &mut best[s as usize];
            if slot.is_none_or(|b| d.distance < b.distance) {
                *slot = Some(d);
            }
        }
    }
    let path = std::path::Path::new(&video.path);
    let mut source = match kind {
        JobKind::Photo(_) => Source::Photo(media::read_image(path)?),
        JobKind::Video => {
            Source::Video { reader: VideoReader::open(path, reader, video.stream)?, frame: Mat::default(), holds: None }
        }
    };
    // In frame order, so that the reader walks forward through the recording.
    let mut wanted: Vec<(usize, &Detection)> = best.iter().enumerate().filter_map(|(s, d)| Some((s, (*d)?))).collect();
    wanted.sort_by_key(|(_, d)| d.frame);
    let mut crops = vec![Vec::new(); students];
    for (student, d) in wanted {
        match source.frame(d.frame)? {
            Some(image) => crops[student] = jpeg_of_face(image, d)?,
            None => tracing::warn!("frame {} could not be read back for a face crop", d.frame),
        }
    }
    Ok(crops)
}

/// Where the crops are cut from: the recording, or the photo of a `photo` job.
enum Source {
    /// `holds`: the index of the frame in `frame`. Students seen best in the same frame share
    /// one decode, and need no seek back (which a one-frame AVI cannot do).
    Video {
        reader: VideoReader,
        frame: Mat,
        holds: Option<u64>,
    },
    Photo(Mat),
}

impl Source {
    /// Frame `index`, or `None` when it cannot be decoded again.
    fn frame(&mut self, index: u64) -> Result<Option<&Mat>> {
        match self {
            Source::Video { reader, frame, holds } => {
                if *holds != Some(index) {
                    *holds = reader.read(index as usize, frame)?.then_some(index);
                }
                Ok(holds.is_some().then_some(&*frame))
            }
            Source::Photo(image) => Ok(Some(image)),
        }
    }
}

/// The face with a fifth of its width as margin, scaled to [`CROP_WIDTH`], as JPEG.
fn jpeg_of_face(image: &Mat, d: &Detection) -> Result<Vec<u8>> {
    let margin = d.bbox.w / 5;
    let x0 = (d.bbox.x - margin).max(0);
    let y0 = (d.bbox.y - margin).max(0);
    let x1 = (d.bbox.x + d.bbox.w + margin).min(image.cols());
    let y1 = (d.bbox.y + d.bbox.h + margin).min(image.rows());
    ensure!(x1 > x0 && y1 > y0, "face box outside the frame");
    let face = Mat::roi(image, Rect::new(x0, y0, x1 - x0, y1 - y0))?;
    let f = f64::from(CROP_WIDTH) / f64::from(x1 - x0);
    let mut small = Mat::default();
    let interpolation = if f < 1.0 { imgproc::INTER_AREA } else { imgproc::INTER_CUBIC };
    imgproc::resize(&face, &mut small, Size::default(), f, f, interpolation)?;
    let mut bytes = Vector::<u8>::new();
    let params = Vector::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, 85]);
    ensure!(imgcodecs::imencode(".jpg", &small, &mut bytes, &params)?, "JPEG encoding failed");
    Ok(bytes.to_vec())
}
