//! The files the catalog points at: hand-written Dockerfiles exist, and neither they nor the
//! contexts lead outside the repository (symlinks included).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, Recipe};
use crate::diagnostic::Diagnostic;

/// Where a path really is, resolving symlinks; parents are resolved once and remembered
/// (contexts share a few parent folders), leaves only when they are symlinks.
struct RealPaths(BTreeMap<PathBuf, Option<PathBuf>>);

impl RealPaths {
    fn resolve(&mut self, path: &Path) -> Option<PathBuf> {
        let meta = fs::symlink_metadata(path).ok()?;
        if meta.file_type().is_symlink() {
            return fs::canonicalize(path).ok();
        }
        let parent = path.parent()?;
        let real_parent = self
            .0
            .entry(parent.to_path_buf())
            .or_insert_with(|| fs::canonicalize(parent).ok())
            .clone()?;
        Some(real_parent.join(path.file_name()?))
    }
}

/// Hand-written Dockerfiles exist; contexts stay inside the repository (symlinks included).
pub(super) fn check_files(root: &Path, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut real = RealPaths(BTreeMap::new());
    for image in &catalog.images {
        if let Recipe::Dockerfile { path, span } = &image.recipe {
            let full = root.join(path);
            if !full.is_file() {
                problems.push(
                    Diagnostic::error(format!(
                        "the Dockerfile of image `{}` does not exist ({path})",
                        image.name
                    ))
                    .at(catalog.source.locate(span.clone()))
                    .help("write the file, or use `template = …` to have hier render it"),
                );
            } else if !fs::canonicalize(&full).is_ok_and(|p| p.starts_with(&canonical_root)) {
                problems.push(
                    Diagnostic::error(format!(
                        "the Dockerfile of image `{}` ({path}) leads outside the repository through a symlink",
                        image.name
                    ))
                    .at(catalog.source.locate(span.clone())),
                );
            }
        }
        let context = root.join(&image.context);
        if let Some(real) = real.resolve(&context)
            && !real.starts_with(&canonical_root)
        {
            let span = image.context_span.clone().unwrap_or(image.span.clone());
            problems.push(
                Diagnostic::error(format!(
                    "the context of image `{}` ({}) leads outside the repository through a symlink",
                    image.name, image.context
                ))
                .at(catalog.source.locate(span)),
            );
        }
    }
    problems
}
