//! Encoding only what a track needs. A seated student's face is found in the same seat frame
//! after frame, and its 128-d encoding (~18 ms a face on one core, most of a frame's cost once
//! detection is cheap) says each time what the first one said. So a face in the same seat as
//! exactly one face of the previous sampled frame (the place and size rule the track linker
//! uses, [`FaceBox::same_seat`]) that was surely matched to a student (distance at most
//! [`SURE_MATCH`](crate::face::matching::SURE_MATCH)) takes that face's identity — student,
//! distance and encoding — instead of a new encoding.
//!
//! Every face is encoded on a fixed grid: the sampled frames 0, K, 2K, ... (K =
//! `reencode_every`, or its greatest common divisor with `chunk` when the chunk is not a
//! multiple of it). Units are cut at multiples of the chunk, so a grid block never straddles
//! two units: each unit starts on the grid, and which faces are encoded is the same whatever
//! the plan (schedule, ranks, threads, the chunk's multiples) and whichever thread analysed
//! which frame.
//!
//! Doubtful links are encoded: a face near two faces of the previous frame, two faces near one,
//! and a face whose predecessor matched nobody or only just (a hard face — turned, small, dim —
//! gets every chance to match, as each encoding is another vote; measured on the long hall,
//! where following weak matches too lost a student whose faces all matched at 0.51–0.60). A
//! frame the decoder could not produce, or whose analysis failed, gives the next nothing to
//! follow.

use std::sync::{Condvar, Mutex, PoisonError};

use anyhow::{bail, Result};

use crate::attendance::observation::Detection;
use crate::face::FaceBox;

/// The faces of one sampled frame as the next frame's faces may follow them.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The frame's video index.
    pub frame: u64,
    /// Boxes in original-frame pixels, as the detections hold them.
    pub boxes: Vec<FaceBox>,
    /// Whether each face was surely matched to a student (by its own encoding, or the one it
    /// follows): only those are followed.
    pub sure: Vec<bool>,
}

/// A face that takes the identity of a face of an earlier frame, filled in by [`fill_in`].
#[derive(Debug, Clone, Copy)]
pub struct Inherit {
    pub frame: u64,
    pub bbox: FaceBox,
    pub from_frame: u64,
    pub from: FaceBox,
}

