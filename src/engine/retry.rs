//! Retries for any [`Engine`]: a call that fails transiently (a reset connection, a 5xx) is
//! tried again a few times with backoff; a refusal is not, and neither is a build, whose context
//! stream is spent by the first try (the job that owns the context retries a build itself).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    BuildContext, BuildFailure, BuildRequest, ContainerRun, Engine, EngineError, ImageFacts,
    ProgressFn, TestOutcome,
};

/// How often and how patiently to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Tries after the first.
    pub retries: u32,
    /// The wait before the first retry; it doubles each time.
    pub first: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            retries: 3,
            first: Duration::from_millis(500),
        }
    }
}

impl Backoff {
    /// Runs `call` until it succeeds, fails for good, or the retries run out; the error it
    /// ends with is settled (no longer marked transient).
    pub async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, EngineError>>,
    {
        let mut delay = self.first;
        let mut attempt = 0;
        loop {
            match call().await {
                Err(e) if e.is_transient() && attempt < self.retries => {
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(e.settled()),
                Ok(v) => return Ok(v),
            }
        }
    }
}

/// An engine whose calls are retried on transient failures.
pub struct Retrying<E> {
    inner: E,
    backoff: Backoff,
}

impl<E: Engine> Retrying<E> {
    pub fn new(inner: E, backoff: Backoff) -> Self {
        Retrying { inner, backoff }
    }

    pub fn inner(&self) -> &E {
        &self.inner
    }
}

#[async_trait]
impl<E: Engine> Engine for Retrying<E> {
    fn endpoint(&self) -> &str {
        self.inner.endpoint()
    }

    fn check_builder(&self, builder: super::Builder) -> Result<(), String> {
        self.inner.check_builder(builder)
    }

    async fn build(
        &self,
        request: &BuildRequest,
        context: BuildContext,
        progress: ProgressFn<'_>,
    ) -> Result<String, BuildFailure> {
        self.inner.build(request, context, progress).await
    }

    async fn inspect(&self, reference: &str) -> Result<Option<ImageFacts>, EngineError> {
        self.backoff.run(|| self.inner.inspect(reference)).await
    }

    async fn saved(&self, image: &str) -> Result<crate::size::archive::Saved, EngineError> {
        self.backoff.run(|| self.inner.saved(image)).await
    }

    async fn history(&self, image: &str) -> Result<Vec<crate::size::layers::Layer>, EngineError> {
        self.backoff.run(|| self.inner.history(image)).await
    }

    async fn run(&self, run: &ContainerRun<'_>) -> Result<TestOutcome, EngineError> {
        self.backoff.run(|| self.inner.run(run)).await
    }

    async fn exec(&self, exec: &super::Exec<'_>) -> Result<super::ExecOutcome, EngineError> {
        self.backoff.run(|| self.inner.exec(exec)).await
    }

    async fn paths(
        &self,
        owner: &str,
        image: &str,
        paths: &[super::PathRequest],
    ) -> Result<Vec<Option<super::PathEntry>>, EngineError> {
        self.backoff
            .run(|| self.inner.paths(owner, image, paths))
            .await
    }

    async fn read_file(
        &self,
        owner: &str,
        image: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        self.backoff
            .run(|| self.inner.read_file(owner, image, path))
            .await
    }

    async fn read_files(
        &self,
        owner: &str,
        image: &str,
        paths: &[&str],
    ) -> Result<std::collections::BTreeMap<String, Vec<u8>>, EngineError> {
        self.backoff
            .run(|| self.inner.read_files(owner, image, paths))
            .await
    }

    async fn tag(&self, image_id: &str, repository: &str, tag: &str) -> Result<(), EngineError> {
        self.backoff
            .run(|| self.inner.tag(image_id, repository, tag))
            .await
    }

    async fn tags(
        &self,
        repository_prefix: &str,
    ) -> Result<HashMap<String, Vec<String>>, EngineError> {
        self.backoff
            .run(|| self.inner.tags(repository_prefix))
            .await
    }

    async fn built_images(
        &self,
        repository_prefix: &str,
    ) -> Result<Vec<super::StoredImage>, EngineError> {
        self.backoff
            .run(|| self.inner.built_images(repository_prefix))
            .await
    }

    async fn remove_image(&self, reference: &str) -> Result<bool, EngineError> {
        self.backoff
            .run(|| self.inner.remove_image(reference))
            .await
    }

    async fn push(&self, repository: &str, tag: &str) -> Result<String, EngineError> {
        self.backoff.run(|| self.inner.push(repository, tag)).await
    }

    async fn pull(&self, reference: &str) -> Result<(), EngineError> {
        self.backoff.run(|| self.inner.pull(reference)).await
    }

    async fn remote_digest(&self, reference: &str) -> Result<String, EngineError> {
        self.backoff
            .run(|| self.inner.remote_digest(reference))
            .await
    }

    async fn remove_containers(&self, owners: &[String]) -> Result<usize, EngineError> {
        self.backoff
            .run(|| self.inner.remove_containers(owners))
            .await
    }
}
