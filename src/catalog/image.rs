//! One `[images.<name>]` entry, read key by key by small readers: here the version, kind and
//! context; the origin and recipe in `origin`, the lists in `lists`. Keys are read in a fixed
//! order, so problems come in that order; an entry without a usable name, version, origin or
//! recipe is left out of the catalog.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Map;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::fields::{read_build_args, read_bytes, read_duration, read_labels, relative_path};
use super::secrets::Unchecked;
use super::value::{Problems, TableReader, ends_with_backslash, table_to_json, type_name};
use super::{Catalog, DEFAULT_BUILD_TIMEOUT, DEFAULT_TEST_TIMEOUT, Image, Origin, Span};
use crate::diagnostic::suggest;
use crate::name::ImageName;
use crate::reference::is_tag;
use crate::tags::{all_tags, immutable_tag};

/// The kind of an image that is not a base and names none: an intermediate others may build
/// on (never `app`, so leaving `kind` out never hides an image from `pick`).
pub const DEFAULT_KIND: &str = "runtime";

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
    "test_spec",
    "build_timeout",
    "max_size",
    "max_added",
    "vars",
    "owner",
    "build_args",
    "labels",
    "context",
    "lint_ignore",
    "secrets",
];

/// Reads one entry; `None` when it is too broken to use (its problems are in `p`).
pub fn read_image(
    p: &mut Problems,
    catalog: &Catalog,
    unchecked: &Unchecked,
    key: &str,
    key_span: Span,
    entry: &Spanned<DeValue<'_>>,
) -> Option<Image> {
    let name = ImageName::parse(key).map_err(|e| p.error(key_span, e)).ok();
    let table = entry_table(p, key, entry)?;
    let mut r = EntryReader::new(table, entry.span(), key);
    let version = r.version(p);
    let origin = r.origin(p);
    let recipe = r.recipe(p);
    let uses = r.uses(p);
    let kind = r.kind(p, origin.as_ref(), &catalog.kinds);
    let description = r.text(p, "description").unwrap_or_default();
    let provides = r.provides(p);
    let tags = r.tags(p, version.as_ref());
    let test = r.test(p);
    let test_timeout = r
        .duration(p, "test_timeout")
        .unwrap_or(DEFAULT_TEST_TIMEOUT);
    let test_spec = r.test_spec(p);
    let build_timeout = r
        .duration(p, "build_timeout")
        .unwrap_or(DEFAULT_BUILD_TIMEOUT);
    let budget = r.budget(p);
    let vars = r.vars(p);
    let owner = r.text(p, "owner");
    let build_args = r.build_args(p);
    let labels = r.labels(p);
    let (context, context_span) = r.context(p, catalog, key);
    let lint_ignore = r.lint_ignore(p);
    let secrets = r.secrets(p, &catalog.secrets, unchecked);
    r.t.finish(p, IMAGE_KEYS);
    Some(Image {
        name: name?,
        span: entry.span(),
        origin: origin?,
        uses,
        version: version?.0,
        kind,
        recipe: recipe?,
        description,
        provides,
        tags,
        test,
        test_timeout,
        test_spec,
        build_timeout,
        budget,
        vars,
        owner,
        build_args,
        labels,
        context,
        context_span,
        lint_ignore,
        secrets,
    })
}

fn entry_table<'t, 'i>(
    p: &mut Problems,
    key: &str,
    entry: &'t Spanned<DeValue<'i>>,
) -> Option<&'t DeTable<'i>> {
    match entry.get_ref() {
        DeValue::Table(table) => Some(table),
        other => {
            let found = type_name(other);
            let message = format!("image `{key}` must be a table, found {found}");
            p.error(entry.span(), message);
            None
        }
    }
}

/// Every tag a build of this version gets (the version, minor, major, extra tags and the
/// immutable `<version>-<12 hex>`) must be a tag Docker accepts, at most 128 characters: known
/// now, not after the build.
pub(super) fn check_tag_lengths(
    p: &mut Problems,
    version: &semver::Version,
    span: &Span,
    extra: &[String],
    what: &str,
) {
    let any_id = format!("sha256:{}", "0".repeat(64));
    let immutable = immutable_tag(version, &any_id);
    let Some(tag) = all_tags(version, extra, &any_id)
        .into_iter()
        .find(|t| !is_tag(t))
    else {
        return;
    };
    let shown = if tag == immutable {
        format!("{version}-<12 hex digits of the image id>")
    } else {
        tag.clone()
    };
    p.error_help(
        span.clone(),
        format!(
            "version `{version}` of {what} is too long for its tags: `{shown}` has {} characters",
            tag.len()
        ),
        "a tag has at most 128 characters, and the immutable tag is the version, `-` and 12 hex digits: a version has at most 115",
    );
}

/// An entry being read: its table, its span (for what is missing) and how messages name it.
pub(super) struct EntryReader<'t, 'i> {
    pub(super) t: TableReader<'t, 'i>,
    pub(super) span: Span,
    pub(super) what: String,
}

impl<'t, 'i> EntryReader<'t, 'i> {
    fn new(table: &'t DeTable<'i>, span: Span, key: &str) -> Self {
        let what = format!("image `{key}`");
        EntryReader {
            t: TableReader::new(table, what.clone()),
            span,
            what,
        }
    }

