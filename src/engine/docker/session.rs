//! hier's own BuildKit session, one per build. The engine's BuildKit asks the client for what a
//! build needs over a session: an HTTP connection to `/session` upgraded to HTTP/2, on which
//! the client serves gRPC — the health check BuildKit polls, the file sync of the context and
//! the Dockerfile (`filesync`), and the image's secrets. The session ends with the build.
//! Secret values stay in this process's memory and go to the engine only when BuildKit asks for
//! one by id.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bollard::health::health_check_response::ServingStatus;
use bollard::health::health_server::{Health, HealthServer};
use bollard::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard::moby::buildkit::secrets::v1::secrets_server::{Secrets, SecretsServer};
use bollard::moby::buildkit::secrets::v1::{GetSecretRequest, GetSecretResponse};
use bollard::moby::filesync::v1::file_sync_server::FileSyncServer;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::{Request, Response, Status};

use super::Docker;
use super::filesync::Sync;
use crate::engine::{EngineError, FileTree, SecretValues};

/// The largest gRPC message either side sends (BuildKit's own limit).
const MAX_MESSAGE: usize = 16 << 20;

/// The gRPC methods the session serves (the engine calls only those it is told of).
const METHODS: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/moby.buildkit.secrets.v1.Secrets/GetSecret",
    "/moby.filesync.v1.FileSync/DiffCopy",
];

/// An open session; it closes when dropped.
pub(super) struct Session {
    id: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A fresh session id.
pub(super) fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let digest = crate::hash::digest(seed);
    let hex = digest.trim_start_matches("sha256:");
    format!("hier{}", &hex[..24])
}

impl Session {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Opens a session serving a build's context and Dockerfile, and its secrets.
    pub async fn open(
        docker: &Docker,
        tree: Arc<dyn FileTree>,
        secrets: SecretValues,
    ) -> Result<Session, EngineError> {
        let id = new_id();
        let stream = connect(&docker.endpoint, docker.tls.clone())
            .await
            .map_err(|e| EngineError::Unreachable {
                endpoint: docker.endpoint.clone(),
                message: e.to_string(),
            })?;
        let failed = |message: String| {
            EngineError::Failed(format!(
                "cannot open a BuildKit session with the Docker Engine at {}: {message}",
                docker.endpoint
            ))
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed(e.to_string()))?;
        tokio::spawn(connection.with_upgrades());
        let mut request = http::Request::post(format!("/v{}/session", docker.api_version))
            .header(http::header::HOST, "docker")
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "h2c")
            .header("X-Docker-Expose-Session-Uuid", &id)
            .header("X-Docker-Expose-Session-Name", "hier")
            .header("X-Docker-Expose-Session-Sharedkey", tree.key());
        for method in METHODS {
            request = request.header("X-Docker-Expose-Session-Grpc-Method", *method);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| failed(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            return Err(failed(format!("it answered {}", response.status())));
        }
        let upgraded = hyper::upgrade::on(response)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let router = tonic::transport::Server::builder()
            .add_service(HealthServer::new(Serving))
            .add_service(SecretsServer::new(Store(secrets)))
            .add_service(
                FileSyncServer::new(Sync::new(tree))
                    .max_decoding_message_size(MAX_MESSAGE)
                    .max_encoding_message_size(MAX_MESSAGE),
            );
        let connection = Upgraded(TokioIo::new(upgraded));
        let server = tokio::spawn(async move {
            let incoming = futures_util::stream::iter([Ok::<_, std::io::Error>(connection)]);
            let _ = router.serve_with_incoming(incoming).await;
        });
        Ok(Session { id, server })
    }
}

