//! Writing output files so that a file with its final name is always complete.
//!
//! Each writer fills a temporary sibling (`.NAME.partial`), which is renamed into place only when
//! the writer succeeded; on failure the temporary is removed. A crash therefore never leaves a
//! half-written `attendance.xlsx` that looks finished.
//!
//! Nothing is ever created, truncated or written through a symbolic link found in a folder
//! rollcall writes to (a link planted there by another user would otherwise aim rollcall's
//! writes at any file its user may write): new files are made by [`create_fresh`], existing
//! ones of rollcall's reopened by [`open_own`], folders by [`create_folder`], never
//! world-writable, whatever the umask.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Who may read a file: biometric data (encodings) is for the owner only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Shared,
    OwnerOnly,
}

/// Refuses, in one line naming the first, to overwrite any of `paths` that exists, unless the
/// user said `--force`: one wording for every command that writes files of fixed names.
pub fn refuse_to_overwrite<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>, force: bool) -> Result<()> {
    match paths.into_iter().find(|p| p.as_ref().exists()) {
        Some(existing) if !force => {
            anyhow::bail!("{} already exists: pass --force to overwrite it", existing.as_ref().display())
        }
        _ => Ok(()),
    }
}

/// Fails now, before long work, if `path` could not be written at the end: creates its folder
/// and, for a moment, the temporary file [`write_atomically`] will write.
pub fn check_writable(path: &Path) -> Result<()> {
    create_parent(path)?;
    let partial = partial_path(path);
    create_fresh(&partial, OWNER_ONLY).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::remove_file(&partial).with_context(|| format!("cannot remove {}", partial.display()))
}

/// The mode of files that name students or hold faces: the owner's only.
pub const OWNER_ONLY: u32 = 0o600;

/// Creates `dir` and any missing parents as folders that others may read but never write
/// (0755 before the umask: a umask of 000 gives 0755, not 0777; a stricter one is kept).
pub fn create_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => create_folder(parent).with_context(|| format!("cannot create the folder {}", parent.display())),
        None => Ok(()),
    }
}

/// Creates `path` as a new empty file of `mode` (before the umask), replacing what was there:
/// a file or a symbolic link of that name is removed first (a link itself, never what it points
/// to), and the new file is opened with `O_CREAT | O_EXCL | O_NOFOLLOW`, so that if anything
/// takes the name again in between the open fails instead of writing elsewhere.
pub fn create_fresh(path: &Path, mode: u32) -> Result<File> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(path).with_context(|| format!("cannot replace {}", path.display()))?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Opens a file rollcall wrote earlier (a journal to resume), for reading or also writing,
/// refusing a symbolic link in its place in one line.
pub fn open_own(path: &Path, write: bool) -> Result<File> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        anyhow::bail!(
            "{} is a symbolic link: rollcall never writes through links in the folders it writes to; remove it",
            path.display()
        );
    }
    OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// A file rendered in memory, to be written into an output folder as `name`.
pub struct Rendered {
    pub name: String,
    pub bytes: Vec<u8>,
    pub access: Access,
}

