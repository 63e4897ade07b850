//! The Docker Engine behind the [`Engine`] trait, through bollard (this module and its children
//! are the only code that imports it). Connects like the docker CLI (`DOCKER_HOST`, else the
//! local socket; or an [`Endpoint`] of a builders file, `unix://` or `tcp://` with TLS, whose
//! transport, trusting the given CA alone, is in `tls`),
//! negotiates the API version and checks the engine's platform; bollard's errors
//! become [`EngineError`]s here, told apart as unreachable, transient or refused. Builds are in
//! `build` (both builders; BuildKit's progress read by `trace`), containers in `container`,
//! an image examined (structure tests) in `examine`, registries in `registry`, and hier's own BuildKit session in `session` (serving the file
//! sync of `filesync` and the secrets).

mod build;
mod container;
mod examine;
mod filesync;
mod images;
mod registry;
mod save;
mod session;
mod tls;
mod trace;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{ListImagesOptions, TagImageOptions};

pub use registry::redact_userinfo;

use super::{
    BuildContext, BuildFailure, BuildRequest, ContainerRun, Engine, EngineError, Exec, ExecOutcome,
    ImageFacts, PathEntry, PathRequest, ProgressFn, TestOutcome,
};

/// Where hier looks for the engine, as the docker CLI does.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// A connected Docker Engine.
#[derive(Clone)]
pub struct Docker {
    docker: bollard::Docker,
    endpoint: String,
    /// The API version the engine speaks (`1.41`).
    api_version: String,
    /// The TLS settings it is reached with, if any (BuildKit's session uses them too).
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// The engine's message, without bollard's wrapping.
fn message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.trim().to_string(),
        BollardError::DockerStreamError { error } => error.trim().to_string(),
        other => cause(other),
    }
}

/// Why a connection failed, in a few words rather than the client library's: the operating
/// system's reason when there is one.
fn cause(e: &BollardError) -> String {
    if let BollardError::SocketNotFoundError(path) = e {
        return format!("there is no socket at {path}");
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::NotFound => "there is no socket there".to_string(),
                std::io::ErrorKind::ConnectionRefused => "the connection was refused".to_string(),
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied (may this user use the engine's socket?)".to_string()
                }
                _ => io.to_string(),
            };
        }
        source = err.source();
    }
    match e {
        BollardError::RequestTimeoutError => "it did not answer in time".to_string(),
        other => other
            .to_string()
            .trim_start_matches("Error in the hyper legacy client: ")
            .to_string(),
    }
}

/// Where an engine is and how it is reached: `unix://PATH` or `tcp://HOST:PORT`, over TLS with
/// a client certificate when `tls` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub tls: Option<crate::pool::file::Tls>,
}

impl Endpoint {
    /// The engine the docker CLI would use: `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and
    /// `DOCKER_CERT_PATH`), else the local socket.
    pub fn from_env() -> Endpoint {
        let host = endpoint();
        let verify = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
        let tls = (verify && host.starts_with("tcp://")).then(|| {
            let dir = std::env::var_os("DOCKER_CERT_PATH")
                .map(std::path::PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker"))
                })
                .unwrap_or_default();
            crate::pool::file::Tls {
                ca: dir.join("ca.pem"),
                cert: dir.join("cert.pem"),
                key: dir.join("key.pem"),
            }
        });
        Endpoint { host, tls }
    }
}

/// Whether the engine at `host` builds for the catalog's `platform` (a variant, `linux/arm/v7`,
/// is the build's to choose; the engine is `os/arch`).
pub fn check_platform(facts: &EngineFacts, platform: &str, host: &str) -> Result<(), EngineError> {
    let os_arch: Vec<&str> = platform.splitn(3, '/').take(2).collect();
    if facts.platform != os_arch.join("/") {
        return Err(EngineError::Failed(format!(
            "the Docker Engine at {host} is {}, and the catalog's platform is {platform}",
            facts.platform
        )));
    }
    Ok(())
}

