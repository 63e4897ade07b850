//! The build context as the engine receives it: a tar stream of the walked entries, written
//! the way the docker CLI writes it (relative names, folders with a trailing `/`, permission
//! bits of the file, uid and gid 0 and no user names, modification time in whole seconds, later
//! hard links to an inode already sent as links, symlinks as symlinks), so a context sent by
//! hier and by the CLI hit the same layer cache. Files are streamed in chunks and re-hashed on
//! the way: a file that changed since it was planned fails the build.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use super::RawPath;
use super::walk::{Entry, EntryKind};

/// What to send: the context's entries, and the Dockerfile the build uses (at `path` in the
/// context, replacing a file of that name).
pub struct Archive {
    pub root: PathBuf,
    pub entries: Vec<Entry>,
    pub dockerfile_path: String,
    pub dockerfile: Vec<u8>,
}

/// The digests of the files as they were streamed (path → digest), for the caller to check
/// against the plan.
pub type Streamed = HashMap<RawPath, String>;

impl Archive {
    /// Writes the whole archive to `out` (a bounded channel writer, usually).
    pub fn write(&self, out: impl Write) -> io::Result<Streamed> {
        let mut tar = TarWriter::new(self, out);
        let mut dockerfile_sent = false;
        for entry in &self.entries {
            if entry.path == self.dockerfile_path {
                tar.context_dockerfile(entry)?;
                dockerfile_sent = true;
            } else {
                tar.entry(entry)?;
            }
        }
        if !dockerfile_sent {
            tar.append_dockerfile(None)?;
        }
        tar.builder.into_inner()?.flush()?;
        Ok(tar.streamed)
    }
}

/// An archive being written: the tar stream, the digests of the files sent so far, and the
/// path each hard-linked inode was first sent as.
struct TarWriter<'a, W: Write> {
    archive: &'a Archive,
    builder: tar::Builder<W>,
    streamed: Streamed,
    sent_inodes: HashMap<(u64, u64), RawPath>,
}

impl<'a, W: Write> TarWriter<'a, W> {
    fn new(archive: &'a Archive, out: W) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Complete);
        TarWriter {
            archive,
            builder,
            streamed: Streamed::new(),
            sent_inodes: HashMap::new(),
        }
    }

    /// The context's file at the Dockerfile's path: the build's Dockerfile is sent in its place.
    fn context_dockerfile(&mut self, entry: &Entry) -> io::Result<()> {
        self.append_dockerfile(Some(entry))?;
        // The context's own file (as planned), not the build's version of it.
        let on_disk = crate::hash::digest_reader(super::open_entry(&self.archive.root, entry)?)?;
        self.streamed.insert(entry.path.clone(), on_disk);
        Ok(())
    }

    fn entry(&mut self, entry: &Entry) -> io::Result<()> {
        let mut header = header_of(entry);
        match &entry.kind {
            EntryKind::Dir => {
                header.set_entry_type(EntryType::Directory);
                let path = entry.path.with_trailing_slash();
                self.builder.append_data(&mut header, path, io::empty())
            }
            EntryKind::Symlink(target) => {
                header.set_entry_type(EntryType::Symlink);
                self.builder.append_link(&mut header, &entry.path, target)
            }
            EntryKind::File => {
                if self.link_to_sent(entry, &mut header)? {
                    return Ok(());
                }
                self.file(entry, header)
            }
            EntryKind::Fifo => {
                header.set_entry_type(EntryType::Fifo);
                self.builder
                    .append_data(&mut header, &entry.path, io::empty())
            }
            EntryKind::CharDevice | EntryKind::BlockDevice => self.device(entry, header),
        }
    }

