//! Nearest roster member for a face encoding.

use ndarray::{Array2, ArrayView1, Axis};

use super::ENCODER;

/// A match at this distance or closer is sure (the encoder's, [`super::encoder::EncoderSpec`]);
/// between it and the tolerance a match is weak. With dlib's encoder 97 % of the named faces of
/// the long hall match this closely; the rest are hard faces (small, turned, dim). A sure match
/// may be followed without a new encoding (`run::follow`); a weak one may not.
pub const SURE_MATCH: f64 = ENCODER.sure_match;

/// The closest enrolled encoding to a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Row of the closest encoding in the encoding table.
    pub encoding_row: usize,
    /// The encoder's distance to it.
    pub distance: f64,
}

/// Returns the enrolled encoding (a row of `known`, one encoding per row) closest to `face`,
/// or `None` when nobody is enrolled. Ties go to the lowest row, so the answer never depends on
/// evaluation order.
pub fn nearest(known: &Array2<f64>, face: ArrayView1<f64>) -> Option<Match> {
    let mut best: Option<Match> = None;
    for (row, enrolled) in known.axis_iter(Axis(0)).enumerate() {
        let distance = ENCODER.metric.distance(enrolled.iter().copied(), face.iter().copied());
        if best.is_none_or(|b| distance < b.distance) {
            best = Some(Match { encoding_row: row, distance });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn picks_the_closest_row_and_its_distance() {
        let known = array![[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]];
        let m = nearest(&known, array![2.9, 4.0].view()).unwrap();
        assert_eq!(m.encoding_row, 1);
        assert!((m.distance - 0.1).abs() < 1e-12);
    }

    #[test]
    fn ties_go_to_the_first_row_and_empty_rosters_match_nobody() {
        let known = array![[1.0, 0.0], [-1.0, 0.0]];
        assert_eq!(nearest(&known, array![0.0, 0.0].view()).unwrap().encoding_row, 0);
        assert!(nearest(&Array2::zeros((0, 2)), array![0.0, 0.0].view()).is_none());
    }
}
