//! The journal: every finished unit's result, appended as it reaches rank 0, so that a job
//! killed by a time limit, a dead node or Ctrl-C loses nothing that was done. `rollcall attend
//! --resume` reads it back, skips those units and finishes.
//!
//! Each record is written before the master goes on (a killed process loses nothing: the
//! kernel holds the write); the file is forced to disk with the first record that arrives
//! [`SYNC_EVERY`] or more after the last sync. Only a node losing power can lose records, those
//! since the last sync, and the master does not pay a disk sync per result (at 1024 ranks a
//! sync per result alone would keep it busy; see docs/SCALING.md).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::schedule::Finished;

/// Least time between two syncs of the journal to disk.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

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
    /// Names the first field that differs, for the refusal message.
    fn first_difference(&self, other: &Header) -> Option<&'static str> {
        if (self.video_size, self.video_mtime) != (other.video_size, other.video_mtime) {
            Some("the video (its size or modification time changed)")
        } else if self.roster_crc != other.roster_crc {
            Some("the roster file")
        } else if self.settings != other.settings {
            Some("the settings")
        } else if self.plan != other.plan {
            Some("the plan of units (chunk, schedule or number of ranks under guided)")
        } else {
            None
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
enum Record {
    Header(Header),
    Unit(Finished),
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
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600) // it holds detections with face positions and identities
            .open(&path)
            .with_context(|| format!("cannot create the journal {}", path.display()))?;
        let mut journal = Journal { file, path, synced: Instant::now() };
        journal.append(&Record::Header(header))?;
        journal.sync()?;
        Ok(journal)
    }

    /// Reopens the journal in `dir` for `header`, returning it with the units already done.
    /// Refuses a journal of another job; drops a damaged tail.
    pub fn resume(dir: &Path, header: &Header) -> Result<(Self, Vec<Finished>)> {
        let path = Self::path_in(dir);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read the journal {}", path.display()))?;
        let (records, good_len) = parse(&bytes);
        let mut records = records.into_iter();
        match records.next() {
            Some(Record::Header(found)) => {
                if let Some(what) = found.first_difference(header) {
                    bail!(
                        "cannot resume: {what} differs from the interrupted run recorded in {}; \
                         rerun with the original inputs and settings, or pass --force to start over",
                        path.display()
                    );
                }
            }
            _ => bail!("cannot resume: {} is not a rollcall journal (pass --force to start over)", path.display()),
        }
        if good_len < bytes.len() {
            tracing::warn!(
                "journal {}: dropped a damaged last record ({} bytes; the run was killed mid-write)",
                path.display(),
                bytes.len() - good_len
            );
        }
        let done: Vec<Finished> =
            records.filter_map(|r| if let Record::Unit(f) = r { Some(f) } else { None }).collect();
        let file = OpenOptions::new().write(true).open(&path)?;
        file.set_len(good_len as u64)?; // new records go after the last good one
        let mut journal = Journal { file, path, synced: Instant::now() };
        journal.sync()?;
        use std::io::Seek;
        journal.file.seek(std::io::SeekFrom::End(0))?;
        Ok((journal, done))
    }

    /// Appends a finished unit (forced to disk when the last sync is [`SYNC_EVERY`] old).
    pub fn record(&mut self, done: &Finished) -> Result<()> {
        self.append(&Record::Unit(done.clone()))
    }

    fn append(&mut self, record: &Record) -> Result<()> {
        let payload = postcard::to_stdvec(record)?;
        let mut framed = Vec::with_capacity(payload.len() + 8);
        framed.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        framed.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        framed.extend_from_slice(&payload);
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

/// The intact records of a journal and the byte length they span.
fn parse(bytes: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= 8 {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
        let Some(payload) = bytes.get(at + 8..at + 8 + len) else { break };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Ok(record) = postcard::from_bytes(payload) else { break };
        records.push(record);
        at += 8 + len;
    }
    (records, at)
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
}
