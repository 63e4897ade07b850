//! `hier pick NEED…`: the images an app could build on (never apps themselves) that provide
//! every need ([`need`]), best fit first: fewest provides beyond the needs, then the shallowest
//! image, then the name. Without needs, every need the catalog provides and who provides it.
//! A need nothing meets names the closest images: those that provide it in another version, or
//! the provided name it was probably meant to be.

mod need;

use std::collections::BTreeMap;

use serde_json::json;

use super::{Context, Output};
use crate::catalog::{APP, Image};
use crate::error::{Error, Exit};
use crate::repo::Repository;
use crate::table::Table;
pub use need::Need;

pub fn run(cx: &Context, needs: &[String]) -> Result<Output, Error> {
    let parsed = needs
        .iter()
        .map(|n| Need::parse(n))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::usage_help(
                e,
                "write `name`, `name=version` or a comparison, e.g. `python`, `python=3.12`, `python>=3.10`",
            )
        })?;
    let repo = cx.open()?;
    if parsed.is_empty() {
        return Ok(every_need(cx, &repo));
    }
    let candidates = candidates(&repo, &parsed);
    let mut out = if cx.json() {
        let names: Vec<&str> = candidates.iter().map(|i| i.name.as_str()).collect();
        Output::json(&json!({ "images": names }))
    } else if candidates.is_empty() {
        Output::default()
    } else {
        let mut table = Table::new(&["NAME", "KIND", "VERSION", "PROVIDES"]);
        for image in &candidates {
            table.row(vec![
                image.name.to_string(),
                image.kind.clone(),
                image.version.to_string(),
                repo.inherited.provides[&image.name].join(", "),
            ]);
        }
        Output::text(table.render(&cx.styles))
    };
    if candidates.is_empty() {
        out.stderr = format!("no image provides all of: {}\n", needs.join(", "));
        for (need, text) in parsed.iter().zip(needs) {
            if let Some(hint) = closest(&repo, need, text) {
                out.stderr.push_str(&format!("  {hint}\n"));
            }
        }
        out.exit = Some(Exit::Failed);
    }
    Ok(out)
}

/// The images (never apps) that meet every need, best fit first.
fn candidates<'r>(repo: &'r Repository, needs: &[Need]) -> Vec<&'r Image> {
    let mut ranked: Vec<(usize, usize, &Image)> = Vec::new();
    for image in buildable(repo) {
        let provides = &repo.inherited.provides[&image.name];
        if !needs.iter().all(|n| provides.iter().any(|p| n.met_by(p))) {
            continue;
        }
        let extra = provides
            .iter()
            .filter(|p| !needs.iter().any(|n| n.met_by(p)))
            .count();
        let depth = repo.hierarchy.ancestors(&repo.catalog, &image.name).len();
        ranked.push((extra, depth, image));
    }
    ranked.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
    ranked.into_iter().map(|(_, _, i)| i).collect()
}

fn buildable(repo: &Repository) -> impl Iterator<Item = &Image> {
    repo.catalog.images.iter().filter(|i| i.kind != APP)
}

/// For a need nothing meets: the images that provide its name in another version
/// (`python 3.11.2 provides python=3.11`), or the provided name closest to it.
fn closest(repo: &Repository, need: &Need, text: &str) -> Option<String> {
    if buildable(repo).any(|i| {
        repo.inherited.provides[&i.name]
            .iter()
            .any(|p| need.met_by(p))
    }) {
        return None;
    }
    let mut others: Vec<String> = Vec::new();
    for image in buildable(repo) {
        for provided in &repo.inherited.provides[&image.name] {
            if need::split(provided).0 == need.name {
                others.push(format!(
                    "{} {} provides {provided}",
                    image.name, image.version
                ));
            }
        }
    }
    if !others.is_empty() {
        return Some(format!("`{text}`: nothing meets it; {}", others.join("; ")));
    }
    let apps: Vec<&str> = repo
        .catalog
        .images
        .iter()
        .filter(|i| {
            i.kind == APP
                && repo.inherited.provides[&i.name]
                    .iter()
                    .any(|p| need.met_by(p))
        })
        .map(|i| i.name.as_str())
        .collect();
    if !apps.is_empty() {
        return Some(format!(
            "`{text}`: only {} provide{} it, and nothing builds on an app",
            apps.join(", "),
            if apps.len() == 1 { "s" } else { "" }
        ));
    }
    let provided = provided_by(repo);
    let names: std::collections::BTreeSet<&str> =
        provided.keys().map(|p| need::split(p).0).collect();
    let hint = crate::diagnostic::suggest(&need.name, names.iter().copied())
        .unwrap_or_else(|| "`hier pick` lists every need the catalog provides".into());
    Some(format!(
        "`{text}`: no image provides `{}`; {hint}",
        need.name
    ))
}

/// Every provided name, with the images (never apps) that provide it, in catalog order.
fn provided_by(repo: &Repository) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for image in buildable(repo) {
        for provided in &repo.inherited.provides[&image.name] {
            let names = out.entry(provided.clone()).or_default();
            if !names.contains(&image.name.to_string()) {
                names.push(image.name.to_string());
            }
        }
    }
    out
}

/// `hier pick` without needs: what can be asked for, and who provides it.
fn every_need(cx: &Context, repo: &Repository) -> Output {
    let needs = provided_by(repo);
    if cx.json() {
        let list: Vec<_> = needs
            .iter()
            .map(|(need, images)| json!({ "need": need, "images": images }))
            .collect();
        return Output::json(&json!({ "needs": list }));
    }
    let mut table = Table::new(&["NEED", "PROVIDED BY"]);
    for (need, images) in &needs {
        table.row(vec![need.clone(), images.join(", ")]);
    }
    Output::text(table.render(&cx.styles))
}
