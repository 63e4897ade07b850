//! Registries, through the engine: a reference's top-level manifest digest (the distribution
//! endpoint, without pulling), pushes and pulls, with the docker config's credentials. An
//! unreachable registry is told apart from a refused request and from one worth another try.

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{CreateImageOptions, PushImageOptions};
use futures_util::StreamExt;

use bollard::errors::Error as BollardError;

use super::Docker;
use crate::engine::EngineError;
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
        "timeout",
        "request canceled",
        "deadline exceeded",
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

/// A registry failure as an [`EngineError`]: no answer (exit 3), a refusal, or worth another
/// try. Whatever the registry said, the credentials hier sent for it never pass on: they (and
/// the basic-auth form of them, and anything like a URL's userinfo) are blanked out.
fn registry_error(repository: &str, text: String) -> EngineError {
    let credentials = credentials_for(repository).ok().flatten();
    let text = redact_credentials(&redact_userinfo(&text), credentials.as_ref());
    let error = if is_unreachable(&text) {
        EngineError::RegistryUnreachable {
            registry: registry::host(repository),
            message: text.clone(),
        }
    } else {
        EngineError::Failed(text.clone())
    };
    if is_transient(&text) {
        error.transient()
    } else {
        error
    }
}

/// `text` without the secrets of `credentials`, in clear or as a basic-auth header carries them.
fn redact_credentials(text: &str, credentials: Option<&DockerCredentials>) -> String {
    let Some(c) = credentials else {
        return text.to_string();
    };
    let mut secrets: Vec<String> = [&c.password, &c.identitytoken, &c.registrytoken]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if let (Some(user), Some(password)) = (&c.username, &c.password) {
        use base64::Engine as _;
        let pair = format!("{user}:{password}");
        secrets.push(base64::engine::general_purpose::STANDARD.encode(&pair));
        secrets.push(pair);
    }
    secrets.retain(|s| s.len() >= 4);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// A failed call to the engine itself (it is gone), else what the registry said.
fn call_error(docker: &Docker, repository: &str, e: BollardError) -> EngineError {
    match docker.error(e) {
        lost if lost.is_engine_lost() => lost,
        other => registry_error(repository, other.settled().to_string()),
    }
}

/// A push's or pull's failure: what the registry answered is final (the engine has already
/// retried the transfer with backoff, so even a 5xx is not tried again), else [`call_error`].
fn stream_error(docker: &Docker, repository: &str, e: BollardError) -> EngineError {
    match e {
        BollardError::DockerStreamError { error } => registry_error(repository, error).settled(),
        e => call_error(docker, repository, e),
    }
}

/// The top-level manifest digest of `reference` in its registry (an index for a
/// multi-platform tag), without pulling.
pub(super) async fn remote_digest(docker: &Docker, reference: &str) -> Result<String, EngineError> {
    let repository = reference.split('@').next().unwrap_or(reference);
    let credentials = credentials_for(repository)?;
    match docker
        .docker
        .inspect_registry_image(reference, credentials)
        .await
    {
        Ok(found) => match found.descriptor.digest {
            Some(d) if crate::lock::is_digest(&d) => Ok(d),
            Some(d) => Err(EngineError::Failed(format!(
                "the registry gave {} as the digest of {reference}; hier records sha256 digests only",
                d.escape_debug()
            ))),
            None => Err(EngineError::Failed(format!(
                "the registry gave no digest for {reference}"
            ))),
        },
        Err(e) => Err(call_error(docker, repository, e)),
    }
}

/// Pushes `repository:tag`; returns the pushed manifest digest (from the engine's status
/// line `TAG: digest: sha256:… size: N`).
pub(super) async fn push(
    docker: &Docker,
    repository: &str,
    tag: &str,
) -> Result<String, EngineError> {
    let credentials = credentials_for(repository)?;
    let mut stream = docker.docker.push_image(
        repository,
        Some(PushImageOptions {
            tag: Some(tag.to_string()),
            ..Default::default()
        }),
        credentials,
    );
    let mut digest = None;
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| stream_error(docker, repository, e))?;
        if let Some(detail) = info.error_detail
            && let Some(m) = detail.message
        {
            return Err(registry_error(repository, m).settled());
        }
        if let Some(status) = info.status.as_deref()
            && let Some(rest) = status.split("digest: ").nth(1)
        {
            digest = rest.split_whitespace().next().map(str::to_string);
        }
    }
    match digest {
        Some(d) if crate::lock::is_digest(&d) => Ok(d),
        Some(d) => Err(EngineError::Failed(format!(
            "the push of {repository}:{tag} gave {} as its digest; hier records sha256 digests only",
            d.escape_debug()
        ))),
        None => Err(EngineError::Failed(format!(
            "the push of {repository}:{tag} ended without a digest"
        ))),
    }
}

/// Pulls `reference` (a tag or `repo@digest`).
pub(super) async fn pull(docker: &Docker, reference: &str) -> Result<(), EngineError> {
    let repository = reference.split('@').next().unwrap_or(reference).to_string();
    let credentials = credentials_for(&repository)?;
    let mut stream = docker.docker.create_image(
        Some(CreateImageOptions {
            from_image: Some(reference.to_string()),
            ..Default::default()
        }),
        None,
        credentials,
    );
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| stream_error(docker, &repository, e))?;
        if let Some(detail) = info.error_detail
            && let Some(m) = detail.message
        {
            return Err(registry_error(&repository, m).settled());
        }
    }
    Ok(())
}

/// A registry failure worth another try: a reset connection, a timeout, a 5xx.
fn is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
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
    fn credentials_a_registry_echoes_are_blanked() {
        let credentials = DockerCredentials {
            username: Some("bot".into()),
            password: Some("s3cret-pass".into()),
            ..Default::default()
        };
        let echoed =
            "denied: bad auth for bot:s3cret-pass (Basic Ym90OnMzY3JldC1wYXNz), token s3cret-pass";
        assert_eq!(
            redact_credentials(echoed, Some(&credentials)),
            "denied: bad auth for *** (Basic ***), token ***"
        );
        assert_eq!(redact_credentials("plain", None), "plain");
    }

    #[test]
    fn unreachable_is_told_from_refused() {
        assert!(is_unreachable(
            "Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused"
        ));
        assert!(!is_unreachable("unauthorized: authentication required"));
        assert!(is_unreachable(
            "Get \"http://127.0.0.1:5999/v2/\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"
        ));
    }
}
