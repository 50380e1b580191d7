//! `rollcall enroll`: a folder of photos → `roster.h5`.
//!
//! Layout: `DIR/<student_id>.<jpg|jpeg|png>` or `DIR/<student_id>/<any>.<jpg|jpeg|png>` (several
//! photos each), and an optional `DIR/roster.csv` with columns `student_id,name`. Every photo
//! must show exactly one face; all problems are collected and reported together, and nothing
//! is written unless every photo is usable.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ndarray::Array2;

use crate::face::{FacePipeline, ENCODER, ENCODING_LEN};
use crate::roster::Roster;
use crate::util::output::{write_atomically, Access};

const PHOTO_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];
/// Faces narrower than this in an enrolment photo give noisier encodings (dlib aligns every
/// face to a 150 px chip, so a small face is upscaled).
const SMALL_FACE_PX: i32 = 80;
pub const NAMES_FILE: &str = "roster.csv";

/// Whether `path` is named like a photo; what it really is, [`encode_photo`] finds out (a
/// FIFO, a dangling link or a device named `x.jpg` is reported there, never skipped).
fn named_like_photo(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Every entry of the photos folder is used or reported: this one is neither a photo, a
/// student's folder nor the names file.
fn ignored(path: &Path) {
    tracing::warn!("{}: ignored (photos are .jpg, .jpeg or .png)", path.display());
}

/// The name of a folder entry, which must be text: student ids and photo names are recorded
/// in the roster and the reports as UTF-8.
fn text_name(path: &Path) -> Result<&str> {
    path.file_name().and_then(|n| n.to_str()).with_context(|| {
        format!(
            "{}: its name is not UTF-8 text: rename it (student ids and photo names are recorded as text)",
            path.display()
        )
    })
}

/// Whether `path` is hidden (its name starts with a dot: `.DS_Store`, macOS's `._alice.jpg`).
/// Hidden entries are skipped, and said to be when they look like a photo: a student whose
/// only photo was hidden by accident must not silently go missing from the roster.
fn skipped_as_hidden(path: &Path) -> Result<bool> {
    let hidden = text_name(path)?.starts_with('.');
    if hidden && named_like_photo(path) {
        tracing::warn!("{}: skipped, its name starts with a dot (hidden): rename it to enrol it", path.display());
    }
    Ok(hidden)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read photos folder {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

/// Student id → photos, in a stable order.
fn find_photos(dir: &Path) -> Result<BTreeMap<String, Vec<PathBuf>>> {
    let mut photos: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in sorted_entries(dir)? {
        if skipped_as_hidden(&entry)? {
            continue;
        }
        let name = text_name(&entry)?;
        if entry.is_dir() {
            let mut inside = Vec::new();
            for photo in sorted_entries(&entry)? {
                if skipped_as_hidden(&photo)? {
                    continue;
                }
                if named_like_photo(&photo) {
                    inside.push(photo);
                } else {
                    ignored(&photo);
                }
            }
            if inside.is_empty() {
                bail!("{}: folder holds no .jpg/.jpeg/.png photo", entry.display());
            }
            photos.entry(name.to_owned()).or_default().extend(inside);
        } else if named_like_photo(&entry) {
            let id = entry.file_stem().and_then(|s| s.to_str()).unwrap_or(name).to_owned();
            photos.entry(id).or_default().push(entry);
        } else if name != NAMES_FILE {
            ignored(&entry);
        }
    }
    if photos.is_empty() {
        bail!("no photos in {} (expected <student_id>.jpg or <student_id>/<photo>.jpg)", dir.display());
    }
    Ok(photos)
}

/// Names from `roster.csv`, if the folder has one.
fn read_names(dir: &Path) -> Result<HashMap<String, String>> {
    let path = dir.join(NAMES_FILE);
    let mut names = HashMap::new();
    if !path.exists() {
        return Ok(names);
    }
    let text = crate::util::input::read_text(&path, "names file")?;
    // Spreadsheets in much of Europe save CSV with `;` between fields (`,` is their decimal
    // mark): a header with `;` and no `,` is read that way.
    let header = text.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') && !header.contains(',') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h.trim() == name).with_context(|| format!("{}: no `{name}` column", path.display()))
    };
    let (id_col, name_col) = (column("student_id")?, column("name")?);
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: bad row {}", path.display(), line + 2))?;
        let id = record.get(id_col).unwrap_or("").trim().to_owned();
        let name = record.get(name_col).unwrap_or("").trim().to_owned();
        if names.insert(id.clone(), name).is_some() {
            bail!("{}: duplicate student id {id:?}", path.display());
        }
    }
    Ok(names)
}

/// The largest enrolment photo decoded, in pixels (a 48-megapixel phone photo fits). Its size
/// is read from the file's header first: detection upsamples a photo to four times its pixels,
/// and a 1.2 MB PNG declaring 20000×20000 px once grew to 9.5 GB before failing.
const MAX_PHOTO_PIXELS: u64 = 50_000_000;

/// Encodes the single face of one photo, or says why it cannot be used (each error starts
/// with the photo's path).
fn encode_photo(pipeline: &FacePipeline, photo: &Path) -> Result<[f64; ENCODING_LEN]> {
    // Reading a FIFO would wait forever, a device would never end: only regular files.
    let meta = std::fs::metadata(photo).with_context(|| format!("{}: cannot read", photo.display()))?;
    if !meta.is_file() {
        bail!("{}: not a regular file", photo.display());
    }
    if let Ok(size) = imagesize::size(photo) {
        let pixels = size.width as u64 * size.height as u64;
        if pixels > MAX_PHOTO_PIXELS {
            bail!(
                "{}: {}×{} px ({} megapixels) is more than an enrolment photo needs (at most {}): scale it down first, \
                 e.g. to 4000 px on its longer side",
                photo.display(),
                size.width,
                size.height,
                pixels / 1_000_000,
                MAX_PHOTO_PIXELS / 1_000_000
            );
        }
    }
    let image = crate::media::read_image(photo)?;
    crate::media::warn_if_cut_short(photo)?;
    let (faces, _) = pipeline.analyze(&image).with_context(|| photo.display().to_string())?;
    match faces.len() {
        1 => {
            if faces[0].bbox.w < SMALL_FACE_PX {
                tracing::warn!(
                    "{}: the face is only {} px wide; photos with faces of {SMALL_FACE_PX} px or more match more reliably",
                    photo.display(),
                    faces[0].bbox.w
                );
            }
            Ok(faces[0].encoding)
        }
        0 => bail!("{}: no face found (need exactly one)", photo.display()),
        n => bail!("{}: {n} faces found (need exactly one)", photo.display()),
    }
}

/// Builds the roster of `dir`. All unusable photos are listed in the error.
pub fn build_roster(dir: &Path, pipeline: &FacePipeline) -> Result<Roster> {
    if !dir.is_dir() {
        bail!("photos folder {} does not exist", dir.display());
    }
    let photos = find_photos(dir)?;
    let mut names = read_names(dir)?;
    if let Some(missing) = names.keys().find(|id| !photos.contains_key(*id)) {
        bail!("{}: student {missing:?} has no photo", dir.join(NAMES_FILE).display());
    }
    let mut roster = Roster {
        ids: vec![],
        names: vec![],
        encodings: Array2::zeros((0, ENCODING_LEN)),
        owner: vec![],
        sources: vec![],
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (student, (id, files)) in photos.into_iter().enumerate() {
        for file in files {
            // SIGTERM/SIGINT: stop between photos and write nothing (main exits 128 + signal).
            crate::util::interrupt::check().context("enrolment stopped: no roster written")?;
            match encode_photo(pipeline, &file) {
                Ok(encoding) => {
                    rows.extend_from_slice(&encoding);
                    roster.owner.push(student as u32);
                    roster.sources.push(file.strip_prefix(dir).unwrap_or(&file).display().to_string());
                }
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        roster.names.push(names.remove(&id).filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone()));
        roster.ids.push(id);
    }
    if !problems.is_empty() {
        bail!("{} unusable photo(s), no roster written:\n  {}", problems.len(), problems.join("\n  "));
    }
    roster.encodings = Array2::from_shape_vec((roster.owner.len(), ENCODING_LEN), rows)?;
    roster.validate()?;
    warn_of_near_identical_students(&roster);
    Ok(roster)
}

/// Warns of two students enrolled with near-identical faces (the same photo under two ids,
/// `Obama.jpg` and `obama.jpg`): every face would match both, and whichever sorts second
/// would be Absent in every lecture.
pub fn warn_of_near_identical_students(roster: &Roster) {
    let n = roster.owner.len();
    for (i, j) in (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))) {
        let (a, b) = (roster.owner[i] as usize, roster.owner[j] as usize);
        let (row_i, row_j) = (roster.encodings.row(i), roster.encodings.row(j));
        let distance = ENCODER.metric.distance(row_i.iter().copied(), row_j.iter().copied());
        if a != b && distance < ENCODER.near_identical {
            tracing::warn!(
                "{} ({}) and {} ({}) are near-identical faces (distance {distance:.2}): the same person twice? only one \
                 of the two students would ever be matched",
                roster.ids[a],
                roster.sources[i],
                roster.ids[b],
                roster.sources[j]
            );
        }
    }
}

/// Writes a roster file (owner-only: face encodings are biometric data).
pub fn write_roster(roster: &Roster, path: &Path) -> Result<()> {
    write_atomically(path, Access::OwnerOnly, |tmp| {
        let file = hdf5::File::create(tmp)?;
        crate::util::h5util::write_str_attr(&file, "rollcall_version", env!("CARGO_PKG_VERSION"))?;
        roster.write_h5(&file)?;
        file.close()?;
        Ok(())
    })
}
