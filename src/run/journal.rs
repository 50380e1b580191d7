//! The journal: every finished unit's result, appended as it reaches rank 0, so that a job
//! killed by a time limit, a dead node or Ctrl-C loses nothing that was done. `rollcall attend
//! --resume` reads it back, skips those units and finishes.
//!
//! Each record is written before the master goes on (a killed process loses nothing: the
//! kernel holds the write); the file is forced to disk with the first record that arrives
//! [`SYNC_EVERY`] or more after the last sync. Only a node losing power can lose records, those
//! since the last sync, and the master does not pay a disk sync per result (at 1024 ranks a
//! sync per result alone would keep it busy; see docs/SCALING.md).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::run::schedule::Finished;
use crate::util::output;

/// Least time between two syncs of the journal to disk.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The layout of the journal this rollcall writes. Its records are postcard, which carries no
/// field names: a journal read with another layout of [`Finished`] or of a unit's result
/// (`UnitOutput`) would decode into nonsense or not at all. Bump it with any change to either
/// (the test `the_record_layout_is_pinned` fails until you do); version 1 is every journal
/// written before journals carried a version.
pub const JOURNAL_VERSION: u32 = 2;

/// File name of the journal inside the output directory.
pub const FILE_NAME: &str = "attendance.journal";

/// What a journal belongs to: resuming with another video, roster, settings or plan would mix
/// two different jobs' results, so any difference is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub video_size: u64,
    /// Modification time of the video, seconds since the epoch.
    pub video_mtime: i64,
    /// CRC-32 of the roster file's bytes.
    pub roster_crc: u32,
    /// The settings that shape results, as YAML (see `Settings::to_yaml`).
    pub settings: String,
    /// Unit boundaries of the plan, postcard-encoded.
    pub plan: Vec<u8>,
}

impl Header {
    /// Says what differs first, for the refusal message.
    fn first_difference(&self, other: &Header) -> Option<String> {
        if (self.video_size, self.video_mtime) != (other.video_size, other.video_mtime) {
            Some("the video (its size or modification time changed)".to_owned())
        } else if self.roster_crc != other.roster_crc {
            Some("the roster file".to_owned())
        } else if let Some(key) = differing_setting(&self.settings, &other.settings) {
            Some(key)
        } else if self.plan != other.plan {
            Some("the plan of units (chunk, schedule or number of ranks under guided)".to_owned())
        } else {
            None
        }
    }
}

/// The first setting whose value differs between two settings files, named with both values.
/// Paths count as equal when they name the same file (`-o ./out` resumes `-o out`); the
/// output folder is the journal's own and the video and roster are checked by content.
fn differing_setting(recorded: &str, now: &str) -> Option<String> {
    use serde_norway::{Mapping, Value};
    // The journal's own folder, and two inputs the header checks by size, time and checksum.
    const BY_CONTENT: [&str; 3] = ["output", "video", "roster"];
    let mapping = |yaml: &str| match serde_norway::from_str::<Value>(yaml) {
        Ok(Value::Mapping(m)) => m,
        _ => Mapping::new(),
    };
    let (recorded, now) = (mapping(recorded), mapping(now));
    let same_path = |a: &Value, b: &Value| match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => {
            let canonical = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| Path::new(p).components().collect());
            canonical(a) == canonical(b)
        }
        _ => a == b,
    };
    let keys = recorded.keys().chain(now.keys().filter(|k| !recorded.contains_key(*k)));
    for key in keys {
        let name = key.as_str().unwrap_or("?");
        let (was, is) = (recorded.get(key).unwrap_or(&Value::Null), now.get(key).unwrap_or(&Value::Null));
        let same = match name {
            _ if BY_CONTENT.contains(&name) => true,
            "models" => same_path(was, is),
            _ => was == is,
        };
        if !same {
            let show = |v: &Value| serde_norway::to_string(v).map_or_else(|_| "?".to_owned(), |t| t.trim().to_owned());
            return Some(format!("the setting `{name}` ({} now, {} in the interrupted run)", show(is), show(was)));
        }
    }
    None
}

