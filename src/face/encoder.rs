//! The face encoder as a spec: what every other part of rollcall needs to know about the model
//! that turns an aligned face into an encoding — its name, the encoding's length, how two
//! encodings are compared, and the distances that mean "the same person". Matching, tracks,
//! the unenrolled people's clustering, the tolerance's default and the roster's sanity check
//! all read them from here, so an encoder is one entry, and rosters and results record its name
//! (`/roster/encoder`): encodings of two encoders are not comparable, so a roster made by
//! another is refused in one line.

/// How two encodings are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The Euclidean distance (dlib's metric learning trained for it).
    Euclidean,
}

impl Metric {
    /// The distance between two encodings of the same length.
    pub fn distance(self, a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
        match self {
            Metric::Euclidean => a.into_iter().zip(b).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt(),
        }
    }
}

/// What rollcall needs to know about a face encoder besides how to run it.
#[derive(Debug)]
pub struct EncoderSpec {
    /// Recorded in rosters and results (`/roster/encoder`).
    pub name: &'static str,
    /// Numbers in one encoding.
    pub len: usize,
    pub metric: Metric,
    /// The default tolerance (setting `tolerance`): the largest distance that counts as a match.
    pub tolerance: f64,
    /// A match at this distance or closer is sure (see [`crate::face::matching::SURE_MATCH`]).
    pub sure_match: f64,
    /// Two faces farther apart than this are two people when frames are linked into tracks.
    pub link_distance: f64,
    /// Unknown tracks whose mean faces are closer than this are one unenrolled person.
    pub same_person: f64,
    /// Enrolments of two students closer than this are one photo (or one sitting) twice:
    /// whichever sorts second would never be matched.
    pub near_identical: f64,
    /// The lengths (norms) its encodings have: a roster row outside is not one of its encodings.
    pub norms: (f64, f64),
    /// Its model file in the model folder.
    pub model_file: &'static str,
}

/// dlib's ResNet (`dlib_face_recognition_resnet_model_v1.dat`, what Python `face_recognition`
/// uses) on dlib's 150×150 chips aligned by the 5-point landmarks.
pub const DLIB_RESNET_V1: EncoderSpec = EncoderSpec {
    name: "dlib_resnet_v1",
    len: 128,
    metric: Metric::Euclidean,
    // dlib's own same-person threshold, which face_recognition uses as its tolerance.
    tolerance: 0.6,
    // dlib's face-clustering cut. 97 % of the named faces of the long hall match this closely.
    sure_match: 0.5,
    link_distance: 0.6,
    // dlib's face-clustering example uses 0.5.
    same_person: 0.5,
    // Three photos of one person taken apart (data/faces/obama{,2,3}.jpg) are 0.33-0.43
    // apart; one photo twice is 0.
    near_identical: 0.2,
    // Its encodings are about 1.3-1.6 long; anything else (NaN from a broken tool, zeros,
    // another model's vectors) would match nobody or everybody.
    norms: (0.5, 2.5),
    model_file: "dlib_face_recognition_resnet_model_v1.dat",
};

/// The encoder this build runs.
pub const ENCODER: EncoderSpec = DLIB_RESNET_V1;

/// Length of a face encoding: the encoder's, fixed at build time so that encodings are arrays.
pub const ENCODING_LEN: usize = ENCODER.len;

/// The encoder that made a roster or result holding no `encoder` record: every one written
/// before rollcall kept it was dlib's.
pub const UNRECORDED: &str = DLIB_RESNET_V1.name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euclidean_distance() {
        assert_eq!(Metric::Euclidean.distance([0.0, 0.0], [3.0, 4.0]), 5.0);
    }
}
