//! What the reports hold besides attendance.

use serde::{Deserialize, Serialize};

use super::file::ConfigFile;

/// What the reports hold besides attendance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReportContents {
    /// Keep the mean encodings of unenrolled people in the result (to follow them across
    /// lectures); off by default: they did not consent to enrolment.
    pub keep_unknown: bool,
    /// Put each student's best face crop into the reports.
    pub crops: bool,
}

impl ReportContents {
    /// What a layer asks the reports to hold: no encodings of unenrolled people unless asked,
    /// crops unless refused.
    pub(super) fn from_layer(c: &ConfigFile) -> Self {
        ReportContents { keep_unknown: c.keep_unknown.unwrap_or(false), crops: c.crops.unwrap_or(true) }
    }

    /// Writes the reports' keys into `c`.
    pub(super) fn write_to(&self, c: &mut ConfigFile) {
        c.keep_unknown = Some(self.keep_unknown);
        c.crops = Some(self.crops);
    }
}
