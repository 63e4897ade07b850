//! The `[catalog]` table: what every image shares (name, registry and mirrors, the folders, the
//! platform, the builder, variables, labels and the build secrets' declarations).

use toml::de::DeTable;

use super::fields::{is_word, read_labels, relative_path};
use super::secrets::{Unchecked, read_declarations};
use super::value::{Problems, TableReader, ends_with_backslash, table_to_json};
use super::{Builder, Catalog, DEFAULT_KINDS, Span};
use crate::reference::check_repository;

const CATALOG_KEYS: &[&str] = &[
    "name",
    "registry",
    "mirrors",
    "templates",
    "images",
    "platform",
    "builder",
    "kinds",
    "vars",
    "labels",
    "secrets",
];

/// Reads `[catalog]` (at `span`) into `catalog`; returns the secret ids images may name
/// unchecked (see [`Unchecked`]).
pub fn read_catalog_table(
    p: &mut Problems,
    table: &DeTable<'_>,
    span: Span,
    catalog: &mut Catalog,
) -> Unchecked {
    let mut t = TableReader::new(table, "[catalog]");
    read_name(p, &mut t, &span, catalog);
    read_registry(p, &mut t, &span, catalog);
    read_mirrors(p, &mut t, catalog);
    read_folders(p, &mut t, catalog);
    read_platform(p, &mut t, catalog);
    read_builder(p, &mut t, catalog);
    read_kinds(p, &mut t, catalog);
    if let Some((vars, _)) = t.table(p, "vars")
        && let Some(vars) = table_to_json(p, vars, "vars", "[catalog]")
    {
        catalog.vars = vars;
    }
    if let Some((labels, _)) = t.table(p, "labels") {
        catalog.labels = read_labels(p, labels, "[catalog]");
    }
    let (secrets, unchecked) = read_declarations(p, &mut t);
    catalog.secrets = secrets;
    t.finish(p, CATALOG_KEYS);
    unchecked
}

fn read_name(p: &mut Problems, t: &mut TableReader<'_, '_>, span: &Span, catalog: &mut Catalog) {
    match t.string(p, "name") {
        Some((name, span)) if name.trim().is_empty() => {
            p.error(span, "`name` of [catalog] is empty")
        }
        Some((name, span)) if ends_with_backslash(&name) => {
            p.ends_with_backslash(span, "`name` of [catalog]")
        }
        Some((name, _)) => catalog.name = name,
        None if !t.contains("name") => p.error_help(
            span.clone(),
            "[catalog] has no `name`",
            "add `name = \"<your hierarchy>\"`",
        ),
        None => {}
    }
}

fn read_registry(
    p: &mut Problems,
    t: &mut TableReader<'_, '_>,
    span: &Span,
    catalog: &mut Catalog,
) {
    match t.string(p, "registry") {
        Some((registry, span)) => match check_registry(&registry) {
            Ok(()) => catalog.registry = registry,
            Err(e) => p.error(span, format!("invalid `registry` in [catalog]: {e}")),
        },
        None if !t.contains("registry") => p.error_help(
            span.clone(),
            "[catalog] has no `registry`",
            "add `registry = \"<host>/<path>\"`, the repository prefix of every image",
        ),
        None => {}
    }
}

fn read_mirrors(p: &mut Problems, t: &mut TableReader<'_, '_>, catalog: &mut Catalog) {
    let Some(mirrors) = t.strings(p, "mirrors") else {
        return;
    };
    for (mirror, span) in mirrors {
        match check_registry(&mirror) {
            Ok(()) if mirror == catalog.registry => {
                p.error(span, format!("mirror `{mirror}` is the registry itself"))
            }
            Ok(()) if catalog.mirrors.contains(&mirror) => {
                p.error(span, format!("mirror `{mirror}` is listed twice"))
            }
            Ok(()) => catalog.mirrors.push(mirror),
            Err(e) => p.error(span, format!("invalid mirror in [catalog]: {e}")),
        }
    }
}

/// `templates` and `images`: folders relative to the repository.
fn read_folders(p: &mut Problems, t: &mut TableReader<'_, '_>, catalog: &mut Catalog) {
    if let Some((dir, span)) = t.string(p, "templates") {
        catalog.templates_span = Some(span.clone());
        match relative_path(&dir) {
            Ok(dir) => catalog.templates = dir,
            Err(e) => p.error(span, format!("`templates` in [catalog]: {e}")),
        }
    }
    if let Some((dir, span)) = t.string(p, "images") {
        catalog.images_span = Some(span.clone());
        match relative_path(&dir) {
            Ok(dir) => catalog.images_dir = dir,
            Err(e) => p.error(span, format!("`images` in [catalog]: {e}")),
        }
    }
}

fn read_platform(p: &mut Problems, t: &mut TableReader<'_, '_>, catalog: &mut Catalog) {
    let Some((platform, span)) = t.string(p, "platform") else {
        return;
    };
    if is_platform(&platform) {
        catalog.platform = platform;
    } else {
        p.error_help(
            span,
            format!("invalid `platform` `{platform}` in [catalog]"),
            "write it as `os/arch` or `os/arch/variant`, e.g. `linux/amd64`",
        );
    }
}

fn read_builder(p: &mut Problems, t: &mut TableReader<'_, '_>, catalog: &mut Catalog) {
    let Some((builder, span)) = t.string(p, "builder") else {
        return;
    };
    match Builder::parse(&builder) {
        Some(builder) => catalog.builder = builder,
        None => p.error_help(
            span,
            format!("invalid `builder` `{builder}` in [catalog]"),
            "use `buildkit` (the default) or `legacy`",
        ),
    }
}

/// `kinds`: the kinds images may have, each one lower-case word, each once, at least one.
fn read_kinds(p: &mut Problems, t: &mut TableReader<'_, '_>, catalog: &mut Catalog) {
    let span = t.span("kinds").unwrap_or_default();
    let Some(list) = t.strings(p, "kinds") else {
        return;
    };
    if list.is_empty() {
        p.error_help(
            span,
            "`kinds` of [catalog] is empty",
            format!("list the kinds, e.g. {}", DEFAULT_KINDS.join(", ")),
        );
        return;
    }
    let mut kinds: Vec<String> = Vec::new();
    for (kind, span) in list {
        if !is_word(&kind) {
            p.error_help(
                span,
                format!("invalid kind `{kind}` in `kinds` of [catalog]"),
                "a kind is one lower-case word (letters, digits, `-`, `_`)",
            );
        } else if kinds.contains(&kind) {
            p.error(span, format!("kind `{kind}` is listed twice in [catalog]"));
        } else {
            kinds.push(kind);
        }
    }
    catalog.kinds = kinds;
}

fn check_registry(registry: &str) -> Result<(), String> {
    if registry.ends_with('/') {
        return Err(format!("`{registry}` ends with `/`; write it without"));
    }
    let last = registry.rsplit('/').next().unwrap_or(registry);
    if registry.contains('@') || (registry.contains('/') && last.contains(':')) {
        return Err(format!(
            "`{registry}` has a tag or digest; a registry is a repository prefix (`host/path`)"
        ));
    }
    check_repository(registry)
}

fn is_platform(platform: &str) -> bool {
    let parts: Vec<&str> = platform.split('/').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}
