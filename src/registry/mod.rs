//! Registries: which host a repository lives on, and the credentials the docker config holds
//! for it. The registry calls themselves (resolve, push, pull) go through the engine (see
//! [`crate::engine`]), which talks to registries the way the docker CLI does.

pub mod credentials;

pub use credentials::{Credentials, lookup};

/// The registry host of a repository (`registry.example:5000/team/app` → `registry.example:5000`);
/// Docker Hub for a repository without one.
pub fn host(repository: &str) -> String {
    match repository.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            host("registry.acme.internal/platform/base"),
            "registry.acme.internal"
        );
        assert_eq!(host("127.0.0.1:5000/x"), "127.0.0.1:5000");
        assert_eq!(host("localhost/x"), "localhost");
        assert_eq!(host("library/debian"), "docker.io");
        assert_eq!(host("debian"), "docker.io");
    }
}
