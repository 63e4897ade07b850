//! `hier parents`, `hier children [--all]` and `hier impact`: the graph queries, in build order.

use std::collections::BTreeSet;

use serde_json::json;

use super::{Context, Output};
use crate::error::Error;
use crate::name::ImageName;
use crate::repo::Repository;
use crate::table::Table;

/// The ancestors of an image along `parent`, from its base down.
pub fn parents(cx: &Context, image: &str) -> Result<Output, Error> {
    let repo = cx.open()?;
    let name = repo.image_arg(image)?.name.clone();
    let chain = repo.hierarchy.ancestors(&repo.catalog, &name);
    Ok(listing(cx, &repo, &chain, None))
}

/// Direct dependents (through `parent` or `uses`), or with `all` every descendant.
pub fn children(cx: &Context, image: &str, all: bool) -> Result<Output, Error> {
    let repo = cx.open()?;
    let name = repo.image_arg(image)?.name.clone();
    let set: BTreeSet<ImageName> = if all {
        repo.hierarchy.descendants(&name)
    } else {
        repo.hierarchy.dependents(&name).into_iter().collect()
    };
    let order: Vec<ImageName> = repo
        .hierarchy
        .order()
        .iter()
        .filter(|n| set.contains(*n))
        .cloned()
        .collect();
    Ok(listing(cx, &repo, &order, None))
}

/// Everything that would rebuild if these images changed: them and every descendant.
pub fn impact(cx: &Context, images: &[String]) -> Result<Output, Error> {
    let repo = cx.open()?;
    let mut roots = Vec::new();
    for image in images {
        roots.push(repo.image_arg(image)?.name.clone());
    }
    let set = repo.hierarchy.closure(roots.clone());
    let ordered = repo.hierarchy.build_order(&set);
    let names: Vec<ImageName> = ordered.iter().map(|(n, _)| n.clone()).collect();
    let waves: Vec<usize> = ordered.iter().map(|(_, w)| *w).collect();
    if !cx.json() && !cx.quiet {
        let mut out = listing(cx, &repo, &names, Some(&waves));
        out.stdout.push_str(&format!(
            "{} image{} would rebuild in {} wave{}\n",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            waves.last().map(|w| w + 1).unwrap_or(0),
            if waves.last() == Some(&0) { "" } else { "s" }
        ));
        return Ok(out);
    }
    Ok(listing(cx, &repo, &names, Some(&waves)))
}

fn listing(
    cx: &Context,
    repo: &Repository,
    names: &[ImageName],
    waves: Option<&[usize]>,
) -> Output {
    if cx.json() {
        let list: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        return Output::json(&json!({ "images": list }));
    }
    let mut table = match waves {
        Some(_) => Table::new(&["WAVE", "NAME", "KIND", "VERSION"]),
        None => Table::new(&["NAME", "KIND", "VERSION"]),
    };
    for (i, name) in names.iter().enumerate() {
        let image = repo.catalog.image(name);
        let mut row = vec![
            name.to_string(),
            image.kind.clone(),
            image.version.to_string(),
        ];
        if let Some(waves) = waves {
            row.insert(0, waves[i].to_string());
        }
        table.row(row);
    }
    if table.is_empty() {
        return Output::text(String::new());
    }
    Output::text(table.render(&cx.styles))
}
