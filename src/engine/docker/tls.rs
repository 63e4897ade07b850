//! The TLS transport to an engine reached over `tcp://` with a client certificate. As the docker
//! CLI does with `--tlsverify`, the engine's certificate must chain to the CA the builders file
//! (or `DOCKER_CERT_PATH`) names and to nothing else: the system's roots are not trusted, so a
//! certificate any public CA issued for the engine's name is refused. bollard's own TLS
//! connection adds the system's roots, hence this transport of hyper-rustls under bollard. The
//! same settings make the TLS stream of hier's BuildKit session.

use std::path::Path;
use std::sync::Arc;

use bollard::errors::Error as BollardError;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::pool::file::Tls;

/// The TLS settings of an engine: it is checked against `tls.ca` alone, and hier presents
/// `tls.cert` with `tls.key`.
pub(super) fn config(tls: &Tls) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder()
        .with_root_certificates(roots(&tls.ca)?)
        .with_client_auth_cert(certificates(&tls.cert)?, key(&tls.key)?)
        .map_err(|e| format!("{}: {e}", tls.cert.display()))?;
    Ok(Arc::new(config))
}

/// A bollard client for the engine at `host` (`tcp://HOST:PORT`) over TLS with `config`.
pub(super) fn connect(
    host: &str,
    config: Arc<ClientConfig>,
    timeout: u64,
) -> Result<bollard::Docker, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let https = HttpsConnector::from((http, config));
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(https);
    let transport = move |request: bollard::BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(request)
                .await
                .map_err(|err| BollardError::HyperLegacyError { err })
        }
    };
    let address = host.strip_prefix("tcp://").unwrap_or(host);
    bollard::Docker::connect_with_custom_transport(
        transport,
        Some(format!("https://{address}")),
        timeout,
        bollard::API_DEFAULT_VERSION,
    )
    .map_err(|e| e.to_string())
}

/// A TLS connection to `address` (`HOST:PORT`), checked with `config` against the name `HOST`
/// (hier's BuildKit session, which bollard does not carry).
pub(super) async fn stream(
    address: &str,
    config: Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let host = address
        .rsplit_once(':')
        .map_or(address, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| std::io::Error::other(format!("{host}: {e}")))?;
    let tcp = tokio::net::TcpStream::connect(address).await?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// The CA's certificates, the only roots trusted.
fn roots(ca: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certificates(ca)?);
    if added == 0 {
        return Err(format!("{}: no usable CA certificate", ca.display()));
    }
    Ok(roots)
}

/// Every certificate of a PEM file; none is an error naming the file.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|found| found.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{}: no certificate in this file", path.display()));
    }
    Ok(certificates)
}

/// The private key of a PEM file.
fn key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("{}: {e}", path.display()))
}
