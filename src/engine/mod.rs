//! The Docker Engine, through bollard: the only module that talks to it. Connects like the
//! docker CLI (`DOCKER_HOST`, else the local socket), negotiates the API version, builds with
//! the legacy builder from a streamed context, runs test containers, tags and inspects images.
//! Transient errors (connection reset, 5xx) are retried with backoff; failing build steps are
//! not.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    BuildImageOptions, CreateContainerOptions, DownloadFromContainerOptions, ListContainersOptions,
    ListImagesOptions, LogsOptions, RemoveContainerOptions, TagImageOptions, WaitContainerOptions,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

mod registry;
pub use registry::redact_userinfo;

/// Where hier looks for the engine, as the docker CLI does.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker Engine at {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("cannot reach the registry {registry}: {message}")]
    RegistryUnreachable { registry: String, message: String },
    #[error("{0}")]
    Failed(String),
}

/// A connected engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    pub endpoint: String,
}

/// An image as the engine describes it.
#[derive(Debug, Clone)]
pub struct ImageFacts {
    pub id: String,
    pub repo_digests: Vec<String>,
}

/// The options of one build (the context comes as a stream beside it).
pub struct BuildRequest {
    pub dockerfile: String,
    pub build_args: HashMap<String, String>,
    pub no_cache: bool,
}

/// Why a build did not produce an image.
#[derive(Debug)]
pub enum BuildFailure {
    /// A step failed, or the Dockerfile was refused: the engine's message.
    Step(String),
    /// The engine went away.
    Engine(EngineError),
}

/// The outcome of a test command.
#[derive(Debug)]
pub struct TestOutcome {
    pub exit_code: i64,
    pub output: String,
    pub timed_out: bool,
}

fn is_transient(e: &BollardError) -> bool {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => *status_code >= 500,
        BollardError::HyperResponseError { .. }
        | BollardError::IOError { .. }
        | BollardError::HyperLegacyError { .. } => true,
        _ => false,
    }
}

fn is_connection(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::HyperLegacyError { .. }
            | BollardError::IOError { .. }
            | BollardError::SocketNotFoundError(_)
            | BollardError::RequestTimeoutError
    )
}

/// The engine's message, without bollard's wrapping.
pub fn message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.trim().to_string(),
        BollardError::DockerStreamError { error } => error.trim().to_string(),
        other => other.to_string(),
    }
}

