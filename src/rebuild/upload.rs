//! A build's context on its way to the engine, as its builder reads it, and the check that it
//! was what the plan saw. For the legacy builder a blocking thread walks the context (with
//! `.dockerignore`) and writes the tar into a bounded channel — at most 8 chunks of 256 KiB in
//! memory, whatever the context's size — while the engine reads it, re-hashing each file as it
//! streams. For BuildKit the engine asks for the files it lacks one by one: each is hashed as
//! it is read, a blocking thread re-hashes the whole context beside the build, and both must
//! agree with the plan. A templated image's committed rendering is served as the build's
//! rendering, which replaces it in the inputs. A context that does not match fails the image
//! rather than building something else. BuildKit's file sync carries names as protobuf strings,
//! which are UTF-8: a context holding another name is refused before the run starts, while the
//! classic builder's tar carries names as they are.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::catalog::Builder;
use crate::context::archive::{Archive, ChunkWriter};
use crate::context::{self, Entry, EntryKind, FileDigests, RawPath};
use crate::engine::{BuildContext, FileTree, content_nanos};
use crate::error::Error;
use crate::inputs;
use crate::plan::Plan;
use crate::repo::Repository;

/// What to send.
#[derive(Debug, Clone)]
pub struct ContextSpec {
    pub root: PathBuf,
    /// The Dockerfile's path inside the context (kept even when ignored, like the CLI).
    pub dockerfile_in_context: Option<String>,
    /// Where the build's Dockerfile goes in the archive.
    pub dockerfile_path: String,
    pub dockerfile: Vec<u8>,
    /// The committed rendering left out of the context digest (templated images).
    pub skip: Option<String>,
    /// The planned context digest: the files sent must match it.
    pub planned: String,
}

/// Why a context was not sent as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadError {
    /// The engine stopped reading it (its own error says why).
    Stopped,
    /// The context itself: unreadable, or not what was planned.
    Context(String),
}

const CHANGED: &str = "the context changed since the plan was made; run again";
const STOPPED: &str = "the engine stopped reading the context";

/// The check of one build's context, done when the build has ended.
pub enum Check {
    Tar(JoinHandle<Result<(), UploadError>>),
    Files {
        verify: JoinHandle<Result<HashMap<RawPath, String>, String>>,
        sent: Sent,
    },
}

impl Check {
    pub async fn finish(self) -> Result<(), UploadError> {
        match self {
            Check::Tar(writer) => writer
                .await
                .unwrap_or_else(|e| Err(UploadError::Context(e.to_string()))),
            Check::Files { verify, sent } => {
                let planned = verify
                    .await
                    .map_err(|e| UploadError::Context(e.to_string()))?
                    .map_err(UploadError::Context)?;
                let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
                match sent.iter().all(|(path, d)| planned.get(path) == Some(d)) {
                    true => Ok(()),
                    false => Err(UploadError::Context(CHANGED.to_string())),
                }
            }
        }
    }
}

/// The context of one build, for `builder`, and its check.
pub async fn open(spec: &ContextSpec, builder: Builder) -> Result<(BuildContext, Check), String> {
    match builder {
        Builder::Legacy => Ok(tar(spec)),
        Builder::BuildKit => files(spec).await,
    }
}

/// The context as one tar stream, written by a blocking thread that also checks it.
fn tar(spec: &ContextSpec) -> (BuildContext, Check) {
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let spec = spec.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let result = write(&spec, &tx);
        if let Err(UploadError::Context(e)) = &result {
            // Make the upload fail rather than end cleanly with a partial context.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.clone())));
        }
        result
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    (BuildContext::Tar(Box::pin(stream)), Check::Tar(writer))
}

fn write(spec: &ContextSpec, tx: &mpsc::Sender<std::io::Result<Bytes>>) -> Result<(), UploadError> {
    let context_error = |e: String| UploadError::Context(format!("cannot read the context: {e}"));
    let entries: Vec<Entry> = context::walk(&spec.root, spec.dockerfile_in_context.as_deref())
        .map_err(|e| context_error(e.to_string()))?;
    let archive = Archive {
        root: spec.root.clone(),
        entries,
        dockerfile_path: spec.dockerfile_path.clone(),
        dockerfile: spec.dockerfile.clone(),
    };
    let sender = tx.clone();
    let out = ChunkWriter::new(256 * 1024, move |chunk| {
        sender
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| std::io::Error::other(STOPPED))
    });
    let streamed = archive.write(out).map_err(|e| match e.to_string() {
        m if m == STOPPED => UploadError::Stopped,
        m => UploadError::Context(m),
    })?;
    let sent = inputs::context_digest_with(&archive.entries, spec.skip.as_deref(), |e| {
        streamed
            .get(&e.path)
            .cloned()
            .ok_or_else(|| std::io::Error::other("not streamed"))
    })
    .map_err(|e| UploadError::Context(e.to_string()))?;
    if sent == spec.planned {
        Ok(())
    } else {
        Err(UploadError::Context(CHANGED.to_string()))
    }
}