/// The first record: which layout and rollcall wrote the journal, and the job it belongs to.
/// `version` comes first, so that any later layout still shows its version (see
/// [`version_of`]).
#[derive(Debug, Serialize, Deserialize)]
struct Start {
    version: u32,
    /// `rollcall --version` of the writer, for the message that refuses it.
    rollcall: String,
    header: Header,
}

/// The variants keep their order: postcard stores a variant as its index.
#[derive(Debug, Serialize, Deserialize)]
enum Record {
    /// The first record of a version-1 journal: recognised so as to say so, never written.
    Unversioned(Header),
    Unit(Finished),
    Start(Start),
}

/// Index of [`Record::Start`] in postcard's encoding of `Record`.
const START_VARIANT: u32 = 2;

/// The rollcall this is, as journals record it.
fn this_rollcall() -> String {
    format!("{} ({})", env!("CARGO_PKG_VERSION"), env!("ROLLCALL_GIT_COMMIT"))
}

/// An open journal, appended to by rank 0.
pub struct Journal {
    file: File,
    path: PathBuf,
    /// When the file was last forced to disk.
    synced: Instant,
}

impl Journal {
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Starts a new journal for `header` (replacing any old one).
    pub fn create(dir: &Path, header: Header) -> Result<Self> {
        let path = Self::path_in(dir);
        // It holds detections with face positions and identities: the owner's only.
        let file = output::create_fresh(&path, output::OWNER_ONLY).context("cannot create the journal")?;
        let mut journal = Journal { file, path, synced: Instant::now() };
        journal.append(&Record::Start(Start { version: JOURNAL_VERSION, rollcall: this_rollcall(), header }))?;
        journal.sync()?;
        Ok(journal)
    }

    /// Reopens the journal in `dir` for `header`, returning it with the units already done.
    /// Refuses a journal of another job; drops a damaged tail.
    pub fn resume(dir: &Path, header: &Header) -> Result<(Self, Vec<Finished>)> {
        let path = Self::path_in(dir);
        let mut bytes = Vec::new();
        output::open_own(&path, false)?
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read the journal {}", path.display()))?;
        let not_a_journal = || {
            anyhow::anyhow!("cannot resume: {} is not a rollcall journal (pass --force to start over)", path.display())
        };
        let (version, writer) = version_of(&bytes).ok_or_else(not_a_journal)?;
        if version != JOURNAL_VERSION {
            let age = if version < JOURNAL_VERSION { "an earlier" } else { "a newer" };
            bail!(
                "cannot resume: the journal {} is from {age} rollcall ({writer}, journal format {version}; this is \
                 rollcall {}, journal format {JOURNAL_VERSION}), whose finished units this one cannot read: the run \
                 must start again (pass --force instead of --resume)",
                path.display(),
                this_rollcall()
            );
        }
        let parsed = parse(&bytes);
        let tail_only = parsed.damaged_tail_only(bytes.len());
        let Parsed { records, damaged } = parsed;
        let mut records = records.into_iter();
        let start = match records.next() {
            Some(Record::Start(start)) if damaged.first().is_none_or(|&(at, _)| at > 0) => start,
            _ => return Err(not_a_journal()),
        };
        let found = &start.header;
        if let Some(what) = found.first_difference(header) {
            bail!(
                "cannot resume: {what} differs from the interrupted run recorded in {}; \
                 rerun with the original inputs and settings, or pass --force to start over",
                path.display()
            );
        }
        let done: Vec<Finished> =
            records.filter_map(|r| if let Record::Unit(f) = r { Some(f) } else { None }).collect();
        let file = if tail_only {
            if let Some(&(at, n)) = damaged.first() {
                tracing::warn!(
                    "journal {}: dropped a damaged last record ({n} bytes at byte {at}; the run was killed mid-write)",
                    path.display()
                );
            }
            let file = output::open_own(&path, true)?;
            file.set_len(bytes.len() as u64 - damaged.first().map_or(0, |&(_, n)| n as u64))?; // new records go after the last good one
            file
        } else {
            tracing::warn!(
                "journal {}: damaged record at byte {} ({} damaged stretch(es), {} bytes skipped); \
                 the {} intact unit records around them are kept, the units lost are run again",
                path.display(),
                damaged[0].0,
                damaged.len(),
                damaged.iter().map(|d| d.1).sum::<usize>(),
                done.len()
            );
            // Rewritten without the damage, atomically: a kill now must not lose what was kept.
            let mut clean = frame(&Record::Start(start))?;
            for unit in &done {
                clean.extend(frame(&Record::Unit(unit.clone()))?);
            }
            output::write_atomically(&path, output::Access::OwnerOnly, |tmp| Ok(std::fs::write(tmp, &clean)?))?;
            output::open_own(&path, true)?
        };
        let mut journal = Journal { file, path, synced: Instant::now() };
        journal.sync()?;
        use std::io::Seek;
        journal.file.seek(std::io::SeekFrom::End(0))?;
        Ok((journal, done))
    }

