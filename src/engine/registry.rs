//! Registry operations through the engine: a reference's top-level manifest digest (the
//! distribution endpoint, without pulling), pushes and pulls, with the docker config's
//! credentials. An unreachable registry is told apart from a refused request.

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{CreateImageOptions, PushImageOptions};
use futures_util::StreamExt;

use super::{Engine, EngineError, message};
use crate::registry::{self, Credentials};

/// What the engine said when a registry did not answer (as opposed to refusing).
fn is_unreachable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "connection refused",
        "no such host",
        "i/o timeout",
        "dial tcp",
        "tls handshake",
        "x509:",
        "connection reset",
        "no route to host",
        "server misbehaving",
    ]
    .iter()
    .any(|p| m.contains(p))
}

fn credentials_for(repository: &str) -> Result<Option<DockerCredentials>, EngineError> {
    let host = registry::host(repository);
    let found: Option<Credentials> = registry::lookup(&host).map_err(EngineError::Failed)?;
    Ok(found.map(|c| DockerCredentials {
        username: if c.token { None } else { c.username },
        password: if c.token {
            None
        } else {
            Some(c.secret.0.clone())
        },
        identitytoken: if c.token { Some(c.secret.0) } else { None },
        serveraddress: Some(c.server),
        ..Default::default()
    }))
}

impl Engine {
    fn registry_error(&self, repository: &str, text: String) -> EngineError {
        // The engine's messages never carry the credentials it was given; strip anything that
        // looks like a URL userinfo all the same.
        let text = redact_userinfo(&text);
        if is_unreachable(&text) {
            EngineError::RegistryUnreachable {
                registry: registry::host(repository),
                message: text,
            }
        } else {
            EngineError::Failed(text)
        }
    }

    /// The top-level manifest digest of `reference` in its registry (an index for a
    /// multi-platform tag), without pulling. Transient failures are retried.
    pub async fn remote_digest(&self, reference: &str) -> Result<String, EngineError> {
        with_retries(|| self.remote_digest_once(reference)).await
    }

    async fn remote_digest_once(&self, reference: &str) -> Result<String, EngineError> {
        let repository = reference.split(['@']).next().unwrap_or(reference);
        let credentials = credentials_for(repository)?;
        match self
            .docker
            .inspect_registry_image(reference, credentials)
            .await
        {
            Ok(found) => found.descriptor.digest.ok_or_else(|| {
                EngineError::Failed(format!("the registry gave no digest for {reference}"))
            }),
            Err(e) => Err(self.registry_error(repository, message(&e))),
        }
    }

    /// Pushes `repository:tag`; returns the pushed manifest digest. Transient failures are
    /// retried (pushing a tag again is harmless).
    pub async fn push(&self, repository: &str, tag: &str) -> Result<String, EngineError> {
        with_retries(|| self.push_once(repository, tag)).await
    }

    async fn push_once(&self, repository: &str, tag: &str) -> Result<String, EngineError> {
        let credentials = credentials_for(repository)?;
        let mut stream = self.docker.push_image(
            repository,
            Some(PushImageOptions {
                tag: Some(tag.to_string()),
                ..Default::default()
            }),
            credentials,
        );
        let mut digest = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail
                        && let Some(m) = detail.message
                    {
                        return Err(self.registry_error(repository, m));
                    }
                    if let Some(status) = info.status.as_deref()
                        && let Some(rest) = status.split("digest: ").nth(1)
                    {
                        digest = rest.split_whitespace().next().map(str::to_string);
                    }
                }
                Err(e) => return Err(self.registry_error(repository, message(&e))),
            }
        }
        digest.ok_or_else(|| {
            EngineError::Failed(format!(
                "the push of {repository}:{tag} ended without a digest"
            ))
        })
    }

    /// Pulls `reference` (a tag or `repo@digest`). Transient failures are retried.
    pub async fn pull(&self, reference: &str) -> Result<(), EngineError> {
        with_retries(|| self.pull_once(reference)).await
    }

    async fn pull_once(&self, reference: &str) -> Result<(), EngineError> {
        let repository = reference.split('@').next().unwrap_or(reference).to_string();
        let credentials = credentials_for(&repository)?;
        let mut stream = self.docker.create_image(
            Some(CreateImageOptions {
                from_image: Some(reference.to_string()),
                ..Default::default()
            }),
            None,
            credentials,
        );
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail
                        && let Some(m) = detail.message
                    {
                        return Err(self.registry_error(&repository, m));
                    }
                }
                Err(e) => return Err(self.registry_error(&repository, message(&e))),
            }
        }
        Ok(())
    }
}

/// A registry failure worth another try: a reset connection, a timeout, a 5xx.
fn is_transient(e: &EngineError) -> bool {
    let m = match e {
        EngineError::RegistryUnreachable { message, .. } | EngineError::Failed(message) => {
            message.to_ascii_lowercase()
        }
        EngineError::Unreachable { .. } => return false,
    };
    [
        "connection reset",
        "i/o timeout",
        "handshake timeout",
        "unexpected eof",
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway timeout",
        "toomanyrequests",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Runs a registry call up to four times, 1 s, 2 s and 4 s apart, while it fails transiently.
async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, EngineError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, EngineError>>,
{
    let mut delay = std::time::Duration::from_secs(1);
    for _ in 0..3 {
        match call().await {
            Err(e) if is_transient(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    call().await
}

/// `https://user:secret@host/…` → `https://host/…`, anywhere in a message.
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_removed() {
        assert_eq!(
            redact_userinfo("Get \"https://bot:s3cret@r.example/v2/\": denied"),
            "Get \"https://r.example/v2/\": denied"
        );
        assert_eq!(redact_userinfo("no url here"), "no url here");
    }

    #[test]
    fn unreachable_is_told_from_refused() {
        assert!(is_unreachable(
            "Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused"
        ));
        assert!(!is_unreachable("unauthorized: authentication required"));
    }
}
