//! One `[images.<name>]` entry, read key by key by small readers: here the version, kind and
//! context; the origin and recipe in `origin`, the lists in `lists`. Keys are read in a fixed
//! order, so problems come in that order; an entry without a usable name, version, origin or
//! recipe is left out of the catalog.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::fields::{read_build_args, read_duration, read_labels, relative_path};
use super::value::{Problems, TableReader, table_to_json, type_name};
use super::{Catalog, DEFAULT_BUILD_TIMEOUT, DEFAULT_TEST_TIMEOUT, Image, Origin, Span};
use crate::name::ImageName;

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

/// Reads one entry; `None` when it is too broken to use (its problems are in `p`).
pub fn read_image(
    p: &mut Problems,
    catalog: &Catalog,
    key: &str,
    key_span: Span,
    entry: &Spanned<DeValue<'_>>,
) -> Option<Image> {
    let name = ImageName::parse(key).map_err(|e| p.error(key_span, e)).ok();
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
    let mut r = EntryReader::new(table, entry.span(), key);
    let version = r.version(p);
    let origin = r.origin(p);
    let recipe = r.recipe(p);
    let uses = r.uses(p);
    let kind = r.kind(p, origin.as_ref());
    let description = r.t.string(p, "description").map(|(d, _)| d);
    let provides = r.provides(p);
    let tags = r.tags(p);
    let test = r.test(p);
    let test_timeout = read_duration(p, &mut r.t, "test_timeout", &r.what);
    let build_timeout = read_duration(p, &mut r.t, "build_timeout", &r.what);
    let vars = r.t.table(p, "vars");
    let vars = vars.and_then(|(vars, _)| table_to_json(p, vars, "vars", &r.what));
    let owner = r.t.string(p, "owner").map(|(o, _)| o);
    let build_args = r.t.table(p, "build_args");
    let build_args = build_args.map(|(table, _)| read_build_args(p, table, &r.what));
    let labels = r.t.table(p, "labels");
    let labels = labels.map(|(table, _)| read_labels(p, table, &r.what));
    let (context, context_span) = r.context(p, catalog, key);
    let lint_ignore = r.t.strings(p, "lint_ignore");
    r.t.finish(p, IMAGE_KEYS);

    Some(Image {
        name: name?,
        span: entry.span(),
        origin: origin?,
        uses,
        version: version?,
        kind,
        recipe: recipe?,
        description: description.unwrap_or_default(),
        provides,
        tags,
        test,
        test_timeout: test_timeout.unwrap_or(DEFAULT_TEST_TIMEOUT),
        build_timeout: build_timeout.unwrap_or(DEFAULT_BUILD_TIMEOUT),
        vars: vars.unwrap_or_default(),
        owner,
        build_args: build_args.unwrap_or_default(),
        labels: labels.unwrap_or_default(),
        context,
        context_span,
        lint_ignore: lint_ignore
            .map(|l| l.into_iter().map(|(id, _)| id).collect())
            .unwrap_or_default(),
    })
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

    fn version(&mut self, p: &mut Problems) -> Option<semver::Version> {
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
            Ok(v) => Some(v),
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

    /// `kind`: one lower-case word; by default `base` for a base, else `image`.
    fn kind(&mut self, p: &mut Problems, origin: Option<&Origin>) -> String {
        match self.t.string(p, "kind") {
            Some((kind, _)) if is_word(&kind) => kind,
            Some((kind, span)) => {
                p.error_help(
                    span,
                    format!("invalid `kind` `{kind}` of {}", self.what),
                    "a kind is one lower-case word, e.g. base, runtime, webserver, combo, app",
                );
                String::new()
            }
            None => match origin {
                Some(Origin::Base { .. }) => "base".to_string(),
                _ => "image".to_string(),
            },
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

fn is_word(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}
