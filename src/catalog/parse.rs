//! `catalog.toml` → [`Catalog`]: every rule of the catalog that one entry can check on its own,
//! plus the edges between entries (a parent that exists, a requirement its version meets). All
//! problems are collected; an entry too broken to use is left out of the result, and problems
//! that would only follow from that (a child naming it) are not reported twice.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::value::{Problems, TableReader, table_to_json, type_name};
use super::{
    Catalog, DEFAULT_BUILD_TIMEOUT, DEFAULT_TEST_TIMEOUT, Dependency, Image, Origin, Recipe,
    Refresh, Span,
};
use crate::diagnostic::{Diagnostic, suggest};
use crate::name::ImageName;
use crate::reference::{Reference, check_repository, is_tag};
use crate::source::SourceFile;

const CATALOG_KEYS: &[&str] = &[
    "name",
    "registry",
    "mirrors",
    "templates",
    "images",
    "platform",
    "vars",
    "labels",
];

const IMAGE_KEYS: &[&str] = &[
    "from",
    "parent",
    "uses",
    "version",
    "kind",
    "template",
    "dockerfile",
    "refresh",
    "description",
    "provides",
    "tags",
    "test",
    "test_timeout",
    "build_timeout",
    "vars",
    "owner",
    "build_args",
    "labels",
    "context",
    "lint_ignore",
];

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

/// Parses and checks a catalog. The catalog is returned even when problems were found (without
/// the entries too broken to use), so that later checks can still report their own problems.
pub fn parse(source: SourceFile) -> (Catalog, Vec<Diagnostic>) {
    let (root, syntax_errors) = DeTable::parse_recoverable(&source.text);
    let mut p = Problems::new(&source);
    if !syntax_errors.is_empty() {
        report_syntax_errors(&mut p, &source, syntax_errors);
        let list = p.list;
        return (empty_catalog(source), list);
    }
    let root_table = root.get_ref();
    let mut top = TableReader::new(root_table, "the catalog file");

    let mut catalog = empty_catalog(source.clone());
    match top.table(&mut p, "catalog") {
        Some((table, span)) => read_catalog_table(&mut p, table, span, &mut catalog),
        None => {
            if !root_table.contains_key("catalog") {
                p.error_help(
                    0..0,
                    "the catalog has no [catalog] table",
                    "add `[catalog]` with `name` and `registry`",
                );
            }
        }
    }

    let mut broken = BTreeSet::new();
    match top.get("images") {
        None => p.error_help(
            0..0,
            "the catalog declares no images",
            "add at least one `[images.<name>]` table",
        ),
        Some(value) => match value.get_ref() {
            DeValue::Table(images) if images.is_empty() => p.error_help(
                value.span(),
                "the catalog declares no images",
                "add at least one `[images.<name>]` table",
            ),
            DeValue::Table(images) => {
                for (key, entry) in images.iter() {
                    let name: &str = key.get_ref();
                    match read_image(&mut p, &catalog, name, key.span(), entry) {
                        Some(image) => {
                            catalog
                                .index
                                .insert(image.name.clone(), catalog.images.len());
                            catalog.images.push(image);
                        }
                        None => {
                            broken.insert(name.to_string());
                        }
                    }
                }
            }
            other => p.error(
                value.span(),
                format!(
                    "`images` must be a table of images, found {}",
                    type_name(other)
                ),
            ),
        },
    }
    top.finish(&mut p, &["catalog", "images"]);
    check_dependencies(&mut p, &catalog, &broken);
    let list = p.list;
    (catalog, list)
}