/// Writes `files` into `dir`, each atomically, once the folder's file system has been seen to
/// hold room for all of them: a full disk stops before any earlier report is replaced, with
/// one line that says how much is needed. A SIGTERM or SIGINT that arrived while they were
/// being read or rendered stops here, before the first is written, so that a stopped command
/// leaves the earlier set whole rather than half replaced.
pub fn write_rendered(dir: &Path, files: &[Rendered]) -> Result<()> {
    create_folder(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let file_system = rustix::fs::statvfs(dir).ok();
    // Whole blocks each.
    let block = file_system.as_ref().map_or(4096, |s| s.f_frsize.max(1));
    let need = files.iter().map(|f| (f.bytes.len() as u64).div_ceil(block).max(1) * block).sum();
    if let Some(free) = file_system.as_ref().map(free_of).filter(|&free| free < need) {
        return Err(out_of_space(dir, need, Some(free)));
    }
    crate::util::interrupt::check().context("stopped before writing: no file written")?;
    for f in files {
        write_atomically(&dir.join(&f.name), f.access, |tmp| Ok(std::fs::write(tmp, &f.bytes)?)).map_err(|e| {
            if is_out_of_space(&e) {
                out_of_space(dir, need, free_space(dir))
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// Bytes an unprivileged writer may still use under `dir`, if the file system says.
fn free_space(dir: &Path) -> Option<u64> {
    rustix::fs::statvfs(dir).ok().as_ref().map(free_of)
}

fn free_of(file_system: &rustix::fs::StatVfs) -> u64 {
    file_system.f_bavail.saturating_mul(file_system.f_frsize)
}

/// Too little room for the reports: what they need and what the file system has.
#[derive(Debug, thiserror::Error)]
#[error("not enough space in {}: the reports need {}{}", dir.display(), kib(*need), free.map(|f| format!(", {} free", kib(f))).unwrap_or_default())]
pub struct OutOfSpace {
    dir: PathBuf,
    need: u64,
    free: Option<u64>,
}

fn out_of_space(dir: &Path, need: u64, free: Option<u64>) -> anyhow::Error {
    OutOfSpace { dir: dir.to_path_buf(), need, free }.into()
}

/// Whether an error was caused by a full disk or an exhausted quota.
pub fn is_out_of_space(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.is::<OutOfSpace>()
            || cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
            })
    })
}

/// `n` bytes in KiB, rounded up: a size a person can compare with `df -k`.
fn kib(n: u64) -> String {
    format!("{} KiB", n.div_ceil(1024))
}

/// Runs `write` on a temporary path next to `path` and renames the result into place.
pub fn write_atomically(path: &Path, access: Access, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let partial = partial_path(path);
    let mode = match access {
        Access::Shared => 0o644,
        Access::OwnerOnly => OWNER_ONLY,
    };
    create_parent(path)?;
    // Create the file ourselves so that the mode holds from the first byte; writers that
    // truncate (HDF5, xlsx) keep an existing file's mode. The rename replaces a link at
    // `path` itself, never what it points to.
    create_fresh(&partial, mode)?;
    let result = write(&partial).and_then(|()| {
        std::fs::rename(&partial, path).with_context(|| format!("cannot rename into {}", path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// `.NAME.partial` beside `path`; for a name so long that this would pass the file system's
/// 255 bytes, NAME is cut (at a character) to fit.
fn partial_path(path: &Path) -> PathBuf {
    const MAX_NAME: usize = 255;
    const ADDED: usize = ".".len() + ".partial".len();
    let mut name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.len() + ADDED > MAX_NAME {
        let mut cut = MAX_NAME - ADDED;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    path.with_file_name(format!(".{name}.partial"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn success_renames_and_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.h5");
        write_atomically(&path, Access::OwnerOnly, |p| Ok(std::fs::write(p, b"x")?)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_name_of_the_longest_legal_length_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{}.xlsx", "é".repeat(125))); // 255 bytes
        write_atomically(&path, Access::OwnerOnly, |p| Ok(std::fs::write(p, b"x")?)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_link_in_place_of_the_temporary_file_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"keep").unwrap();
        let path = dir.path().join("a.csv");
        std::os::unix::fs::symlink(&elsewhere, partial_path(&path)).unwrap();
        check_writable(&path).unwrap();
        write_atomically(&path, Access::OwnerOnly, |p| Ok(std::fs::write(p, b"x")?)).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep");
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn missing_folders_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/deeper/roster.h5");
        write_atomically(&path, Access::OwnerOnly, |p| Ok(std::fs::write(p, b"x")?)).unwrap();
        assert!(path.exists());
    }

    #[test]
    fn failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        let err = write_atomically(&path, Access::Shared, |p| {
            std::fs::write(p, b"half")?;
            anyhow::bail!("disk full")
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

/// An exclusive hold on an output folder for the length of a run, so that two runs never
/// write into one folder at once: the second stops at once and names the process holding it.
/// An advisory `flock(2)` on the folder itself (no lock file is left behind), released by the
/// kernel when the process ends, however it ends.
#[derive(Debug)]
pub struct FolderLock {
    _folder: std::fs::File,
}

impl FolderLock {
    /// Creates `dir` if need be and takes the lock, or says who has it.
    pub fn take(dir: &Path) -> Result<Self> {
        create_folder(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
        let folder =
            std::fs::File::open(dir).with_context(|| format!("cannot open output directory {}", dir.display()))?;
        match folder.try_lock() {
            Ok(()) => Ok(FolderLock { _folder: folder }),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "{} is in use by another rollcall run{}: wait for it to end, or choose another -o",
                dir.display(),
                lock_holder(dir).map(|pid| format!(" (process {pid})")).unwrap_or_default()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock output directory {}", dir.display()))
            }
        }
    }
}

/// The process holding a `flock` on `dir`, from the kernel's table in `/proc/locks` (lines
/// like `1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF`, the last number of the device
/// field being the inode).
fn lock_holder(dir: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(dir).ok()?.ino();
    let table = std::fs::read_to_string("/proc/locks").ok()?;
    table.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, "FLOCK", _, _, pid, device, ..] = fields.as_slice() else {
            return None;
        };
        let locked: u64 = device.rsplit(':').next()?.parse().ok()?;
        (locked == inode).then(|| pid.parse().ok()).flatten()
    })
}
