//! Attendance over time: faces linked into tracks, one identity per track, one face per
//! student, and the unenrolled grouped into people.
//!
//! A face in one sampled frame says little: students look down, turn, blur. In a hall people
//! sit still, so the faces of one seat over the lecture are usually one person. Rank 0 links
//! the gathered detections of consecutive sampled frames into tracks (same place and a similar
//! face, across gaps of up to `track_gap` seconds), gives each track the student most of its
//! confidently matched faces match, and lets every face of the track count for that student.
//! Everything here is a function of the detections sorted by (frame, x, y), so tracks do not
//! depend on how many ranks, threads or which schedule produced them.

use ndarray::{Array2, ArrayView1, Axis};
use pathfinding::prelude::{kuhn_munkres, Matrix};
use serde::{Deserialize, Serialize};

use crate::attendance::observation::{Detection, UnknownPerson, Windows};
use crate::face::{FaceBox, ENCODER};
use crate::roster::Roster;

/// Two faces this far apart are taken for two people when linking frames (the encoder's
/// [`link_distance`](crate::face::encoder::EncoderSpec::link_distance)).
const LINK_DISTANCE: f32 = ENCODER.link_distance as f32;
/// Unknown tracks whose mean faces are closer than this are one unenrolled person (the
/// encoder's [`same_person`](crate::face::encoder::EncoderSpec::same_person)).
pub const SAME_UNKNOWN_PERSON: f32 = ENCODER.same_person as f32;

/// One track as the reports show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: u32,
    /// The track's student, `None` for an unenrolled or unrecognised person.
    pub student: Option<u32>,
    pub frames: u64,
    pub first_seen_s: f64,
    pub last_seen_s: f64,
    /// Mean distance of the track's faces to its student (NaN for an unknown track).
    pub mean_distance: f64,
    /// The unenrolled person this track belongs to (an index into the run's unknown people).
    pub unknown_person: Option<u32>,
}

/// A track while linking: its last face and the sum of its faces' encodings.
struct Open {
    last: FaceBox,
    last_s: f64,
    sum: Vec<f32>,
    n: usize,
}

impl Open {
    fn mean_distance_to(&self, encoding: &[f32]) -> f32 {
        let n = self.n as f32;
        self.sum.iter().zip(encoding).map(|(s, e)| (s / n - e) * (s / n - e)).sum::<f32>().sqrt()
    }
}

/// Cost of continuing a track with a face, or `None` when they cannot be one person (another
/// seat, see [`FaceBox::same_seat`], or another face).
fn link_cost(track: &Open, face: &Detection) -> Option<f64> {
    let offset = track.last.same_seat(face.bbox)?;
    let distance = track.mean_distance_to(&face.encoding);
    (distance <= LINK_DISTANCE).then_some(offset + f64::from(distance))
}

/// Links `detections` (sorted by frame, then position) into tracks, writing each detection's
/// track id; returns the number of tracks. Within a frame, faces and open tracks are paired by
/// the assignment that minimises the total cost (Hungarian algorithm), so the answer does not
/// depend on the order faces are looked at.
pub fn link(detections: &mut [Detection], gap_s: f64) -> u32 {
    let mut open: Vec<(u32, Open)> = Vec::new();
    let mut next_id = 0u32;
    let mut start = 0;
    while start < detections.len() {
        let frame = detections[start].frame;
        let end = start + detections[start..].iter().take_while(|d| d.frame == frame).count();
        let now = detections[start].time_s;
        open.retain(|(_, t)| now - t.last_s <= gap_s);
        let faces = &mut detections[start..end];
        let assigned = assign(&open, faces);
        for (face, choice) in faces.iter_mut().zip(assigned) {
            let slot = match choice {
                Some(k) => k,
                None => {
                    open.push((
                        next_id,
                        Open { last: face.bbox, last_s: now, sum: vec![0.0; face.encoding.len()], n: 0 },
                    ));
                    next_id += 1;
                    open.len() - 1
                }
            };
            let (id, track) = &mut open[slot];
            face.track = Some(*id);
            track.last = face.bbox;
            track.last_s = now;
            track.sum.iter_mut().zip(&face.encoding).for_each(|(s, e)| *s += e);
            track.n += 1;
        }
        start = end;
    }
    next_id
}