    fn version(&mut self, p: &mut Problems) -> Option<(semver::Version, Span)> {
        let what = &self.what;
        let Some((text, span)) = self.t.string(p, "version") else {
            if !self.t.contains("version") {
                p.error_help(
                    self.span.clone(),
                    format!("{what} has no `version`"),
                    "add `version = \"1.0.0\"`",
                );
            }
            return None;
        };
        match semver::Version::parse(text.trim()) {
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
            Ok(v) => Some((v, span)),
            Err(e) => {
                p.error_help(
                    span,
                    format!("invalid version `{text}` of {what}: {e}"),
                    "write a semantic version like `1.4.0` or `2.0.0-rc.1`",
                );
                None
            }
        }
    }

    /// A single-line string.
    /// A single-line string templates see (`image.description`, `image.owner`): it may not end
    /// with a backslash.
    fn text(&mut self, p: &mut Problems, key: &'static str) -> Option<String> {
        let (text, span) = self.t.string(p, key)?;
        if ends_with_backslash(&text) {
            p.ends_with_backslash(span, &format!("`{key}` of {}", self.what));
            return None;
        }
        Some(text)
    }

    fn duration(&mut self, p: &mut Problems, key: &'static str) -> Option<Duration> {
        read_duration(p, &mut self.t, key, &self.what)
    }

    /// `max_size` and `max_added`.
    fn budget(&mut self, p: &mut Problems) -> crate::budget::Budget {
        crate::budget::Budget {
            max_size: read_bytes(p, &mut self.t, "max_size", &self.what),
            max_added: read_bytes(p, &mut self.t, "max_added", &self.what),
        }
    }

    /// `vars`, as template values.
    fn vars(&mut self, p: &mut Problems) -> Map<String, serde_json::Value> {
        let vars = self.t.table(p, "vars");
        vars.and_then(|(vars, _)| table_to_json(p, vars, "vars", &self.what))
            .unwrap_or_default()
    }

    fn build_args(&mut self, p: &mut Problems) -> BTreeMap<String, String> {
        let args = self.t.table(p, "build_args");
        args.map(|(table, _)| read_build_args(p, table, &self.what))
            .unwrap_or_default()
    }

    fn labels(&mut self, p: &mut Problems) -> BTreeMap<String, String> {
        let labels = self.t.table(p, "labels");
        labels
            .map(|(table, _)| read_labels(p, table, &self.what))
            .unwrap_or_default()
    }

    /// `lint_ignore`: ids of lint rules; an id no rule has is an error (it would silence
    /// nothing).
    fn lint_ignore(&mut self, p: &mut Problems) -> Vec<String> {
        let ids = self.t.strings(p, "lint_ignore").unwrap_or_default();
        let known = || crate::lint::rules::RULES.iter().map(|r| r.id);
        for (id, span) in &ids {
            if !known().any(|k| k == id) {
                let help = match suggest(id, known()) {
                    Some(close) => format!("{close} `hier lint --explain <ID>` describes a rule"),
                    None => "the README lists the rules (`hier lint`)".into(),
                };
                let message = format!("`lint_ignore` of {} names no lint rule: `{id}`", self.what);
                p.error_help(span.clone(), message, help);
            }
        }
        ids.into_iter().map(|(id, _)| id).collect()
    }

    /// `kind`: one of the catalog's `kinds`; by default `base` for a base, else `runtime`
    /// (which must then be one of them too).
    fn kind(&mut self, p: &mut Problems, origin: Option<&Origin>, kinds: &[String]) -> String {
        let list = kinds.join(", ");
        match self.t.string(p, "kind") {
            Some((kind, _)) if kinds.contains(&kind) => kind,
            Some((kind, span)) => {
                let help = match suggest(&kind, kinds.iter().map(String::as_str)) {
                    Some(close) => format!("{close} The kinds are {list} ([catalog] kinds)"),
                    None => {
                        format!("the kinds are {list}; a new kind is added to `kinds` in [catalog]")
                    }
                };
                let message = format!("unknown kind `{kind}` of {}", self.what);
                p.error_help(span, message, help);
                kind
            }
            None => {
                let kind = match origin {
                    Some(Origin::Base { .. }) => "base",
                    _ => DEFAULT_KIND,
                };
                if !kinds.iter().any(|k| k == kind) {
                    p.error_help(
                        self.span.clone(),
                        format!(
                            "{} has no `kind`, and its default `{kind}` is not in the catalog's kinds",
                            self.what
                        ),
                        format!("add `kind = \"…\"`, one of {list}"),
                    );
                }
                kind.to_string()
            }
        }
    }

    /// `context`, inside the repository; `<images>/<name>` by default.
    fn context(
        &mut self,
        p: &mut Problems,
        catalog: &Catalog,
        key: &str,
    ) -> (String, Option<Span>) {
        match self.t.string(p, "context") {
            Some((ctx, span)) => match relative_path(&ctx) {
                Ok(c) => (c, Some(span)),
                Err(e) => {
                    p.error(span.clone(), format!("`context` of {}: {e}", self.what));
                    (String::new(), Some(span))
                }
            },
            None if catalog.images_dir.is_empty() => (key.to_string(), None),
            None => (format!("{}/{key}", catalog.images_dir), None),
        }
    }
}
