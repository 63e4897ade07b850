//! `hier render [IMG…] [--check]`: write each templated image's Dockerfile (the stable
//! rendering), or with `--check` write nothing and fail listing the stale files. Everything is
//! rendered before anything is written, so a template error writes nothing.

use std::collections::BTreeMap;
use std::fs;

use serde_json::json;

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::dockerfile::{StableRefs, rendered_path};
use crate::error::{Error, Exit};
use crate::lock::write_atomic;
use crate::name::ImageName;

#[derive(Clone, Copy, PartialEq)]
enum State {
    UpToDate,
    Stale,
    Missing,
}

pub fn run(cx: &Context, images: &[String], check: bool) -> Result<Output, Error> {
    let repo = cx.open()?;
    let mut selected: Vec<ImageName> = Vec::new();
    let mut notes = String::new();
    if images.is_empty() {
        selected.extend(
            repo.hierarchy
                .order()
                .iter()
                .filter(|n| matches!(repo.catalog.image(n).recipe, Recipe::Template { .. }))
                .cloned(),
        );
    } else {
        for name in images {
            let image = repo.image_arg(name)?;
            if let Recipe::Dockerfile { path, .. } = &image.recipe {
                notes.push_str(&format!(
                    "note: `{name}` has a hand-written Dockerfile ({path}); nothing to render\n"
                ));
            } else if !selected.contains(&image.name) {
                selected.push(image.name.clone());
            }
        }
    }
    let rendered: BTreeMap<ImageName, String> = repo.render_all(&StableRefs)?;
    let mut files = Vec::new();
    for name in &selected {
        let relative = rendered_path(&repo.catalog, name);
        let path = repo.root.join(&relative);
        let text = &rendered[name];
        let state = match fs::read(&path) {
            Ok(current) if current == text.as_bytes() => State::UpToDate,
            Ok(_) => State::Stale,
            Err(_) => State::Missing,
        };
        files.push((name, relative, path, text, state));
    }

    let mut written = Vec::new();
    if !check {
        for (_, relative, path, text, state) in &files {
            if *state != State::UpToDate {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir.display(), e))?;
                }
                write_atomic(path, text.as_bytes()).map_err(|e| Error::io("write", relative, e))?;
                written.push(relative.clone());
            }
        }
    }
    let stale: Vec<&(_, String, _, _, State)> =
        files.iter().filter(|f| f.4 != State::UpToDate).collect();
    let failed = check && !stale.is_empty();

    let mut out = Output::default();
    if cx.json() {
        let list: Vec<_> = files
            .iter()
            .map(|(name, relative, _, _, state)| {
                let status = match (state, check) {
                    (State::UpToDate, _) => "unchanged",
                    (State::Stale, true) => "stale",
                    (State::Missing, true) => "missing",
                    (_, false) => "written",
                };
                json!({"image": name.as_str(), "path": relative, "status": status})
            })
            .collect();
        out = Output::json(&json!({ "files": list }));
    } else {
        let mut text = String::new();
        if check {
            for (_, relative, _, _, state) in &stale {
                let what = if *state == State::Missing {
                    "missing"
                } else {
                    "stale"
                };
                text.push_str(&format!("{what}: {}\n", repo.display(relative).display()));
            }
            if !cx.quiet && stale.is_empty() {
                text.push_str(&format!(
                    "{} rendered Dockerfiles are up to date\n",
                    files.len()
                ));
            }
        } else if !cx.quiet {
            for relative in &written {
                text.push_str(&format!("wrote {}\n", repo.display(relative).display()));
            }
            text.push_str(&format!(
                "{} written, {} already up to date\n",
                written.len(),
                files.len() - written.len()
            ));
        }
        out.stdout = text;
    }
    out.stderr = notes;
    if failed {
        out.stderr.push_str(&format!(
            "error: {} rendered Dockerfile{} out of date; run `hier render` and commit the result\n",
            stale.len(),
            if stale.len() == 1 { " is" } else { "s are" }
        ));
        out.exit = Some(Exit::Failed);
    }
    Ok(out)
}
