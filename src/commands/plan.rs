//! `hier plan`: the build plan as a table (or JSON), without touching an engine.

use serde_json::json;

use super::{Context, Output};
use crate::cli::Selection;
use crate::error::Error;
use crate::plan::{self, Plan, Selector};
use crate::repo::Repository;
use crate::table::Table;

/// Resolves the command line's selection against the repository.
pub fn selector(
    repo: &Repository,
    catalog_file: &str,
    selection: &Selection,
) -> Result<Selector, Error> {
    if selection.all {
        return Ok(Selector::All);
    }
    if let Some(rev) = &selection.since {
        return Ok(Selector::Since(crate::git::inputs_at(
            repo,
            catalog_file,
            rev,
        )?));
    }
    if !selection.images.is_empty() {
        let mut names = Vec::new();
        for image in &selection.images {
            names.push(repo.image_arg(image)?.name.clone());
        }
        return Ok(Selector::Images(names));
    }
    Ok(Selector::Changed)
}

pub fn run(cx: &Context, selection: &Selection) -> Result<Output, Error> {
    let catalog_path = crate::repo::locate(cx.catalog.as_deref())?;
    let repo = Repository::open(&catalog_path)?;
    let inputs = repo.inputs()?;
    let catalog_file = catalog_path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| crate::repo::CATALOG_FILE.into());
    let selector = selector(&repo, &catalog_file, selection)?;
    let mut plan = plan::make(
        &repo.catalog,
        &repo.hierarchy,
        &inputs,
        &repo.lock,
        &selector,
    );
    with_fetches(&repo, &mut plan);
    Ok(render(cx, &plan))
}

/// Puts the recorded images the engine lacks (if one answers) first, as `fetch` items.
pub fn with_fetches(repo: &Repository, plan: &mut Plan) {
    let fetches = crate::rebuild::fetches(repo, plan);
    if !fetches.is_empty() {
        plan.items.splice(0..0, fetches);
    }
}

pub fn render(cx: &Context, plan: &Plan) -> Output {
    if cx.json() {
        let images: Vec<_> = plan
            .items
            .iter()
            .map(|i| {
                json!({
                    "name": i.name.as_str(),
                    "wave": i.wave,
                    "reason": i.reason.to_string(),
                    "inputs": i.inputs,
                    "action": i.action.as_str(),
                })
            })
            .collect();
        return Output::json(&json!({ "images": images }));
    }
    if plan.items.is_empty() {
        return Output::text(if cx.quiet {
            String::new()
        } else {
            "Nothing to build: every image matches hier.lock.\n".to_string()
        });
    }
    let mut headers = vec!["WAVE", "IMAGE", "ACTION", "REASON"];
    if cx.verbose > 0 {
        headers.push("INPUTS");
    }
    let mut table = Table::new(&headers);
    for item in &plan.items {
        let mut row = vec![
            item.wave.to_string(),
            item.name.to_string(),
            item.action.as_str().to_string(),
            item.reason.to_string(),
        ];
        if cx.verbose > 0 {
            row.push(item.inputs.clone());
        }
        table.row(row);
    }
    let mut out = table.render(&cx.styles);
    if !cx.quiet {
        let builds = plan.builds().count();
        let fetches = plan.items.len() - builds;
        out.push_str(&format!(
            "{builds} image{} to build in {} wave{}{}\n",
            if builds == 1 { "" } else { "s" },
            plan.waves(),
            if plan.waves() == 1 { "" } else { "s" },
            match fetches {
                0 => String::new(),
                1 => ", 1 to fetch".to_string(),
                n => format!(", {n} to fetch"),
            }
        ));
    }
    Output::text(out)
}
