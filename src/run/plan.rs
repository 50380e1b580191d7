//! The plan: a video cut into units of work, computed identically on every rank.
//!
//! Only the frames sampled (a stride, or a list under `sample: keyframes`), the chunk size (and, for guided units,
//! the number of ranks) go in, so ranks never need to be sent the units themselves: an index
//! is enough.

use serde::{Deserialize, Serialize};

use crate::config::Schedule;

/// The frames of a video a job analyses, in increasing order: every `stride`-th from frame
/// 0, or (`sample: keyframes`) the keyframe nearest each of those.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    pub frame_count: usize,
    /// Frames between the frames asked for (from `every`, or `fps` and the video's rate).
    pub stride: usize,
    /// The frames sampled when they are not every `stride`-th: one per frame asked for.
    picked: Option<Vec<usize>>,
}

impl Samples {
    /// Frames 0, `stride`, 2·`stride`, ... of the `frame_count`.
    pub fn every(frame_count: usize, stride: usize) -> Self {
        assert!(stride > 0, "stride is a validated setting");
        Samples { frame_count, stride, picked: None }
    }

    /// For each frame asked for (every `stride`-th), the nearest of the `keyframes` (sorted
    /// frame numbers) less than half a stride away, the earlier of two as near; where none
    /// is, the frame itself. The half-stride windows do not overlap, so no keyframe is taken
    /// twice, none is more than half a stride from its time, and the sampling rate stays the
    /// one asked for. Returns the samples and how many of them are not keyframes.
    pub fn nearest_keyframes(frame_count: usize, stride: usize, keyframes: &[usize]) -> (Self, usize) {
        assert!(stride > 0, "stride is a validated setting");
        // Window of the frame asked for at `t`: -stride < 2·(k - t) <= stride.
        let within = |k: usize, t: usize| {
            let twice = 2 * (k as i64 - t as i64);
            -(stride as i64) < twice && twice <= stride as i64 && k < frame_count
        };
        let mut not_keyframes = 0;
        let picked = (0..frame_count)
            .step_by(stride)
            .map(|t| {
                let after = keyframes.partition_point(|&k| k < t);
                let candidates = [after.checked_sub(1).map(|i| keyframes[i]), keyframes.get(after).copied()];
                let nearest = candidates.into_iter().flatten().filter(|&k| within(k, t)).min_by_key(|&k| k.abs_diff(t));
                nearest.unwrap_or_else(|| {
                    not_keyframes += 1;
                    t
                })
            })
            .collect();
        (Samples { frame_count, stride, picked: Some(picked) }, not_keyframes)
    }

    /// The samples a finished run recorded: its stride, and the frames it sampled (a
    /// stride again when they are every stride-th).
    pub fn recorded(frame_count: usize, stride: usize, sampled: &[u64]) -> Self {
        let every = Samples::every(frame_count, stride);
        if every.frames().map(|f| f as u64).eq(sampled.iter().copied()) {
            every
        } else {
            Samples { frame_count, stride, picked: Some(sampled.iter().map(|&f| f as usize).collect()) }
        }
    }

    /// Number of frames sampled.
    pub fn len(&self) -> usize {
        self.picked.as_ref().map_or(self.frame_count.div_ceil(self.stride), Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th sampled frame.
    pub fn frame(&self, i: usize) -> usize {
        self.picked.as_ref().map_or(i * self.stride, |p| p[i])
    }

    /// Every sampled frame, in increasing order.
    pub fn frames(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(|i| self.frame(i))
    }
}

/// A video cut into units of consecutive sampled frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FramePlan {
    pub samples: Samples,
    /// Unit `u` holds sampled frames `bounds[u]..bounds[u + 1]` (indices among sampled frames).
    bounds: Vec<usize>,
}

impl FramePlan {
    /// Units of `chunk` sampled frames each (the last may hold fewer).
    pub fn uniform(samples: Samples, chunk: usize) -> Self {
        assert!(chunk > 0, "chunk is a validated setting");
        let sampled = samples.len();
        let mut bounds: Vec<usize> = (0..sampled).step_by(chunk).collect();
        bounds.push(sampled);
        FramePlan { samples, bounds }
    }

