//! `catalog.toml` → [`Catalog`]: the entry point. TOML syntax errors stop here; otherwise the
//! `[catalog]` table and every `[images.<name>]` entry are read (each on its own) and then
//! checked across entries. All problems are collected; an entry too broken to use is left out
//! of the result, and problems that would only follow from that (a child naming it) are not
//! reported twice.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::check::check_dependencies;
use super::image::read_image;
use super::secrets::Unchecked;
use super::settings::read_catalog_table;
use super::value::{Problems, TableReader, type_name};
use super::{Builder, Catalog, DEFAULT_KINDS};
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

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
    let mut top = TableReader::new(root.get_ref(), "the catalog file");
    let mut catalog = empty_catalog(source.clone());
    let unchecked = match top.table(&mut p, "catalog") {
        Some((table, span)) => read_catalog_table(&mut p, table, span, &mut catalog),
        None if !top.contains("catalog") => {
            p.error_help(
                0..0,
                "the catalog has no [catalog] table",
                "add `[catalog]` with `name` and `registry`",
            );
            Unchecked::default()
        }
        None => Unchecked::all(),
    };
    let broken = read_images(&mut p, top.get("images"), &mut catalog, &unchecked);
    top.finish(&mut p, &["catalog", "images"]);
    check_dependencies(&mut p, &catalog, &broken);
    let list = p.list;
    (catalog, list)
}

/// Reads the `images` table into `catalog`; returns the names of the entries too broken to use.
fn read_images(
    p: &mut Problems,
    images: Option<&Spanned<DeValue<'_>>>,
    catalog: &mut Catalog,
    unchecked: &Unchecked,
) -> BTreeSet<String> {
    let mut broken = BTreeSet::new();
    let Some(value) = images else {
        p.error_help(
            0..0,
            "the catalog declares no images",
            "add at least one `[images.<name>]` table",
        );
        return broken;
    };
    match value.get_ref() {
        DeValue::Table(images) if images.is_empty() => p.error_help(
            value.span(),
            "the catalog declares no images",
            "add at least one `[images.<name>]` table",
        ),
        DeValue::Table(images) => {
            for (key, entry) in images.iter() {
                let name: &str = key.get_ref();
                match read_image(p, catalog, unchecked, name, key.span(), entry) {
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
    }
    broken
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
        templates_span: None,
        images_dir: "images".into(),
        images_span: None,
        platform: "linux/amd64".into(),
        builder: Builder::default(),
        kinds: DEFAULT_KINDS.iter().map(|k| k.to_string()).collect(),
        vars: serde_json::Map::new(),
        labels: BTreeMap::new(),
        secrets: BTreeMap::new(),
        images: Vec::new(),
        index: BTreeMap::new(),
    }
}
