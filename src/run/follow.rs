//! Encoding only what a track needs. A seated student's face is found in the same seat frame
//! after frame, and its 128-d encoding (~18 ms a face on one core, most of a frame's cost once
//! detection is cheap) says each time what the first one said. So a face in the same seat as
//! exactly one face of its unit's previous sampled frame (the place and size rule the track
//! linker uses, [`FaceBox::same_seat`]) that was surely matched to a student (distance at most
//! [`SURE_MATCH`]) takes that face's identity — student, distance and encoding — instead of a new encoding, for up to
//! `reencode_every - 1` frames in a row.
//!
//! Doubtful links are encoded: a face near two faces of the previous frame, two faces near one,
//! and a face whose predecessor matched nobody or only just (a hard face — turned, small, dim —
//! gets every chance to match, as each encoding is another vote; measured on the long hall,
//! where following weak matches too lost a student whose faces all matched at 0.51–0.60).
//! Which faces are encoded depends only on the unit's frames in order (boxes and matches, not
//! on which thread analysed which frame), and a unit's first frame is always encoded: results
//! do not depend on ranks, threads or schedule. A frame the decoder could not produce, or whose
//! analysis failed, gives the next nothing to follow.

use std::sync::{Condvar, Mutex, PoisonError};

use anyhow::{bail, Result};

use crate::attendance::observation::Detection;
use crate::face::FaceBox;

/// A match at this distance or closer is sure enough to follow (dlib's face-clustering cut,
/// the same-person distance of `track::SAME_UNKNOWN_PERSON`): 97 % of the named faces of the
/// long hall match this closely; the rest are the hard faces, worth encoding each time.
pub const SURE_MATCH: f64 = 0.5;

/// The faces of one sampled frame as the next frame's faces may follow them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// The frame's video index.
    pub frame: u64,
    /// Boxes in original-frame pixels, as the detections hold them.
    pub boxes: Vec<FaceBox>,
    /// Frames since each face was last encoded (0: encoded in this frame).
    pub age: Vec<u32>,
    /// Whether each face was surely matched to a student (by its own encoding, or the one it
    /// follows): only those are followed.
    pub sure: Vec<bool>,
}

/// A face that takes the identity of a face of an earlier frame, filled in by [`fill_in`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inherit {
    pub frame: u64,
    pub bbox: FaceBox,
    pub from_frame: u64,
    pub from: FaceBox,
}

/// Which faces of `boxes` follow a face of `previous` (the face's index there) and which must
/// be encoded (`None`).
pub fn follow(previous: Option<&Seen>, boxes: &[FaceBox], reencode_every: u32) -> Vec<Option<usize>> {
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
            (Some(p), &[j]) if claims(j) == 1 && p.sure[j] && p.age[j] + 1 < reencode_every => Some(j),
            _ => None,
        })
        .collect()
}

/// The sampled frames of one unit, in order, as their faces become known: whichever thread
/// analyses a frame waits for the previous frame's faces (their matches are known once it is
/// encoded), decides, and publishes its own once they are encoded and matched. With several
/// threads a rank detects frames side by side; encodings of one unit follow each other.
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

    /// [`follow`] for the faces `boxes` of the frame at `position` of the unit, once the frame
    /// before it is published (by another thread, or already), as the [`Inherit`] of each face
    /// that follows one and the ages to publish with. The frame before is always published in
    /// the end: it was handed out first, and every way out of its analysis publishes it (see
    /// [`Trail::nothing_at`]).
    pub fn decide(&self, position: usize, frame: u64, boxes: &[FaceBox]) -> Result<(Vec<Option<Inherit>>, Vec<u32>)> {
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if position >= frames.len() {
            bail!("internal error: frame {position} of a unit of {}", frames.len());
        }
        while position > 0 && frames[position - 1].is_none() {
            frames = self.decided.wait(frames).unwrap_or_else(PoisonError::into_inner);
        }
        let previous = if position == 0 { None } else { frames[position - 1].clone().flatten() };
        drop(frames);
        let follows = follow(previous.as_ref(), boxes, self.reencode_every);
        let age = follows.iter().map(|f| f.map_or(0, |j| previous.as_ref().map_or(0, |p| p.age[j]) + 1)).collect();
        let inherits = follows
            .iter()
            .zip(boxes)
            .map(|(f, &bbox)| {
                let p = previous.as_ref()?;
                f.map(|j| Inherit { frame, bbox, from_frame: p.frame, from: p.boxes[j] })
            })
            .collect();
        Ok((inherits, age))
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

    /// The frame at `position` of a unit on `trail`, decided and then published with every
    /// face matched but the first (an unenrolled person); whether each face was encoded.
    fn step(trail: &Trail, position: usize, boxes: &[FaceBox]) -> Vec<bool> {
        let (inherits, age) = trail.decide(position, position as u64, boxes).unwrap();
        let matched = (0..boxes.len()).map(|i| i > 0).collect();
        trail.publish(position, Seen { frame: position as u64, boxes: boxes.to_vec(), age, sure: matched });
        inherits.iter().map(Option::is_none).collect()
    }

    #[test]
    fn a_matched_face_in_its_seat_is_encoded_every_kth_frame() {
        let trail = Trail::new(10, 4);
        assert_eq!(step(&trail, 0, &[at(0), at(200)]), [true, true], "a unit's first frame is encoded");
        let encoded: Vec<Vec<bool>> = (1..=8).map(|p| step(&trail, p, &[at(2), at(203)])).collect();
        let unmatched: Vec<bool> = encoded.iter().map(|e| e[0]).collect();
        let matched: Vec<bool> = encoded.iter().map(|e| e[1]).collect();
        assert_eq!(matched, [false, false, false, true, false, false, false, true]);
        assert_eq!(unmatched, [true; 8], "a face that matched nobody is encoded every frame");
        let every = Trail::new(2, 1);
        step(&every, 0, &[at(0), at(200)]);
        assert_eq!(step(&every, 1, &[at(2), at(203)]), [true, true], "1 encodes every face");
    }

    #[test]
    fn doubtful_links_are_encoded() {
        let matched = |boxes: &[FaceBox]| Seen {
            frame: 0,
            boxes: boxes.to_vec(),
            age: vec![0; boxes.len()],
            sure: vec![true; boxes.len()],
        };
        let pair = matched(&[at(0), at(30)]);
        assert_eq!(follow(Some(&pair), &[at(15)], 4), [None], "near two faces of the previous frame");
        let one = matched(&[at(0)]);
        assert_eq!(follow(Some(&one), &[at(-5), at(5)], 4), [None, None], "two faces near one");
        assert_eq!(follow(Some(&one), &[at(60)], 4), [None], "another seat");
        assert_eq!(follow(Some(&one), &[at(3)], 4), [Some(0)], "the same seat");
    }

    #[test]
    fn a_frame_that_gave_nothing_leaves_the_next_to_be_encoded() {
        let trail = Trail::new(3, 4);
        step(&trail, 0, &[at(200)]);
        trail.nothing_at(1);
        assert_eq!(step(&trail, 2, &[at(200)]), [true]);
    }
}
