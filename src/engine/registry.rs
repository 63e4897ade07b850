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
    /// multi-platform tag), without pulling.
    pub async fn remote_digest(&self, reference: &str) -> Result<String, EngineError> {
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

    /// Pushes `repository:tag`; returns the pushed manifest digest.
    pub async fn push(&self, repository: &str, tag: &str) -> Result<String, EngineError> {
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

    /// Pulls `reference` (a tag or `repo@digest`).
    pub async fn pull(&self, reference: &str) -> Result<(), EngineError> {
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