/// For each face, the open track it continues (an index into `open`), if any.
fn assign(open: &[(u32, Open)], faces: &[Detection]) -> Vec<Option<usize>> {
    if open.is_empty() || faces.is_empty() {
        return vec![None; faces.len()];
    }
    // Rows are faces; columns are the open tracks, then one "new track" column per face, so
    // that there are never fewer columns than rows and every face has a way out, dearer than
    // any link.
    const SCALE: f64 = 1e6;
    const NEVER: i64 = -1_000_000_000_000;
    let new_track = -((crate::face::SAME_SEAT_CENTRE + f64::from(LINK_DISTANCE) + 1.0) * SCALE) as i64;
    let columns = open.len() + faces.len();
    let mut weights = Matrix::new(faces.len(), columns, NEVER);
    for (i, face) in faces.iter().enumerate() {
        for (k, (_, track)) in open.iter().enumerate() {
            if let Some(cost) = link_cost(track, face) {
                weights[(i, k)] = -(cost * SCALE).round() as i64;
            }
        }
        weights[(i, open.len() + i)] = new_track;
    }
    let (_, columns_of_rows) = kuhn_munkres(&weights);
    columns_of_rows
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k < open.len() && weights[(i, k)] > NEVER).then_some(k))
        .collect()
}

/// The smallest distance from `encoding` to any enrolment photo of `student`.
fn distance_to_student(roster: &Roster, student: u32, encoding: &[f32]) -> f64 {
    roster
        .encodings
        .axis_iter(Axis(0))
        .zip(&roster.owner)
        .filter(|(_, &owner)| owner == student)
        .map(|(row, _)| euclidean(row, encoding))
        .fold(f64::INFINITY, f64::min)
}

fn euclidean(a: ArrayView1<f64>, b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, &y)| (x - f64::from(y)).powi(2)).sum::<f64>().sqrt()
}

/// Evidence for a track's identity: confidently matched faces, then their closeness.
#[derive(Debug, Clone, Copy)]
struct Vote {
    student: u32,
    matches: usize,
    mean_distance: f64,
}

/// The student most of the track's confident matches name (ties: the smaller mean distance,
/// then the lower roster index). A face that took its identity from the frame before (see
/// `run::follow`) votes as the face it follows did: its track saw that person for that long.
/// Counting only encoded faces was measured to be worse: a well-matched track is encoded one
/// frame in four while a hard face's is encoded every frame, so a look-alike's track outvoted
/// the right one (long hall, yunet: identity precision 97.3 % against 99.99 %).
fn vote(faces: &[&Detection]) -> Option<Vote> {
    let mut tally: std::collections::BTreeMap<u32, (usize, f64)> = Default::default();
    for d in faces {
        if let Some(s) = d.student {
            let e = tally.entry(s).or_default();
            e.0 += 1;
            e.1 += d.distance;
        }
    }
    tally
        .into_iter()
        .map(|(student, (n, sum))| Vote { student, matches: n, mean_distance: sum / n as f64 })
        .min_by(|a, b| b.matches.cmp(&a.matches).then(a.mean_distance.total_cmp(&b.mean_distance)))
}

/// Gives every track one identity and every face its track's: a track takes the student its
/// confident matches vote for; of two tracks that overlap in time and name the same student,
/// the one with the stronger evidence keeps the student and the other becomes unknown. A face
/// of a named track gets that student and its own distance to them; a face of an unknown track
/// gets no student. Returns the tracks, by id.
pub fn identify(detections: &mut [Detection], tracks: u32, roster: &Roster) -> Vec<Track> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); tracks as usize];
    for (i, d) in detections.iter().enumerate() {
        members[d.track.expect("every detection is linked") as usize].push(i);
    }
    let spans: Vec<(f64, f64)> =
        members.iter().map(|f| (detections[f[0]].time_s, detections[*f.last().unwrap()].time_s)).collect();
    let votes: Vec<Option<Vote>> =
        members.iter().map(|faces| vote(&faces.iter().map(|&i| &detections[i]).collect::<Vec<_>>())).collect();
    // Strongest evidence first; each keeps its student unless a stronger overlapping track has it.
    let mut order: Vec<usize> = (0..members.len()).filter(|&t| votes[t].is_some()).collect();
    order.sort_by(|&a, &b| {
        let (va, vb) = (votes[a].unwrap(), votes[b].unwrap());
        vb.matches.cmp(&va.matches).then(va.mean_distance.total_cmp(&vb.mean_distance)).then(a.cmp(&b))
    });
    let mut student_of: Vec<Option<u32>> = vec![None; members.len()];
    let mut kept: Vec<(u32, f64, f64)> = Vec::new();
    for t in order {
        let student = votes[t].unwrap().student;
        let (first, last) = spans[t];
        if !kept.iter().any(|&(s, a, b)| s == student && first <= b && a <= last) {
            student_of[t] = Some(student);
            kept.push((student, first, last));
        }
    }
    members
        .iter()
        .enumerate()
        .map(|(t, faces)| {
            let student = student_of[t];
            let mut distances = 0.0;
            for &i in faces {
                let d = &mut detections[i];
                d.student = student;
                if let Some(s) = student {
                    if !d.encoding.is_empty() {
                        d.distance = distance_to_student(roster, s, &d.encoding);
                    }
                    distances += d.distance;
                }
            }
            let (first_seen_s, last_seen_s) = spans[t];
            Track {
                id: t as u32,
                student,
                frames: faces.len() as u64,
                first_seen_s,
                last_seen_s,
                mean_distance: if student.is_some() { distances / faces.len() as f64 } else { f64::NAN },
                unknown_person: None,
            }
        })
        .collect()
}