    /// A file whose inode was already sent goes as a hard link to the path it was sent as
    /// (true); otherwise a file with other links has its inode remembered (false).
    fn link_to_sent(&mut self, entry: &Entry, header: &mut Header) -> io::Result<bool> {
        if entry.nlink <= 1 {
            return Ok(false);
        }
        let inode = (entry.dev, entry.ino);
        let Some(first) = self.sent_inodes.get(&inode) else {
            self.sent_inodes.insert(inode, entry.path.clone());
            return Ok(false);
        };
        header.set_entry_type(EntryType::Link);
        self.builder.append_link(header, &entry.path, first)?;
        // Same inode, same content as the file it links to.
        let digest = self.streamed.get(first).cloned().unwrap_or_default();
        self.streamed.insert(entry.path.clone(), digest);
        Ok(true)
    }

    /// Streams a regular file, hashing it on the way; a file shorter than when it was walked
    /// fails (the caller compares the digests with the plan).
    fn file(&mut self, entry: &Entry, mut header: Header) -> io::Result<()> {
        header.set_entry_type(EntryType::Regular);
        header.set_size(entry.size);
        let file = super::open_entry(&self.archive.root, entry)?;
        let mut reader = Checked {
            inner: file.take(entry.size),
            hasher: Sha256::new(),
            read: 0,
        };
        self.builder
            .append_data(&mut header, &entry.path, &mut reader)?;
        if reader.read != entry.size {
            return Err(io::Error::other(format!(
                "{} changed while it was sent",
                self.archive.root.join(&entry.path).display()
            )));
        }
        let digest = format!("sha256:{}", hex::encode(reader.hasher.finalize()));
        self.streamed.insert(entry.path.clone(), digest);
        Ok(())
    }

    fn device(&mut self, entry: &Entry, mut header: Header) -> io::Result<()> {
        header.set_entry_type(if entry.kind == EntryKind::CharDevice {
            EntryType::Char
        } else {
            EntryType::Block
        });
        let (major, minor) = split_dev(entry.rdev);
        header.set_device_major(major)?;
        header.set_device_minor(minor)?;
        self.builder
            .append_data(&mut header, &entry.path, io::empty())
    }

    /// The build's Dockerfile, with the mode and time of the context's file if it has one.
    fn append_dockerfile(&mut self, on_disk: Option<&Entry>) -> io::Result<()> {
        let archive = self.archive;
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::Regular);
        header.set_mode(on_disk.map(|e| e.mode).unwrap_or(0o644));
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(on_disk.map(|e| e.mtime.max(0) as u64).unwrap_or(0));
        header.set_size(archive.dockerfile.len() as u64);
        self.builder.append_data(
            &mut header,
            &archive.dockerfile_path,
            &archive.dockerfile[..],
        )
    }
}

/// The header fields every entry shares: its permission bits, uid and gid 0, the modification
/// time in whole seconds, size 0.
fn header_of(entry: &Entry) -> Header {
    let mut header = Header::new_ustar();
    header.set_mode(entry.mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(entry.mtime.max(0) as u64);
    header.set_size(0);
    header
}

/// Linux `dev_t` to (major, minor).
fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff);
    (major as u32, minor as u32)
}

/// A reader that hashes what passes through it.
struct Checked<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// A writer that sends fixed-size chunks through a bounded channel (blocking when the engine
/// reads slower than the disk), so at most `capacity` chunks are in memory at once.
pub struct ChunkWriter {
    buffer: Vec<u8>,
    chunk: usize,
    send: Box<dyn FnMut(Vec<u8>) -> io::Result<()> + Send>,
}

impl ChunkWriter {
    pub fn new(chunk: usize, send: impl FnMut(Vec<u8>) -> io::Result<()> + Send + 'static) -> Self {
        ChunkWriter {
            buffer: Vec::with_capacity(chunk),
            chunk,
            send: Box::new(send),
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.chunk - self.buffer.len();
        let n = room.min(buf.len());
        self.buffer.extend_from_slice(&buf[..n]);
        if self.buffer.len() == self.chunk {
            let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.chunk));
            (self.send)(full)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let rest = std::mem::take(&mut self.buffer);
            (self.send)(rest)?;
        }
        Ok(())
    }
}