    /// Appends a finished unit (forced to disk when the last sync is [`SYNC_EVERY`] old).
    pub fn record(&mut self, done: &Finished) -> Result<()> {
        self.check_in_place()?;
        self.append(&Record::Unit(done.clone()))
    }

    /// Fails when the journal's name no longer leads to this journal: its output folder was
    /// deleted or replaced while the run went on. Writing on would put the work into a file
    /// nobody can reach and the reports into a folder made again behind the user's back.
    pub fn check_in_place(&self) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let open = self.file.metadata().with_context(|| format!("the journal {}", self.path.display()))?;
        let named = std::fs::symlink_metadata(&self.path).ok();
        if named.is_none_or(|named| (named.dev(), named.ino()) != (open.dev(), open.ino())) {
            let folder = self.path.parent().unwrap_or(Path::new("."));
            bail!(
                "the output folder {} was deleted or replaced while the run went on (its journal is gone): stopped, \
                 nothing more written",
                folder.display()
            );
        }
        Ok(())
    }

    fn append(&mut self, record: &Record) -> Result<()> {
        let framed = frame(record)?;
        self.file.write_all(&framed).with_context(|| format!("writing the journal {}", self.path.display()))?;
        if self.synced.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        self.file.sync_data().with_context(|| format!("writing the journal {}", self.path.display()))?;
        self.synced = Instant::now();
        Ok(())
    }

    /// The job finished and its reports are written: the journal has served its purpose.
    pub fn remove(self) -> Result<()> {
        drop(self.file);
        std::fs::remove_file(&self.path).with_context(|| format!("cannot remove {}", self.path.display()))
    }
}

/// What a journal holds: its intact records, and the damaged stretches between or after them.
struct Parsed {
    records: Vec<Record>,
    /// (byte offset, bytes) of each stretch that held no intact record.
    damaged: Vec<(usize, usize)>,
}

impl Parsed {
    /// Whether all damage is one stretch at the end: what a kill in the middle of a write
    /// leaves, and what truncating the file repairs.
    fn damaged_tail_only(&self, len: usize) -> bool {
        match self.damaged.as_slice() {
            [] => true,
            [(at, n)] => at + n == len,
            _ => false,
        }
    }
}