/// Flat clusters of `points` (face encodings): average-linkage agglomerative clustering cut
/// at distance `cut`. Returns each point's cluster, clusters numbered in order of their first
/// point, so the answer depends only on the points' order.
pub fn cluster(points: &[Vec<f32>], cut: f32) -> Vec<u32> {
    let n = points.len();
    if n < 2 {
        return vec![0; n];
    }
    let distance = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt();
    let mut condensed = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            condensed.push(distance(&points[i], &points[j]));
        }
    }
    let dendrogram = kodama::linkage(&mut condensed, n, kodama::Method::Average);
    // Union-find over the merges below the cut: step k's union is cluster n + k.
    let mut parent: Vec<usize> = (0..n + dendrogram.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (k, step) in dendrogram.steps().iter().enumerate().filter(|(_, s)| s.dissimilarity <= cut) {
        for c in [step.cluster1, step.cluster2] {
            let r = root(&mut parent, c);
            parent[r] = n + k;
        }
    }
    let mut label_of_root: Vec<usize> = Vec::new();
    (0..n)
        .map(|i| {
            let r = root(&mut parent, i);
            match label_of_root.iter().position(|&x| x == r) {
                Some(label) => label as u32,
                None => {
                    label_of_root.push(r);
                    label_of_root.len() as u32 - 1
                }
            }
        })
        .collect()
}

/// Groups the unknown tracks into people by their mean faces (average-linkage agglomerative
/// clustering, cut at [`SAME_UNKNOWN_PERSON`]), writing each unknown track's person; returns
/// each person's mean encoding, people numbered by their first track.
pub fn group_unknown(detections: &[Detection], tracks: &mut [Track]) -> Vec<Vec<f32>> {
    let unknown: Vec<usize> = tracks.iter().filter(|t| t.student.is_none()).map(|t| t.id as usize).collect();
    if unknown.is_empty() {
        return Vec::new();
    }
    let dim = detections.iter().map(|d| d.encoding.len()).max().unwrap_or(0);
    let mut sums = Array2::<f32>::zeros((tracks.len(), dim));
    for d in detections.iter().filter(|d| d.encoding.len() == dim) {
        let t = d.track.expect("every detection is linked") as usize;
        sums.row_mut(t).iter_mut().zip(&d.encoding).for_each(|(s, e)| *s += e);
    }
    let means: Vec<Vec<f32>> =
        unknown.iter().map(|&t| sums.row(t).iter().map(|s| s / tracks[t].frames.max(1) as f32).collect()).collect();
    let labels = cluster(&means, SAME_UNKNOWN_PERSON);
    let mut people: Vec<(Vec<f32>, f32)> = Vec::new();
    for (&t, &person) in unknown.iter().zip(&labels) {
        if person as usize == people.len() {
            people.push((vec![0.0; dim], 0.0));
        }
        tracks[t].unknown_person = Some(person);
        let (sum, total) = &mut people[person as usize];
        sum.iter_mut().zip(sums.row(t)).for_each(|(s, x)| *s += x);
        *total += tracks[t].frames as f32;
    }
    people.into_iter().map(|(sum, total)| sum.into_iter().map(|s| s / total.max(1.0)).collect()).collect()
}

/// What rank 0 derives over time from the gathered detections.
pub struct OverTime {
    pub tracks: Vec<Track>,
    pub unknown: Vec<UnknownPerson>,
}