/// The file names an archive holds, in order (for tests).
pub fn list(bytes: &[u8]) -> io::Result<Vec<(String, EntryType, u32)>> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let header = entry.header();
        out.push((
            String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
            header.entry_type(),
            header.mode()?,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn archive_of(root: &Path, dockerfile: &str) -> Archive {
        Archive {
            root: root.to_path_buf(),
            entries: crate::context::walk(root, Some("Dockerfile")).unwrap(),
            dockerfile_path: "Dockerfile".into(),
            dockerfile: dockerfile.as_bytes().to_vec(),
        }
    }

    #[test]
    fn entries_are_written_like_the_docker_cli_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src/deep")).unwrap();
        fs::write(root.join("src/deep/a.txt"), "a").unwrap();
        fs::write(root.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(root.join("secret.env"), "x").unwrap();
        fs::write(root.join(".dockerignore"), "*.env\n").unwrap();
        std::os::unix::fs::symlink("run.sh", root.join("link")).unwrap();
        fs::hard_link(root.join("run.sh"), root.join("run2.sh")).unwrap();
        fs::write(root.join("Dockerfile"), "FROM old\n").unwrap();

        let mut bytes = Vec::new();
        archive_of(root, "FROM new\n").write(&mut bytes).unwrap();
        let names: Vec<(String, EntryType)> = list(&bytes)
            .unwrap()
            .into_iter()
            .map(|(n, t, _)| (n, t))
            .collect();
        assert_eq!(
            names,
            vec![
                (".dockerignore".into(), EntryType::Regular),
                ("Dockerfile".into(), EntryType::Regular),
                ("link".into(), EntryType::Symlink),
                ("run.sh".into(), EntryType::Regular),
                ("run2.sh".into(), EntryType::Link),
                ("src/".into(), EntryType::Directory),
                ("src/deep/".into(), EntryType::Directory),
                ("src/deep/a.txt".into(), EntryType::Regular),
            ]
        );
        let mut archive = tar::Archive::new(&bytes[..]);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            assert_eq!(entry.header().uid().unwrap(), 0);
            assert_eq!(entry.header().username().unwrap(), Some(""));
            if entry.path().unwrap().to_str() == Some("Dockerfile") {
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                assert_eq!(
                    text, "FROM new\n",
                    "the build's Dockerfile replaces the file"
                );
            }
            if entry.path().unwrap().to_str() == Some("run.sh") {
                assert_eq!(entry.header().mode().unwrap() & 0o777, 0o755);
            }
        }
    }

    #[test]
    fn a_dockerfile_outside_the_context_is_added() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "a").unwrap();
        let mut archive = archive_of(dir.path(), "FROM x\n");
        archive.dockerfile_path = ".hier.Dockerfile".into();
        let mut bytes = Vec::new();
        archive.write(&mut bytes).unwrap();
        let names: Vec<String> = list(&bytes).unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(names, vec!["a", ".hier.Dockerfile"]);
    }

    #[test]
    fn streamed_digests_are_those_of_the_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "content").unwrap();
        fs::write(dir.path().join("Dockerfile"), "FROM on-disk\n").unwrap();
        let archive = archive_of(dir.path(), "FROM x\n");
        let streamed = archive.write(Vec::new()).unwrap();
        assert_eq!(streamed[&"a".into()], crate::hash::digest("content"));
        assert_eq!(
            streamed[&"Dockerfile".into()],
            crate::hash::digest("FROM on-disk\n")
        );
        // A hard link has the digest of the file it links to.
        fs::hard_link(dir.path().join("a"), dir.path().join("b")).unwrap();
        let streamed = archive_of(dir.path(), "FROM x\n")
            .write(Vec::new())
            .unwrap();
        assert_eq!(streamed[&"b".into()], crate::hash::digest("content"));
    }

    #[test]
    fn chunks_are_bounded() {
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let mut w = ChunkWriter::new(4, move |c| {
            seen.lock().unwrap().push(c.len());
            Ok(())
        });
        w.write_all(b"0123456789").unwrap();
        w.flush().unwrap();
        assert_eq!(*sizes.lock().unwrap(), vec![4, 4, 2]);
    }
}
