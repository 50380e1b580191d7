//! `rollcall synth`: a test recording and its enrolment photos from a scenario.

use anyhow::Result;

use crate::cli::SynthArgs;
use crate::face::{self, FacePipeline};
use crate::synth;

pub fn run(args: SynthArgs) -> Result<()> {
    let pipeline = FacePipeline::load(
        &face::find_model_dir(args.models.as_deref())?,
        &face::DetectorSetup::new(face::Detector::Hog, 1),
    )?;
    synth::run(&args.scenario, &args.video, &args.photos, &pipeline)?;
    println!("wrote {} and enrolment photos in {}", args.video.display(), args.photos.display());
    Ok(())
}
