//! What a scenario file says: the camera, the hall, the people and what each of them does.
//!
//! Two ways of placing a person: `x`/`y`/`size` (the face's top-left corner and width, as in
//! the flat built-in lecture) or `seat: [row, column]` in the scenario's `hall`, whose rows
//! shrink with distance as a camera over a lecture hall sees them. Two ways of saying when
//! someone is in the room: `from_s`/`to_s`, or `present: [[from, to], ...]` for someone who
//! leaves and comes back.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub width: i32,
    pub height: i32,
    pub fps: f64,
    pub seconds: f64,
    /// Folder of the source photos, relative to the scenario file.
    pub photos_dir: PathBuf,
    /// Rows of seats in perspective; needed by people placed with `seat`.
    #[serde(default)]
    pub hall: Option<Hall>,
    /// Lighting drift and sensor noise; none when absent.
    #[serde(default)]
    pub camera: Option<Camera>,
    /// Bitrate of an `.mp4` recording in kbit/s [default: 2000 up to 720 lines, else 4000,
    /// what lecture-capture systems record at].
    #[serde(default)]
    pub bitrate_kbps: Option<u32>,
    /// Share of the lecture a student must be in the room to count as Present in the truth
    /// file (rollcall's default threshold).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    pub people: Vec<Person>,
}

fn default_threshold() -> f64 {
    0.75
}

/// Rows of seats seen from a camera at the front: the front row (row 0) is large and low in
/// the frame, the back row small and high.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hall {
    pub rows: usize,
    pub seats_per_row: usize,
    /// Face width in the front and in the back row, pixels.
    pub front_face: i32,
    pub back_face: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Camera {
    /// Standard deviation of the sensor noise, in grey levels.
    #[serde(default)]
    pub noise: f64,
    /// Amplitude of the slow change in brightness (0.1 = ±10 %), one cycle over the lecture.
    #[serde(default)]
    pub light_drift: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// The photo the camera films, and which face in it (faces ordered left to right).
    pub photo: PathBuf,
    #[serde(default)]
    pub face_index: usize,
    /// Another photo of the same person to enrol from. Without it the person is enrolled from
    /// the filmed photo ("same photo": the filmed face then differs only by scale, blur, noise
    /// and compression).
    #[serde(default)]
    pub enrol_photo: Option<PathBuf>,
    #[serde(default)]
    pub enrol_face_index: usize,
    /// On the roster (an enrolment photo is written) or an unenrolled attendee.
    pub enrolled: bool,
    /// Top-left corner and width of the face in the video, pixels.
    #[serde(default)]
    pub x: Option<i32>,
    #[serde(default)]
    pub y: Option<i32>,
    #[serde(default)]
    pub size: Option<i32>,
    /// `[row, column]` in the hall, row 0 at the front.
    #[serde(default)]
    pub seat: Option<[usize; 2]>,
    /// In the room during `[from_s, to_s)`; omit both for someone who never comes.
    #[serde(default)]
    pub from_s: Option<f64>,
    #[serde(default)]
    pub to_s: Option<f64>,
    /// In the room during each `[from, to)`.
    #[serde(default)]
    pub present: Option<Vec<[f64; 2]>>,
    /// Looks down at notes or turns away for part of every period.
    #[serde(default)]
    pub look_away: Option<LookAway>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookAway {
    pub period_s: f64,
    /// Share of each period the face is not visible.
    pub share: f64,
    /// Where in its cycle the person starts, seconds [default: spread by seat].
    #[serde(default)]
    pub phase_s: Option<f64>,
}

/// Where a face sits in the frame: top-left corner and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub x: i32,
    pub y: i32,
    pub size: i32,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = crate::util::input::read_text(path, "scenario")?;
        let scenario: Scenario =
            serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        scenario.validate().with_context(|| format!("scenario {}", path.display()))?;
        Ok(scenario)
    }

    fn validate(&self) -> Result<()> {
        ensure!(self.width >= 64 && self.height >= 64, "the frame must be at least 64×64 px");
        ensure!(self.fps > 0.0 && self.fps.is_finite(), "fps must be > 0");
        ensure!(self.seconds > 0.0 && self.seconds.is_finite(), "seconds must be > 0");
        ensure!((0.0..=1.0).contains(&self.threshold), "threshold must be in [0, 1]");
        if let Some(hall) = &self.hall {
            ensure!(hall.rows >= 1 && hall.seats_per_row >= 1, "hall: at least one row of one seat");
            ensure!(hall.front_face >= 8 && hall.back_face >= 8, "hall: faces of at least 8 px");
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.people {
            p.validate(self.hall.as_ref())?;
            ensure!(seen.insert(&p.id), "person {:?} appears twice", p.id);
            if let Some(seat) = p.seat {
                ensure!(
                    !self.people.iter().any(|q| q.id < p.id && q.seat == Some(seat)),
                    "seat {seat:?} is taken twice"
                );
            }
        }
        Ok(())
    }

    /// Where `person`'s face sits (before head motion); `None` for someone who never comes
    /// and was given no place.
    pub fn placement(&self, person: &Person) -> Option<Placement> {
        match (person.seat, &self.hall, person.x, person.y, person.size) {
            (Some([row, col]), Some(hall), ..) => Some(hall.seat(row, col, self.width, self.height)),
            (None, _, Some(x), Some(y), Some(size)) => Some(Placement { x, y, size }),
            _ => None,
        }
    }

    pub fn frame_count(&self) -> usize {
        (self.seconds * self.fps).round() as usize
    }

    pub fn bitrate_kbps(&self) -> u32 {
        self.bitrate_kbps.unwrap_or(if self.height <= 720 { 2000 } else { 4000 })
    }
}

