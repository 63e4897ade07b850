//! `hier gc [--keep N] [--dry-run]`: removes the images hier built for this catalog that the
//! lock no longer records, and all but the last N runs' logs and reports (see [`crate::gc`]).
//! What it removed (or, with `--dry-run`, would remove) on standard output.

use serde_json::json;

use super::{Context, Output};
use crate::error::Error;
use crate::gc::{self, Removed};

/// What `hier gc` was asked.
pub struct Args {
    /// The runs whose logs and reports stay.
    pub keep: usize,
    pub dry_run: bool,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    let (repo, _run_lock, _) = super::open_locked_to_build_nothing(cx)?;
    let engine = cx.engine(&repo.catalog.platform)?;
    let stored = cx.block_on(engine.built_images(&repo.catalog.registry))??;
    let images = gc::images_to_remove(&repo.catalog, &repo.lock, &stored);
    let runs = gc::runs_to_remove(&gc::runs(&repo.root)?, args.keep);
    let mut removed = Vec::new();
    for image in images {
        removed.push(if args.dry_run {
            Removed {
                gone: image.kept_by.is_empty(),
                image,
                error: None,
            }
        } else {
            cx.block_on(gc::remove_image(&*engine, image))??
        });
    }
    if !args.dry_run {
        for run in &runs {
            gc::remove_run(&repo.root, run)?;
        }
    }
    // An image the engine keeps (a container uses it, another image builds on it) is said,
    // not failed: what is in use stays, as it should.
    Ok(if cx.json() {
        Output::json(&json!({
            "dry_run": args.dry_run,
            "images": removed,
            "runs": runs,
            "kept_runs": args.keep,
        }))
    } else if removed.is_empty() && runs.is_empty() {
        let mut out = Output::text(String::new());
        out.stderr = format!(
            "nothing to remove: the lock records every image hier built, and at most {} runs left logs and reports\n",
            args.keep
        );
        out
    } else {
        Output::text(text(&removed, &runs, args))
    })
}

fn text(removed: &[Removed], runs: &[String], args: &Args) -> String {
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut out = String::new();
    for r in removed {
        let what = r.image.name.as_deref().unwrap_or("an image");
        let short = r.image.id.get(7..19).unwrap_or(&r.image.id);
        match &r.error {
            Some(e) => out.push_str(&format!("{what} {short}: not removed: {e}\n")),
            None if r.gone => {
                out.push_str(&format!("{verb} {what} {short} ({})\n", size(r.image.size)))
            }
            None => out.push_str(&format!(
                "{verb} the tags of {what} {short}; {} keeps the image\n",
                r.image.kept_by.join(", ")
            )),
        }
    }
    let gone: u64 = removed
        .iter()
        .filter(|r| r.gone && r.error.is_none())
        .map(|r| r.image.size)
        .sum();
    let images = removed
        .iter()
        .filter(|r| r.gone && r.error.is_none())
        .count();
    out.push_str(&format!(
        "{verb} {images} image{} ({}) and the logs and reports of {} run{}; the last {} runs are kept\n",
        if images == 1 { "" } else { "s" },
        size(gone),
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        args.keep
    ));
    out
}

/// Bytes as people read them: `12.3 MB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
