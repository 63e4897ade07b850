//! `hier plan`: the build plan as a table (or JSON). It needs no engine; when one answers
//! quickly, the plan also lists the recorded images it would have to fetch. A reason names the
//! first few things that changed in each component (every one with `-v`, and always in JSON).

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::{Context, Output};
use crate::engine::Docker;
use crate::error::Error;
use crate::plan::{self, Action, Plan, Selector};
use crate::rebuild::preflight;
use crate::repo::Repository;
use crate::table::Table;

/// What `plan`, `rebuild --dry-run` and `rebuild` say (on standard error) when nothing is to
/// be built.
pub const UP_TO_DATE: &str = "nothing to build: every image matches hier.lock\n";

/// Which images a plan (or a rebuild) covers, as asked. Without a selector: `Changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    #[default]
    Changed,
    All,
    /// Images whose inputs differ from this git revision's, and their dependents.
    Since(String),
    /// These images and their dependents.
    Images(Vec<String>),
}

/// Resolves a selection against the repository.
pub fn selector(
    repo: &Repository,
    catalog_path: &Path,
    selection: &Selection,
) -> Result<Selector, Error> {
    let catalog_file = catalog_path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| crate::repo::CATALOG_FILE.into());
    Ok(match selection {
        Selection::Changed => Selector::Changed,
        Selection::All => Selector::All,
        Selection::Since(rev) => Selector::Since(crate::git::inputs_at(repo, &catalog_file, rev)?),
        Selection::Images(images) => {
            let mut names = Vec::new();
            for image in images {
                names.push(repo.image_arg(image)?.name.clone());
            }
            Selector::Images(names)
        }
    })
}

/// The plan for a selection (without `fetch` items).
pub fn make(repo: &Repository, catalog_path: &Path, selection: &Selection) -> Result<Plan, Error> {
    let inputs = repo.inputs()?;
    let selector = selector(repo, catalog_path, selection)?;
    Ok(plan::make(
        &repo.catalog,
        &repo.hierarchy,
        &inputs,
        &repo.lock,
        &selector,
    ))
}

pub fn run(cx: &Context, selection: &Selection) -> Result<Output, Error> {
    let catalog_path = crate::repo::locate(cx.catalog.as_deref())?;
    let repo = Repository::open(&catalog_path)?;
    let mut plan = make(&repo, &catalog_path, selection)?;
    with_fetches_if_engine(cx, &repo, &mut plan)?;
    Ok(render(cx, &plan))
}

/// Adds the plan's `fetch` items when an engine answers within 2 s; without one, none: a plan
/// needs no engine.
pub fn with_fetches_if_engine(
    cx: &Context,
    repo: &Repository,
    plan: &mut Plan,
) -> Result<(), Error> {
    if plan::recorded_needs(&repo.catalog, plan).is_empty() {
        return Ok(());
    }
    let items = cx.block_on(async {
        let connect = Docker::connect(&repo.catalog.platform);
        let Ok(Ok(engine)) = tokio::time::timeout(Duration::from_secs(2), connect).await else {
            return Vec::new();
        };
        preflight::fetch_items(&engine, repo, plan)
            .await
            .unwrap_or_default()
    })?;
    plan.add_fetches(items);
    Ok(())
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
                    "reason": format!("{:#}", i.reason),
                    "inputs": i.inputs,
                    "action": i.action.as_str(),
                })
            })
            .collect();
        return Output::json(&json!({ "images": images }));
    }
    if plan.items.is_empty() {
        let mut out = Output::text(String::new());
        out.stderr = UP_TO_DATE.into();
        return out;
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
            match cx.verbose {
                0 => item.reason.to_string(),
                _ => format!("{:#}", item.reason),
            },
        ];
        if cx.verbose > 0 {
            row.push(item.inputs.clone());
        }
        table.row(row);
    }
    let mut out = table.render(&cx.styles);
    if !cx.quiet {
        out.push_str(&summary(plan));
    }
    Output::text(out)
}

/// `2 images to build in 2 waves, 1 to test, 1 to fetch`: what each action counts.
fn summary(plan: &Plan) -> String {
    let count = |action: Action| plan.items.iter().filter(|i| i.action == action).count();
    let builds = count(Action::Build);
    let mut parts = Vec::new();
    if builds > 0 || count(Action::Test) == 0 {
        let waves = plan.builds().map(|i| i.wave + 1).max().unwrap_or(0);
        parts.push(format!(
            "{builds} image{} to build in {waves} wave{}",
            if builds == 1 { "" } else { "s" },
            if waves == 1 { "" } else { "s" },
        ));
    }
    let tests = count(Action::Test);
    if tests > 0 {
        let images = if builds > 0 {
            String::new()
        } else if tests == 1 {
            " image".to_string()
        } else {
            " images".to_string()
        };
        parts.push(format!("{tests}{images} to test"));
    }
    let fetches = count(Action::Fetch);
    if fetches > 0 {
        parts.push(format!("{fetches} to fetch"));
    }
    parts.join(", ") + "\n"
}
