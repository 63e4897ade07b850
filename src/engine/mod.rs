//! The engine boundary: what a run needs from a container engine — build from a streamed
//! context, inspect, run a throwaway container, read a file of an image, tag, list tags, push,
//! pull, ask a registry for a digest, remove containers, and examine an image (a command as
//! an argument vector, a path's entry: `examine`) — as the [`Engine`] trait and its types. [`docker`] implements it on the Docker Engine through bollard (the only module that
//! imports bollard); [`capture`] bounds what a container wrote; [`retry`] retries the transient failures of any engine; `fake` scripts an
//! engine for the run loop's unit tests. Nothing above this module knows which engine it
//! drives.

pub mod capture;
pub mod docker;
mod error;
pub mod examine;
#[cfg(test)]
pub mod fake;
pub mod retry;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

pub use crate::catalog::Builder;
use crate::context::Entry;
pub use docker::{Docker, endpoint};
pub use error::{BuildFailure, EngineError};
pub use examine::{Exec, ExecOutcome, ImageConfig, PathEntry, PathKind, PathRequest};

/// A build context as it streams to the engine: tar bytes, or the error that stopped it.
pub type ContextStream = BoxStream<'static, std::io::Result<Bytes>>;

/// A build's context, as its builder reads it.
pub enum BuildContext {
    /// One tar stream, the Dockerfile inside (the legacy builder).
    Tar(ContextStream),
    /// Files the engine asks for one by one, and the Dockerfile apart (BuildKit, which then
    /// transfers only what it does not have yet).
    Files(Arc<dyn FileTree>),
}

/// Nanoseconds (below one second) that stand for some content in a file's modification time.
/// BuildKit asks again only for files whose size or time changed: content hier makes in memory
/// (the build's Dockerfile) gets a time that changes whenever the content does.
pub fn content_nanos(content: &[u8]) -> i64 {
    let digest = crate::hash::digest(content);
    let hex = &digest["sha256:".len()..];
    i64::from_str_radix(&hex[..8], 16).unwrap_or_default() % 1_000_000_000
}

/// A context offered file by file.
pub trait FileTree: Send + Sync {
    /// The entries, in the order a walk of the folder gives them (names sorted byte-wise).
    fn entries(&self) -> &[Entry];
    /// What names this context from one build to the next (BuildKit keeps what it was sent
    /// under it, and asks only for what changed).
    fn key(&self) -> String;
    /// Opens a regular file of [`entries`](Self::entries) for reading (never through a
    /// symlink, and only if it is still the file that was listed).
    fn open(&self, entry: &Entry) -> std::io::Result<Box<dyn std::io::Read + Send>>;
    /// The build's Dockerfile.
    fn dockerfile(&self) -> &[u8];
}

/// What to build (the context comes as a stream beside it).
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The catalog image this builds (for messages).
    pub image: String,
    /// The Dockerfile's path inside the context (a tar context), or its name (files).
    pub dockerfile: String,
    pub build_args: HashMap<String, String>,
    pub no_cache: bool,
    pub builder: Builder,
    /// Values for `RUN --mount=type=secret,id=…` (BuildKit only).
    pub secrets: SecretValues,
}

/// Secret values (for one build, or for a run), by id. They never show: `Debug` lists the ids only, and
/// [`SecretValues::redact`] blanks them out of any text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues(BTreeMap<String, Vec<u8>>);

impl SecretValues {
    pub fn new(values: BTreeMap<String, Vec<u8>>) -> Self {
        SecretValues(values)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&[u8]> {
        self.0.get(id).map(Vec::as_slice)
    }

    /// The values of these ids (those known).
    pub fn only<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> SecretValues {
        SecretValues(
            ids.into_iter()
                .filter_map(|id| Some((id.clone(), self.0.get(id)?.clone())))
                .collect(),
        )
    }

    /// `text` with every secret value (and every line of a multi-line value that is long
    /// enough to be one) replaced by `***`, longest first, so no part of a longer value that
    /// holds a shorter one shows.
    pub fn redact(&self, text: &str) -> String {
        let mut needles: Vec<String> = Vec::new();
        for value in self.0.values() {
            let value = String::from_utf8_lossy(value);
            let whole = value.trim_end_matches(['\n', '\r']);
            needles.push(whole.to_string());
            needles.extend(
                whole
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= 6)
                    .map(str::to_string),
            );
        }
        needles.retain(|n| n.len() >= 3);
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let mut out = text.to_string();
        for needle in needles {
            if out.contains(&needle) {
                out = out.replace(&needle, "***");
            }
        }
        out
    }
}

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// What a build reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// The step the build is at now (`Step 2/5 : RUN …` or `[2/3] RUN …`).
    Step(&'a str),
    /// A line of the build's log.
    Line(&'a str),
}

/// Where a build's progress goes.
pub type ProgressFn<'a> = &'a mut (dyn FnMut(Progress<'_>) + Send);

/// An image as the engine describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub id: String,
    pub repo_digests: Vec<String>,
    /// Bytes of the image's layers, its parent's included (what `docker images` shows).
    pub size: u64,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its layers' digests (the root filesystem's diff ids), bottom first.
    pub layers: Vec<String>,
    /// How its containers run.
    pub config: ImageConfig,
}

/// A command in a throwaway container: `/bin/sh -c <command>` with the entrypoint cleared.
#[derive(Debug, Clone)]
pub struct ContainerRun<'a> {
    /// Who the container belongs to (the image's repository), to find it again after an
    /// interruption.
    pub owner: &'a str,
    pub image: &'a str,
    pub command: &'a str,
    pub limit: Duration,
    /// Run as this user (`0` for root) instead of the image's.
    pub user: Option<&'a str>,
}