    /// Guided units: each takes `1/(4·ranks)` of the sampled frames still unplanned, rounded up
    /// to a multiple of `chunk` (so that every unit starts at a multiple of it, as uniform
    /// units do: see `run::follow`'s grid). Handed out in order, the queue starts with big
    /// units (few messages) and ends with small ones (no long tail on the last rank). OpenMP's guided divides by
    /// `ranks`; here a rank holds two units at once (the current and the prefetched one) and a
    /// slow node may run at half speed, hence 4: no rank commits to more than its fair share.
    pub fn guided(samples: Samples, chunk: usize, ranks: usize) -> Self {
        assert!(chunk > 0 && ranks > 0, "validated settings");
        let sampled = samples.len();
        let mut bounds = vec![0];
        let mut planned = 0;
        while planned < sampled {
            let remaining = sampled - planned;
            planned += remaining.div_ceil(4 * ranks).next_multiple_of(chunk).min(remaining);
            bounds.push(planned);
        }
        if sampled == 0 {
            bounds.push(0);
        }
        FramePlan { samples, bounds }
    }

    /// The plan a video job runs under `schedule` on `ranks` ranks.
    pub fn for_schedule(samples: Samples, chunk: usize, schedule: Schedule, ranks: usize) -> Self {
        match schedule {
            Schedule::Guided => FramePlan::guided(samples, chunk, ranks),
            Schedule::Block | Schedule::Cyclic | Schedule::Dynamic => FramePlan::uniform(samples, chunk),
        }
    }

    /// Number of frames that will be analysed.
    pub fn sampled_frames(&self) -> usize {
        *self.bounds.last().expect("bounds are never empty")
    }

    pub fn n_units(&self) -> usize {
        if self.sampled_frames() == 0 {
            0
        } else {
            self.bounds.len() - 1
        }
    }

    /// The sampled frame indices of unit `unit`, in increasing order.
    pub fn unit_frames(&self, unit: usize) -> impl Iterator<Item = usize> + '_ {
        self.unit_samples(unit).map(move |i| self.samples.frame(i))
    }

