//! An image as `docker save` streams it, read in one pass on a blocking thread (`size::archive`)
//! while the engine's answer arrives: a few chunks are buffered at a time, never the image.

use std::io::{self, Read};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::Docker;
use crate::engine::EngineError;
use crate::size::archive::{self, Saved};

/// Chunks held between the engine and the reader.
const BUFFERED: usize = 8;

pub(super) async fn saved(docker: &Docker, image: &str) -> Result<Saved, EngineError> {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(BUFFERED);
    let reader = tokio::task::spawn_blocking(move || archive::read(ChannelReader::new(rx)));
    let mut stream = docker.docker.export_image(image);
    let mut sent = Ok(());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| docker.error(e));
        let failed = chunk.as_ref().err().map(ToString::to_string);
        let item = chunk.map_err(|e| io::Error::other(e.to_string()));
        if tx.send(item).await.is_err() {
            break;
        }
        if let Some(message) = failed {
            sent = Err(EngineError::Failed(message));
            break;
        }
    }
    drop(tx);
    let read = reader
        .await
        .map_err(|e| EngineError::Failed(format!("reading the saved image failed: {e}")))?;
    sent?;
    read.map_err(|e| EngineError::Failed(format!("cannot read the saved image {image}: {e}")))
}

/// A blocking reader of the chunks the async side sends.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