/// Links `detections` into tracks, names them, and groups the unknown ones into unenrolled
/// people (whose mean encodings are kept only when `keep_unknown`).
pub fn over_time(
    detections: &mut [Detection],
    roster: &Roster,
    windows: &Windows,
    gap_s: f64,
    keep_unknown: bool,
) -> OverTime {
    let n = link(detections, gap_s);
    let mut tracks = identify(detections, n, roster);
    let means = group_unknown(detections, &mut tracks);
    let unknown = means
        .into_iter()
        .enumerate()
        .map(|(person, mean)| {
            let person = person as u32;
            let of_person: Vec<&Track> = tracks.iter().filter(|t| t.unknown_person == Some(person)).collect();
            let mut frames: Vec<(u64, f64)> = detections
                .iter()
                .filter(|d| d.track.is_some_and(|t| tracks[t as usize].unknown_person == Some(person)))
                .map(|d| (d.frame, d.time_s))
                .collect();
            frames.dedup_by_key(|f| f.0); // detections are sorted by frame
            let mut windows_seen: Vec<usize> = frames.iter().filter_map(|&(_, t)| windows.position(t)).collect();
            windows_seen.dedup();
            UnknownPerson {
                id: person,
                tracks: of_person.len() as u64,
                frames_seen: frames.len() as u64,
                windows_seen: windows_seen.len() as u64,
                first_seen_s: frames.first().map_or(f64::NAN, |f| f.1),
                last_seen_s: frames.last().map_or(f64::NAN, |f| f.1),
                encoding: if keep_unknown { mean } else { Vec::new() },
            }
        })
        .collect();
    OverTime { tracks, unknown }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face at `x` in frame `frame` (one frame a second) with an encoding along axis `who`.
    fn face(frame: u64, x: i32, who: usize, student: Option<u32>) -> Detection {
        let mut encoding = vec![0.0f32; 4];
        encoding[who] = 1.0;
        Detection {
            frame,
            time_s: frame as f64,
            rank: 0,
            bbox: FaceBox { x, y: 100, w: 50, h: 50 },
            student,
            distance: if student.is_some() { 0.3 } else { 0.8 },
            track: None,
            encoding,
        }
    }

    fn roster(n: usize) -> Roster {
        let mut encodings = Array2::zeros((n, 4));
        for i in 0..n {
            encodings[(i, i)] = 1.0;
        }
        Roster {
            ids: (0..n).map(|i| format!("s{i}")).collect(),
            names: (0..n).map(|i| format!("S{i}")).collect(),
            encodings,
            owner: (0..n as u32).collect(),
            sources: (0..n).map(|i| format!("s{i}.jpg")).collect(),
        }
    }

    fn tracks_of(detections: &[Detection]) -> Vec<u32> {
        detections.iter().map(|d| d.track.unwrap()).collect()
    }

    #[test]
    fn a_face_hidden_for_less_than_the_gap_is_one_track() {
        let mut d =
            vec![face(0, 100, 0, Some(0)), face(1, 102, 0, None), face(25, 99, 0, Some(0)), face(60, 100, 0, Some(0))];
        let n = link(&mut d, 30.0);
        assert_eq!(tracks_of(&d), [0, 0, 0, 1], "hidden 24 s: same track; hidden 35 s: a new one");
        let tracks = identify(&mut d, n, &roster(1));
        assert_eq!(d[1].student, Some(0), "the unmatched face of a named track counts for its student");
        assert_eq!(tracks[0].frames, 3);
    }

    #[test]
    fn two_people_who_swap_seats_are_two_tracks() {
        // s0 at x=100, s1 at x=300; at frame 2 they have swapped.
        let mut d = vec![
            face(0, 100, 0, Some(0)),
            face(0, 300, 1, Some(1)),
            face(1, 100, 0, Some(0)),
            face(1, 300, 1, Some(1)),
            face(2, 100, 1, Some(1)),
            face(2, 300, 0, Some(0)),
        ];
        let n = link(&mut d, 30.0);
        assert_eq!(n, 4);
        assert_eq!(tracks_of(&d), [0, 1, 0, 1, 2, 3]);
    }

    #[test]
    fn a_look_alike_in_the_same_frame_adds_no_presence() {
        // s0 at x=100 all along; a look-alike at x=400 also matches s0, but more weakly.
        let mut d = Vec::new();
        for f in 0..4 {
            d.push(face(f, 100, 0, Some(0)));
            let mut twin = face(f, 400, 0, if f < 2 { Some(0) } else { None });
            twin.encoding = vec![0.9, 0.0, 0.0, 0.3];
            d.push(twin);
        }
        let n = link(&mut d, 30.0);
        let tracks = identify(&mut d, n, &roster(1));
        assert_eq!(tracks.len(), 2);
        assert_eq!(tracks[0].student, Some(0));
        assert_eq!(tracks[1].student, None, "the weaker of two overlapping tracks loses the student");
        for f in 0..4 {
            assert_eq!(d.iter().filter(|x| x.frame == f && x.student == Some(0)).count(), 1);
        }
    }

    #[test]
    fn an_unknown_person_seen_in_two_stretches_is_one_person() {
        let mut d =
            vec![face(0, 100, 2, None), face(1, 100, 2, None), face(100, 500, 2, None), face(100, 100, 3, None)];
        let n = link(&mut d, 30.0);
        let mut tracks = identify(&mut d, n, &roster(1));
        assert_eq!(n, 3, "the stretches are 99 s apart and in other seats");
        let people = group_unknown(&d, &mut tracks);
        assert_eq!(people.len(), 2);
        let person: Vec<_> = tracks.iter().map(|t| t.unknown_person).collect();
        assert_eq!(person, [Some(0), Some(0), Some(1)]);
    }
}
