//! `hier show IMG`: everything an app team wants to know about one image, with the `FROM`
//! lines to copy (the stable tag, and once built the immutable tag with its pushed digest).

use serde_json::{Map, Value, json};

use super::{Context, Output};
use crate::catalog::{Image, Origin, Recipe};
use crate::dockerfile::template_path;
use crate::error::Error;
use crate::lock::LockEntry;
use crate::repo::Repository;
use crate::style::Styles;
use crate::tags::{moving_tags, pinned_reference};

pub fn run(cx: &Context, name: &str) -> Result<Output, Error> {
    let repo = cx.open()?;
    let image = repo.image_arg(name)?;
    let about = About::of(&repo, image);
    if cx.json() {
        return Ok(Output::json(&about.json()));
    }
    Ok(Output::text(about.text(&cx.styles)))
}

/// What `show` says about one image, gathered once for both formats.
struct About<'r> {
    repo: &'r Repository,
    image: &'r Image,
    /// The image's ancestors from its base down, then the image itself.
    chain: Vec<String>,
    tags: Vec<String>,
    reference: String,
    provides: &'r Vec<String>,
    uses: Vec<String>,
    children: Vec<String>,
    vars: &'r Map<String, Value>,
    /// The template or the hand-written Dockerfile it is built from.
    recipe: String,
    last: Option<&'r LockEntry>,
}

impl<'r> About<'r> {
    fn of(repo: &'r Repository, image: &'r Image) -> Self {
        let names = |names: Vec<_>| names.iter().map(ToString::to_string).collect::<Vec<_>>();
        let mut chain = names(repo.hierarchy.ancestors(&repo.catalog, &image.name));
        chain.push(image.name.to_string());
        About {
            repo,
            image,
            chain,
            tags: moving_tags(&image.version, &image.tags),
            reference: repo.catalog.stable_ref(image),
            provides: &repo.inherited.provides[&image.name],
            uses: image.uses.iter().map(|d| d.name.to_string()).collect(),
            children: names(repo.hierarchy.dependents(&image.name)),
            vars: &repo.inherited.vars[&image.name],
            recipe: match &image.recipe {
                Recipe::Template { name, .. } => template_path(&repo.catalog, name),
                Recipe::Dockerfile { path, .. } => path.clone(),
            },
            last: repo.lock.images.get(image.name.as_str()),
        }
    }

    fn json(&self) -> Value {
        let image = self.image;
        let from = match &image.origin {
            Origin::Base { from, .. } => Some(from.as_str()),
            Origin::Parent(_) => None,
        };
        json!({
            "name": image.name.as_str(),
            "version": image.version.to_string(),
            "kind": image.kind,
            "description": image.description,
            "owner": image.owner,
            "from": from,
            "chain": self.chain,
            "tags": self.tags,
            "reference": self.reference,
            "from_line": (image.kind != crate::catalog::APP).then(|| {
                let (stable, pinned) = self.lines_to_build_on();
                json!({ "stable": stable, "pinned": pinned })
            }),
            "provides": self.provides,
            "uses": self.uses,
            "children": self.children,
            "recipe": self.recipe,
            "context": image.context,
            "test": image.test,
            "test_spec": image.test_spec.as_ref().map(|t| json!({
                "path": t.path,
                "tests": t.spec.as_ref().map(|s| s.len()),
            })),
            "vars": Value::Object(self.vars.clone()),
            "last_build": self.last.map(|l| json!({
                "image_id": l.image_id,
                "built_at": l.built_at,
                "size": l.size,
                "added": l.added,
                "tags": l.tags,
                "pushed": l.pushed,
            })),
        })
    }

    fn text(&self, styles: &Styles) -> String {
        let mut out = self.heading(styles);
        for (label, value) in self.fields() {
            out.push_str(&format!("{:<11} {value}\n", format!("{label}:")));
        }
        out.push_str(&self.vars_text());
        out
    }

