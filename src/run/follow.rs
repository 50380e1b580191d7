//! Encoding only what a track needs. A seated student's face is found in the same seat frame
//! after frame, and its 128-d encoding (~18 ms a face on one core, most of a frame's cost once
//! detection is cheap) says each time what the first one said. So a face in the same seat as
//! exactly one face of its unit's previous sampled frame (the place and size rule the track
//! linker uses, [`FaceBox::same_seat`]) takes that face's identity — student, distance and
//! encoding — instead of a new encoding, for up to `reencode_every - 1` frames in a row.
//!
//! Which faces are encoded is decided from boxes alone, frame by frame in the unit's order, and
//! a unit's first frame is always encoded, so the choice is the same whatever thread analysed
//! which frame and whichever rank ran the unit: results do not depend on ranks, threads or
//! schedule. A frame the decoder could not produce, or whose analysis failed, gives the next
//! nothing to follow. Doubtful links are encoded: a face near two faces of the previous frame,
//! or two faces near one.

use std::sync::{Condvar, Mutex, PoisonError};

use anyhow::{bail, Result};

use crate::attendance::observation::Detection;
use crate::face::FaceBox;

/// The faces of one sampled frame as the next frame's faces may follow them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// The frame's video index.
    pub frame: u64,
    /// Boxes in original-frame pixels, as the detections hold them.
    pub boxes: Vec<FaceBox>,
    /// Frames since each face was last encoded (0: encoded in this frame).
    pub age: Vec<u32>,
}

/// A face that takes the identity of a face of an earlier frame, filled in by [`fill_in`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inherit {
    pub frame: u64,
    pub bbox: FaceBox,
    pub from_frame: u64,
    pub from: FaceBox,
}

/// Which faces of `frame` (boxes `boxes`) follow a face of `previous` (the face's index
/// there) and which must be encoded (`None`), and what the next frame may follow.
pub fn follow(
    previous: Option<&Seen>,
    frame: u64,
    boxes: &[FaceBox],
    reencode_every: u32,
) -> (Vec<Option<usize>>, Seen) {
    let candidates: Vec<Vec<usize>> = boxes
        .iter()
        .map(|&now| match previous {
            Some(p) => (0..p.boxes.len()).filter(|&j| p.boxes[j].same_seat(now).is_some()).collect(),
            None => Vec::new(),
        })
        .collect();
    let claims = |j: usize| candidates.iter().filter(|c| c.contains(&j)).count();
    let follows: Vec<Option<usize>> = candidates
        .iter()
        .map(|c| match (previous, c.as_slice()) {
            (Some(p), &[j]) if claims(j) == 1 && p.age[j] + 1 < reencode_every => Some(j),
            _ => None,
        })
        .collect();
    let age = follows.iter().map(|f| f.map_or(0, |j| previous.map_or(0, |p| p.age[j]) + 1)).collect();
    (follows, Seen { frame, boxes: boxes.to_vec(), age })
}

/// The sampled frames of one unit, in order, as their faces become known: whichever thread
/// analyses a frame waits for the previous frame's faces, decides, and publishes its own.
pub struct Trail {
    /// Per position in the unit: `None` until decided, then the faces (`None` for a frame
    /// that gives nothing to follow).
    frames: Mutex<Vec<Option<Option<Seen>>>>,
    decided: Condvar,
    reencode_every: u32,
}

impl Trail {
    pub fn new(frames: usize, reencode_every: u32) -> Trail {
        Trail { frames: Mutex::new(vec![None; frames]), decided: Condvar::new(), reencode_every }
    }

    /// [`follow`] for the frame at `position` of the unit, once the frame before it is decided
    /// (by another thread, or already), with the faces it follows as [`Inherit`]s. The frame
    /// before is always decided in the end: it was handed out first, and every way out of its
    /// analysis decides it (see [`Trail::nothing_at`]).
    pub fn decide(&self, position: usize, frame: u64, boxes: &[FaceBox]) -> Result<Vec<Option<Inherit>>> {
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if position >= frames.len() {
            bail!("internal error: frame {position} of a unit of {}", frames.len());
        }
        while position > 0 && frames[position - 1].is_none() {
            frames = self.decided.wait(frames).unwrap_or_else(PoisonError::into_inner);
        }
        let previous = if position == 0 { None } else { frames[position - 1].clone().flatten() };
        let (follows, seen) = follow(previous.as_ref(), frame, boxes, self.reencode_every);
        frames[position].get_or_insert(Some(seen));
        self.decided.notify_all();
        Ok(follows
            .iter()
            .zip(boxes)
            .map(|(f, &bbox)| {
                let p = previous.as_ref()?;
                f.map(|j| Inherit { frame, bbox, from_frame: p.frame, from: p.boxes[j] })
            })
            .collect())
    }

    /// Marks the frame at `position` as giving the next nothing to follow (it was not decoded,
    /// or its analysis failed), unless it was decided already.
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
        let source = detections[from].clone();
        let target = &mut detections[to];
        target.student = source.student;
        target.distance = source.distance;
        target.encoding = source.encoding;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: i32) -> FaceBox {
        FaceBox { x, y: 100, w: 40, h: 40 }
    }

    #[test]
    fn a_face_in_its_seat_is_encoded_every_kth_frame() {
        let (first, mut seen) = follow(None, 0, &[at(0), at(200)], 4);
        assert_eq!(first, [None, None], "a unit's first frame is encoded");
        let mut encoded = vec![];
        for frame in 1..=8 {
            let (follows, next) = follow(Some(&seen), frame, &[at(2), at(203)], 4);
            encoded.push(follows[0].is_none());
            seen = next;
        }
        assert_eq!(encoded, [false, false, false, true, false, false, false, true]);
        let (every, _) = follow(Some(&seen), 9, &[at(2)], 1);
        assert_eq!(every, [None], "1 encodes every face");
    }

    #[test]
    fn doubtful_links_are_encoded() {
        let (_, seen) = follow(None, 0, &[at(0), at(30)], 4);
        let (follows, _) = follow(Some(&seen), 1, &[at(15)], 4);
        assert_eq!(follows, [None], "near two faces of the previous frame");
        let (_, seen) = follow(None, 0, &[at(0)], 4);
        let (follows, _) = follow(Some(&seen), 1, &[at(-5), at(5)], 4);
        assert_eq!(follows, [None, None], "two faces near one");
        let (follows, _) = follow(Some(&seen), 1, &[at(60)], 4);
        assert_eq!(follows, [None], "another seat");
    }
}
