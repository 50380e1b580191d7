//! `rollcall synth`: a lecture recording with known attendance, built from real face photos.
//!
//! A scenario file (see [`scenario`]) lists people, the photo each is filmed from and the one
//! each is enrolled from, where their face sits (a position, or a seat in a hall seen in
//! perspective) and what they do: when they are in the room, how often they look down at their
//! notes. `synth` writes the video, an enrolment folder (`photos/<id>.jpg` plus
//! `photos/roster.csv`) for everyone marked `enrolled`, and the ground truth next to the video
//! (`truth.csv`, `visibility.csv`; see [`truth`]), so the expected attendance follows from the
//! scenario alone.

pub mod scenario;
mod scene;
pub mod truth;
mod writer;

use std::path::Path;

use anyhow::{ensure, Context, Result};
use opencv::core::Vector;
use opencv::imgcodecs;

use crate::face::FacePipeline;
use scenario::Scenario;
use scene::{Photos, Scene};

pub use truth::{truth_path, visibility_path};

/// Writes `out_video`, the enrolment folder `photos_out`, and the truth files next to the video.
pub fn run(scenario_path: &Path, out_video: &Path, photos_out: &Path, pipeline: &FacePipeline) -> Result<()> {
    let scenario = Scenario::load(scenario_path)?;
    let base = scenario_path.parent().unwrap_or(Path::new(".")).join(&scenario.photos_dir);
    let mut writer =
        writer::VideoOut::create(out_video, scenario.width, scenario.height, scenario.fps, scenario.bitrate_kbps())?;

    let mut photos = Photos::new(pipeline);
    let mut filmed = Vec::new();
    for p in &scenario.people {
        filmed.push(photos.cutout(&base.join(&p.photo), p.face_index)?);
    }
    write_enrolment(&scenario, &base, photos_out, &mut photos)?;
    truth::write_truth(&scenario, &truth_path(out_video))?;

    let scene = Scene::new(&scenario, &filmed)?;
    let mut visibility = truth::VisibilityWriter::create(&visibility_path(out_video))?;
    for i in 0..scenario.frame_count() {
        let frame = scene.render(i, |sighting| visibility.write(i, i as f64 / scenario.fps, &sighting))?;
        writer.write(&frame)?;
    }
    visibility.finish()?;
    writer.finish()
}

/// The enrolment folder: each enrolled person's enrolment photo, cut around the face.
fn write_enrolment(scenario: &Scenario, base: &Path, photos_out: &Path, photos: &mut Photos) -> Result<()> {
    std::fs::create_dir_all(photos_out)
        .with_context(|| format!("cannot create the photos folder {}", photos_out.display()))?;
    let mut names = csv::Writer::from_path(photos_out.join(crate::roster::enroll::NAMES_FILE))?;
    names.write_record(["student_id", "name"])?;
    for p in scenario.people.iter().filter(|p| p.enrolled) {
        let (photo, index) = p.enrolment_source();
        let cutout = photos.cutout(&base.join(photo), index)?;
        let path = photos_out.join(format!("{}.jpg", p.id));
        ensure!(
            imgcodecs::imwrite(path.to_str().context("non-UTF-8 path")?, &cutout.image, &Vector::new())?,
            "cannot write {}",
            path.display()
        );
        names.write_record([&p.id, &p.name])?;
    }
    names.flush()?;
    Ok(())
}