/// TOML syntax errors. A table declared twice makes the parser flag each of its keys as well;
/// only the table is reported.
fn report_syntax_errors(p: &mut Problems, source: &SourceFile, errors: Vec<toml::de::Error>) {
    let mut in_duplicate_table = false;
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end();
        let line = source
            .line_text(source.position(span.start).line)
            .trim_start();
        if message == "duplicate key" {
            let key = source
                .text
                .get(span.clone())
                .unwrap_or("")
                .trim_matches('"');
            if line.starts_with('[') {
                in_duplicate_table = true;
                p.error_help(
                    span,
                    format!(
                        "invalid TOML: table `{}` is declared twice",
                        line.trim_matches(['[', ']', ' '])
                    ),
                    "each table, and so each image, appears once; merge the two",
                );
            } else if !in_duplicate_table {
                p.error_help(
                    span,
                    format!("invalid TOML: duplicate key `{key}`"),
                    "each key appears once in a table; remove one",
                );
            }
            continue;
        }
        if line.starts_with('[') {
            in_duplicate_table = false;
        }
        p.error(span, format!("invalid TOML: {message}"));
    }
}

fn empty_catalog(source: SourceFile) -> Catalog {
    Catalog {
        source,
        name: String::new(),
        registry: String::new(),
        mirrors: Vec::new(),
        templates: "templates".into(),
        images_dir: "images".into(),
        platform: "linux/amd64".into(),
        builder: super::Builder::default(),
        secrets: BTreeMap::new(),
        vars: serde_json::Map::new(),
        labels: BTreeMap::new(),
        images: Vec::new(),
        index: BTreeMap::new(),
    }
}

