//! `hier diff IMG [OLD] [NEW]`: what changed between two builds of an image (by default the
//! build the recorded one replaced, and the recorded one; either may be named by its immutable
//! tag or its image id): OS packages added, removed and changed, the size, the labels, and the
//! layers added and removed. Text, or JSON with `--format json`. With a builders file, the
//! recorded build crosses to its first builder when that lacks it (the other side must be
//! there already).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Context, Output};
use crate::budget::shown;
use crate::engine::{Engine, EngineError, ImageFacts};
use crate::error::Error;
use crate::packages::{self, Changes};

/// One side of the comparison, as the engine has it.
struct Side {
    id: String,
    facts: ImageFacts,
    packages: Option<packages::Inventory>,
}

/// What `hier diff` was asked.
pub struct Args {
    pub image: String,
    /// The older build [default: the build the recorded one replaced].
    pub old: Option<String>,
    /// The newer build [default: the recorded one].
    pub new: Option<String>,
    /// A builders file: the recorded build crosses to its first builder when it lacks it.
    pub builders: Option<std::path::PathBuf>,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    let (name, old, new) = (
        args.image.as_str(),
        args.old.as_deref(),
        args.new.as_deref(),
    );
    let repo = cx.open()?;
    let (image, entry) = super::recorded(&repo, name)?;
    let repository = repo.catalog.repository(&image.name);
    let new = match new {
        Some(arg) => reference(&repository, arg)?,
        None => entry.image_id.clone(),
    };
    let old = match (old, &entry.previous_image_id) {
        (Some(arg), _) => reference(&repository, arg)?,
        (None, Some(previous)) => previous.clone(),
        (None, None) => {
            return Err(Error::usage_help(
                format!("hier.lock records no build of `{name}` before the current one"),
                format!(
                    "name the build to compare with: `hier diff {name} <immutable tag or image id>`"
                ),
            ));
        }
    };
    let (engine, notes) = cx.reader(&repo, args.builders.as_deref(), vec![image.name.clone()])?;
    let (old, new) = cx.block_on(async {
        let old = side(engine.as_ref(), &repository, &old).await;
        let new = side(engine.as_ref(), &repository, &new).await;
        (old, new)
    })?;
    let (old, new) = (old?, new?);
    let mut out = match cx.json() {
        true => Output::json(&json_of(name, &old, &new)),
        false => Output::text(text_of(name, &old, &new)),
    };
    out.stderr = notes;
    // An id may name any image: say when one is not a build of this image.
    for side in [&old, &new] {
        if side.facts.labels.get("io.hier.repository") != Some(&repository) {
            out.stderr.push_str(&format!(
                "note: {} is not a build of `{name}` (its io.hier.repository label is not {repository})\n",
                crate::hash::short(&side.id)
            ));
        }
    }
    Ok(out)
}

/// An immutable tag (`1.2.0-0123456789ab`) in the image's repository, or an image id.
fn reference(repository: &str, arg: &str) -> Result<String, Error> {
    let hex = arg
        .strip_prefix("sha256:")
        .unwrap_or(arg)
        .to_ascii_lowercase();
    let is_hex = (12..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        return Ok(format!("sha256:{hex}"));
    }
    if crate::reference::is_tag(arg) {
        return Ok(format!("{repository}:{arg}"));
    }
    Err(Error::usage_help(
        format!(
            "`{}` is neither a tag nor an image id",
            crate::shown::escaped(arg)
        ),
        "name a build by its immutable tag (`1.2.0-0123456789ab`) or its image id",
    ))
}

async fn side(engine: &dyn Engine, owner: &str, reference: &str) -> Result<Side, Error> {
    let read = async {
        let Some(facts) = engine.inspect(reference).await? else {
            return Ok(None);
        };
        let packages = packages::inventory(engine, owner, &facts.id).await?;
        Ok::<_, EngineError>(Some(Side {
            id: facts.id.clone(),
            facts,
            packages,
        }))
    };
    match read.await {
        Ok(Some(side)) => Ok(side),
        Ok(None) => Err(Error::Failed(format!(
            "the engine has no image `{reference}`"
        ))),
        Err(e) => Err(Error::Failed(format!(
            "cannot read `{reference}` from the engine: {e}"
        ))),
    }
}

