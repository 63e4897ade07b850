//! `hier render [IMG…] [--check]`: write each templated image's Dockerfile (the stable
//! rendering), or with `--check` write nothing and fail listing the stale files. Everything is
//! rendered (and parsed as the engine parses it) before anything is written, so a template
//! error writes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::dockerfile::{StableRefs, rendered_path};
use crate::error::{Error, Exit};
use crate::lock::write_atomic;
use crate::name::ImageName;
use crate::repo::Repository;

#[derive(Clone, Copy, PartialEq)]
enum State {
    UpToDate,
    Stale,
    Missing,
}

/// One rendered Dockerfile and how the file on disk compares with it.
struct File<'a> {
    name: &'a ImageName,
    /// Relative to the repository root.
    relative: String,
    path: PathBuf,
    text: &'a str,
    state: State,
}

pub fn run(cx: &Context, images: &[String], check: bool) -> Result<Output, Error> {
    let repo = cx.open()?;
    let (selected, notes) = select(&repo, images)?;
    let rendered: BTreeMap<ImageName, String> = repo.render_all(&StableRefs)?;
    repo.check_renderings(&rendered)?;
    let files = compare(&repo, &selected, &rendered);
    let written = if check { Vec::new() } else { write(&files)? };
    let stale: Vec<&File> = files
        .iter()
        .filter(|f| f.state != State::UpToDate)
        .collect();
    let mut out = if cx.json() {
        Output::json(&json_report(&files, check))
    } else if check {
        Output::text(check_text(&repo, &files, &stale, cx.quiet))
    } else if !cx.quiet {
        Output::text(written_text(&repo, &files, &written))
    } else {
        Output::default()
    };
    out.stderr = notes;
    if check && !stale.is_empty() {
        out.stderr.push_str(&out_of_date(stale.len()));
        out.exit = Some(Exit::Failed);
    }
    Ok(out)
}

/// The images to render, in order and without repeats (every templated image when none is
/// named), and a note for each named image that has a hand-written Dockerfile.
fn select(repo: &Repository, images: &[String]) -> Result<(Vec<ImageName>, String), Error> {
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
    }
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
    Ok((selected, notes))
}

/// Each selected image's rendering, compared with its file on disk.
fn compare<'a>(
    repo: &Repository,
    selected: &'a [ImageName],
    rendered: &'a BTreeMap<ImageName, String>,
) -> Vec<File<'a>> {
    selected
        .iter()
        .map(|name| {
            let relative = rendered_path(&repo.catalog, name);
            let path = repo.root.join(&relative);
            let text = &rendered[name];
            let state = match fs::read(&path) {
                Ok(current) if current == text.as_bytes() => State::UpToDate,
                Ok(_) => State::Stale,
                Err(_) => State::Missing,
            };
            File {
                name,
                relative,
                path,
                text,
                state,
            }
        })
        .collect()
}

/// Writes every file that is not up to date; returns the relative paths written.
fn write(files: &[File]) -> Result<Vec<String>, Error> {
    let mut written = Vec::new();
    for file in files.iter().filter(|f| f.state != State::UpToDate) {
        if let Some(dir) = file.path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("create", dir.display(), e))?;
        }
        write_atomic(&file.path, file.text.as_bytes())
            .map_err(|e| Error::io("write", &file.relative, e))?;
        written.push(file.relative.clone());
    }
    Ok(written)
}

fn json_report(files: &[File], check: bool) -> Value {
    let list: Vec<_> = files
        .iter()
        .map(|file| {
            let status = match (file.state, check) {
                (State::UpToDate, _) => "unchanged",
                (State::Stale, true) => "stale",
                (State::Missing, true) => "missing",
                (_, false) => "written",
            };
            json!({"image": file.name.as_str(), "path": file.relative, "status": status})
        })
        .collect();
    json!({ "files": list })
}

/// `--check`: each stale or missing file, or (unless quiet) that all are up to date.
fn check_text(repo: &Repository, files: &[File], stale: &[&File], quiet: bool) -> String {
    let mut text = String::new();
    for file in stale {
        let what = if file.state == State::Missing {
            "missing"
        } else {
            "stale"
        };
        text.push_str(&format!(
            "{what}: {}\n",
            repo.display(&file.relative).display()
        ));
    }
    if !quiet && stale.is_empty() {
        text.push_str(&format!(
            "{} rendered Dockerfile{} up to date\n",
            files.len(),
            if files.len() == 1 { " is" } else { "s are" }
        ));
    }
    text
}

/// Each file written, then how many were written and how many were already up to date.
fn written_text(repo: &Repository, files: &[File], written: &[String]) -> String {
    let mut text = String::new();
    for relative in written {
        text.push_str(&format!("wrote {}\n", repo.display(relative).display()));
    }
    text.push_str(&format!(
        "{} written, {} already up to date\n",
        written.len(),
        files.len() - written.len()
    ));
    text
}

/// The error of `--check` when files are stale.
fn out_of_date(stale: usize) -> String {
    format!(
        "error: {} rendered Dockerfile{} out of date; run `hier render` and commit the result\n",
        stale,
        if stale == 1 { " is" } else { "s are" }
    )
}