impl Hall {
    /// Face placement of seat (`row`, `col`) in a `width`×`height` frame. Face width shrinks
    /// linearly from the front row to the back; seats spread evenly across the frame, closer
    /// together in the back rows as perspective has them.
    pub fn seat(&self, row: usize, col: usize, width: i32, height: i32) -> Placement {
        let depth = if self.rows > 1 { row as f64 / (self.rows - 1) as f64 } else { 0.0 };
        let size = f64::from(self.front_face) + f64::from(self.back_face - self.front_face) * depth;
        let top = f64::from(height) * (0.60 - 0.40 * depth);
        let spacing = (2.4 * size).min(0.92 * f64::from(width) / self.seats_per_row as f64);
        let centre = f64::from(width) / 2.0 + (col as f64 - (self.seats_per_row - 1) as f64 / 2.0) * spacing;
        Placement { x: (centre - size / 2.0).round() as i32, y: top.round() as i32, size: size.round() as i32 }
    }
}

impl Person {
    fn validate(&self, hall: Option<&Hall>) -> Result<()> {
        let id_ok = !self.id.is_empty()
            && !self.id.starts_with('.')
            && self.id.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        ensure!(id_ok, "person id {:?}: use letters, digits, '_', '-' and '.' only (it names a file)", self.id);
        let who = &self.id;
        match (self.seat, self.x, self.y, self.size) {
            (Some([row, col]), None, None, None) => {
                let hall = hall.with_context(|| format!("{who}: a seat needs a `hall:` section"))?;
                ensure!(
                    row < hall.rows && col < hall.seats_per_row,
                    "{who}: seat [{row}, {col}] is outside the hall ({} rows of {} seats)",
                    hall.rows,
                    hall.seats_per_row
                );
            }
            (None, Some(_), Some(_), Some(size)) => ensure!(size >= 8, "{who}: size must be at least 8 px"),
            // Someone who never comes needs no place.
            (None, None, None, None) if self.intervals().is_empty() => {}
            _ => bail!("{who}: give either `seat: [row, column]` or all of `x`, `y` and `size`"),
        }
        if self.present.is_some() && (self.from_s.is_some() || self.to_s.is_some()) {
            bail!("{who}: give either `present` intervals or `from_s`/`to_s`, not both");
        }
        if self.from_s.is_some() != self.to_s.is_some() {
            bail!("{who}: `from_s` and `to_s` go together");
        }
        for [a, b] in self.intervals() {
            ensure!(a.is_finite() && b.is_finite() && a < b, "{who}: interval [{a}, {b}) is empty or not a number");
        }
        if let Some(l) = self.look_away {
            ensure!(l.period_s > 0.0 && l.period_s.is_finite(), "{who}: look_away.period_s must be > 0");
            ensure!((0.0..1.0).contains(&l.share), "{who}: look_away.share must be in [0, 1)");
        }
        Ok(())
    }

