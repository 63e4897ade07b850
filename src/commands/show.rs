//! `hier show IMG`: everything an app team wants to know about one image.

use serde_json::{Value, json};

use super::{Context, Output};
use crate::catalog::{Origin, Recipe};
use crate::dockerfile::template_path;
use crate::error::Error;
use crate::style::Styles;
use crate::tags::moving_tags;

pub fn run(cx: &Context, name: &str) -> Result<Output, Error> {
    let repo = cx.open()?;
    let image = repo.image_arg(name)?;
    let mut chain: Vec<String> = repo
        .hierarchy
        .ancestors(&repo.catalog, &image.name)
        .iter()
        .map(|n| n.to_string())
        .collect();
    chain.push(image.name.to_string());
    let tags = moving_tags(&image.version, &image.tags);
    let reference = repo.catalog.stable_ref(image);
    let provides = &repo.inherited.provides[&image.name];
    let children: Vec<String> = repo
        .hierarchy
        .dependents(&image.name)
        .iter()
        .map(|n| n.to_string())
        .collect();
    let uses: Vec<String> = image.uses.iter().map(|d| d.name.to_string()).collect();
    let vars = &repo.inherited.vars[&image.name];
    let recipe = match &image.recipe {
        Recipe::Template { name, .. } => template_path(&repo.catalog, name),
        Recipe::Dockerfile { path, .. } => path.clone(),
    };
    let last = repo.lock.images.get(image.name.as_str());
    let from = match &image.origin {
        Origin::Base { from, .. } => Some(from.as_str()),
        Origin::Parent(_) => None,
    };

    if cx.json() {
        return Ok(Output::json(&json!({
            "name": image.name.as_str(),
            "version": image.version.to_string(),
            "kind": image.kind,
            "description": image.description,
            "owner": image.owner,
            "from": from,
            "chain": chain,
            "tags": tags,
            "reference": reference,
            "provides": provides,
            "uses": uses,
            "children": children,
            "recipe": recipe,
            "context": image.context,
            "test": image.test,
            "vars": Value::Object(vars.clone()),
            "last_build": last.map(|l| json!({
                "image_id": l.image_id,
                "built_at": l.built_at,
                "tags": l.tags,
                "pushed": l.pushed,
            })),
        })));
    }

    let s = &cx.styles;
    let dash = || "-".to_string();
    let list = |items: &[String]| {
        if items.is_empty() {
            dash()
        } else {
            items.join(", ")
        }
    };
    let mut out = format!(
        "{} {} {}\n",
        Styles::paint(s.bold, image.name.as_str()),
        image.version,
        Styles::paint(s.dim, &format!("({})", image.kind))
    );
    if !image.description.is_empty() {
        out.push_str(&format!("  {}\n", image.description));
    }
    out.push('\n');
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<11} {value}\n", format!("{label}:")));
    };
    let chain_text = {
        let mut parts: Vec<String> = Vec::new();
        if let Some(base) = chain.first().and_then(|b| repo.catalog.get(b))
            && let Origin::Base { from, .. } = &base.origin
        {
            parts.push(from.clone());
        }
        parts.extend(chain.iter().map(|n| {
            let i = repo
                .catalog
                .get(n)
                .expect("chain images are in the catalog");
            format!("{n} {}", i.version)
        }));
        parts.join(" -> ")
    };
    field("chain", chain_text);
    field("reference", reference.clone());
    field("tags", tags.join(", "));
    field("provides", list(provides));
    field("uses", list(&uses));
    field("children", list(&children));
    if let Some(owner) = &image.owner {
        field("owner", owner.clone());
    }
    field(
        if matches!(image.recipe, Recipe::Template { .. }) {
            "template"
        } else {
            "dockerfile"
        },
        recipe,
    );
    field(
        "context",
        if image.context.is_empty() {
            ".".into()
        } else {
            image.context.clone()
        },
    );
    field("test", list(&image.test));
    field(
        "last build",
        match last {
            None => "never built (not in hier.lock)".to_string(),
            Some(l) => {
                let mut text = format!("{} at {}", short_id(&l.image_id), l.built_at);
                if !l.pushed.is_empty() {
                    let repos: Vec<&str> = l.pushed.keys().map(String::as_str).collect();
                    text.push_str(&format!("; pushed to {}", repos.join(", ")));
                }
                text
            }
        },
    );
    out.push_str("vars:\n");
    if vars.is_empty() {
        out.push_str("  -\n");
    }
    for (key, value) in vars {
        out.push_str(&format!("  {key} = {value}\n"));
    }
    Ok(Output::text(out))
}

fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}
