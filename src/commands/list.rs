//! `hier list [--kind K]`: the images in build order with kind, version, parent, owner, what
//! each provides of its own (JSON: with what it inherits) and description.

use serde_json::{Value, json};

use super::{Context, Output};
use crate::catalog::{Image, Origin};
use crate::error::Error;
use crate::repo::Repository;
use crate::style::Styles;
use crate::table::Table;

pub fn run(cx: &Context, kind: Option<&str>) -> Result<Output, Error> {
    let repo = cx.open()?;
    if let Some(kind) = kind {
        check_kind(&repo, kind)?;
    }
    let images: Vec<_> = repo
        .hierarchy
        .order()
        .iter()
        .map(|n| repo.catalog.image(n))
        .filter(|i| kind.is_none_or(|k| i.kind == k))
        .collect();
    if cx.json() {
        return Ok(Output::json(&json_list(&repo, &images)));
    }
    Ok(Output::text(table(&images, &cx.styles)))
}

/// A kind no image has is a usage error that lists the kinds there are.
fn check_kind(repo: &Repository, kind: &str) -> Result<(), Error> {
    let images = &repo.catalog.images;
    if images.iter().any(|i| i.kind == kind) {
        return Ok(());
    }
    let mut kinds: Vec<&str> = images.iter().map(|i| i.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    Err(Error::usage_help(
        format!("no image of kind `{kind}` in the catalog"),
        format!("the kinds are: {}", kinds.join(", ")),
    ))
}

fn json_list(repo: &Repository, images: &[&Image]) -> Value {
    let list: Vec<_> = images
        .iter()
        .map(|i| {
            let (parent, from) = match &i.origin {
                Origin::Base { from, .. } => (None, Some(from.as_str())),
                Origin::Parent(dep) => (Some(dep.name.as_str()), None),
            };
            json!({
                "name": i.name.as_str(),
                "kind": i.kind,
                "version": i.version.to_string(),
                "parent": parent,
                "from": from,
                "description": i.description,
                "owner": i.owner,
                "provides": repo.inherited.provides[&i.name],
            })
        })
        .collect();
    json!({ "images": list })
}

/// The aligned table; a base's parent column shows its `from` in parentheses, PROVIDES what the
/// image adds to what it inherits.
fn table(images: &[&Image], styles: &Styles) -> String {
    let mut table = Table::new(&[
        "NAME",
        "KIND",
        "VERSION",
        "PARENT",
        "OWNER",
        "PROVIDES",
        "DESCRIPTION",
    ]);
    for i in images {
        let parent = match &i.origin {
            Origin::Base { from, .. } => format!("({from})"),
            Origin::Parent(dep) => dep.name.to_string(),
        };
        table.row(vec![
            i.name.to_string(),
            i.kind.clone(),
            i.version.to_string(),
            parent,
            i.owner.clone().unwrap_or_default(),
            i.provides.join(", "),
            i.description.clone(),
        ]);
    }
    table.render(styles)
}