/// Refuses, before anything is built, a planned BuildKit build whose context holds a name (or
/// a symlink target) that is not UTF-8 (exit 2, the path shown with `�` for what is not).
pub fn refuse_names_buildkit_cannot_carry(repo: &Repository, plan: &Plan) -> Result<(), Error> {
    for item in plan.builds() {
        let image = repo.catalog.image(&item.name);
        let root = repo.root.join(&image.context);
        // A context that cannot be read is the build's failure to report.
        let Ok(entries) = context::walk_for_buildkit(&root) else {
            continue;
        };
        if let Some(entry) = context::first_non_utf8(&entries) {
            let path = RawPath::from(
                crate::source::display_path(&root.join(&entry.path)).into_os_string(),
            );
            let what = match entry.path.to_str() {
                None => "the name of",
                Some(_) => "the target of the symlink",
            };
            return Err(Error::usage_help(
                format!(
                    "{what} {path} (in the context of image `{}`) is not UTF-8, and BuildKit's file sync carries names as UTF-8 text only",
                    item.name
                ),
                "rename it, or build with the classic builder, whose tar carries names as they are (`builder = \"legacy\"` in [catalog], or --builder legacy)",
            ));
        }
    }
    Ok(())
}

/// The context file by file, as BuildKit reads it, and its check.
async fn files(spec: &ContextSpec) -> Result<(BuildContext, Check), String> {
    let root = spec.root.clone();
    let mut entries = tokio::task::spawn_blocking(move || context::walk_for_buildkit(&root))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot read the context: {e}"))?;
    if let Some(entry) = context::first_non_utf8(&entries) {
        return Err(format!(
            "{}: a name in the context is not UTF-8, and BuildKit's file sync carries names as UTF-8 text only",
            entry.path
        ));
    }
    let rendering = spec.skip.clone();
    for entry in entries.iter_mut() {
        if rendering.as_ref().is_some_and(|r| entry.path == *r) && entry.kind == EntryKind::File {
            entry.size = spec.dockerfile.len() as u64;
            entry.mtime_nsec = content_nanos(&spec.dockerfile);
            entry.nlink = 1;
        }
    }
    let sent = Sent::default();
    let tree = LocalFiles {
        root: spec.root.clone(),
        entries,
        dockerfile: spec.dockerfile.clone(),
        rendering,
        sent: sent.clone(),
    };
    let spec = spec.clone();
    let verify = tokio::task::spawn_blocking(move || verify(&spec));
    Ok((
        BuildContext::Files(Arc::new(tree)),
        Check::Files { verify, sent },
    ))
}

/// Each file's digest, from a walk and hash as the plan made them, once the whole context was
/// found to be what was planned.
fn verify(spec: &ContextSpec) -> Result<HashMap<RawPath, String>, String> {
    let entries = context::walk(&spec.root, spec.dockerfile_in_context.as_deref())
        .map_err(|e| format!("cannot read the context: {e}"))?;
    let files = FileDigests::default();
    let mut digests = HashMap::new();
    let digest = inputs::context_digest_with(&entries, spec.skip.as_deref(), |e| {
        let d = files.digest(&spec.root.join(&e.path), e)?;
        digests.insert(e.path.clone(), d.clone());
        Ok(d)
    })
    .map_err(|e| format!("cannot read the context: {e}"))?;
    if digest == spec.planned {
        Ok(digests)
    } else {
        Err(CHANGED.to_string())
    }
}

/// The digests of the files BuildKit was sent, by path.
type Sent = Arc<Mutex<HashMap<RawPath, String>>>;

/// A context folder offered file by file.
struct LocalFiles {
    root: PathBuf,
    entries: Vec<Entry>,
    dockerfile: Vec<u8>,
    /// The committed rendering, whose place the build's rendering takes.
    rendering: Option<String>,
    sent: Sent,
}

impl FileTree for LocalFiles {
    fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn key(&self) -> String {
        let root = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        crate::hash::digest(format!("hier-context:{}", root.display()))
    }

    fn open(&self, entry: &Entry) -> std::io::Result<Box<dyn Read + Send>> {
        if self.rendering.as_ref().is_some_and(|r| entry.path == *r) {
            return Ok(Box::new(std::io::Cursor::new(self.dockerfile.clone())));
        }
        Ok(Box::new(Hashing {
            file: context::open_entry(&self.root, entry)?,
            hasher: Sha256::new(),
            path: entry.path.clone(),
            sent: self.sent.clone(),
        }))
    }

    fn dockerfile(&self) -> &[u8] {
        &self.dockerfile
    }
}

/// A file being sent, hashed on the way; its digest is recorded when it has been read whole.
struct Hashing {
    file: std::fs::File,
    hasher: Sha256,
    path: RawPath,
    sent: Sent,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        if n == 0 {
            let digest = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
            self.sent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.path.clone(), digest);
        } else {
            self.hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}
