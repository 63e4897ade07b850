//! Walking a build context: pre-order, names sorted byte-wise in each folder, symlinks not
//! followed, the root itself not listed; an excluded folder is entered only when an exception
//! pattern names something inside it literally, and then gets no entry of its own. Sockets are
//! left out (the docker CLI cannot archive them).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::ContextError;
use super::RawPath;
use super::ignore::{ParentMatches, Patterns, read_lines};
use crate::hash;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    /// Its target, as the file system holds it.
    Symlink(RawPath),
    Fifo,
    CharDevice,
    BlockDevice,
}

/// One entry of the context as the engine receives it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative, `/`-separated, without a trailing `/`; its bytes as the file system holds them.
    pub path: RawPath,
    pub kind: EntryKind,
    /// `st_mode & 0o7777`.
    pub mode: u32,
    pub size: u64,
    /// Seconds since the epoch.
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub rdev: u64,
}

impl Entry {
    /// An entry at `path` (relative) with the metadata of its file.
    fn new(path: RawPath, kind: EntryKind, meta: &fs::Metadata) -> Self {
        Entry {
            path,
            kind,
            mode: meta.mode() & 0o7777,
            size: if meta.file_type().is_file() {
                meta.size()
            } else {
                0
            },
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            dev: meta.dev(),
            ino: meta.ino(),
            nlink: meta.nlink(),
            rdev: meta.rdev(),
        }
    }

    pub fn executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// Lists the entries of the context at `root` as the docker CLI sends them to the legacy
/// builder. `dockerfile` is the Dockerfile's path inside the context: it and `.dockerignore`
/// are kept even if `.dockerignore` excludes them (the engine drops them after reading). A
/// context folder that does not exist is an empty context.
pub fn walk(root: &Path, dockerfile: Option<&str>) -> Result<Vec<Entry>, ContextError> {
    walk_with(root, Some(dockerfile))
}

/// Lists the entries of the context at `root` as the docker CLI offers them to BuildKit:
/// `.dockerignore` applied as written, with no exception for the build files (BuildKit reads
/// the Dockerfile apart), and an excluded folder that holds something an exception lets back
/// in listed just before it (BuildKit takes nothing whose folder it was not given first).
pub fn walk_for_buildkit(root: &Path) -> Result<Vec<Entry>, ContextError> {
    walk_with(root, None)
}

/// `keep`: the build files to keep (`Some`, with the Dockerfile's path if it is in the
/// context), or none.
fn walk_with(root: &Path, keep: Option<Option<&str>>) -> Result<Vec<Entry>, ContextError> {
    match fs::metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(root)(e)),
        Ok(m) if !m.is_dir() => {
            return Err(ContextError::Io {
                path: root.to_path_buf(),
                error: std::io::Error::other("the build context is not a folder"),
            });
        }
        Ok(_) => {}
    }
    let ignore_path = root.join(".dockerignore");
    let bytes = match fs::read(&ignore_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error(&ignore_path)(e)),
    };
    let patterns = compiled(&bytes, keep).map_err(|e| ContextError::Ignore {
        path: ignore_path.clone(),
        line: e.line,
        message: e.message,
    })?;
    let mut entries = Vec::new();
    let walk = Walk {
        patterns: &patterns,
        list_excluded_parents: keep.is_none(),
    };
    walk.dir(root, &RawPath::default(), None, &mut entries)?;
    Ok(entries)
}

/// Compiles a `.dockerignore` (with the exceptions that keep the build files), once per
/// distinct content and Dockerfile name in a run: hierarchies repeat the same few files in
/// every context, and compiled patterns are shared between threads.
fn compiled(
    bytes: &[u8],
    keep: Option<Option<&str>>,
) -> Result<Arc<Patterns>, super::ignore::IgnoreError> {
    type Cache = HashMap<(Vec<u8>, Option<Option<String>>), Arc<Patterns>>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let key = (bytes.to_vec(), keep.map(|d| d.map(str::to_string)));
    if let Some(p) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return Ok(p.clone());
    }
    let text = String::from_utf8_lossy(bytes);
    let mut patterns = Patterns::new(&read_lines(&text))?;
    if let Some(dockerfile) = keep {
        patterns.keep_build_files(dockerfile);
    }
    let patterns = Arc::new(patterns);
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(key, patterns.clone());
    Ok(patterns)
}

