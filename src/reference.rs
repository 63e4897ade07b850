//! Docker image references (`[registry/]path[:tag][@digest]`) as written in `from`, and the
//! repository prefixes of `registry` and `mirrors`.

/// A parsed image reference; only the parts hier needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Everything before the tag and digest (`registry.example/team/debian`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, String> {
        if text.is_empty() {
            return Err("an image reference cannot be empty".into());
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!("image reference `{text}` contains white space"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest).map_err(|e| format!("image reference `{text}`: {e}"))?;
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repository, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &rest[last_slash + i + 1..];
                if !is_tag(tag) {
                    return Err(format!(
                        "image reference `{text}` has an invalid tag `{tag}` (letters, digits, `_`, `.`, `-`; at most 128)"
                    ));
                }
                (&rest[..last_slash + i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        check_repository(repository).map_err(|e| format!("image reference `{text}`: {e}"))?;
        Ok(Reference {
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// The last path component of the repository (`debian` for `docker.io/library/debian`).
    pub fn short_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }
}

/// The repository as the engine shows it in `RepoDigests` and `RepoTags`: Docker Hub's
/// `docker.io/` (and `library/` for official images) left out.
pub fn familiar(repository: &str) -> &str {
    let rest = ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]
        .iter()
        .find_map(|p| repository.strip_prefix(p));
    match rest {
        Some(r) => r.strip_prefix("library/").unwrap_or(r),
        None => repository,
    }
}

/// A tag as Docker accepts it.
pub fn is_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!(
            "digest `{digest}` must look like `sha256:<64 hex digits>`"
        ));
    };
    let ok = match algorithm {
        "sha256" => hex.len() == 64,
        "sha384" => hex.len() == 96,
        "sha512" => hex.len() == 128,
        _ => false,
    } && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "digest `{digest}` must look like `sha256:<64 hex digits>`"
        ))
    }
}

/// Checks a repository (`[host[:port]/]path`): path components lower case, no empty parts.
pub fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("the repository is empty".into());
    }
    if repository.contains("://") {
        return Err(format!(
            "`{repository}` has a URL scheme; write the repository without it (`host/path`)"
        ));
    }
    let mut parts: Vec<&str> = repository.split('/').collect();
    // A first component with a `.` or `:` or equal to `localhost` is a registry host.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (name, port) = match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        {
            return Err(format!("`{host}` is not a valid registry host"));
        }
        if let Some(port) = port
            && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(format!("`{host}` has an invalid port"));
        }
    }
    for part in parts {
        if part.is_empty() {
            return Err(format!("`{repository}` has an empty path component"));
        }
        if let Err(e) = crate::name::ImageName::parse(part) {
            return Err(format!(
                "path component `{part}` of `{repository}` is invalid: {}",
                e.trim_start_matches("image name ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_digests_and_ports() {
        let r = Reference::parse("debian:bookworm-slim").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref()),
            ("debian", Some("bookworm-slim"))
        );
        let r = Reference::parse("localhost:5000/team/base:1.0").unwrap();
        assert_eq!(r.repository, "localhost:5000/team/base");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.short_name(), "base");
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("localhost:5000/base@{digest}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "Debian:12",
            "debian:",
            "debian@sha256:abc",
            "a//b:1",
            "https://x/y:1",
            "a b:1",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
