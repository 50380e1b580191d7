//! The roster: who is enrolled, and their face encodings.
//!
//! A student may have several enrolment photos; each photo gives one encoding row, and a face
//! matches the student owning the nearest row. Stored in HDF5 under `/roster` (see
//! docs/FORMAT.md), both in `roster.h5` and inside every result file, so a result is
//! self-contained. [`enroll`] builds one from a folder of photos.

pub mod enroll;

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::face::encoder::UNRECORDED;
use crate::face::{ENCODER, ENCODING_LEN};
use crate::util::h5util;

pub const GROUP: &str = "roster";
/// The attribute of `/roster` naming the encoder that made its encodings.
const ENCODER_ATTR: &str = "encoder";

/// Refuses encodings made by another encoder than this build's: distances between two
/// encoders' vectors mean nothing. A roster without the record is [`UNRECORDED`]'s.
fn check_encoder(group: &hdf5::Group) -> Result<()> {
    let made_by = match group.attr_names()?.iter().any(|n| n == ENCODER_ATTR) {
        true => h5util::read_str_attr(group, ENCODER_ATTR)?,
        false => UNRECORDED.to_owned(),
    };
    ensure!(
        made_by == ENCODER.name,
        "its encodings were made by the encoder {made_by}, and this rollcall encodes with {}: enrol the photos \
         again with `rollcall enroll`",
        ENCODER.name
    );
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roster {
    /// One per student, unique.
    pub ids: Vec<String>,
    /// Display names, parallel to `ids`.
    pub names: Vec<String>,
    /// One encoding per enrolment photo, `ENCODING_LEN` columns.
    pub encodings: Array2<f64>,
    /// For each encoding row, the index of its student in `ids`.
    pub owner: Vec<u32>,
    /// For each encoding row, the photo it came from (relative to the enrolment folder).
    pub sources: Vec<String>,
}

impl Roster {
    /// Checks the invariants every reader relies on.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.ids.is_empty(), "the roster holds no students");
        ensure!(self.names.len() == self.ids.len(), "names and ids differ in length");
        let rows = self.encodings.nrows();
        ensure!(
            self.encodings.ncols() == ENCODING_LEN,
            "encodings have {} columns, not {ENCODING_LEN}",
            self.encodings.ncols()
        );
        ensure!(self.owner.len() == rows && self.sources.len() == rows, "encoding tables differ in length");
        let mut seen = HashSet::new();
        for id in &self.ids {
            ensure!(!id.is_empty(), "an empty student id");
            ensure!(seen.insert(id), "duplicate student id {id:?}");
        }
        for &o in &self.owner {
            ensure!((o as usize) < self.ids.len(), "an encoding belongs to student #{o}, which does not exist");
        }
        for (i, id) in self.ids.iter().enumerate() {
            ensure!(self.owner.contains(&(i as u32)), "student {id:?} has no encoding");
        }
        // An encoding outside the encoder's norms (NaN from a broken tool, zeros, another
        // model's vectors) would match nobody or everybody.
        let (shortest, longest) = ENCODER.norms;
        for (row, encoding) in self.encodings.rows().into_iter().enumerate() {
            let length = encoding.dot(&encoding).sqrt();
            ensure!(
                encoding.iter().all(|v| v.is_finite()) && (shortest..=longest).contains(&length),
                "the encoding of {} ({}) is not a {} face encoding: {}",
                self.ids[self.owner[row] as usize],
                self.sources[row],
                ENCODER.name,
                if length.is_finite() {
                    format!("length {length:.2}, expected {shortest} to {longest}")
                } else {
                    "not a number".into()
                }
            );
        }
        Ok(())
    }

    /// Writes the roster as `/roster` inside an open file.
    pub fn write_h5(&self, file: &hdf5::File) -> Result<()> {
        let g = file.create_group(GROUP)?;
        h5util::write_str_attr(&g, ENCODER_ATTR, ENCODER.name)?;
        h5util::write_strings(&g, "student_id", &self.ids)?;
        h5util::write_strings(&g, "name", &self.names)?;
        g.new_dataset_builder().with_data(&self.encodings).create("encoding")?;
        g.new_dataset_builder().with_data(&self.owner).create("encoding_student")?;
        h5util::write_strings(&g, "encoding_source", &self.sources)?;
        Ok(())
    }

    /// Reads `/roster` from an open file and checks it.
    pub fn read_h5(file: &hdf5::File) -> Result<Self> {
        let g = file.group(GROUP).map_err(|_| anyhow::anyhow!("no /{GROUP} group"))?;
        check_encoder(&g)?;
        let roster = Roster {
            ids: h5util::read_strings(&g, "student_id").context("/roster/student_id")?,
            names: h5util::read_strings(&g, "name").context("/roster/name")?,
            encodings: g.dataset("encoding").and_then(|d| d.read_2d()).context("/roster/encoding")?,
            owner: g.dataset("encoding_student").and_then(|d| d.read_raw()).context("/roster/encoding_student")?,
            sources: h5util::read_strings(&g, "encoding_source").context("/roster/encoding_source")?,
        };
        roster.validate()?;
        Ok(roster)
    }

    /// Opens a roster file written by `rollcall enroll`, with an error that says what is wrong
    /// with it rather than HDF5's.
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            bail!(
                "roster {} does not exist (make one with `rollcall enroll PHOTOS_DIR -o {}`)",
                path.display(),
                path.display()
            );
        }
        // A folder, a device or a pipe is named as such (opening a pipe would wait forever).
        crate::util::input::regular_file(path, "roster")?;
        let file = crate::util::h5util::open(path, "roster")?;
        if let Ok(group) = file.group(GROUP) {
            check_encoder(&group).map_err(|e| anyhow::anyhow!("roster {}: {e:#}", path.display()))?;
        }
        Roster::read_h5(&file).map_err(|e| anyhow::anyhow!("roster {} is not a rollcall roster: {e:#}", path.display()))
    }

    /// This roster with one more enrolment: `encoding` (from `source`) of student `id`, a new
    /// student named `name` or, where `id` is enrolled already, another enrolment of them.
    pub fn with_enrolment(mut self, id: &str, name: &str, encoding: &[f64], source: String) -> Result<Roster> {
        ensure!(encoding.len() == ENCODING_LEN, "the encoding has {} values, not {ENCODING_LEN}", encoding.len());
        let student = match self.ids.iter().position(|i| i == id) {
            Some(s) => s,
            None => {
                self.ids.push(id.to_owned());
                self.names.push(name.to_owned());
                self.ids.len() - 1
            }
        };
        self.encodings.push_row(ndarray::ArrayView1::from(encoding))?;
        self.owner.push(student as u32);
        self.sources.push(source);
        self.validate()?;
        Ok(self)
    }

    /// The student an encoding row belongs to.
    pub fn student_of(&self, encoding_row: usize) -> usize {
        self.owner[encoding_row] as usize
    }
}