    /// Name, version and kind, then the description, then a blank line.
    fn heading(&self, s: &Styles) -> String {
        let image = self.image;
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
        out
    }

    /// The labelled lines, in order.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let image = self.image;
        let mut fields = vec![
            ("chain", self.chain_text()),
            ("reference", self.reference.clone()),
        ];
        if image.kind != crate::catalog::APP {
            let (stable, pinned) = self.lines_to_build_on();
            fields.push(("build on", stable));
            let none = match self.last {
                None => "not built yet",
                Some(_) => "not pushed yet",
            };
            fields.push(("pinned", pinned.unwrap_or_else(|| none.into())));
        }
        fields.extend([
            ("tags", self.tags.join(", ")),
            ("provides", list(self.provides)),
            ("uses", list(&self.uses)),
            ("children", list(&self.children)),
        ]);
        if let Some(owner) = &image.owner {
            fields.push(("owner", owner.clone()));
        }
        let recipe = match image.recipe {
            Recipe::Template { .. } => "template",
            Recipe::Dockerfile { .. } => "dockerfile",
        };
        fields.push((recipe, self.recipe.clone()));
        let context = match image.context.as_str() {
            "" => ".".to_string(),
            context => context.to_string(),
        };
        fields.push(("context", context));
        fields.push(("test", list(&image.test)));
        if let Some(spec) = &image.test_spec {
            let count = spec.spec.as_ref().map_or(0, |s| s.len());
            let tests = crate::plural::count(count, "structure test");
            fields.push(("test_spec", format!("{} ({tests})", spec.path)));
        }
        fields.push(("last build", self.last_build_text()));
        fields
    }

    /// The `FROM` lines to copy: on the stable tag (it moves with each rebuild of this
    /// version), and, once built and pushed, on the immutable tag with its pushed digest.
    fn lines_to_build_on(&self) -> (String, Option<String>) {
        let stable = format!("FROM {}", self.reference);
        let pinned = self.last.and_then(|l| {
            let repository = self.repo.catalog.repository(&self.image.name);
            pinned_reference(&repository, &l.image_id, &l.tags, &l.pushed)
        });
        let pinned = pinned.map(|reference| format!("FROM {reference}"));
        (stable, pinned)
    }

    /// `from` of the base (for a base image), then each image of the chain with its version.
    fn chain_text(&self) -> String {
        let catalog = &self.repo.catalog;
        let mut parts: Vec<String> = Vec::new();
        if let Some(base) = self.chain.first().and_then(|b| catalog.get(b))
            && let Origin::Base { from, .. } = &base.origin
        {
            parts.push(from.clone());
        }
        parts.extend(self.chain.iter().map(|n| {
            let i = catalog.get(n).expect("chain images are in the catalog");
            format!("{n} {}", i.version)
        }));
        parts.join(" -> ")
    }

    fn last_build_text(&self) -> String {
        let Some(l) = self.last else {
            return "never built (not in hier.lock)".to_string();
        };
        let mut text = format!("{} at {}", crate::hash::short(&l.image_id), l.built_at);
        if let Some(size) = l.size {
            text.push_str(&format!("; {}", crate::budget::shown(size)));
            if let Some(added) = l.added {
                text.push_str(&format!(
                    " ({} over its parent)",
                    crate::budget::shown(added)
                ));
            }
        }
        if !l.pushed.is_empty() {
            let repos: Vec<&str> = l.pushed.keys().map(String::as_str).collect();
            text.push_str(&format!("; pushed to {}", repos.join(", ")));
        }
        text
    }

    fn vars_text(&self) -> String {
        let mut out = String::from("vars:\n");
        if self.vars.is_empty() {
            out.push_str("  -\n");
        }
        for (key, value) in self.vars {
            out.push_str(&format!("  {key} = {value}\n"));
        }
        out
    }
}

/// Items separated by commas, or `-` when there are none.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}
