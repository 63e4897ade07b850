//! Reading the templates: the partials, and every template the catalog names (a missing one is
//! reported at each image naming it, with the templates that do exist).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, Image, Recipe};
use crate::diagnostic::{Diagnostic, suggest};
use crate::dockerfile::template_path;
use crate::source::{SourceFile, display_path};
use crate::templates::Templates;

/// Reads the partials and every template the catalog names.
pub(super) fn load_templates(root: &Path, catalog: &Catalog) -> (Templates, Vec<Diagnostic>) {
    let dir = root.join(&catalog.templates);
    let (partials, mut problems) = read_partials(&dir.join("partials"));
    let mut templates = Vec::new();
    for (name, images) in wanted(catalog) {
        let path = dir.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => {
                templates.push((name.to_string(), SourceFile::new(display_path(&path), text)))
            }
            Err(e) => problems.extend(missing_template(catalog, &dir, name, &images, &e)),
        }
    }
    let (templates, syntax) = Templates::new(partials, templates);
    problems.extend(syntax);
    (templates, problems)
}

/// `partials/*.hbs`, named by file stem, in file name order.
fn read_partials(partial_dir: &Path) -> (Vec<(String, SourceFile)>, Vec<Diagnostic>) {
    let mut partials = Vec::new();
    let mut problems = Vec::new();
    let Ok(read) = fs::read_dir(partial_dir) else {
        return (partials, problems);
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_some_and(|e| e == "hbs") && path.is_file() {
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            match fs::read_to_string(&path) {
                Ok(text) => partials.push((stem, SourceFile::new(display_path(&path), text))),
                Err(e) => problems.push(
                    Diagnostic::error(format!("cannot read partial: {e}"))
                        .at_file(display_path(&path)),
                ),
            }
        }
    }
    (partials, problems)
}

/// The templates the catalog names, each with the images naming it.
fn wanted(catalog: &Catalog) -> BTreeMap<&str, Vec<&Image>> {
    let mut wanted: BTreeMap<&str, Vec<&Image>> = BTreeMap::new();
    for image in &catalog.images {
        if let Recipe::Template { name, .. } = &image.recipe {
            wanted.entry(name.as_str()).or_default().push(image);
        }
    }
    wanted
}

/// A template that cannot be read, reported at each image naming it.
fn missing_template(
    catalog: &Catalog,
    dir: &Path,
    name: &str,
    images: &[&Image],
    e: &std::io::Error,
) -> Vec<Diagnostic> {
    let shown = template_path(catalog, name);
    let names = available(dir);
    let help = suggest(name, names.iter().map(String::as_str)).unwrap_or_else(|| {
        if names.is_empty() {
            format!("add the template to {}/", catalog.templates)
        } else {
            format!("the templates are: {}", names.join(", "))
        }
    });
    let mut problems = Vec::new();
    for image in images {
        let Recipe::Template { span, .. } = &image.recipe else {
            continue;
        };
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "template `{name}` of image `{}` does not exist ({shown})",
                image.name
            )
        } else {
            format!(
                "cannot read template {shown} of image `{}`: {e}",
                image.name
            )
        };
        problems.push(
            Diagnostic::error(message)
                .at(catalog.source.locate(span.clone()))
                .help(help.clone()),
        );
    }
    problems
}

/// The files of the templates folder, sorted.
fn available(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
