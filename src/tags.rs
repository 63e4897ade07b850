//! The tags hier gives a built image: `<version>`, `<major>.<minor>`, `<major>`, the catalog's
//! extra tags, and the immutable `<version>-<first 12 hex of the image id>`. A pre-release gets
//! only `<version>` and the immutable tag. Never `latest`.

use semver::Version;

/// The moving tags of a version (everything but the immutable tag), in order, without repeats.
pub fn moving_tags(version: &Version, extra: &[String]) -> Vec<String> {
    let mut tags = vec![version.to_string()];
    if version.pre.is_empty() {
        tags.push(format!("{}.{}", version.major, version.minor));
        tags.push(version.major.to_string());
        for tag in extra {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
    }
    tags
}

/// `<version>-<first 12 hex digits of the image id>`.
pub fn immutable_tag(version: &Version, image_id: &str) -> String {
    let hex = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    format!("{version}-{}", &hex[..hex.len().min(12)])
}

/// The reference to pin a `FROM` line to: the recorded build's immutable tag with the digest
/// it was pushed under to `repository` (`<repository>:<version>-<id12>@<digest>`); `None`
/// until that build has been pushed there.
pub fn pinned_reference(
    repository: &str,
    image_id: &str,
    tags: &[String],
    pushed: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let hex = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    let suffix = format!("-{}", &hex[..hex.len().min(12)]);
    let tag = tags.iter().find(|t| t.ends_with(&suffix))?;
    let digest = pushed.get(repository)?;
    Some(format!("{repository}:{tag}@{digest}"))
}

/// Every tag of a built image.
pub fn all_tags(version: &Version, extra: &[String], image_id: &str) -> Vec<String> {
    let mut tags = moving_tags(version, extra);
    tags.push(immutable_tag(version, image_id));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_gets_version_minor_major_extras_and_immutable() {
        let v = Version::parse("3.12.4").unwrap();
        let id = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            all_tags(&v, &["3.12".into(), "py3".into()], &id),
            ["3.12.4", "3.12", "3", "py3", "3.12.4-abababababab"]
        );
    }

    #[test]
    fn prerelease_gets_only_version_and_immutable() {
        let v = Version::parse("1.5.0-rc.1").unwrap();
        assert_eq!(
            all_tags(&v, &["edge".into()], "sha256:0123456789abcdef"),
            ["1.5.0-rc.1", "1.5.0-rc.1-0123456789ab"]
        );
    }
}