    /// Unit `unit` as positions among the sampled frames.
    pub fn unit_samples(&self, unit: usize) -> std::ops::Range<usize> {
        self.bounds[unit]..self.bounds[unit + 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_frames(plan: &FramePlan) -> Vec<usize> {
        (0..plan.n_units()).flat_map(|u| plan.unit_frames(u)).collect()
    }

    #[test]
    fn units_cover_every_sampled_frame_once() {
        for (frames, stride, chunk) in [(300, 10, 4), (1, 1, 1), (301, 10, 4), (7, 3, 10), (0, 5, 2)] {
            let expected: Vec<usize> = (0..frames).step_by(stride).collect();
            let samples = Samples::every(frames, stride);
            assert_eq!(all_frames(&FramePlan::uniform(samples.clone(), chunk)), expected);
            for ranks in [1, 2, 3, 64] {
                assert_eq!(all_frames(&FramePlan::guided(samples.clone(), chunk, ranks)), expected);
            }
        }
    }

    #[test]
    fn last_uniform_unit_may_be_short() {
        let plan = FramePlan::uniform(Samples::every(301, 10), 4); // 31 sampled frames
        assert_eq!(plan.n_units(), 8);
        assert_eq!(plan.unit_frames(7).collect::<Vec<_>>(), vec![280, 290, 300]);
    }

    #[test]
    fn guided_units_shrink_to_the_chunk_in_whole_chunks() {
        let plan = FramePlan::guided(Samples::every(1000, 1), 10, 2);
        let sizes: Vec<usize> = (0..plan.n_units()).map(|u| plan.unit_frames(u).count()).collect();
        assert_eq!(&sizes[..4], &[130, 110, 100, 90]);
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        let (last, rest) = sizes.split_last().unwrap();
        assert!(rest.iter().all(|&s| s >= 10 && s % 10 == 0) && *last <= 10, "whole chunks: {sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 1000);
    }

    #[test]
    fn keyframes_nearest_the_frames_asked_for_are_sampled_where_near_enough() {
        // Keyframes every 50 frames (2 s at 25 fps), frames asked for every 62: each has one
        // within half a stride, and 150 lies nearer no frame asked for than 100 or 200 do.
        let keyframes: Vec<usize> = (0..400).step_by(50).collect();
        let (samples, not_keyframes) = Samples::nearest_keyframes(400, 62, &keyframes);
        assert_eq!(samples.frames().collect::<Vec<_>>(), vec![0, 50, 100, 200, 250, 300, 350]);
        assert_eq!(not_keyframes, 0);
        // Keyframes every 50, frames asked for every 25: half of them have none near.
        let (samples, not_keyframes) = Samples::nearest_keyframes(200, 25, &keyframes);
        assert_eq!(samples.frames().collect::<Vec<_>>(), vec![0, 25, 50, 75, 100, 125, 150, 175]);
        assert_eq!(not_keyframes, 4);
        // No index: the frames asked for, exactly as without keyframe sampling.
        let (samples, not_keyframes) = Samples::nearest_keyframes(301, 10, &[]);
        assert_eq!(samples.frames().collect::<Vec<_>>(), Samples::every(301, 10).frames().collect::<Vec<_>>());
        assert_eq!(not_keyframes, 31);
        // Two keyframes as near: the earlier; a keyframe past the end is not sampled.
        let (samples, _) = Samples::nearest_keyframes(21, 10, &[0, 6, 14, 18, 25]);
        assert_eq!(samples.frames().collect::<Vec<_>>(), vec![0, 6, 18]);
    }
}

/// A large image cut into overlapping square tiles, in row-major order.
///
/// Tiles overlap by `overlap` pixels so that any face no larger than the overlap lies wholly
/// inside at least one tile; the same face seen in two tiles is merged afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TilePlan {
    pub width: u32,
    pub height: u32,
    pub tile: u32,
    pub overlap: u32,
}

/// A tile: left, top, width, height in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl TilePlan {
    pub fn new(width: u32, height: u32, tile: u32, overlap: u32) -> Self {
        assert!(overlap < tile, "validated settings: overlap < tile");
        TilePlan { width, height, tile, overlap }
    }

    /// Tiles along one side of `length` pixels.
    fn count(&self, length: u32) -> u32 {
        let step = self.tile - self.overlap;
        if length <= self.tile {
            1
        } else {
            (length - self.overlap).div_ceil(step)
        }
    }

    pub fn n_units(&self) -> usize {
        (self.count(self.width) * self.count(self.height)) as usize
    }

    pub fn rect(&self, unit: usize) -> TileRect {
        let step = self.tile - self.overlap;
        let cols = self.count(self.width) as usize;
        let (col, row) = ((unit % cols) as u32, (unit / cols) as u32);
        let (x, y) = (col * step, row * step);
        TileRect { x, y, w: self.tile.min(self.width - x), h: self.tile.min(self.height - y) }
    }

    /// Whether a face box (`x`, `y`, `w`, `h` in the pixels of tile `unit`) reaches an edge the
    /// tile shares with a neighbour: such a face is cut there, and the neighbour, which reaches
    /// `overlap` px past that edge, sees it whole when it is no wider than the overlap. A
    /// detector that finds cut faces (YuNet does; HOG seldom) would otherwise give a box of
    /// the cut part, which can be larger than the whole face's and win the merge, unmatched.
    /// Faces wider than the overlap are kept: no tile sees them whole.
    pub fn cut_by_inner_edge(&self, unit: usize, (x, y, w, h): (i64, i64, i64, i64)) -> bool {
        let tile = self.rect(unit);
        if w.max(h) > i64::from(self.overlap) {
            return false;
        }
        let (right, bottom) = (i64::from(tile.w), i64::from(tile.h));
        let inner_left = tile.x > 0 && x <= 0;
        let inner_top = tile.y > 0 && y <= 0;
        let inner_right = tile.x + tile.w < self.width && x + w >= right;
        let inner_bottom = tile.y + tile.h < self.height && y + h >= bottom;
        inner_left || inner_top || inner_right || inner_bottom
    }
}

/// What a job's units are: frame ranges of a video, or tiles of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Plan {
    Frames(FramePlan),
    Tiles(TilePlan),
}