/// How a context is walked.
struct Walk<'a> {
    patterns: &'a Patterns,
    /// List an excluded folder when something inside it is kept (for BuildKit).
    list_excluded_parents: bool,
}

impl Walk<'_> {
    /// Walks one folder: its entries in byte order, each followed by its contents if it is a
    /// folder. `parent` holds what the patterns matched of the folder itself.
    fn dir(
        &self,
        dir: &Path,
        prefix: &RawPath,
        parent: Option<&ParentMatches>,
        out: &mut Vec<Entry>,
    ) -> Result<(), ContextError> {
        for (name, path) in sorted_children(dir)? {
            let rel = prefix.join(&name);
            let meta = fs::symlink_metadata(&path).map_err(io_error(&path))?;
            // Patterns match names as text (a byte that is not UTF-8 as `�`).
            let text = rel.lossy();
            let (excluded, matches) = if self.patterns.is_empty() {
                (false, Vec::new())
            } else {
                self.patterns.matches(&text, parent)
            };
            let is_dir = meta.file_type().is_dir();
            if excluded {
                if is_dir && self.patterns.descend_excluded(&text) {
                    let before = out.len();
                    self.dir(&path, &rel, Some(&matches), out)?;
                    if self.list_excluded_parents && out.len() > before {
                        out.insert(before, Entry::new(rel, EntryKind::Dir, &meta));
                    }
                }
                continue;
            }
            let Some(kind) = kind_of(&path, &meta)? else {
                continue;
            };
            out.push(Entry::new(rel.clone(), kind, &meta));
            if is_dir {
                self.dir(&path, &rel, Some(&matches), out)?;
            }
        }
        Ok(())
    }
}

/// The names in a folder (their bytes), sorted byte-wise, with their paths.
fn sorted_children(dir: &Path) -> Result<Vec<(Vec<u8>, PathBuf)>, ContextError> {
    use std::os::unix::ffi::OsStrExt;
    let mut names: Vec<(Vec<u8>, PathBuf)> = Vec::new();
    for item in fs::read_dir(dir).map_err(io_error(dir))? {
        let item = item.map_err(io_error(dir))?;
        names.push((item.file_name().as_bytes().to_vec(), item.path()));
    }
    names.sort();
    Ok(names)
}

/// What kind of entry a file is, or `None` for a socket (the docker CLI leaves them out).
fn kind_of(path: &Path, meta: &fs::Metadata) -> Result<Option<EntryKind>, ContextError> {
    let file_type = meta.file_type();
    Ok(Some(if file_type.is_dir() {
        EntryKind::Dir
    } else if file_type.is_symlink() {
        let target = fs::read_link(path).map_err(io_error(path))?;
        EntryKind::Symlink(RawPath::from(target.into_os_string()))
    } else if file_type.is_file() {
        EntryKind::File
    } else if file_type.is_fifo() {
        EntryKind::Fifo
    } else if file_type.is_char_device() {
        EntryKind::CharDevice
    } else if file_type.is_block_device() {
        EntryKind::BlockDevice
    } else {
        return Ok(None);
    }))
}

/// Turns an I/O error on `path` into a context error naming it.
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ContextError {
    let path = path.to_path_buf();
    move |error| ContextError::Io { path, error }
}

/// Content digests of files, computed once per run and shared by every context that holds the
/// same file (keyed by device, inode, size and modification time).
#[derive(Default)]
pub struct FileDigests {
    cache: Mutex<HashMap<FileKey, String>>,
}

/// Device, inode, size, modification time (seconds, nanoseconds).
type FileKey = (u64, u64, u64, i64, i64);

