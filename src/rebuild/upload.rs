//! A build's context on its way to the engine, as its builder reads it. For the legacy builder
//! a blocking thread walks the context (with `.dockerignore`) and writes the tar into a bounded
//! channel — at most 8 chunks of 256 KiB in memory, whatever the context's size — while the
//! engine reads it, re-hashing each file as it streams. For BuildKit the engine asks for the
//! files it lacks one by one, and a blocking thread re-hashes the context beside the build.
//! Either way a context that no longer matches the plan fails the image rather than building
//! something else.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::catalog::Builder;
use crate::context::archive::{Archive, ChunkWriter};
use crate::context::{self, Entry, FileDigests};
use crate::engine::{BuildContext, FileTree};
use crate::inputs;

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
    /// The planned context digest: the streamed files must match it.
    pub planned: String,
}

/// The context of one build, for `builder`, and the check that it is what was planned (the
/// handle ends with what went wrong, if it is not).
pub async fn open(
    spec: &ContextSpec,
    builder: Builder,
) -> Result<(BuildContext, JoinHandle<Result<(), String>>), String> {
    match builder {
        Builder::Legacy => Ok(tar(spec)),
        Builder::BuildKit => files(spec).await,
    }
}

/// The context as one tar stream, written by a blocking thread that also checks it.
fn tar(spec: &ContextSpec) -> (BuildContext, JoinHandle<Result<(), String>>) {
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let spec = spec.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let result = write(&spec, &tx);
        if let Err(e) = &result {
            // Make the upload fail rather than end cleanly with a partial context.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.clone())));
        }
        result
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    (BuildContext::Tar(Box::pin(stream)), writer)
}

/// The context file by file, as BuildKit reads it, checked beside the build.
async fn files(
    spec: &ContextSpec,
) -> Result<(BuildContext, JoinHandle<Result<(), String>>), String> {
    let root = spec.root.clone();
    let entries = tokio::task::spawn_blocking(move || context::walk_for_buildkit(&root))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot read the context: {e}"))?;
    let tree = LocalFiles {
        root: spec.root.clone(),
        entries,
        dockerfile: spec.dockerfile.clone(),
    };
    let spec = spec.clone();
    let check = tokio::task::spawn_blocking(move || verify(&spec));
    Ok((BuildContext::Files(Arc::new(tree)), check))
}

/// Whether the context's files are still the ones planned (walked and hashed as the plan did).
fn verify(spec: &ContextSpec) -> Result<(), String> {
    let entries = context::walk(&spec.root, spec.dockerfile_in_context.as_deref())
        .map_err(|e| format!("cannot read the context: {e}"))?;
    let files = FileDigests::default();
    let digest = inputs::context_digest(&spec.root, &entries, &files, spec.skip.as_deref())
        .map_err(|e| format!("cannot read the context: {e}"))?;
    if digest == spec.planned {
        Ok(())
    } else {
        Err(CHANGED.to_string())
    }
}

const CHANGED: &str = "the context changed since the plan was made; run again";

/// A context folder offered file by file.
struct LocalFiles {
    root: PathBuf,
    entries: Vec<Entry>,
    dockerfile: Vec<u8>,
}

impl FileTree for LocalFiles {
    fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn open(&self, entry: &Entry) -> std::io::Result<std::fs::File> {
        context::open_entry(&self.root, entry)
    }

    fn dockerfile(&self) -> &[u8] {
        &self.dockerfile
    }
}

fn write(spec: &ContextSpec, tx: &mpsc::Sender<std::io::Result<Bytes>>) -> Result<(), String> {
    let entries: Vec<Entry> = context::walk(&spec.root, spec.dockerfile_in_context.as_deref())
        .map_err(|e| format!("cannot read the context: {e}"))?;
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
            .map_err(|_| std::io::Error::other("the engine stopped reading the context"))
    });
    let streamed = archive.write(out).map_err(|e| e.to_string())?;
    let sent = inputs::context_digest_with(&archive.entries, spec.skip.as_deref(), |e| {
        streamed
            .get(&e.path)
            .cloned()
            .ok_or_else(|| std::io::Error::other("not streamed"))
    })
    .map_err(|e| e.to_string())?;
    if sent == spec.planned {
        Ok(())
    } else {
        Err(CHANGED.to_string())
    }
}