impl Plan {
    pub fn n_units(&self) -> usize {
        match self {
            Plan::Frames(p) => p.n_units(),
            Plan::Tiles(t) => t.n_units(),
        }
    }

    /// Frames analysed: a photo is one sampled frame, however many tiles it is cut into.
    pub fn sampled_frames(&self) -> usize {
        match self {
            Plan::Frames(p) => p.sampled_frames(),
            Plan::Tiles(_) => 1,
        }
    }

    /// Frames between the frames asked for (1 for a photo).
    pub fn stride(&self) -> usize {
        match self {
            Plan::Frames(p) => p.samples.stride,
            Plan::Tiles(_) => 1,
        }
    }

    /// Every frame sampled (frame 0 for a photo).
    pub fn sampled(&self) -> Vec<u64> {
        match self {
            Plan::Frames(p) => p.samples.frames().map(|f| f as u64).collect(),
            Plan::Tiles(_) => vec![0],
        }
    }
}

#[cfg(test)]
mod tile_tests {
    use super::*;

    #[test]
    fn a_face_is_cut_only_by_an_edge_a_neighbour_reaches_past() {
        // 2 x 1 tiles of 1024 px, tiles starting at 0 and 768.
        let plan = TilePlan::new(1792, 1024, 1024, 256);
        assert!(plan.cut_by_inner_edge(0, (900, 100, 124, 124)), "at tile 0's right edge, inside tile 1");
        assert!(!plan.cut_by_inner_edge(0, (900, 100, 120, 120)), "whole, 4 px short of the edge");
        assert!(!plan.cut_by_inner_edge(0, (-10, -10, 100, 100)), "the photo's own left and top");
        assert!(plan.cut_by_inner_edge(1, (-20, 500, 100, 100)), "across tile 1's left edge");
        assert!(!plan.cut_by_inner_edge(1, (924, 900, 100, 124)), "the photo's right and bottom");
        assert!(!plan.cut_by_inner_edge(0, (700, 100, 324, 324)), "wider than the overlap: no tile sees it whole");
    }

    #[test]
    fn tiles_cover_the_image_and_overlap_by_the_overlap() {
        for (w, h, tile, overlap) in [(7680, 4320, 2048, 384), (1000, 800, 1024, 256), (3000, 1000, 1000, 100)] {
            let plan = TilePlan::new(w, h, tile, overlap);
            let mut covered = vec![false; (w * h / 100) as usize]; // every 10th pixel each way
            for unit in 0..plan.n_units() {
                let r = plan.rect(unit);
                assert!(r.x + r.w <= w && r.y + r.h <= h && r.w > 0 && r.h > 0);
                for y in (r.y..r.y + r.h).filter(|y| y % 10 == 0) {
                    for x in (r.x..r.x + r.w).filter(|x| x % 10 == 0) {
                        covered[((y / 10) * (w / 10) + x / 10) as usize] = true;
                    }
                }
            }
            assert!(covered.iter().all(|&c| c), "{w}x{h} tile {tile}");
        }
        let plan = TilePlan::new(7680, 4320, 2048, 384);
        assert_eq!(plan.n_units(), 5 * 3);
        assert_eq!(plan.rect(1), TileRect { x: 1664, y: 0, w: 2048, h: 2048 });
        assert_eq!(plan.rect(14), TileRect { x: 6656, y: 3328, w: 1024, h: 992 });
    }
}