/// Sampled frames between two on which every face is encoded: `reencode_every`, brought down
/// to a divisor of `chunk` (units start at multiples of it, and must start on the grid).
pub fn grid(reencode_every: u32, chunk: usize) -> usize {
    let (mut a, mut b) = (reencode_every.max(1) as usize, chunk.max(1));
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Which faces of `boxes` follow a face of `previous` (the face's index there) and which must
/// be encoded (`None`).
pub fn follow(previous: Option<&Seen>, boxes: &[FaceBox]) -> Vec<Option<usize>> {
    let candidates: Vec<Vec<usize>> = boxes
        .iter()
        .map(|&now| match previous {
            Some(p) => (0..p.boxes.len()).filter(|&j| p.boxes[j].same_seat(now).is_some()).collect(),
            None => Vec::new(),
        })
        .collect();
    let claims = |j: usize| candidates.iter().filter(|c| c.contains(&j)).count();
    candidates
        .iter()
        .map(|c| match (previous, c.as_slice()) {
            (Some(p), &[j]) if claims(j) == 1 && p.sure[j] => Some(j),
            _ => None,
        })
        .collect()
}

/// The sampled frames of one unit, in order, as their faces become known: whichever thread
/// analyses a frame waits for the previous frame's faces (their matches are known once it is
/// encoded), decides, and publishes its own once they are encoded and matched. With several
/// threads a rank detects frames side by side; encodings of one unit follow each other.
pub struct Trail {
    /// Per position in the unit: `None` until published, then the faces (`None` for a frame
    /// that gives nothing to follow).
    frames: Mutex<Vec<Option<Option<Seen>>>>,
    decided: Condvar,
    /// The unit's first sampled frame, as a position among all sampled frames.
    first_sample: usize,
    grid: usize,
}

impl Trail {
    /// The trail of a unit of `frames` sampled frames from sampled frame `first_sample` on,
    /// every face encoded each `grid` sampled frames (1: every frame).
    pub fn new(first_sample: usize, frames: usize, grid: usize) -> Trail {
        Trail { frames: Mutex::new(vec![None; frames]), decided: Condvar::new(), first_sample, grid: grid.max(1) }
    }

    /// The [`Inherit`] of each face of `boxes` (the frame at `position` of the unit, video
    /// frame `frame`) that follows one, once the frame before it is published (by another
    /// thread, or already). The frame before is always published in the end: it was handed out
    /// first, and every way out of its analysis publishes it (see [`Trail::nothing_at`]).
    pub fn decide(&self, position: usize, frame: u64, boxes: &[FaceBox]) -> Result<Vec<Option<Inherit>>> {
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if position >= frames.len() {
            bail!("internal error: frame {position} of a unit of {}", frames.len());
        }
        if (self.first_sample + position).is_multiple_of(self.grid) {
            return Ok(vec![None; boxes.len()]);
        }
        while frames[position - 1].is_none() {
            frames = self.decided.wait(frames).unwrap_or_else(PoisonError::into_inner);
        }
        let previous = frames[position - 1].clone().flatten();
        drop(frames);
        let follows = follow(previous.as_ref(), boxes);
        Ok(follows
            .iter()
            .zip(boxes)
            .map(|(f, &bbox)| {
                let p = previous.as_ref()?;
                f.map(|j| Inherit { frame, bbox, from_frame: p.frame, from: p.boxes[j] })
            })
            .collect())
    }

    /// Publishes the faces of the frame at `position` for the next frame to follow.
    pub fn publish(&self, position: usize, seen: Seen) {
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = frames.get_mut(position) {
            slot.get_or_insert(Some(seen));
        }
        self.decided.notify_all();
    }

    /// Marks the frame at `position` as giving the next nothing to follow (it was not decoded,
    /// or its analysis failed), unless it was published already.
    pub fn nothing_at(&self, position: usize) {
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = frames.get_mut(position) {
            slot.get_or_insert(None);
        }
        self.decided.notify_all();
    }
}

/// Gives each inheriting detection the identity of the face it follows. `detections` are one
/// unit's, sorted by (frame, x, y); sources are filled before the faces that follow them, as
/// they are in earlier frames.
pub fn fill_in(detections: &mut [Detection], inherits: &mut [Inherit]) -> Result<()> {
    inherits.sort_by_key(|i| (i.frame, i.bbox.x, i.bbox.y));
    let find = |detections: &[Detection], frame: u64, bbox: FaceBox| {
        let start = detections.partition_point(|d| d.frame < frame);
        detections[start..].iter().take_while(|d| d.frame == frame).position(|d| d.bbox == bbox).map(|i| start + i)
    };
    for i in inherits.iter() {
        let (Some(to), Some(from)) = (find(detections, i.frame, i.bbox), find(detections, i.from_frame, i.from)) else {
            bail!(
                "internal error: frame {} follows a face of frame {} that is not among the unit's",
                i.frame,
                i.from_frame
            );
        };
        let source = &detections[from];
        let (student, distance, encoding) = (source.student, source.distance, source.encoding.clone());
        let target = &mut detections[to];
        (target.student, target.distance, target.encoding) = (student, distance, encoding);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: i32) -> FaceBox {
        FaceBox { x, y: 100, w: 40, h: 40 }
    }

    /// The frame at `position` of a unit on `trail`, decided and then published with every
    /// face surely matched but the first (an unenrolled person); whether each face was encoded.
    fn step(trail: &Trail, position: usize, boxes: &[FaceBox]) -> Vec<bool> {
        let inherits = trail.decide(position, position as u64, boxes).unwrap();
        let sure = (0..boxes.len()).map(|i| i > 0).collect();
        trail.publish(position, Seen { frame: position as u64, boxes: boxes.to_vec(), sure });
        inherits.iter().map(Option::is_none).collect()
    }

    #[test]
    fn a_sure_face_in_its_seat_is_encoded_on_the_grid_only() {
        let trail = Trail::new(0, 9, 4);
        let encoded: Vec<Vec<bool>> = (0..9).map(|p| step(&trail, p, &[at(2), at(203)])).collect();
        let unmatched: Vec<bool> = encoded.iter().map(|e| e[0]).collect();
        let matched: Vec<bool> = encoded.iter().map(|e| e[1]).collect();
        assert_eq!(matched, [true, false, false, false, true, false, false, false, true]);
        assert_eq!(unmatched, [true; 9], "a face that matched nobody is encoded every frame");
        let every = Trail::new(0, 2, 1);
        step(&every, 0, &[at(0), at(200)]);
        assert_eq!(step(&every, 1, &[at(2), at(203)]), [true, true], "1 encodes every face");
    }

    #[test]
    fn a_unit_on_a_coarser_chunk_encodes_the_same_faces() {
        // Sampled frames 8..16 as one unit of 8, and as two units of 4: the same faces encoded.
        let one = Trail::new(8, 8, grid(4, 8));
        let whole: Vec<bool> = (0..8).flat_map(|p| step(&one, p, &[at(0), at(200)])).collect();
        let halves: Vec<bool> = (0..2)
            .flat_map(|u| {
                let trail = Trail::new(8 + 4 * u, 4, grid(4, 4));
                (0..4).flat_map(|p| step(&trail, p, &[at(0), at(200)])).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(whole, halves);
        assert_eq!((grid(4, 8), grid(4, 6), grid(4, 1), grid(1, 8)), (4, 2, 1, 1));
    }

    #[test]
    fn doubtful_links_are_encoded() {
        let sure = |boxes: &[FaceBox]| Seen { frame: 0, boxes: boxes.to_vec(), sure: vec![true; boxes.len()] };
        let pair = sure(&[at(0), at(30)]);
        assert_eq!(follow(Some(&pair), &[at(15)]), [None], "near two faces of the previous frame");
        let one = sure(&[at(0)]);
        assert_eq!(follow(Some(&one), &[at(-5), at(5)]), [None, None], "two faces near one");
        assert_eq!(follow(Some(&one), &[at(60)]), [None], "another seat");
        assert_eq!(follow(Some(&one), &[at(3)]), [Some(0)], "the same seat");
    }

    #[test]
    fn a_frame_that_gave_nothing_leaves_the_next_to_be_encoded() {
        let trail = Trail::new(0, 3, 4);
        step(&trail, 0, &[at(200)]);
        trail.nothing_at(1);
        assert_eq!(step(&trail, 2, &[at(200)]), [true]);
    }
}
