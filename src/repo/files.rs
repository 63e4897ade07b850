//! The files the catalog points at: hand-written Dockerfiles exist, and neither they nor the
//! contexts, the images folder or the rendered Dockerfiles lead outside the repository
//! (symlinks included): nothing outside it is read, and `render` writes nothing there.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, Image, Recipe, Span};
use crate::diagnostic::Diagnostic;
use crate::dockerfile::rendered_path;
use crate::source::display_path;

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

/// Whether `path` exists and, symlinks resolved, lies outside the (canonical) repository root.
/// A symlink that leads nowhere counts as outside: where it would lead is not known.
pub(super) fn leads_outside(canonical_root: &Path, path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    match fs::canonicalize(path) {
        Ok(real) => !real.starts_with(canonical_root),
        Err(_) => meta.file_type().is_symlink(),
    }
}

/// A folder of the catalog's (`templates`, `images`) that leads outside the repository.
pub(super) fn folder_outside(
    catalog: &Catalog,
    canonical_root: &Path,
    root: &Path,
    key: &str,
    folder: &str,
    span: Option<&Span>,
) -> Option<Diagnostic> {
    let path = root.join(folder);
    if folder.is_empty() || !leads_outside(canonical_root, &path) {
        return None;
    }
    let d = Diagnostic::error(format!(
        "the {key} folder {folder} leads outside the repository through a symlink"
    ))
    .help("make it a real folder of the repository: hier reads and writes nothing outside it");
    Some(match span {
        Some(span) => d.at(catalog.source.locate(span.clone())),
        None => d.at_file(display_path(&path)),
    })
}

/// Hand-written Dockerfiles exist; contexts, the images folder and rendered Dockerfiles stay
/// inside the repository (symlinks included).
pub(super) fn check_files(root: &Path, catalog: &Catalog) -> Vec<Diagnostic> {
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let span = catalog.images_span.as_ref();
    let images = &catalog.images_dir;
    let images_outside = folder_outside(catalog, &canonical_root, root, "images", images, span);
    let mut checker = Checker {
        root,
        canonical_root: &canonical_root,
        catalog,
        images_outside: images_outside.is_some(),
        real: RealPaths(BTreeMap::new()),
    };
    let mut problems: Vec<Diagnostic> = images_outside.into_iter().collect();
    for image in &catalog.images {
        problems.extend(checker.recipe(image));
        problems.extend(checker.context(image));
    }
    problems
}

/// What the checks of every image share.
struct Checker<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    catalog: &'a Catalog,
    /// The images folder leads outside (reported once, not again for each path below it).
    images_outside: bool,
    real: RealPaths,
}

impl Checker<'_> {
    fn under_images(&self, path: &str) -> bool {
        self.images_outside && path.starts_with(&format!("{}/", self.catalog.images_dir))
    }

    fn error(&self, span: &Span, message: String) -> Diagnostic {
        Diagnostic::error(message).at(self.catalog.source.locate(span.clone()))
    }

    /// The file `render` writes, or the hand-written Dockerfile the build reads.
    fn recipe(&self, image: &Image) -> Option<Diagnostic> {
        let name = &image.name;
        match &image.recipe {
            Recipe::Template { span, .. } => {
                let target = rendered_path(self.catalog, name);
                let outside = !self.under_images(&target)
                    && rendered_outside(self.root, self.canonical_root, &target, &image.context);
                outside.then(|| {
                    self.error(span, format!("the rendered Dockerfile of image `{name}` ({target}) leads outside the repository through a symlink"))
                        .help("`hier render` writes it there: make its folder a real folder of the repository")
                })
            }
            Recipe::Dockerfile { path, span } => {
                let full = self.root.join(path);
                if !full.is_file() {
                    let message =
                        format!("the Dockerfile of image `{name}` does not exist ({path})");
                    return Some(
                        self.error(span, message)
                            .help("write the file, or use `template = …` to have hier render it"),
                    );
                }
                let inside =
                    fs::canonicalize(&full).is_ok_and(|p| p.starts_with(self.canonical_root));
                (!inside && !self.under_images(path)).then(|| {
                    self.error(span, format!("the Dockerfile of image `{name}` ({path}) leads outside the repository through a symlink"))
                })
            }
        }
    }

    fn context(&mut self, image: &Image) -> Option<Diagnostic> {
        if self.under_images(&image.context) {
            return None;
        }
        let real = self.real.resolve(&self.root.join(&image.context))?;
        if real.starts_with(self.canonical_root) {
            return None;
        }
        let span = image.context_span.clone().unwrap_or(image.span.clone());
        Some(self.error(
            &span,
            format!(
                "the context of image `{}` ({}) leads outside the repository through a symlink",
                image.name, image.context
            ),
        ))
    }
}

/// Whether the file `render` writes for an image (its folder when that is not the context,
/// which is checked on its own, or the file itself when it is a symlink) leads outside.
fn rendered_outside(root: &Path, canonical_root: &Path, target: &str, context: &str) -> bool {
    let file = root.join(target);
    let folder_is_context = Path::new(target).parent() == Some(Path::new(context));
    let folder = file.parent().unwrap_or(root);
    (!folder_is_context && leads_outside(canonical_root, folder))
        || (fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink())
            && leads_outside(canonical_root, &file))
}