    /// When the person is in the room, as `[from, to)` intervals.
    pub fn intervals(&self) -> Vec<[f64; 2]> {
        match (&self.present, self.from_s, self.to_s) {
            (Some(list), _, _) => list.clone(),
            (None, Some(a), Some(b)) => vec![[a, b]],
            _ => Vec::new(),
        }
    }

    pub fn in_room_at(&self, t: f64) -> bool {
        self.intervals().iter().any(|&[a, b]| a <= t && t < b)
    }

    /// Whether the face is turned towards the camera at `t` (in the room or not).
    /// `default_phase_s` spreads people over their cycles when the scenario does not say.
    pub fn facing_camera_at(&self, t: f64, default_phase_s: f64) -> bool {
        match self.look_away {
            None => true,
            Some(l) => {
                let phase = (t + l.phase_s.unwrap_or(default_phase_s)).rem_euclid(l.period_s);
                phase >= l.share * l.period_s
            }
        }
    }

    /// Seconds in the room within `[0, seconds)`.
    pub fn time_in_room(&self, seconds: f64) -> f64 {
        self.intervals().iter().map(|&[a, b]| (b.min(seconds) - a.max(0.0)).max(0.0)).sum()
    }

    /// The photo to enrol from, and which face in it.
    pub fn enrolment_source(&self) -> (&Path, usize) {
        match &self.enrol_photo {
            Some(p) => (p, self.enrol_face_index),
            None => (&self.photo, self.face_index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(yaml: &str) -> Person {
        serde_norway::from_str(yaml).unwrap()
    }

    #[test]
    fn back_rows_are_smaller_higher_and_closer_together() {
        let hall = Hall { rows: 5, seats_per_row: 10, front_face: 90, back_face: 22 };
        let (front, back) = (hall.seat(0, 0, 1920, 1080), hall.seat(4, 0, 1920, 1080));
        assert_eq!((front.size, back.size), (90, 22));
        assert!(back.y < front.y);
        assert!(back.x > front.x, "the back row is narrower: {back:?} vs {front:?}");
        let last = hall.seat(0, 9, 1920, 1080);
        assert!(last.x + last.size <= 1920 && front.x >= 0, "the front row fits the frame");
    }

    #[test]
    fn intervals_and_looking_away() {
        let p = person("{id: a, name: A, photo: a.jpg, enrolled: true, seat: [0, 0], present: [[0, 10], [20, 30]], look_away: {period_s: 10, share: 0.3, phase_s: 0}}");
        assert!(p.in_room_at(5.0) && !p.in_room_at(15.0) && p.in_room_at(20.0) && !p.in_room_at(30.0));
        assert_eq!(p.time_in_room(25.0), 15.0);
        assert!(!p.facing_camera_at(1.0, 0.0) && p.facing_camera_at(3.5, 0.0) && !p.facing_camera_at(11.0, 0.0));
    }

    #[test]
    fn bad_people_are_refused_with_their_id() {
        let hall = Hall { rows: 2, seats_per_row: 2, front_face: 40, back_face: 20 };
        for (yaml, expected) in [
            ("{id: ../x, name: X, photo: a.jpg, enrolled: true, x: 0, y: 0, size: 50}", "letters, digits"),
            ("{id: b, name: B, photo: a.jpg, enrolled: true, seat: [2, 0]}", "outside the hall"),
            ("{id: c, name: C, photo: a.jpg, enrolled: true, seat: [0, 0], x: 3}", "either `seat"),
            ("{id: d, name: D, photo: a.jpg, enrolled: true, seat: [0, 0], from_s: 5}", "go together"),
            ("{id: e, name: E, photo: a.jpg, enrolled: true, seat: [0, 0], present: [[5, 5]]}", "empty"),
        ] {
            let err = person(yaml).validate(Some(&hall)).unwrap_err().to_string();
            assert!(err.contains(expected), "{yaml}: {err}");
        }
    }
}