/// Retries `call` on transient errors: 3 more attempts, 0.5 s, 1 s, 2 s apart.
async fn retry<T, F, Fut>(mut call: F) -> Result<T, BollardError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BollardError>>,
{
    let mut delay = Duration::from_millis(500);
    let mut attempt = 0;
    loop {
        match call().await {
            Err(e) if attempt < 3 && is_transient(&e) => {
                attempt += 1;
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

impl Engine {
    /// Connects, negotiates the API version, and checks the engine's platform.
    pub async fn connect(platform: &str) -> Result<Engine, EngineError> {
        let endpoint = endpoint();
        let unreachable = |message: String| EngineError::Unreachable {
            endpoint: endpoint.clone(),
            message,
        };
        let docker = Docker::connect_with_defaults()
            .map_err(|e| unreachable(e.to_string()))?
            // Builds can be long; hier applies its own time limits to builds and tests.
            .with_timeout(Duration::from_secs(24 * 3600));
        // Negotiation and the platform check are both answered by `/version`: ask side by
        // side (the clone shares the negotiated version).
        let (negotiated, version) =
            tokio::join!(docker.clone().negotiate_version(), docker.version());
        let docker = negotiated.map_err(|e| unreachable(message(&e)))?;
        let version = version.map_err(|e| unreachable(message(&e)))?;
        let engine_platform = format!(
            "{}/{}",
            version.os.as_deref().unwrap_or("?"),
            version.arch.as_deref().unwrap_or("?")
        );
        if engine_platform != platform {
            return Err(EngineError::Failed(format!(
                "the Docker Engine at {endpoint} is {engine_platform}, and the catalog's platform is {platform}"
            )));
        }
        Ok(Engine { docker, endpoint })
    }

    fn failed(&self, e: BollardError) -> EngineError {
        if is_connection(&e) {
            EngineError::Unreachable {
                endpoint: self.endpoint.clone(),
                message: message(&e),
            }
        } else {
            EngineError::Failed(message(&e))
        }
    }

    /// Builds an image from a context stream. `on_line` gets each line of output (step
    /// headers, the steps' stdout and stderr). Returns the image id.
    pub async fn build<S>(
        &self,
        request: &BuildRequest,
        context: S,
        mut on_line: impl FnMut(&str),
    ) -> Result<String, BuildFailure>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        let options = BuildImageOptions {
            dockerfile: request.dockerfile.clone(),
            rm: true,
            forcerm: true,
            nocache: request.no_cache,
            buildargs: Some(request.build_args.clone()),
            ..Default::default()
        };
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_try_stream(context)));
        let mut image_id = None;
        let mut pending = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream.as_deref().or(info.status.as_deref()) {
                        pending.push_str(text);
                        if info.status.is_some() && !text.ends_with('\n') {
                            pending.push('\n');
                        }
                        while let Some(end) = pending.find('\n') {
                            let line: String = pending.drain(..=end).collect();
                            on_line(line.trim_end_matches(['\n', '\r']));
                        }
                    }
                    if let Some(bollard::models::BuildInfoAux::Default(aux)) = &info.aux
                        && let Some(id) = &aux.id
                    {
                        image_id = Some(id.clone());
                    }
                    if let Some(detail) = info.error_detail
                        && let Some(m) = detail.message
                    {
                        return Err(BuildFailure::Step(m));
                    }
                }
                Err(BollardError::DockerStreamError { error }) => {
                    return Err(BuildFailure::Step(error.trim().to_string()));
                }
                Err(e @ BollardError::DockerResponseServerError { .. }) if !is_transient(&e) => {
                    return Err(BuildFailure::Step(message(&e)));
                }
                Err(e) => return Err(BuildFailure::Engine(self.failed(e))),
            }
        }
        if !pending.is_empty() {
            on_line(pending.trim_end());
        }
        image_id.ok_or_else(|| {
            BuildFailure::Step("the engine ended the build without naming an image".into())
        })
    }

    /// Describes an image, or `None` when the engine does not have it.
    pub async fn inspect(&self, reference: &str) -> Result<Option<ImageFacts>, EngineError> {
        match retry(|| self.docker.inspect_image(reference)).await {
            Ok(image) => Ok(Some(ImageFacts {
                id: image.id.unwrap_or_default(),
                repo_digests: image.repo_digests.unwrap_or_default(),
            })),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The id and tags of every image under `repository_prefix/` (one level), in one call
    /// (the engine filters: a busy engine lists thousands of images slowly).
    pub async fn tags(
        &self,
        repository_prefix: &str,
    ) -> Result<HashMap<String, Vec<String>>, EngineError> {
        let filters = HashMap::from([(
            "reference".to_string(),
            vec![format!("{repository_prefix}/*")],
        )]);
        let images = retry(|| {
            self.docker.list_images(Some(ListImagesOptions {
                all: false,
                filters: Some(filters.clone()),
                ..Default::default()
            }))
        })
        .await
        .map_err(|e| self.failed(e))?;
        Ok(images.into_iter().map(|i| (i.id, i.repo_tags)).collect())
    }

    /// Tags an image: `repository:tag`.
    pub async fn tag(
        &self,
        image_id: &str,
        repository: &str,
        tag: &str,
    ) -> Result<(), EngineError> {
        retry(|| {
            self.docker.tag_image(
                image_id,
                Some(TagImageOptions {
                    repo: Some(repository.to_string()),
                    tag: Some(tag.to_string()),
                }),
            )
        })
        .await
        .map_err(|e| self.failed(e))
    }

    /// Runs `/bin/sh -c command` in a throwaway container of the image (entrypoint cleared,
    /// the image's user kept), within `limit`; the container is removed in every case. It is
    /// labelled `io.hier.test=<owner>` (the image's repository).
    pub async fn run_test(
        &self,
        owner: &str,
        image_id: &str,
        command: &str,
        limit: Duration,
    ) -> Result<TestOutcome, EngineError> {
        self.run_shell(owner, image_id, command, limit, None).await
    }

    /// Like [`run_test`](Self::run_test), as `user` when given (e.g. `0` to ask the package
    /// manager about pending updates in an image that runs unprivileged).
    pub async fn run_shell(
        &self,
        owner: &str,
        image_id: &str,
        command: &str,
        limit: Duration,
        user: Option<&str>,
    ) -> Result<TestOutcome, EngineError> {
        let config = ContainerCreateBody {
            image: Some(image_id.to_string()),
            user: user.map(str::to_string),
            entrypoint: Some(vec![String::new()]),
            cmd: Some(vec!["/bin/sh".into(), "-c".into(), command.into()]),
            labels: Some(HashMap::from([("io.hier.test".into(), owner.into())])),
            host_config: Some(HostConfig {
                auto_remove: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = retry(|| {
            self.docker
                .create_container(None::<CreateContainerOptions>, config.clone())
        })
        .await
        .map_err(|e| self.failed(e))?;
        let id = created.id;
        let outcome = self.run_container(&id, limit).await;
        let _ = self.remove_container(&id).await;
        outcome
    }

    /// The content of one file of an image, read from a container that is created and never
    /// started (so images without a shell work too); `None` when the file does not exist.
    pub async fn read_file(
        &self,
        owner: &str,
        image_id: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        let config = ContainerCreateBody {
            image: Some(image_id.to_string()),
            entrypoint: Some(vec!["/nonexistent-hier-reader".into()]),
            cmd: Some(Vec::new()),
            labels: Some(HashMap::from([("io.hier.test".into(), owner.into())])),
            ..Default::default()
        };
        let created = retry(|| {
            self.docker
                .create_container(None::<CreateContainerOptions>, config.clone())
        })
        .await
        .map_err(|e| self.failed(e))?;
        let id = created.id;
        let mut stream = self.docker.download_from_container(
            &id,
            Some(DownloadFromContainerOptions {
                path: path.to_string(),
            }),
        );
        let mut archive = Vec::new();
        let mut missing = false;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => archive.extend_from_slice(&bytes),
                Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => {
                    missing = true;
                    break;
                }
                Err(e) => {
                    let _ = self.remove_container(&id).await;
                    return Err(self.failed(e));
                }
            }
        }
        let _ = self.remove_container(&id).await;
        if missing {
            return Ok(None);
        }
        let mut tar = tar::Archive::new(&archive[..]);
        let entries = tar
            .entries()
            .map_err(|e| EngineError::Failed(format!("cannot read {path} from the image: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                EngineError::Failed(format!("cannot read {path} from the image: {e}"))
            })?;
            if entry.header().entry_type().is_file() {
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut content).map_err(|e| {
                    EngineError::Failed(format!("cannot read {path} from the image: {e}"))
                })?;
                return Ok(Some(content));
            }
        }
        Ok(None)
    }

    /// Removes a container, running or not, with its anonymous volumes.
    async fn remove_container(&self, id: &str) -> Result<(), BollardError> {
        self.docker
            .remove_container(
                id,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                }),
            )
            .await
    }

    /// Removes the test containers of these repositories' images (after an interrupted run).
    pub async fn remove_test_containers(&self, owners: &[String]) -> Result<usize, EngineError> {
        let containers = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(HashMap::from([(
                    "label".to_string(),
                    owners.iter().map(|o| format!("io.hier.test={o}")).collect(),
                )])),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.failed(e))?;
        let mut removed = 0;
        for c in containers {
            if let Some(id) = c.id {
                let _ = self.remove_container(&id).await;
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn run_container(&self, id: &str, limit: Duration) -> Result<TestOutcome, EngineError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| self.failed(e))?;
        let wait = async {
            let mut wait = self.docker.wait_container(id, None::<WaitContainerOptions>);
            match wait.next().await {
                Some(Ok(r)) => Ok(r.status_code),
                Some(Err(BollardError::DockerContainerWaitError { code, .. })) => Ok(code),
                Some(Err(e)) => Err(self.failed(e)),
                None => Ok(-1),
            }
        };
        let (exit_code, timed_out) = match tokio::time::timeout(limit, wait).await {
            Ok(code) => (code?, false),
            Err(_) => (-1, true),
        };
        let mut output = String::new();
        let mut logs = self.docker.logs(
            id,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                tail: "200".into(),
                ..Default::default()
            }),
        );
        while let Some(Ok(chunk)) = logs.next().await {
            output.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        Ok(TestOutcome {
            exit_code,
            output,
            timed_out,
        })
    }
}