/// Labels added or changed (`key`, old, new) and removed.
fn labels(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| ((*k).clone(), old.get(k).cloned(), new.get(k).cloned()))
        .collect()
}

/// Layers of `a` that `b` does not have.
fn missing(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|l| !b.contains(l)).cloned().collect()
}

/// The package changes; a side without a package database counts as having no packages,
/// unless neither has one.
fn changes(old: &Side, new: &Side) -> Option<Changes> {
    if old.packages.is_none() && new.packages.is_none() {
        return None;
    }
    let none = packages::Inventory::new();
    Some(packages::diff(
        old.packages.as_ref().unwrap_or(&none),
        new.packages.as_ref().unwrap_or(&none),
    ))
}

fn text_of(name: &str, old: &Side, new: &Side) -> String {
    let short = crate::hash::short;
    let mut out = format!("{name}: {} -> {}\n", short(&old.id), short(&new.id));
    let delta = new.facts.size as i128 - old.facts.size as i128;
    let sign = if delta < 0 { "-" } else { "+" };
    out.push_str(&format!(
        "size: {} -> {} ({sign}{})\n",
        shown(old.facts.size),
        shown(new.facts.size),
        shown(delta.unsigned_abs() as u64)
    ));
    out.push_str("packages:\n");
    match changes(old, new) {
        None => out.push_str("  (neither has a package database)\n"),
        Some(c) if c.is_empty() => out.push_str("  none changed\n"),
        Some(c) => c
            .lines()
            .iter()
            .for_each(|l| out.push_str(&format!("  {}\n", crate::shown::escaped(l)))),
    }
    out.push_str("labels:\n");
    let changed = labels(&old.facts.labels, &new.facts.labels);
    if changed.is_empty() {
        out.push_str("  none changed\n");
    }
    for (key, was, now) in changed {
        let show = |v: &Option<String>| v.as_deref().map_or("(none)".into(), crate::shown::escaped);
        out.push_str(&format!(
            "  {}: {} -> {}\n",
            crate::shown::escaped(&key),
            show(&was),
            show(&now)
        ));
    }
    let (added, removed) = (
        missing(&new.facts.layers, &old.facts.layers),
        missing(&old.facts.layers, &new.facts.layers),
    );
    out.push_str(&format!(
        "layers: {} added, {} removed\n",
        added.len(),
        removed.len()
    ));
    for l in &added {
        out.push_str(&format!("  + {}\n", short(l)));
    }
    for l in &removed {
        out.push_str(&format!("  - {}\n", short(l)));
    }
    out
}

fn json_of(name: &str, old: &Side, new: &Side) -> Value {
    let packages = changes(old, new).map(|c| json!({
        "added": c.added.iter().map(|(n, v)| json!({"name": n, "version": v})).collect::<Vec<_>>(),
        "removed": c.removed.iter().map(|(n, v)| json!({"name": n, "version": v})).collect::<Vec<_>>(),
        "changed": c.changed.iter().map(|(n, a, b)| json!({"name": n, "old": a, "new": b})).collect::<Vec<_>>(),
    }));
    json!({
        "name": name,
        "old": { "image_id": old.id, "size": old.facts.size },
        "new": { "image_id": new.id, "size": new.facts.size },
        "size_change": new.facts.size as i128 - old.facts.size as i128,
        "packages": packages,
        "labels": labels(&old.facts.labels, &new.facts.labels).into_iter().map(|(k, a, b)| json!({"key": k, "old": a, "new": b})).collect::<Vec<_>>(),
        "layers": {
            "added": missing(&new.facts.layers, &old.facts.layers),
            "removed": missing(&old.facts.layers, &new.facts.layers),
        },
    })
}