/// What the engine says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineFacts {
    /// Its version (`20.10.24`).
    pub version: String,
    /// The API version spoken with it.
    pub api_version: String,
    /// `os/arch`.
    pub platform: String,
}

impl Docker {
    /// Connects like the docker CLI, negotiates the API version, and checks the engine's
    /// platform.
    pub async fn connect(platform: &str) -> Result<Docker, EngineError> {
        Docker::connect_to(&Endpoint::from_env(), platform).await
    }

    /// Connects to `endpoint`, negotiates the API version, and checks the engine's platform.
    pub async fn connect_to(endpoint: &Endpoint, platform: &str) -> Result<Docker, EngineError> {
        let (docker, facts) = Docker::reach(endpoint).await?;
        check_platform(&facts, platform, &endpoint.host)?;
        Ok(docker)
    }

    /// Connects to `endpoint` and asks what it is, whatever its platform.
    pub async fn reach(endpoint: &Endpoint) -> Result<(Docker, EngineFacts), EngineError> {
        let host = endpoint.host.clone();
        let unreachable = |message: String| EngineError::Unreachable {
            endpoint: host.clone(),
            message,
        };
        // Builds can be long; hier applies its own time limits to builds and tests.
        const DAY: u64 = 24 * 3600;
        let config = match &endpoint.tls {
            Some(files) => Some(tls::config(files).map_err(unreachable)?),
            None => None,
        };
        let docker = match &config {
            None => bollard::Docker::connect_with_host(&host).map_err(|e| unreachable(cause(&e))),
            Some(config) => tls::connect(&host, config.clone(), DAY).map_err(unreachable),
        }?
        .with_timeout(Duration::from_secs(DAY));
        // Negotiation and the facts are both answered by `/version`: ask side by side (the
        // clone shares the negotiated version).
        let (negotiated, version) =
            tokio::join!(docker.clone().negotiate_version(), docker.version());
        let docker = negotiated.map_err(|e| unreachable(message(&e)))?;
        let version = version.map_err(|e| unreachable(message(&e)))?;
        let facts = EngineFacts {
            version: version.version.clone().unwrap_or_default(),
            api_version: docker.client_version().to_string(),
            platform: format!(
                "{}/{}",
                version.os.as_deref().unwrap_or("?"),
                version.arch.as_deref().unwrap_or("?")
            ),
        };
        let docker = Docker {
            api_version: facts.api_version.clone(),
            docker,
            endpoint: host,
            tls: config,
        };
        Ok((docker, facts))
    }

    /// A bollard error as an [`EngineError`]: a connection that failed or broke is the engine
    /// being unreachable (worth a retry when it broke mid-way), a 5xx is worth a retry, the
    /// rest is a refusal.
    fn error(&self, e: BollardError) -> EngineError {
        let unreachable = |e: &BollardError| EngineError::Unreachable {
            endpoint: self.endpoint.clone(),
            message: message(e),
        };
        match &e {
            BollardError::SocketNotFoundError(_) => unreachable(&e),
            BollardError::HyperLegacyError { .. }
            | BollardError::IOError { .. }
            | BollardError::RequestTimeoutError => unreachable(&e).transient(),
            BollardError::HyperResponseError { .. } => EngineError::Failed(message(&e)).transient(),
            BollardError::DockerResponseServerError { status_code, .. } if *status_code >= 500 => {
                EngineError::Failed(message(&e)).transient()
            }
            _ => EngineError::Failed(message(&e)),
        }
    }
}

#[async_trait]
impl Engine for Docker {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn check_builder(&self, builder: crate::engine::Builder) -> Result<(), String> {
        build::check_builder(self, builder)
    }

    async fn build(
        &self,
        request: &BuildRequest,
        context: BuildContext,
        progress: ProgressFn<'_>,
    ) -> Result<String, BuildFailure> {
        build::build(self, request, context, progress).await
    }

