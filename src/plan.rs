//! The plan: a video cut into units of work, computed identically on every rank.
//!
//! Only the video's frame count, the sampling stride and the chunk size go in, so ranks never
//! need to be sent the units themselves: an index is enough.

use serde::{Deserialize, Serialize};

/// A video cut into units of `chunk` sampled frames each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FramePlan {
    pub frame_count: usize,
    /// Frame `f` is sampled when `f % stride == 0`.
    pub stride: usize,
    /// Sampled frames per unit (the last unit may hold fewer).
    pub chunk: usize,
}

impl FramePlan {
    pub fn new(frame_count: usize, stride: usize, chunk: usize) -> Self {
        assert!(stride > 0 && chunk > 0, "stride and chunk are validated settings");
        FramePlan { frame_count, stride, chunk }
    }

    /// Number of frames that will be analysed.
    pub fn sampled_frames(&self) -> usize {
        self.frame_count.div_ceil(self.stride)
    }

    pub fn n_units(&self) -> usize {
        self.sampled_frames().div_ceil(self.chunk)
    }

    /// The sampled frame indices of unit `unit`, in increasing order.
    pub fn unit_frames(&self, unit: usize) -> impl Iterator<Item = usize> + '_ {
        let first = unit * self.chunk;
        let last = ((unit + 1) * self.chunk).min(self.sampled_frames());
        (first..last).map(move |i| i * self.stride)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_cover_every_sampled_frame_once() {
        for (frames, stride, chunk) in [(300, 10, 4), (1, 1, 1), (301, 10, 4), (7, 3, 10), (0, 5, 2)] {
            let plan = FramePlan::new(frames, stride, chunk);
            let all: Vec<usize> = (0..plan.n_units()).flat_map(|u| plan.unit_frames(u)).collect();
            let expected: Vec<usize> = (0..frames).step_by(stride).collect();
            assert_eq!(all, expected, "{frames} frames, stride {stride}, chunk {chunk}");
        }
    }

    #[test]
    fn last_unit_may_be_short() {
        let plan = FramePlan::new(301, 10, 4); // 31 sampled frames
        assert_eq!(plan.n_units(), 8);
        assert_eq!(plan.unit_frames(7).collect::<Vec<_>>(), vec![280, 290, 300]);
    }
}
