//! Checks across entries, once every entry is read: each `parent` and `uses` names an image of
//! the catalog that is not an app and whose version meets the requirement, and `uses` does not
//! repeat the parent. An entry too broken to read is not reported again through the images
//! that name it.

use std::collections::BTreeSet;

use super::value::Problems;
use super::{APP, Catalog, Dependency, Image};
use crate::diagnostic::suggest;

/// Every `parent` and `uses` must name an image of the catalog whose version meets the
/// requirement; `uses` must not repeat the parent.
pub fn check_dependencies(p: &mut Problems, catalog: &Catalog, broken: &BTreeSet<String>) {
    for image in &catalog.images {
        for dep in image.dependencies() {
            check_edge(p, catalog, broken, image, dep);
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

/// One edge: its target exists (or is broken, already reported) and meets the requirement.
fn check_edge(
    p: &mut Problems,
    catalog: &Catalog,
    broken: &BTreeSet<String>,
    image: &Image,
    dep: &Dependency,
) {
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
        Some(target) if target.kind == APP => {
            let message = format!(
                "`{edge}` of image `{}` names `{}`, which is an app",
                image.name, dep.name
            );
            let help = match target.parent() {
                Some(grand) => format!(
                    "nothing builds on an app; build on what `{}` builds on (`{}`), or change its `kind`",
                    dep.name, grand.name
                ),
                None => format!(
                    "nothing builds on an app; change the `kind` of `{}`",
                    dep.name
                ),
            };
            p.error_help(dep.span.clone(), message, help);
        }
        Some(target) => check_requirement(p, image, dep, target),
    }
}

fn check_requirement(p: &mut Problems, image: &Image, dep: &Dependency, target: &Image) {
    let Some(req) = &dep.requirement else {
        return;
    };
    if req.matches(&target.version) {
        return;
    }
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