/// A build request sent as a legacy one (so bollard opens no session of its own) turned into a
/// BuildKit build on session `id`, whose context the session serves (`remote=client-session`).
pub(super) fn as_buildkit(
    mut request: bollard::BollardRequest,
    id: &str,
) -> bollard::BollardRequest {
    let uri = request.uri().clone();
    if !uri.path().ends_with("/build") {
        return request;
    }
    let mut query: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| {
            !p.is_empty()
                && !["version=", "session=", "remote="]
                    .iter()
                    .any(|k| p.starts_with(k))
        })
        .map(str::to_string)
        .collect();
    query.push("version=2".into());
    query.push(format!("session={id}"));
    query.push("remote=client-session".into());
    let path_and_query = format!("{}?{}", uri.path(), query.join("&"));
    let mut parts = uri.into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Where a session can reach an engine, as the docker CLI reaches it: a socket path, or a TCP
/// address (over TLS when the engine is).
enum Address<'a> {
    Unix(&'a str),
    Tcp(&'a str),
}

fn address(endpoint: &str) -> Option<Address<'_>> {
    if let Some(path) = endpoint.strip_prefix("unix://") {
        return Some(Address::Unix(path));
    }
    endpoint
        .strip_prefix("tcp://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .map(|a| Address::Tcp(a.trim_end_matches('/')))
}

/// Whether a session can reach the engine at `endpoint`.
pub(super) fn reachable(endpoint: &str) -> bool {
    address(endpoint).is_some()
}

/// A new connection to the engine, over TLS with `tls` when given.
async fn connect(
    endpoint: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> std::io::Result<Box<dyn Io>> {
    match (address(endpoint), tls) {
        (Some(Address::Unix(path)), _) => {
            Ok(Box::new(tokio::net::UnixStream::connect(path).await?))
        }
        (Some(Address::Tcp(address)), None) => {
            Ok(Box::new(tokio::net::TcpStream::connect(address).await?))
        }
        (Some(Address::Tcp(address)), Some(config)) => {
            Ok(Box::new(super::tls::stream(address, config).await?))
        }
        (None, _) => Err(std::io::Error::other(format!(
            "a BuildKit session reaches unix:// and tcp:// engines, not {endpoint}"
        ))),
    }
}

/// The upgraded connection, as the gRPC server takes it.
struct Upgraded(TokioIo<hyper::upgrade::Upgraded>);

impl tonic::transport::server::Connected for Upgraded {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The health service: serving while the session is open.
struct Serving;

#[tonic::async_trait]
impl Health for Serving {
    type WatchStream =
        Pin<Box<dyn futures_util::Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("list"))
    }

    async fn watch(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }
}

/// The secrets service: one build's secrets, by id.
struct Store(SecretValues);

#[tonic::async_trait]
impl Secrets for Store {
    async fn get_secret(
        &self,
        request: Request<GetSecretRequest>,
    ) -> Result<Response<GetSecretResponse>, Status> {
        let id = &request.get_ref().id;
        match self.0.get(id) {
            Some(data) => Ok(Response::new(GetSecretResponse {
                data: data.to_vec(),
            })),
            None => Err(Status::not_found(format!("secret {id} not found"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_build_request_becomes_a_buildkit_one_on_the_session() {
        let request = http::Request::post(
            "http://localhost/v1.41/build?dockerfile=Dockerfile&rm=true&version=1&nocache=false",
        )
        .body(bollard::body_full(Bytes::new()))
        .unwrap();
        let request = as_buildkit(request, "hierabc");
        assert_eq!(
            request.uri().to_string(),
            "http://localhost/v1.41/build?dockerfile=Dockerfile&rm=true&nocache=false&version=2&session=hierabc&remote=client-session"
        );
        let other = http::Request::get("http://localhost/v1.41/images/x/json")
            .body(bollard::body_full(Bytes::new()))
            .unwrap();
        assert_eq!(
            as_buildkit(other, "s").uri().to_string(),
            "http://localhost/v1.41/images/x/json"
        );
    }

    #[test]
    fn session_ids_differ() {
        assert_ne!(new_id(), new_id());
        assert!(new_id().starts_with("hier"));
    }
}
