//! Greedy non-maximum suppression of a detector's overlapping boxes, as OpenCV 4.6's
//! `cv::dnn::NMSBoxes` does it for integer rectangles with `eta = 1` and no top-k, so that
//! YuNet's faces are the ones it found while it ran on `cv::dnn` (tests/yunet.rs), without
//! building OpenCV's dnn bindings for this one function. Written here rather than taken from a
//! crate: the ones on crates.io work on float boxes and differ in ties and thresholds, and
//! every difference would move a face.

/// A candidate face: its box in whole pixels, as YuNet's decoder rounds it, and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    pub score: f32,
}

impl Scored {
    fn area(&self) -> i32 {
        self.w * self.h
    }

    /// Intersection over union, computed as OpenCV's `rectOverlap` does (integer areas, the
    /// ratio in double, the result in float).
    fn overlap(&self, other: &Scored) -> f32 {
        let (a, b) = (self.area(), other.area());
        if a + b <= 0 {
            return 1.0;
        }
        let w = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let h = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        let both = if w > 0 && h > 0 { f64::from(w * h) } else { 0.0 };
        1.0 - (1.0 - both / (f64::from(a + b) - both)) as f32
    }
}

/// The boxes kept: those scoring above `min_score`, best first (ties in input order), each
/// dropped when it overlaps an already kept box by more than `max_overlap`.
pub fn suppress(candidates: &[Scored], min_score: f32, max_overlap: f32) -> Vec<Scored> {
    let mut order: Vec<&Scored> = candidates.iter().filter(|c| c.score > min_score).collect();
    order.sort_by(|a, b| b.score.total_cmp(&a.score)); // stable: ties keep their order
    let mut kept: Vec<Scored> = Vec::new();
    for candidate in order {
        if kept.iter().all(|k| candidate.overlap(k) <= max_overlap) {
            kept.push(*candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(x: i32, y: i32, w: i32, h: i32, score: f32) -> Scored {
        Scored { x, y, w, h, score }
    }

    #[test]
    fn the_best_of_overlapping_boxes_is_kept_and_apart_ones_stay() {
        let boxes = [
            scored(0, 0, 10, 10, 0.7),
            scored(1, 1, 10, 10, 0.9),   // overlaps the first by 81/119 = 0.68
            scored(50, 50, 10, 10, 0.8), // apart
            scored(0, 0, 10, 10, 0.5),   // below the threshold
        ];
        assert_eq!(suppress(&boxes, 0.6, 0.3), vec![boxes[1], boxes[2]]);
    }

    #[test]
    fn an_overlap_at_the_threshold_is_kept_and_ties_keep_their_order() {
        // Two 10x10 boxes sharing a 10x5 strip: IoU 50/150 = 1/3; at 0.34 both stay.
        let boxes = [scored(0, 0, 10, 10, 0.8), scored(0, 5, 10, 10, 0.8)];
        assert_eq!(suppress(&boxes, 0.0, 0.34), boxes.to_vec());
        assert_eq!(suppress(&boxes, 0.0, 0.3), vec![boxes[0]]);
        // A score equal to the threshold is not above it.
        assert!(suppress(&boxes, 0.8, 0.3).is_empty());
    }
}
