//! `hier tree [IMG]`: the hierarchy along `parent` edges, drawn with box characters.

use serde_json::{Value, json};

use super::{Context, Output};
use crate::catalog::Origin;
use crate::error::Error;
use crate::name::ImageName;
use crate::repo::Repository;
use crate::style::Styles;

pub fn run(cx: &Context, image: Option<&str>) -> Result<Output, Error> {
    let repo = cx.open()?;
    let roots: Vec<ImageName> = match image {
        Some(name) => vec![repo.image_arg(name)?.name.clone()],
        None => repo
            .hierarchy
            .order()
            .iter()
            .filter(|n| repo.catalog.image(n).is_base())
            .cloned()
            .collect(),
    };
    if cx.json() {
        let trees: Vec<Value> = roots.iter().map(|r| node_json(&repo, r)).collect();
        return Ok(Output::json(&json!({ "tree": trees })));
    }
    let mut out = String::new();
    for root in &roots {
        out.push_str(&label(&repo, root, &cx.styles));
        out.push('\n');
        draw(&repo, root, "", &mut out, &cx.styles);
    }
    Ok(Output::text(out))
}

fn label(repo: &Repository, name: &ImageName, styles: &Styles) -> String {
    let image = repo.catalog.image(name);
    let extra = match &image.origin {
        Origin::Base { from, .. } => format!("{}, from {from}", image.kind),
        Origin::Parent(_) => image.kind.clone(),
    };
    format!(
        "{} {} {}",
        Styles::paint(styles.bold, name.as_str()),
        image.version,
        Styles::paint(styles.dim, &format!("({extra})"))
    )
}

fn draw(repo: &Repository, name: &ImageName, prefix: &str, out: &mut String, styles: &Styles) {
    let children = repo.hierarchy.children(name);
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&label(repo, child, styles));
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        draw(repo, child, &deeper, out, styles);
    }
}

fn node_json(repo: &Repository, name: &ImageName) -> Value {
    let image = repo.catalog.image(name);
    let children: Vec<Value> = repo
        .hierarchy
        .children(name)
        .iter()
        .map(|c| node_json(repo, c))
        .collect();
    json!({
        "name": name.as_str(),
        "kind": image.kind,
        "version": image.version.to_string(),
        "children": children,
    })
}
