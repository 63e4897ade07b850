//! What can go wrong at the engine boundary: the engine or a registry did not answer, a request
//! was refused, or a failure worth another try (a reset connection, a 5xx); and why a build did
//! not produce an image.

/// An engine or registry call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker Engine at {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("cannot reach the registry {registry}: {message}")]
    RegistryUnreachable { registry: String, message: String },
    /// Refused: what the engine or registry said.
    #[error("{0}")]
    Failed(String),
    /// Worth another try (a reset connection, a 5xx); what it is once the tries run out.
    #[error("{0}")]
    Transient(Box<EngineError>),
}

impl EngineError {
    pub fn transient(self) -> Self {
        match self {
            EngineError::Transient(_) => self,
            other => EngineError::Transient(Box::new(other)),
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, EngineError::Transient(_))
    }

    /// What the error is, retries aside.
    pub fn settled(self) -> Self {
        match self {
            EngineError::Transient(inner) => inner.settled(),
            other => other,
        }
    }

    /// The engine or a registry did not answer (exit 3), as opposed to refusing.
    pub fn is_unreachable(&self) -> bool {
        match self {
            EngineError::Unreachable { .. } | EngineError::RegistryUnreachable { .. } => true,
            EngineError::Failed(_) => false,
            EngineError::Transient(inner) => inner.is_unreachable(),
        }
    }

    /// The engine itself is gone (a run cannot go on), as opposed to a registry.
    pub fn is_engine_lost(&self) -> bool {
        match self {
            EngineError::Unreachable { .. } => true,
            EngineError::Transient(inner) => inner.is_engine_lost(),
            _ => false,
        }
    }
}

impl EngineError {
    /// What to do about an engine or registry that does not answer.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            EngineError::Unreachable { .. } => Some(
                "start the Docker Engine, or point DOCKER_HOST at one (`unix:///path/to/docker.sock`, `tcp://host:2375`)",
            ),
            EngineError::RegistryUnreachable { .. } => Some(
                "check that the registry is up and that the engine reaches it (its name and port, the engine's DNS and proxy settings); the next `--push` run pushes what was built",
            ),
            EngineError::Transient(inner) => inner.help(),
            _ => None,
        }
    }
}

impl From<EngineError> for crate::error::Error {
    /// Unreachable is exit 3, with what to do about it; a refusal outside a build is a failure
    /// (exit 1).
    fn from(e: EngineError) -> Self {
        let e = e.settled();
        match e.help() {
            Some(help) => crate::error::Error::Unreachable {
                message: e.to_string(),
                help: help.to_string(),
            },
            None => crate::error::Error::Failed(e.to_string()),
        }
    }
}

/// Why a build did not produce an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildFailure {
    /// A step failed or the Dockerfile was refused: what the engine said, without protocol
    /// noise, naming the step.
    #[error("{0}")]
    Step(String),
    /// The engine failed (or went away) around the build.
    #[error("{0}")]
    Engine(EngineError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transient_error_settles_into_what_it_wraps() {
        let lost = EngineError::Unreachable {
            endpoint: "unix:///x".into(),
            message: "connection reset".into(),
        };
        let t = lost.clone().transient().transient();
        assert!(t.is_transient() && t.is_unreachable() && t.is_engine_lost());
        assert_eq!(t.to_string(), lost.to_string());
        assert_eq!(t.settled(), lost);
        assert!(!EngineError::Failed("no".into()).is_unreachable());
    }
}
