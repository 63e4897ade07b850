//! A build's context on its way to the engine: a blocking thread walks the context (with
//! `.dockerignore`) and writes the tar into a bounded channel — at most 8 chunks of 256 KiB in
//! memory, whatever the context's size — while the engine reads it. Each file is re-hashed as it
//! streams; a context that no longer matches the plan fails the upload (and so the build)
//! rather than building something else.

use std::path::PathBuf;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::context::archive::{Archive, ChunkWriter};
use crate::context::{self, Entry};
use crate::engine::ContextStream;
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

/// Starts streaming the context. The handle ends with what went wrong, if the context could not
/// be sent as planned.
pub fn open(spec: &ContextSpec) -> (ContextStream, JoinHandle<Result<(), String>>) {
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
    (Box::pin(stream), writer)
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
        Err("the context changed since the plan was made; run again".to_string())
    }
}
