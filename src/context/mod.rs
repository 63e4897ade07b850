//! Build contexts: which files the engine receives for an image (walked and filtered exactly
//! like the docker CLI does) and their digests.

pub mod archive;
pub mod ignore;
mod raw_path;
mod walk;

pub use raw_path::RawPath;
pub use walk::{Entry, EntryKind, FileDigests, walk, walk_for_buildkit};

/// The first entry whose name (or symlink target) is not UTF-8, if any.
pub fn first_non_utf8(entries: &[Entry]) -> Option<&Entry> {
    entries.iter().find(|e| {
        e.path.to_str().is_none()
            || matches!(&e.kind, EntryKind::Symlink(t) if t.to_str().is_none())
    })
}

/// Opens a regular file the walk listed, without following a symlink, and checks it is still
/// the file the walk saw (its device and inode): a context changed under hier is an error, never
/// a way to read something else.
pub fn open_entry(root: &std::path::Path, entry: &Entry) -> std::io::Result<std::fs::File> {
    open_entry_at(&root.join(&entry.path), entry)
}

/// [`open_entry`], given the entry's full path.
pub fn open_entry_at(path: &std::path::Path, entry: &Entry) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        // O_NONBLOCK: a fifo put in the file's place must not hang the open.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.dev() != entry.dev || meta.ino() != entry.ino {
        return Err(std::io::Error::other(format!(
            "{} changed since the context was listed",
            path.display()
        )));
    }
    Ok(file)
}

/// A context problem: which file, and what went wrong.
#[derive(Debug)]
pub enum ContextError {
    /// A broken `.dockerignore` (its path, line and message).
    Ignore {
        path: std::path::PathBuf,
        line: usize,
        message: String,
    },
    Io {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContextError::Ignore {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            ContextError::Io { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_symlink_targets_that_are_not_utf8_are_found() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain.txt"), "x").unwrap();
        assert!(first_non_utf8(&walk(dir.path(), None).unwrap()).is_none());
        let odd = OsStr::from_bytes(b"caf\xe9");
        std::os::unix::fs::symlink(odd, dir.path().join("link")).unwrap();
        let entries = walk(dir.path(), None).unwrap();
        assert_eq!(first_non_utf8(&entries).unwrap().path, "link");
        std::fs::write(dir.path().join(odd), "x").unwrap();
        let entries = walk(dir.path(), None).unwrap();
        let found = first_non_utf8(&entries).unwrap();
        assert_eq!(found.path.as_bytes(), b"caf\xe9");
        assert_eq!(found.kind, EntryKind::File);
    }

    #[test]
    fn a_listed_file_replaced_by_a_symlink_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "outside").unwrap();
        std::fs::write(dir.path().join("a.txt"), "inside").unwrap();
        let entries = walk(dir.path(), None).unwrap();
        let entry = entries.iter().find(|e| e.path == "a.txt").unwrap();
        assert!(open_entry(dir.path(), entry).is_ok());
        std::fs::remove_file(dir.path().join("a.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("a.txt"))
            .unwrap();
        assert!(open_entry(dir.path(), entry).is_err());
        // Another file in its place is not the file that was listed either.
        std::fs::write(dir.path().join("b.txt"), "other").unwrap();
        std::fs::rename(dir.path().join("b.txt"), dir.path().join("a.txt")).unwrap();
        let err = open_entry(dir.path(), entry).unwrap_err();
        assert!(
            err.to_string()
                .contains("changed since the context was listed"),
            "{err}"
        );
    }
}
