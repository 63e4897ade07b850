//! `hier size IMG`: what the layers of an image's recorded build hold, read from the engine as
//! it streams (`size` does the reading and counting): each layer's bytes and what made it (for
//! the image's own layers, the Dockerfile line), the bytes of the paths more than one layer
//! holds, and the package-manager caches left in it. Text, or JSON with `--format json`.

use serde_json::{Value, json};

use super::{Context, Output};
use crate::budget::shown;
use crate::error::Error;
use crate::plural::count;
use crate::shown::escaped;
use crate::size::analysis::{Analysis, analyse};
use crate::size::layers;

/// How many repeated paths and cache files the text shows (JSON has them all).
const SHOWN: usize = 10;

/// One layer as `size` shows it.
struct Row {
    index: usize,
    bytes: u64,
    /// Made by this image's Dockerfile (`None`: not known, its parent is not at hand).
    own: Option<bool>,
    made_by: String,
}

pub fn run(cx: &Context, name: &str, builders: Option<&std::path::Path>) -> Result<Output, Error> {
    let repo = cx.open()?;
    let (image, entry) = super::recorded(&repo, name)?;
    let (engine, notes) = cx.reader(&repo, builders, vec![image.name.clone()])?;
    let read = cx.block_on(async {
        if engine.inspect(&entry.image_id).await?.is_none() {
            return Ok(None);
        }
        let saved = engine.saved(&entry.image_id).await?;
        // A base's history starts empty; a parent the engine lost leaves it unknown.
        let below = match &entry.parent_image_id {
            Some(parent) => engine.history(parent).await.ok().map(|h| h.len()),
            None => Some(0),
        };
        Ok(Some((saved, below)))
    })?;
    let (saved, below) = super::held(read, name, &entry.image_id)?;
    let analysis = analyse(&saved);
    // The parent's history is the start of this image's: its layers are the parent's.
    let parent_layers = below.map(|below| {
        let steps = saved.history.iter().take(below);
        steps.filter(|s| !s.empty_layer).count()
    });
    let text = recorded_dockerfile(&repo, image, entry)?;
    let rows = rows(
        &analysis,
        parent_layers,
        &text,
        &repo.dockerfile_shown(image),
    );
    let header = (
        name,
        image.version.to_string(),
        entry.image_id.as_str(),
        entry.size,
        entry.added,
    );
    let mut output = match cx.json() {
        true => Output::json(&json_of(header, &rows, &analysis)),
        false => Output::text(text_of(header, &rows, &analysis)),
    };
    output.stderr = notes;
    Ok(output)
}

type Header<'a> = (&'a str, String, &'a str, Option<u64>, Option<u64>);

/// The Dockerfile the recorded build was made from, when it is still the one in the
/// repository (else its layers are named by the engine's record of them).
fn recorded_dockerfile(
    repo: &crate::repo::Repository,
    image: &crate::catalog::Image,
    entry: &crate::lock::LockEntry,
) -> Result<String, Error> {
    // The same digest the lock's `dockerfile` component holds (`inputs::compute`): only this
    // image's Dockerfile is read, none of the contexts.
    let rendered = repo.stable_renderings()?;
    let Ok(bytes) = repo.dockerfile_bytes(image, rendered) else {
        return Ok(String::new());
    };
    if entry.components.get("dockerfile") != Some(&crate::hash::digest(&bytes)) {
        return Ok(String::new());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn rows(
    analysis: &Analysis,
    parent_layers: Option<usize>,
    dockerfile: &str,
    path: &str,
) -> Vec<Row> {
    let own: Vec<layers::Layer> = analysis
        .layers
        .iter()
        .skip(parent_layers.unwrap_or(analysis.layers.len()))
        .map(|l| layers::Layer {
            size: l.bytes,
            created_by: l.created_by.clone(),
        })
        .collect();
    let mut named = layers::named(&own, &layers::steps(dockerfile), path).into_iter();
    analysis
        .layers
        .iter()
        .map(|l| {
            let own = parent_layers.map(|p| l.index > p);
            let made_by = match own {
                Some(true) => named.next().map(|(_, what)| what).unwrap_or_default(),
                _ if l.created_by.is_empty() => "(no command recorded)".to_string(),
                _ => layers::clipped(&l.created_by),
            };
            Row {
                index: l.index,
                bytes: l.bytes,
                own,
                made_by,
            }
        })
        .collect()
}

fn text_of(header: Header, rows: &[Row], analysis: &Analysis) -> String {
    let (name, version, id, size, added) = header;
    let mut out = format!("{name} {version} ({})", crate::hash::short(id));
    if let Some(size) = size {
        out.push_str(&format!(": {}", shown(size)));
        if let Some(added) = added {
            out.push_str(&format!(", {} over its parent", shown(added)));
        }
    }
    if rows.iter().any(|r| r.own.is_none()) {
        out.push_str(
            "\n(the image it was built on is not in the engine: its layers are not told apart)",
        );
    }
    out.push_str("\n\nLAYER  BYTES      MADE BY\n");
    for row in rows {
        let whose = if row.own == Some(false) {
            "(parent) "
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<6} {:<10} {whose}{}\n",
            row.index,
            shown(row.bytes),
            escaped(&row.made_by)
        ));
    }
    out.push_str(&format!(
        "\nwasted: {} in {} that more than one layer holds (every layer's copy counted)\n",
        shown(analysis.wasted),
        count(analysis.repeated.len(), "path")
    ));
    for r in analysis.repeated.iter().take(SHOWN) {
        out.push_str(&format!(
            "  {:>9}  {} ({} layers)\n",
            shown(r.bytes),
            escaped(&r.path),
            r.layers
        ));
    }
    if analysis.caches.is_empty() {
        out.push_str("\nno package-manager cache left in the image\n");
    }
    for cache in &analysis.caches {
        out.push_str(&format!(
            "\n{} left in the image: {} in {}\n",
            cache.kind,
            shown(cache.bytes),
            count(cache.files.len(), "file")
        ));
        for (path, bytes) in cache.files.iter().take(SHOWN) {
            out.push_str(&format!("  {:>9}  {}\n", shown(*bytes), escaped(path)));
        }
    }
    out
}

fn json_of(header: Header, rows: &[Row], analysis: &Analysis) -> Value {
    let (name, version, id, size, added) = header;
    json!({
        "name": name,
        "version": version,
        "image_id": id,
        "size": size,
        "added": added,
        "layers": rows.iter().zip(&analysis.layers).map(|(row, layer)| json!({
            "index": row.index,
            "bytes": row.bytes,
            "own": row.own,
            "made_by": row.made_by,
            "created_by": layer.created_by,
        })).collect::<Vec<_>>(),
        "wasted": {
            "bytes": analysis.wasted,
            "paths": analysis.repeated.iter().map(|r| json!({
                "path": r.path, "bytes": r.bytes, "layers": r.layers,
            })).collect::<Vec<_>>(),
        },
        "caches": analysis.caches.iter().map(|c| json!({
            "kind": c.kind,
            "bytes": c.bytes,
            "files": c.files.iter().map(|(p, b)| json!({ "path": p, "bytes": b })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
