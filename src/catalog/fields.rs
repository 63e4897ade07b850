//! Field readers shared by the `[catalog]` table and the image entries: repository-relative
//! paths, labels, build arguments, durations, dependencies (`name@requirement`) and `from`.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::value::{Problems, TableReader, ends_with_backslash, type_name};
use super::{Dependency, Span};
use crate::name::ImageName;
use crate::reference::Reference;

/// Labels hier sets on every build; a catalog cannot declare them.
pub const HIER_LABELS: &[&str] = &[
    "org.opencontainers.image.title",
    "org.opencontainers.image.version",
    "org.opencontainers.image.created",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.source",
    "org.opencontainers.image.base.name",
    "org.opencontainers.image.base.digest",
];

/// Normalises a relative path; rejects absolute paths and any `..` that leaves the repository.
pub fn relative_path(path: &str) -> Result<String, String> {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err(format!(
            "`{path}` is absolute; write a path relative to the catalog's folder"
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{path}` leaves the repository"));
                }
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// A `labels` table: names Docker accepts and hier does not set itself, single-line values.
pub fn read_labels(p: &mut Problems, table: &DeTable<'_>, what: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '=') {
            p.error(key.span(), format!("invalid label name `{name}` in {what}"));
            continue;
        }
        if name.starts_with("io.hier.") || HIER_LABELS.contains(&name) {
            p.error_help(
                key.span(),
                format!("label `{name}` in {what} is set by hier on every build"),
                "remove it from the catalog",
            );
            continue;
        }
        match value.get_ref() {
            DeValue::String(s) if s.contains(['\n', '\r']) => p.error(
                value.span(),
                format!("label `{name}` in {what} spans several lines"),
            ),
            DeValue::String(s) if ends_with_backslash(s) => {
                p.ends_with_backslash(value.span(), &format!("label `{name}` in {what}"))
            }
            DeValue::String(s) => {
                labels.insert(name.to_string(), s.to_string());
            }
            other => p.error(
                value.span(),
                format!(
                    "label `{name}` in {what} must be a string, found {}",
                    type_name(other)
                ),
            ),
        }
    }
    labels
}

/// A `build_args` table: valid argument names outside the reserved `HIER_` prefix, each value a
/// single-line string (or a number or boolean, written as text).
pub fn read_build_args(
    p: &mut Problems,
    table: &DeTable<'_>,
    what: &str,
) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        if !is_variable_name(name) {
            p.error(
                key.span(),
                format!("invalid build argument name `{name}` in {what}"),
            );
            continue;
        }
        if name.starts_with("HIER_") {
            p.error_help(
                key.span(),
                format!("build argument `{name}` of {what} uses the reserved prefix `HIER_`"),
                "hier passes HIER_PARENT and HIER_USES_* itself; rename the argument",
            );
            continue;
        }
        if let Some(text) = build_arg_value(p, value, name, what) {
            args.insert(name.to_string(), text);
        }
    }
    args
}

fn build_arg_value(
    p: &mut Problems,
    value: &Spanned<DeValue<'_>>,
    name: &str,
    what: &str,
) -> Option<String> {
    match value.get_ref() {
        DeValue::String(s) if s.contains(['\n', '\r']) => {
            p.error(
                value.span(),
                format!("build argument `{name}` of {what} spans several lines"),
            );
            None
        }
        DeValue::String(s) if ends_with_backslash(s) => {
            let arg = format!("build argument `{name}` of {what}");
            p.ends_with_backslash(value.span(), &arg);
            None
        }
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(i) => Some(i.to_string()),
        DeValue::Boolean(b) => Some(b.to_string()),
        other => {
            p.error(
                value.span(),
                format!(
                    "build argument `{name}` of {what} must be a string, found {}",
                    type_name(other)
                ),
            );
            None
        }
    }
}

/// One lower-case word: a letter, then letters, digits, `-` and `_` (a kind).
pub fn is_word(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

/// A shell variable's name: a letter or `_`, then letters, digits and `_` (build arguments,
/// environment variables).
pub fn is_variable_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A positive duration: a number of seconds, or text like "90s" or "1h 30m".
pub fn read_duration(
    p: &mut Problems,
    t: &mut TableReader<'_, '_>,
    key: &'static str,
    what: &str,
) -> Option<Duration> {
    let value = t.get(key)?;
    let parsed = match value.get_ref() {
        DeValue::Integer(i) => i
            .as_str()
            .parse::<u64>()
            .ok()
            .filter(|_| i.radix() == 10)
            .map(Duration::from_secs),
        DeValue::String(s) => humantime::parse_duration(s.trim()).ok(),
        _ => None,
    };
    match parsed {
        Some(d) if !d.is_zero() => Some(d),
        _ => {
            p.error_help(
                value.span(),
                format!("invalid `{key}` of {what}"),
                "write a positive duration such as \"90s\", \"2m\" or \"1h 30m\" (or a number of seconds)",
            );
            None
        }
    }
}

/// A size budget: a string with a unit (`"250MB"`, `"1.5 GiB"`) or a number of bytes.
pub fn read_bytes(
    p: &mut Problems,
    t: &mut TableReader<'_, '_>,
    key: &'static str,
    what: &str,
) -> Option<u64> {
    let value = t.get(key)?;
    let parsed = match value.get_ref() {
        DeValue::Integer(i) if i.radix() == 10 => crate::budget::parse_bytes(i.as_str()),
        DeValue::Integer(_) => Err("write the number in decimal".into()),
        DeValue::String(s) => crate::budget::parse_bytes(s),
        other => Err(format!("found {}", super::value::type_name(other))),
    };
    match parsed {
        Ok(bytes) => Some(bytes),
        Err(why) => {
            p.error_help(
                value.span(),
                format!("invalid `{key}` of {what}: {why}"),
                "write a size such as \"250MB\", \"40 MiB\" or \"1.5GB\" (units B, kB or KB, MB, GB, TB, KiB, MiB, GiB), or a number of bytes",
            );
            None
        }
    }
}

/// `name` or `name@requirement`.
pub fn parse_dependency(text: &str, span: Span) -> Result<Dependency, String> {
    let (name, requirement) = match text.split_once('@') {
        Some((name, req)) => (name.trim(), Some(req.trim())),
        None => (text.trim(), None),
    };
    let name = ImageName::parse(name)?;
    let requirement = match requirement {
        None => None,
        Some(req) => Some(
            semver::VersionReq::parse(req)
                .map_err(|e| format!("invalid version requirement `{req}` in `{text}`: {e}"))?,
        ),
    };
    Ok(Dependency {
        name,
        requirement,
        span,
    })
}

/// `from` must name a tag or a digest, and never `latest`. The error is (message, help).
pub fn check_from(from: &str) -> Result<(), (String, String)> {
    let reference = Reference::parse(from).map_err(|e| {
        (
            e,
            "write `<repository>:<tag>` or `<repository>@sha256:<digest>`".to_string(),
        )
    })?;
    match (&reference.tag, &reference.digest) {
        (None, None) => Err((
            format!("`{from}` has no tag, which means `latest`"),
            "pin it: add an explicit tag (`debian:bookworm-slim`) or a digest".into(),
        )),
        (Some(tag), None) if tag == "latest" => Err((
            format!("`{from}` uses the `latest` tag"),
            "pin it: use a tag that names a release (`debian:bookworm-slim`) or a digest".into(),
        )),
        _ => Ok(()),
    }
}
