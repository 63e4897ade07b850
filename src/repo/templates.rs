//! Reading the templates: the partials, and every template the catalog names (a missing one is
//! reported at each image naming it, with the templates that do exist). Like contexts and
//! Dockerfiles, nothing outside the repository is read through a symlink: not the templates
//! folder, the partials folder, a partial nor a template.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, Image, Recipe};
use crate::diagnostic::{Diagnostic, suggest};
use crate::dockerfile::template_path;
use crate::source::{SourceFile, display_path};
use crate::templates::Templates;

use super::files::{folder_outside, leads_outside};

/// Reads the partials and every template the catalog names.
pub(super) fn load_templates(root: &Path, catalog: &Catalog) -> (Templates, Vec<Diagnostic>) {
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let folder = &catalog.templates;
    let span = catalog.templates_span.as_ref();
    if let Some(d) = folder_outside(catalog, &canonical_root, root, "templates", folder, span) {
        return (Templates::new(Vec::new(), Vec::new()).0, vec![d]);
    }
    let dir = root.join(folder);
    let (partials, mut problems) = read_partials(&canonical_root, &dir.join("partials"));
    let mut templates = Vec::new();
    for (name, images) in wanted(catalog) {
        let path = dir.join(name);
        if leads_outside(&canonical_root, &path) {
            problems.extend(template_outside(catalog, name, &images));
            continue;
        }
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

/// `partials/*.hbs`, named by file stem, in file name order; one that leads outside the
/// repository (or a partials folder that does) is a problem, not read.
fn read_partials(
    canonical_root: &Path,
    partial_dir: &Path,
) -> (Vec<(String, SourceFile)>, Vec<Diagnostic>) {
    let mut partials = Vec::new();
    let mut problems = Vec::new();
    if leads_outside(canonical_root, partial_dir) {
        problems.push(outside("the partials folder", partial_dir));
        return (partials, problems);
    }
    let Ok(read) = fs::read_dir(partial_dir) else {
        return (partials, problems);
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_some_and(|e| e == "hbs") && leads_outside(canonical_root, &path) {
            problems.push(outside("partial", &path));
        } else if path.extension().is_some_and(|e| e == "hbs") && path.is_file() {
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

/// A file or folder that leads outside the repository through a symlink, named by its path.
fn outside(what: &str, path: &Path) -> Diagnostic {
    Diagnostic::error(format!(
        "{what} {} leads outside the repository through a symlink",
        display_path(path).display()
    ))
    .at_file(display_path(path))
    .help("copy it into the repository: hier reads nothing outside it through a symlink")
}

/// A template that leads outside the repository, reported at each image naming it.
fn template_outside(catalog: &Catalog, name: &str, images: &[&Image]) -> Vec<Diagnostic> {
    let shown = template_path(catalog, name);
    images
        .iter()
        .filter_map(|image| match &image.recipe {
            Recipe::Template { span, .. } => Some(
                Diagnostic::error(format!(
                    "template `{name}` of image `{}` ({shown}) leads outside the repository through a symlink",
                    image.name
                ))
                .at(catalog.source.locate(span.clone()))
                .help("copy it into the repository: hier reads nothing outside it through a symlink"),
            ),
            Recipe::Dockerfile { .. } => None,
        })
        .collect()
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
