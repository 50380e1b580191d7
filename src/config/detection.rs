//! How faces are found: the detector, where inference runs, and the scale of the frames it is
//! given (from the narrowest face wanted).

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::file::ConfigFile;
use super::ranges::Ranges;
use crate::engine::Device;
use crate::face::detect::yunet::DEFAULT_CONFIDENCE as DEFAULT_YUNET_CONFIDENCE;
use crate::face::{Detector, DetectorSetup, Isa};

/// The narrowest face, in pixels of the original frame, a job finds when nobody says: the
/// back rows of a 1080p lecture hall start around 40 px (HOG finds them at one upsampling, as
/// `face_recognition` does by default).
pub const DEFAULT_MIN_FACE: u32 = 40;

/// A down-scale that `min_face` derives keeps faces at least this wide for the detector. Faces
/// are encoded from the full frame whatever the scale, but a detector finds faces near its
/// narrowest worse: YuNet at `--scale 0.8` on the long hall of bench-accuracy (20-px faces
/// scanned at 16) found 92 % of the 30-40 px faces instead of 100 % and lost a student.
const NARROWEST_SCALED_FACE: f64 = 80.0;

/// Upsamplings beyond this make a 1080p frame 8640×4860 before detection: gigabytes per rank.
pub const MAX_UPSAMPLE: u32 = 2;

/// How finely a job looks: the narrowest face it finds, and the upsampling and scale that
/// make the detector find it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    pub min_face: u32,
    pub upsample: u32,
    pub scale: f64,
}

impl Resolution {
    /// From `min_face` (default [`DEFAULT_MIN_FACE`]) when neither `upsample` nor `scale` is
    /// given: the fewest upsamplings that bring the detector's window down to the face, and
    /// with none needed, a down-scale for faces twice the window or more. `upsample` and
    /// `scale` are expert overrides (the other then takes the detector's own default: scale 1,
    /// and the upsampling that finds [`DEFAULT_MIN_FACE`]: 1 for HOG and the CNN, as
    /// face_recognition runs them, 0 for YuNet, whose doubled frame would cost 4x for nothing);
    /// with `min_face` given too they must find faces that narrow, or it is an error that
    /// names both. Without it, `min_face` is what they find.
    pub fn of(detector: Detector, min_face: Option<u32>, upsample: Option<u32>, scale: Option<f64>) -> Result<Self> {
        if let Some(scale) = scale.filter(|s| !(*s > 0.0 && *s <= 4.0)) {
            bail!("scale must be in (0, 4], got {scale}");
        }
        if let Some(upsample) = upsample.filter(|&u| u > MAX_UPSAMPLE) {
            bail!("upsample must be 0, 1 or 2, got {upsample}");
        }
        if min_face == Some(0) {
            bail!("min_face must be at least 1 px, got 0");
        }
        let window = f64::from(detector.smallest_face_px());
        // The narrowest face found at `upsample` and `scale`, in pixels of the original frame.
        let finds = |upsample: u32, scale: f64| window / f64::from(1u32 << upsample) / scale;
        // The fewest upsamplings of the whole frame that find faces `face` px wide.
        let fewest_upsamplings = |face: u32| (0..=MAX_UPSAMPLE).find(|&u| finds(u, 1.0) <= f64::from(face));
        if upsample.is_none() && scale.is_none() {
            let wanted = min_face.unwrap_or(DEFAULT_MIN_FACE);
            let Some(upsample) = fewest_upsamplings(wanted) else {
                bail!(
                    "min_face {wanted} px is narrower than the {detector} detector finds at {MAX_UPSAMPLE} upsamplings \
                     ({} px)",
                    finds(MAX_UPSAMPLE, 1.0)
                );
            };
            let keep = window.max(NARROWEST_SCALED_FACE);
            let scale = if upsample == 0 && f64::from(wanted) >= 2.0 * keep { keep / f64::from(wanted) } else { 1.0 };
            return Ok(Resolution { min_face: wanted, upsample, scale });
        }
        let own_upsample = fewest_upsamplings(DEFAULT_MIN_FACE).unwrap_or(1);
        let (upsample, scale) = (upsample.unwrap_or(own_upsample), scale.unwrap_or(1.0));
        let found = finds(upsample, scale);
        match min_face {
            Some(wanted) if found > f64::from(wanted) + 0.5 => bail!(
                "min_face {wanted} contradicts upsample {upsample} and scale {scale}: with them the {detector} \
                 detector finds faces from {found:.0} px; drop upsample and scale (min_face sets them) or min_face"
            ),
            Some(wanted) => Ok(Resolution { min_face: wanted, upsample, scale }),
            None => Ok(Resolution { min_face: found.ceil() as u32, upsample, scale }),
        }
    }
}

/// How faces are found: the detector, and the scale of the image it is given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorSettings {
    pub detector: Detector,
    /// YuNet's confidence threshold in [0, 1] (read by the yunet detector only).
    pub yunet_confidence: f64,
    /// Where ONNX Runtime's inference runs: the encoder's, and yunet's (hog and cnn are dlib's
    /// CPU code).
    #[serde(default)]
    pub device: Device,
    /// The narrowest face (px of the original frame) the job finds with `upsample` and `scale`.
    pub min_face: u32,
    pub scale: f64,
    pub upsample: u32,
    /// The HOG detector's instruction set: as asked until rank 0 resolves `auto` against what
    /// the ranks have (then the level that runs, which is what the reports and the journal keep).
    pub isa: Isa,
}

impl DetectorSettings {
    /// The detector this job runs, and how.
    pub fn setup(&self) -> DetectorSetup {
        DetectorSetup {
            detector: self.detector,
            scale: self.scale,
            upsample: self.upsample,
            isa: self.isa,
            yunet_confidence: self.yunet_confidence,
            device: self.device,
        }
    }

    /// The detection a layer sets, its defaults filled and its ranges checked.
    pub(super) fn from_layer(c: &ConfigFile, ranges: Ranges) -> Result<Self> {
        let detector = c.detector.unwrap_or_default();
        let Resolution { min_face, upsample, scale } = match (ranges, c.min_face, c.upsample, c.scale) {
            (Ranges::AsRecorded, Some(min_face), Some(upsample), Some(scale)) => {
                Resolution { min_face, upsample, scale }
            }
            _ => Resolution::of(detector, c.min_face, c.upsample, c.scale)?,
        };
        let yunet_confidence = c.yunet_confidence.unwrap_or(DEFAULT_YUNET_CONFIDENCE);
        ranges.check((0.0..=1.0).contains(&yunet_confidence), || {
            format!("yunet_confidence must be in [0, 1], got {yunet_confidence}")
        })?;
        Ok(DetectorSettings {
            detector,
            yunet_confidence,
            device: c.device.unwrap_or_default(),
            min_face,
            scale,
            upsample,
            isa: c.isa.unwrap_or_default(),
        })
    }

    /// Writes the detection's keys into `c`.
    pub(super) fn write_to(&self, c: &mut ConfigFile) {
        c.detector = Some(self.detector);
        c.yunet_confidence = Some(self.yunet_confidence);
        c.device = Some(self.device);
        c.min_face = Some(self.min_face);
        c.scale = Some(self.scale);
        c.upsample = Some(self.upsample);
        c.isa = Some(self.isa);
    }
}
