//! Reading the small text files a user names (configs, manifests, roster.csv, node and scenario
//! files): regular files only, checked before they are opened (opening a FIFO would block
//! until a writer came, deaf to signals; `/dev/zero` would be read until memory ran out), and
//! of a bounded size, so that a wrong path is one line, not a hang or an out-of-memory kill.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// The largest text file rollcall reads: a manifest of thousands of lectures or a roster.csv of
/// thousands of students is a few hundred kB.
pub const MAX_TEXT_BYTES: u64 = 4 << 20;

/// Checks, without opening it, that `path` (links followed) is a regular file; `what` names it
/// in the error ("config file").
pub fn regular_file(path: &Path, what: &str) -> Result<std::fs::Metadata> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{what} {} does not exist", path.display()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {what} {}", path.display())),
    };
    if meta.is_dir() {
        bail!("{what} {} is a folder, not a file", path.display());
    }
    if !meta.is_file() {
        bail!("{what} {} is not a regular file (a device, a pipe or a socket)", path.display());
    }
    Ok(meta)
}

/// The text of `path`, a regular file of at most [`MAX_TEXT_BYTES`].
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    let too_big = |size: u64| {
        anyhow::anyhow!(
            "{what} {} is {size} bytes; rollcall reads {what}s of at most {MAX_TEXT_BYTES} bytes",
            path.display()
        )
    };
    let size = regular_file(path, what)?.len();
    if size > MAX_TEXT_BYTES {
        return Err(too_big(size));
    }
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    // The file may grow between the check and the read: never more than the bound.
    file.take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what} {} is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "every: 5\n").unwrap();
        assert_eq!(read_text(&file, "config file").unwrap(), "every: 5\n");
        let err = |p: &Path| read_text(p, "config file").unwrap_err().to_string();
        assert!(err(dir.path()).ends_with("is a folder, not a file"));
        assert!(err(Path::new("/dev/zero")).ends_with("is not a regular file (a device, a pipe or a socket)"));
        assert!(err(&dir.path().join("none")).ends_with("does not exist"));
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'#'; MAX_TEXT_BYTES as usize + 1]).unwrap();
        assert!(err(&big).contains("rollcall reads config files of at most"));
    }
}