impl FileDigests {
    /// The digest of a file the walk listed (its metadata identifies it in the cache).
    pub fn digest(&self, path: &Path, entry: &Entry) -> std::io::Result<String> {
        let key = (
            entry.dev,
            entry.ino,
            entry.size,
            entry.mtime,
            entry.mtime_nsec,
        );
        if let Some(d) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(d.clone());
        }
        // Small files in one read; larger ones streamed, never held whole.
        let mut file = super::open_entry_at(path, entry)?;
        let digest = if entry.size <= 256 * 1024 {
            let mut bytes = Vec::with_capacity(entry.size as usize);
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            hash::digest(bytes)
        } else {
            hash::digest_reader(file)?
        };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, digest.clone());
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn paths(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match &e.kind {
                EntryKind::Dir => format!("{}/", e.path),
                EntryKind::Symlink(t) => format!("{} -> {t}", e.path),
                _ => e.path.to_string(),
            })
            .collect()
    }

    #[test]
    fn walks_in_byte_order_with_ignores_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::create_dir_all(root.join("skip/keep")).unwrap();
        fs::write(root.join("a/b/f.txt"), "x").unwrap();
        fs::write(root.join("a.txt"), "x").unwrap();
        fs::write(root.join("B.txt"), "x").unwrap();
        fs::write(root.join("debug.log"), "x").unwrap();
        fs::write(root.join("skip/keep/me"), "x").unwrap();
        fs::write(root.join("skip/other"), "x").unwrap();
        fs::write(root.join("Dockerfile"), "FROM x").unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
        fs::write(
            root.join(".dockerignore"),
            "*.log\nskip\n!skip/keep/me\nDockerfile\n.dockerignore\n",
        )
        .unwrap();
        let entries = walk(root, Some("Dockerfile")).unwrap();
        assert_eq!(
            paths(&entries),
            [
                ".dockerignore",
                "B.txt",
                "Dockerfile",
                "a/",
                "a/b/",
                "a/b/f.txt",
                "a.txt",
                "link -> a.txt",
                "skip/keep/me"
            ]
        );
    }

    #[test]
    fn buildkit_gets_no_exception_for_the_build_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("Dockerfile"), "FROM x").unwrap();
        fs::write(root.join("app.txt"), "x").unwrap();
        fs::write(root.join(".dockerignore"), "Dockerfile\n.dockerignore\n").unwrap();
        assert_eq!(paths(&walk_for_buildkit(root).unwrap()), ["app.txt"]);
        assert_eq!(
            paths(&walk(root, Some("Dockerfile")).unwrap()),
            [".dockerignore", "Dockerfile", "app.txt"]
        );
    }

    #[test]
    fn buildkit_gets_the_folders_of_what_exceptions_let_back_in() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src/deep")).unwrap();
        fs::write(root.join("src/deep/app.py"), "x").unwrap();
        fs::write(root.join("src/other.py"), "x").unwrap();
        fs::write(root.join("top.txt"), "x").unwrap();
        fs::write(root.join(".dockerignore"), "*\n!src/deep/app.py\n").unwrap();
        assert_eq!(
            paths(&walk_for_buildkit(root).unwrap()),
            ["src/", "src/deep/", "src/deep/app.py"]
        );
        // The docker CLI's tar for the legacy builder has no entries for them.
        assert_eq!(
            paths(&walk(root, None).unwrap()),
            [".dockerignore", "src/deep/app.py"]
        );
    }

    #[test]
    fn missing_context_is_empty_and_bad_ignore_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert!(walk(&dir.path().join("nope"), None).unwrap().is_empty());
        fs::write(dir.path().join(".dockerignore"), "ok\n\n[bad\n").unwrap();
        match walk(dir.path(), None).unwrap_err() {
            ContextError::Ignore { line, .. } => assert_eq!(line, 3),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn records_the_executable_bit() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("run.sh");
        fs::write(&f, "#!/bin/sh").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o750)).unwrap();
        let entries = walk(dir.path(), None).unwrap();
        assert!(entries[0].executable());
    }
}