fn read_catalog_table(p: &mut Problems, table: &DeTable<'_>, span: Span, catalog: &mut Catalog) {
    let mut t = TableReader::new(table, "[catalog]");
    match t.string(p, "name") {
        Some((name, span)) if name.trim().is_empty() => {
            p.error(span, "`name` of [catalog] is empty")
        }
        Some((name, _)) => catalog.name = name,
        None if !table.contains_key("name") => p.error_help(
            span.clone(),
            "[catalog] has no `name`",
            "add `name = \"<your hierarchy>\"`",
        ),
        None => {}
    }
    match t.string(p, "registry") {
        Some((registry, span)) => match check_registry(&registry) {
            Ok(()) => catalog.registry = registry,
            Err(e) => p.error(span, format!("invalid `registry` in [catalog]: {e}")),
        },
        None if !table.contains_key("registry") => p.error_help(
            span.clone(),
            "[catalog] has no `registry`",
            "add `registry = \"<host>/<path>\"`, the repository prefix of every image",
        ),
        None => {}
    }
    if let Some(mirrors) = t.strings(p, "mirrors") {
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
    if let Some((dir, span)) = t.string(p, "templates") {
        match relative_path(&dir) {
            Ok(dir) => catalog.templates = dir,
            Err(e) => p.error(span, format!("`templates` in [catalog]: {e}")),
        }
    }
    if let Some((dir, span)) = t.string(p, "images") {
        match relative_path(&dir) {
            Ok(dir) => catalog.images_dir = dir,
            Err(e) => p.error(span, format!("`images` in [catalog]: {e}")),
        }
    }
    if let Some((platform, span)) = t.string(p, "platform") {
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
    if let Some((vars, _)) = t.table(p, "vars")
        && let Some(vars) = table_to_json(p, vars, "vars", "[catalog]")
    {
        catalog.vars = vars;
    }
    if let Some((labels, _)) = t.table(p, "labels") {
        catalog.labels = read_labels(p, labels, "[catalog]");
    }
    t.finish(p, CATALOG_KEYS);
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

fn read_labels(p: &mut Problems, table: &DeTable<'_>, what: &str) -> BTreeMap<String, String> {
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

fn read_image(
    p: &mut Problems,
    catalog: &Catalog,
    key: &str,
    key_span: Span,
    entry: &toml::Spanned<DeValue<'_>>,
) -> Option<Image> {
    let errors_before = p.count();
    let name = match ImageName::parse(key) {
        Ok(name) => Some(name),
        Err(e) => {
            p.error(key_span.clone(), e);
            None
        }
    };
    let DeValue::Table(table) = entry.get_ref() else {
        p.error(
            entry.span(),
            format!(
                "image `{key}` must be a table, found {}",
                type_name(entry.get_ref())
            ),
        );
        return None;
    };
    let what = format!("image `{key}`");
    let mut t = TableReader::new(table, what.clone());
    let mut fatal = name.is_none();

    // Version.
    let version = match t.string(p, "version") {
        Some((text, span)) => match semver::Version::parse(text.trim()) {
            Ok(v) if !v.build.is_empty() => {
                p.error_help(
                    span,
                    format!(
                        "version `{text}` of {what} has build metadata (`+{}`)",
                        v.build
                    ),
                    "a tag cannot hold `+`; drop the build metadata",
                );
                None
            }
            Ok(v) => Some(v),
            Err(e) => {
                p.error_help(
                    span,
                    format!("invalid version `{text}` of {what}: {e}"),
                    "write a semantic version like `1.4.0` or `2.0.0-rc.1`",
                );
                None
            }
        },
        None => {
            if !table.contains_key("version") {
                p.error_help(
                    entry.span(),
                    format!("{what} has no `version`"),
                    "add `version = \"1.0.0\"`",
                );
            }
            None
        }
    };
    fatal |= version.is_none();

    // Origin: exactly one of parent / from.
    let from = t.string(p, "from");
    let parent = t.string(p, "parent");
    let refresh = t.string(p, "refresh");
    let origin = match (from, parent) {
        (Some(_), Some((_, span))) => {
            p.error_help(
                span,
                format!("{what} has both `from` and `parent`"),
                "a base has `from` (an external image); any other image has `parent`",
            );
            None
        }
        (None, None) => {
            if !table.contains_key("from") && !table.contains_key("parent") {
                p.error_help(
                    entry.span(),
                    format!("{what} has neither `parent` nor `from`"),
                    "add `parent = \"<image>\"`, or `from = \"<repo>:<tag>\"` for a base",
                );
            }
            None
        }
        (Some((from, span)), None) => {
            let refresh = match refresh {
                None => Some(Refresh::Nightly),
                Some((r, span)) => match r.as_str() {
                    "nightly" => Some(Refresh::Nightly),
                    "weekly" => Some(Refresh::Weekly),
                    "manual" => Some(Refresh::Manual),
                    _ => {
                        p.error_help(
                            span,
                            format!("invalid `refresh` `{r}` of {what}"),
                            "use `nightly`, `weekly` or `manual`",
                        );
                        None
                    }
                },
            };
            match check_from(&from) {
                Ok(()) => refresh.map(|refresh| Origin::Base {
                    from: from.clone(),
                    from_span: span,
                    refresh,
                }),
                Err((message, help)) => {
                    p.error_help(span, format!("`from` of {what}: {message}"), help);
                    None
                }
            }
        }
        (None, Some((parent, span))) => {
            if let Some((_, rspan)) = refresh {
                p.error_help(
                    rspan,
                    format!("`refresh` applies to bases only, and {what} is not one"),
                    "remove it: images below a base are refreshed when their base is",
                );
            }
            match parse_dependency(&parent, span.clone()) {
                Ok(dep) => Some(Origin::Parent(dep)),
                Err(e) => {
                    p.error(span, format!("`parent` of {what}: {e}"));
                    None
                }
            }
        }
    };
    fatal |= origin.is_none();

    // Recipe: exactly one of template / dockerfile.
    let template = t.string(p, "template");
    let dockerfile = t.string(p, "dockerfile");
    let recipe = match (template, dockerfile) {
        (Some(_), Some((_, span))) => {
            p.error_help(
                span,
                format!("{what} has both `template` and `dockerfile`"),
                "keep one: a template hier renders, or a hand-written Dockerfile",
            );
            None
        }
        (None, None) => {
            if !table.contains_key("template") && !table.contains_key("dockerfile") {
                p.error_help(
                    entry.span(),
                    format!("{what} has neither `template` nor `dockerfile`"),
                    "add `template = \"<file>.hbs\"` or `dockerfile = \"<path>\"`",
                );
            }
            None
        }
        (Some((name, span)), None) => match relative_path(&name) {
            Ok(name) if !name.is_empty() => Some(Recipe::Template { name, span }),
            Ok(_) => {
                p.error(span, format!("`template` of {what} is empty"));
                None
            }
            Err(e) => {
                p.error(span, format!("`template` of {what}: {e}"));
                None
            }
        },
        (None, Some((path, span))) => match relative_path(&path) {
            Ok(path) if !path.is_empty() => Some(Recipe::Dockerfile { path, span }),
            Ok(_) => {
                p.error(span, format!("`dockerfile` of {what} is empty"));
                None
            }
            Err(e) => {
                p.error(span, format!("`dockerfile` of {what}: {e}"));
                None
            }
        },
    };
    fatal |= recipe.is_none();

    let mut uses = Vec::new();
    if let Some(list) = t.strings(p, "uses") {
        for (text, span) in list {
            match parse_dependency(&text, span.clone()) {
                Ok(dep) if uses.iter().any(|d: &Dependency| d.name == dep.name) => {
                    p.error(span, format!("`uses` of {what} names `{}` twice", dep.name))
                }
                Ok(dep) => uses.push(dep),
                Err(e) => p.error(span, format!("`uses` of {what}: {e}")),
            }
        }
    }

    let kind = match t.string(p, "kind") {
        Some((kind, span)) => {
            if is_word(&kind) {
                kind
            } else {
                p.error_help(
                    span,
                    format!("invalid `kind` `{kind}` of {what}"),
                    "a kind is one lower-case word, e.g. base, runtime, webserver, combo, app",
                );
                String::new()
            }
        }
        None => match &origin {
            Some(Origin::Base { .. }) => "base".to_string(),
            _ => "image".to_string(),
        },
    };

    let description = t
        .string(p, "description")
        .map(|(d, _)| d)
        .unwrap_or_default();
    let provides = t
        .strings(p, "provides")
        .map(|list| {
            let mut out: Vec<String> = Vec::new();
            for (item, span) in list {
                let item = item.trim().to_string();
                if item.is_empty() || item.contains(char::is_whitespace) || item.starts_with('=') {
                    p.error_help(
                        span,
                        format!("invalid entry `{item}` in `provides` of {what}"),
                        "write `name` or `name=version`, e.g. `python=3.12`",
                    );
                } else if !out.contains(&item) {
                    out.push(item);
                }
            }
            out
        })
        .unwrap_or_default();

    let mut tags = Vec::new();
    if let Some(list) = t.strings(p, "tags") {
        for (tag, span) in list {
            if tag == "latest" {
                p.error_help(
                    span,
                    format!("{what} asks for the tag `latest`"),
                    "hier never tags `latest`: it names nothing stable; pick a tag that says what it is",
                );
            } else if !is_tag(&tag) {
                p.error(
                    span,
                    format!("invalid tag `{tag}` of {what} (letters, digits, `_`, `.`, `-`; at most 128)"),
                );
            } else if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }

    let test = t
        .strings(p, "test")
        .map(|list| {
            let mut out = Vec::new();
            for (cmd, span) in list {
                if cmd.trim().is_empty() {
                    p.error(span, format!("an entry of `test` of {what} is empty"));
                } else {
                    out.push(cmd);
                }
            }
            out
        })
        .unwrap_or_default();
    let test_timeout =
        read_duration(p, &mut t, "test_timeout", &what).unwrap_or(DEFAULT_TEST_TIMEOUT);
    let build_timeout =
        read_duration(p, &mut t, "build_timeout", &what).unwrap_or(DEFAULT_BUILD_TIMEOUT);

    let vars = t
        .table(p, "vars")
        .and_then(|(vars, _)| table_to_json(p, vars, "vars", &what))
        .unwrap_or_default();
    let owner = t.string(p, "owner").map(|(o, _)| o);
    let build_args = t
        .table(p, "build_args")
        .map(|(table, _)| read_build_args(p, table, &what))
        .unwrap_or_default();
    let labels = t
        .table(p, "labels")
        .map(|(table, _)| read_labels(p, table, &what))
        .unwrap_or_default();

    let (context, context_span) = match t.string(p, "context") {
        Some((ctx, span)) => match relative_path(&ctx) {
            Ok(c) => (c, Some(span)),
            Err(e) => {
                p.error(span.clone(), format!("`context` of {what}: {e}"));
                (String::new(), Some(span))
            }
        },
        None => (
            if catalog.images_dir.is_empty() {
                key.to_string()
            } else {
                format!("{}/{key}", catalog.images_dir)
            },
            None,
        ),
    };
    let lint_ignore = t
        .strings(p, "lint_ignore")
        .map(|l| l.into_iter().map(|(id, _)| id).collect())
        .unwrap_or_default();

    t.finish(p, IMAGE_KEYS);

    if fatal {
        return None;
    }
    let _ = errors_before;
    Some(Image {
        name: name?,
        span: entry.span(),
        origin: origin?,
        uses,
        version: version?,
        kind,
        recipe: recipe?,
        description,
        provides,
        tags,
        test,
        test_timeout,
        build_timeout,
        vars,
        owner,
        build_args,
        labels,
        context,
        context_span,
        lint_ignore,
        secrets: Vec::new(),
    })
}

fn is_word(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

/// `from` must name a tag or a digest, and never `latest`.
fn check_from(from: &str) -> Result<(), (String, String)> {
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

/// `name` or `name@requirement`.
fn parse_dependency(text: &str, span: Span) -> Result<Dependency, String> {
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

fn read_duration(
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

fn read_build_args(p: &mut Problems, table: &DeTable<'_>, what: &str) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
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
        let text = match value.get_ref() {
            DeValue::String(s) if s.contains(['\n', '\r']) => {
                p.error(
                    value.span(),
                    format!("build argument `{name}` of {what} spans several lines"),
                );
                continue;
            }
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) => i.to_string(),
            DeValue::Boolean(b) => b.to_string(),
            other => {
                p.error(
                    value.span(),
                    format!(
                        "build argument `{name}` of {what} must be a string, found {}",
                        type_name(other)
                    ),
                );
                continue;
            }
        };
        args.insert(name.to_string(), text);
    }
    args
}

/// Every `parent` and `uses` must name an image of the catalog whose version meets the
/// requirement; `uses` must not repeat the parent.
fn check_dependencies(p: &mut Problems, catalog: &Catalog, broken: &BTreeSet<String>) {
    for image in &catalog.images {
        for dep in image.dependencies() {
            let edge = if image.parent().is_some_and(|d| std::ptr::eq(d, dep)) {
                "parent"
            } else {
                "uses"
            };
            match catalog.get(dep.name.as_str()) {
                None if broken.contains(dep.name.as_str()) => {}
                None => {
                    let message = format!(
                        "`{edge}` of image `{}` names `{}`, which is not in the catalog",
                        image.name, dep.name
                    );
                    match suggest(dep.name.as_str(), catalog.index.keys().map(|k| k.as_str())) {
                        Some(help) => p.error_help(dep.span.clone(), message, help),
                        None => p.error(dep.span.clone(), message),
                    }
                }
                Some(target) => {
                    if let Some(req) = &dep.requirement
                        && !req.matches(&target.version)
                    {
                        let help = if target.version.pre.is_empty() {
                            format!(
                                "change the requirement, or the version of `{}`",
                                target.name
                            )
                        } else {
                            format!(
                                "`{}` is a pre-release, which only an exact requirement selects: `{}@={}`",
                                target.name, target.name, target.version
                            )
                        };
                        p.error_help(
                            dep.span.clone(),
                            format!(
                                "image `{}` requires `{}@{req}`, but `{}` is version {}",
                                image.name, dep.name, dep.name, target.version
                            ),
                            help,
                        );
                    }
                }
            }
        }
        if let Some(parent) = image.parent()
            && let Some(dup) = image.uses.iter().find(|u| u.name == parent.name)
        {
            p.error(
                dup.span.clone(),
                format!(
                    "`uses` of image `{}` repeats its parent `{}`",
                    image.name, parent.name
                ),
            );
        }
    }
}