/// The payload framed at `at` (length, CRC-32, payload) when its checksum holds, and the
/// framed length.
fn payload_at(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let head = bytes.get(at..at + 8)?;
    let len = u32::from_le_bytes(head[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head[4..].try_into().ok()?);
    let payload = bytes.get(at + 8..(at + 8).checked_add(len)?)?;
    (crc32fast::hash(payload) == crc).then_some((payload, 8 + len))
}

/// The record framed at `at` and its framed length.
fn record_at(bytes: &[u8], at: usize) -> Option<(Record, usize)> {
    let (payload, len) = payload_at(bytes, at)?;
    Some((postcard::from_bytes(payload).ok()?, len))
}

/// The layout version of a journal and who wrote it, from its first record alone: a version-1
/// journal starts with [`Record::Unversioned`]; any later one with [`Record::Start`], whose
/// first fields (version, writer) are read whatever follows them. `None`: not a journal.
fn version_of(bytes: &[u8]) -> Option<(u32, String)> {
    let (payload, _) = payload_at(bytes, 0)?;
    match postcard::take_from_bytes::<u32>(payload).ok()? {
        (0, rest) => {
            postcard::from_bytes::<Header>(rest).ok().map(|_| (1, "written before journals had versions".into()))
        }
        (START_VARIANT, rest) => {
            let ((version, writer), _) = postcard::take_from_bytes::<(u32, String)>(rest).ok()?;
            Some((version, format!("rollcall {writer}")))
        }
        _ => None,
    }
}

/// Reads every intact record. After a damaged stretch it looks for the next offset where a
/// record's length and checksum hold (a false match is a 1 in 2^32 chance), so one bad
/// sector costs the records in it, not every record after it.
fn parse(bytes: &[u8]) -> Parsed {
    let (mut records, mut damaged, mut at) = (Vec::new(), Vec::new(), 0);
    while at < bytes.len() {
        if let Some((record, len)) = record_at(bytes, at) {
            records.push(record);
            at += len;
            continue;
        }
        let next = (at + 1..bytes.len()).find(|&next| record_at(bytes, next).is_some()).unwrap_or(bytes.len());
        damaged.push((at, next - at));
        at = next;
    }
    Parsed { records, damaged }
}

/// A record as it is written: length, CRC-32 of the payload, payload.
fn frame(record: &Record) -> Result<Vec<u8>> {
    let payload = postcard::to_stdvec(record)?;
    let mut framed = Vec::with_capacity(payload.len() + 8);
    framed.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    framed.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    framed.extend_from_slice(&payload);
    Ok(framed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header { video_size: 10, video_mtime: 20, roster_crc: 30, settings: "every: 5\n".into(), plan: vec![1, 2] }
    }

    fn unit(u: u64) -> Finished {
        Finished { unit: u, rank: 1, start_s: 0.5, end_s: 1.5, payload: vec![u as u8; 40] }
    }

    #[test]
    fn units_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), header()).unwrap();
        j.record(&unit(3)).unwrap();
        j.record(&unit(1)).unwrap();
        drop(j);
        let (mut j, done) = Journal::resume(dir.path(), &header()).unwrap();
        assert_eq!(done, vec![unit(3), unit(1)]);
        j.record(&unit(2)).unwrap();
        drop(j);
        assert_eq!(Journal::resume(dir.path(), &header()).unwrap().1.len(), 3);
    }

    #[test]
    fn a_cut_or_corrupt_last_record_is_dropped_and_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), header()).unwrap();
        j.record(&unit(0)).unwrap();
        j.record(&unit(1)).unwrap();
        drop(j);
        let path = Journal::path_in(dir.path());
        let full = std::fs::read(&path).unwrap();
        // Killed mid-write: the last record is cut short.
        std::fs::write(&path, &full[..full.len() - 7]).unwrap();
        let (mut j, done) = Journal::resume(dir.path(), &header()).unwrap();
        assert_eq!(done, vec![unit(0)]);
        j.record(&unit(5)).unwrap();
        drop(j);
        assert_eq!(Journal::resume(dir.path(), &header()).unwrap().1, vec![unit(0), unit(5)]);
        // A flipped bit in the last record: its checksum fails.
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Journal::resume(dir.path(), &header()).unwrap().1, vec![unit(0)]);
    }

    /// A damaged record in the middle (a bad sector, a bit flip) costs that record only: the
    /// intact ones after it are kept, and the journal is rewritten without the damage.
    #[test]
    fn damage_in_the_middle_keeps_the_records_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::create(dir.path(), header()).unwrap();
        for u in 0..4 {
            journal.record(&unit(u)).unwrap();
        }
        drop(journal);
        let path = Journal::path_in(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let second_unit = std::fs::read(&path).unwrap().len() - 3 * frame(&Record::Unit(unit(0))).unwrap().len();
        bytes[second_unit + 12] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let (mut journal, done) = Journal::resume(dir.path(), &header()).unwrap();
        assert_eq!(done, vec![unit(0), unit(2), unit(3)], "unit 1 lost, units 2 and 3 kept");
        journal.record(&unit(1)).unwrap();
        drop(journal);
        let (_, done) = Journal::resume(dir.path(), &header()).unwrap();
        assert_eq!(done, vec![unit(0), unit(2), unit(3), unit(1)], "rewritten clean, then appended to");
        assert_eq!(parse(&std::fs::read(&path).unwrap()).damaged, vec![]);
    }

    #[test]
    fn another_jobs_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Journal::create(dir.path(), header()).unwrap();
        let other = Header { roster_crc: 31, ..header() };
        let err = Journal::resume(dir.path(), &other).err().unwrap().to_string();
        assert!(err.contains("the roster file differs"), "{err}");
        std::fs::write(Journal::path_in(dir.path()), b"not a journal").unwrap();
        assert!(Journal::resume(dir.path(), &header()).err().unwrap().to_string().contains("not a rollcall journal"));
    }

    /// Journals of other layouts are refused with both versions, before anything else is
    /// compared: a version-1 journal (its first record a bare header) and a newer one whose
    /// start record this rollcall cannot even decode.
    #[test]
    fn a_journal_of_another_version_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path_in(dir.path());
        std::fs::write(&path, frame(&Record::Unversioned(header())).unwrap()).unwrap();
        let err = Journal::resume(dir.path(), &header()).err().unwrap().to_string();
        assert!(
            err.contains("is from an earlier rollcall (written before journals had versions, journal format 1;"),
            "{err}"
        );
        assert!(err.contains("the run must start again (pass --force instead of --resume)"), "{err}");
        // A later layout: version 9, a writer, then fields this rollcall does not know.
        let mut payload = postcard::to_stdvec(&(START_VARIANT, 9u32, "9.0.0 (abcdef)")).unwrap();
        payload.extend([0xff; 5]);
        let framed =
            [&(payload.len() as u32).to_le_bytes()[..], &crc32fast::hash(&payload).to_le_bytes(), &payload].concat();
        std::fs::write(&path, framed).unwrap();
        let err = Journal::resume(dir.path(), &header()).err().unwrap().to_string();
        assert!(err.contains("is from a newer rollcall (rollcall 9.0.0 (abcdef), journal format 9;"), "{err}");
    }

    /// What a journal holds, byte for byte: a unit's record with one detection in its result.
    /// When this fails, the layout changed and old journals would be misread: bump
    /// [`JOURNAL_VERSION`], then update the bytes here.
    #[test]
    fn the_record_layout_is_pinned() {
        use crate::attendance::observation::Detection;
        let detection = Detection {
            frame: 25,
            time_s: 1.0,
            rank: 1,
            bbox: crate::face::FaceBox { x: 10, y: 20, w: 30, h: 40 },
            student: Some(2),
            distance: 0.25,
            track: None,
            encoding: vec![0.5],
        };
        let mut output = crate::run::worker::UnitOutput::default();
        (output.detections, output.failed_frames, output.frames) = (vec![detection], vec![50], 2);
        let done =
            Finished { unit: 3, rank: 1, start_s: 0.5, end_s: 1.5, payload: postcard::to_stdvec(&output).unwrap() };
        let hex: String = frame(&Record::Unit(done)).unwrap().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "36000000012d68bb010301000000000000e03f000000000000f83f220119000000000000f03f0114283c500102000000000000d03f00010000003f013202", "the journal's layout changed: bump JOURNAL_VERSION, then update these bytes");
    }
}