/// An image hier built, as the engine holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub id: String,
    /// Its `repository:tag` references.
    pub tags: Vec<String>,
    /// `io.hier.repository`: whose build it is (builds from before the label have none).
    pub repository: Option<String>,
    pub size: u64,
}

/// How a container's command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    pub exit_code: i64,
    /// Standard output and error, in the order written; whole, or cut in the middle with a
    /// line saying how much ([`capture`]).
    pub output: String,
    pub timed_out: bool,
}

/// What a run needs from an engine.
#[async_trait]
pub trait Engine: Send + Sync {
    /// Where the engine is (`unix:///var/run/docker.sock`), for messages.
    fn endpoint(&self) -> &str;

    /// Whether the engine can build with `builder`; why not, otherwise.
    fn check_builder(&self, _builder: Builder) -> Result<(), String> {
        Ok(())
    }

    /// Builds an image; returns its id. `progress` gets the current step and each line of
    /// output.
    async fn build(
        &self,
        request: &BuildRequest,
        context: BuildContext,
        progress: ProgressFn<'_>,
    ) -> Result<String, BuildFailure>;

    /// Describes an image, or `None` when the engine does not have it.
    async fn inspect(&self, reference: &str) -> Result<Option<ImageFacts>, EngineError>;

    /// An image as `docker save` gives it, read as it streams: its layers' entries (never
    /// their contents) and its history.
    async fn saved(&self, image: &str) -> Result<crate::size::archive::Saved, EngineError>;

    /// An image's history, oldest first: each entry's layer size and the command recorded for
    /// it (entries that made no layer have size 0).
    async fn history(&self, image: &str) -> Result<Vec<crate::size::layers::Layer>, EngineError>;

    /// Runs a command in a throwaway container, within its time limit; the container is
    /// removed in every case.
    async fn run(&self, run: &ContainerRun<'_>) -> Result<TestOutcome, EngineError>;

    /// Runs an argument vector in a throwaway container (structure tests), within its time
    /// limit; the container is removed in every case, after it was committed when asked.
    async fn exec(&self, exec: &Exec<'_>) -> Result<ExecOutcome, EngineError>;

    /// The entry of each path in an image, read without running it (one container for all):
    /// `None` for a path the image does not have.
    async fn paths(
        &self,
        owner: &str,
        image: &str,
        paths: &[PathRequest],
    ) -> Result<Vec<Option<PathEntry>>, EngineError>;

    /// One file of an image, read without running it; `None` when it does not exist.
    async fn read_file(
        &self,
        owner: &str,
        image: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, EngineError>;

    /// The files at and below each of `paths` in an image, read without running it (one
    /// container for all): path → content, a symlink as `-> <target>`. Paths the image does
    /// not have are left out.
    async fn read_files(
        &self,
        owner: &str,
        image: &str,
        paths: &[&str],
    ) -> Result<BTreeMap<String, Vec<u8>>, EngineError>;

    /// Tags an image `repository:tag`.
    async fn tag(&self, image_id: &str, repository: &str, tag: &str) -> Result<(), EngineError>;

    /// The tags of every image under `repository_prefix/`, by image id.
    async fn tags(
        &self,
        repository_prefix: &str,
    ) -> Result<HashMap<String, Vec<String>>, EngineError>;

    /// Every image hier built under `repository_prefix/` (labelled or tagged so).
    async fn built_images(&self, repository_prefix: &str) -> Result<Vec<StoredImage>, EngineError>;

    /// Removes a tag (the image goes with its last one) or an untagged image by id, never by
    /// force; `false` when there was nothing to remove.
    async fn remove_image(&self, reference: &str) -> Result<bool, EngineError>;

    /// Pushes `repository:tag`; returns the pushed manifest digest.
    async fn push(&self, repository: &str, tag: &str) -> Result<String, EngineError>;

    /// Pulls a reference (`repo:tag` or `repo@digest`).
    async fn pull(&self, reference: &str) -> Result<(), EngineError>;

    /// The top-level manifest digest of a reference in its registry, without pulling.
    async fn remote_digest(&self, reference: &str) -> Result<String, EngineError>;

    /// Removes the containers of these owners (after an interrupted run); how many.
    async fn remove_containers(&self, owners: &[String]) -> Result<usize, EngineError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_times_follow_the_content() {
        assert_eq!(
            content_nanos(b"RUN echo one"),
            content_nanos(b"RUN echo one")
        );
        assert_ne!(
            content_nanos(b"RUN echo one"),
            content_nanos(b"RUN echo two")
        );
        assert!((0..1_000_000_000).contains(&content_nanos(b"x")));
    }

    #[test]
    fn secrets_never_show() {
        let secrets = SecretValues::new(BTreeMap::from([
            ("token".to_string(), b"s3cr3t-value\n".to_vec()),
            (
                "conf".to_string(),
                b"[global]\nindex-url = https://u:pw@x\n".to_vec(),
            ),
        ]));
        assert_eq!(format!("{secrets:?}"), "[\"conf\", \"token\"]");
        assert_eq!(
            secrets.redact("echo s3cr3t-value; index-url = https://u:pw@x"),
            "echo ***; ***"
        );
        assert_eq!(secrets.redact("nothing here"), "nothing here");
        // A value that holds another is blanked whole.
        let nested = SecretValues::new(BTreeMap::from([
            ("a".to_string(), b"pw1234".to_vec()),
            ("b".to_string(), b"bot:pw1234".to_vec()),
        ]));
        assert_eq!(nested.redact("login bot:pw1234"), "login ***");
    }
}