    async fn inspect(&self, reference: &str) -> Result<Option<ImageFacts>, EngineError> {
        match self.docker.inspect_image(reference).await {
            Ok(image) => Ok(Some(ImageFacts {
                config: examine::image_config(&image),
                id: image.id.unwrap_or_default(),
                repo_digests: image.repo_digests.unwrap_or_default(),
                size: image.size.map_or(0, |s| u64::try_from(s).unwrap_or(0)),
                labels: image
                    .config
                    .and_then(|c| c.labels)
                    .map(|l| l.into_iter().collect())
                    .unwrap_or_default(),
                layers: image.root_fs.and_then(|r| r.layers).unwrap_or_default(),
            })),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    async fn history(&self, image: &str) -> Result<Vec<crate::size::layers::Layer>, EngineError> {
        let entries = self
            .docker
            .image_history(image)
            .await
            .map_err(|e| self.error(e))?;
        // The engine lists the newest entry first.
        Ok(entries
            .into_iter()
            .rev()
            .map(|e| crate::size::layers::Layer {
                size: u64::try_from(e.size).unwrap_or(0),
                created_by: e.created_by,
            })
            .collect())
    }

    async fn saved(&self, image: &str) -> Result<crate::size::archive::Saved, EngineError> {
        save::saved(self, image).await
    }

    async fn run(&self, run: &ContainerRun<'_>) -> Result<TestOutcome, EngineError> {
        container::run(self, run).await
    }

    async fn exec(&self, exec: &Exec<'_>) -> Result<ExecOutcome, EngineError> {
        examine::exec(self, exec).await
    }

    async fn paths(
        &self,
        owner: &str,
        image: &str,
        paths: &[PathRequest],
    ) -> Result<Vec<Option<PathEntry>>, EngineError> {
        examine::paths(self, owner, image, paths).await
    }

    async fn read_file(
        &self,
        owner: &str,
        image: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        container::read_file(self, owner, image, path).await
    }

    async fn read_files(
        &self,
        owner: &str,
        image: &str,
        paths: &[&str],
    ) -> Result<std::collections::BTreeMap<String, Vec<u8>>, EngineError> {
        container::read_files(self, owner, image, paths).await
    }

    async fn tag(&self, image_id: &str, repository: &str, tag: &str) -> Result<(), EngineError> {
        self.docker
            .tag_image(
                image_id,
                Some(TagImageOptions {
                    repo: Some(repository.to_string()),
                    tag: Some(tag.to_string()),
                }),
            )
            .await
            .map_err(|e| self.error(e))
    }

    /// In one call: the engine filters (a busy engine lists thousands of images slowly).
    async fn tags(
        &self,
        repository_prefix: &str,
    ) -> Result<HashMap<String, Vec<String>>, EngineError> {
        let filters = HashMap::from([(
            "reference".to_string(),
            vec![format!("{repository_prefix}/*")],
        )]);
        let images = self
            .docker
            .list_images(Some(ListImagesOptions {
                all: false,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.error(e))?;
        Ok(images.into_iter().map(|i| (i.id, i.repo_tags)).collect())
    }

    async fn built_images(
        &self,
        repository_prefix: &str,
    ) -> Result<Vec<crate::engine::StoredImage>, EngineError> {
        images::built_images(self, repository_prefix).await
    }

    async fn remove_image(&self, reference: &str) -> Result<bool, EngineError> {
        images::remove(self, reference).await
    }

    async fn push(&self, repository: &str, tag: &str) -> Result<String, EngineError> {
        registry::push(self, repository, tag).await
    }

    async fn pull(&self, reference: &str) -> Result<(), EngineError> {
        registry::pull(self, reference).await
    }

    async fn remote_digest(&self, reference: &str) -> Result<String, EngineError> {
        registry::remote_digest(self, reference).await
    }

    async fn remove_containers(&self, owners: &[String]) -> Result<usize, EngineError> {
        container::remove_owned(self, owners).await
    }
}
