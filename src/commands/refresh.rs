//! `hier refresh`: the nightly job (see [`crate::refresh`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::{Context, Output};
use crate::catalog::Refresh;
use crate::cli::ScheduleArg;
use crate::engine::Engine;
use crate::error::{Error, Exit};
use crate::rebuild::{self, Options, RunLock};
use crate::refresh::{self, Due};
use crate::repo::{self, Repository};
use crate::table::Table;

pub struct Args<'a> {
    pub images: &'a [String],
    pub schedule: Option<ScheduleArg>,
    pub push: bool,
    pub atomic: bool,
    pub report: Option<&'a Path>,
    pub dry_run: bool,
    pub jobs: usize,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    if let Some(path) = args.report
        && !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "markdown" | "json")
        )
    {
        return Err(Error::usage_help(
            format!(
                "--report {}: the extension says which format",
                path.display()
            ),
            "use a .md file for Markdown or a .json file for JSON",
        ));
    }
    let catalog_path = repo::locate(cx.catalog.as_deref())?;
    let root = catalog_path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let _run_lock = if args.dry_run {
        None
    } else {
        Some(RunLock::acquire(&rebuild::state_dir(&root), cx.quiet)?)
    };
    let repo = Repository::open(&catalog_path)?;
    let mut images = Vec::new();
    for image in args.images {
        images.push(repo.image_arg(image)?.name.clone());
    }
    let due = Due {
        images,
        schedule: args.schedule.map(|s| match s {
            ScheduleArg::Nightly => Refresh::Nightly,
            ScheduleArg::Weekly => Refresh::Weekly,
        }),
    };
    let inputs = repo.inputs()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let engine = Engine::connect(&repo.catalog.platform)
            .await
            .map_err(rebuild::engine_error)?;
        // Asking every image about pending updates takes a while: Ctrl-C or SIGTERM stops it,
        // removes the containers it started, and ends with 130.
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Error::Failed(format!("cannot handle SIGTERM: {e}")))?;
        let find = refresh::find(
            &repo,
            &inputs,
            &engine,
            &due,
            args.atomic,
            args.dry_run,
            args.jobs,
        );
        let findings = tokio::select! {
            found = find => found?,
            _ = tokio::signal::ctrl_c() => return Ok(interrupted(&repo, &engine).await),
            _ = sigterm.recv() => return Ok(interrupted(&repo, &engine).await),
        };
        if args.dry_run {
            return Ok(dry_run(cx, &findings));
        }
        let kinds: BTreeMap<String, String> = repo
            .catalog
            .images
            .iter()
            .map(|i| (i.name.to_string(), i.kind.clone()))
            .collect();
        let catalog_name = repo.catalog.name.clone();
        let options = Options {
            jobs: args.jobs,
            push: args.push,
            fail_fast: false,
            no_cache: false,
            quiet: cx.quiet,
        };
        let outcome = refresh::run(repo, inputs, engine, findings, options).await?;
        if let Some(path) = args.report {
            refresh::report::write(path, &catalog_name, &outcome.report, &kinds)?;
        }
        let mut output = if cx.json() {
            Output::json(&serde_json::to_value(&outcome.report).expect("the report serialises"))
        } else if outcome.report.images.is_empty() {
            Output::text(String::new())
        } else {
            Output::text(outcome.report.table(&cx.styles))
        };
        output.stderr = outcome.notes;
        if outcome.report.images.is_empty() && !cx.quiet {
            output.stderr.push_str(
                "nothing to refresh: no base moved and no image has OS updates pending\n",
            );
        }
        if outcome.exit != Exit::Success {
            output.exit = Some(outcome.exit);
        }
        Ok(output)
    })
}

/// Stopped while asking about pending updates: nothing was built or recorded.
async fn interrupted(repo: &Repository, engine: &Engine) -> Output {
    for image in &repo.catalog.images {
        let owner = repo.catalog.repository(&image.name);
        let _ = engine
            .remove_test_containers(std::slice::from_ref(&owner))
            .await;
    }
    Output {
        stderr: "interrupted: nothing was rebuilt\n".into(),
        exit: Some(Exit::Interrupted),
        ..Output::default()
    }
}

fn dry_run(cx: &Context, findings: &refresh::Findings) -> Output {
    let candidates = &findings.refresh.candidates;
    if cx.json() {
        let images: Vec<_> = findings
            .plan
            .items
            .iter()
            .map(|i| {
                json!({
                    "name": i.name.as_str(),
                    "wave": i.wave,
                    "reason": i.reason.to_string(),
                    "rebuild": if candidates.contains_key(&i.name) { "yes" } else { "if a parent changes" },
                })
            })
            .collect();
        return Output::json(&json!({ "images": images }));
    }
    if findings.plan.items.is_empty() {
        let mut out = Output::text(String::new());
        out.stderr =
            "nothing to refresh: no base moved and no image has OS updates pending\n".into();
        return out;
    }
    let mut table = Table::new(&["WAVE", "IMAGE", "REBUILD", "WHY"]);
    for item in &findings.plan.items {
        table.row(vec![
            item.wave.to_string(),
            item.name.to_string(),
            if candidates.contains_key(&item.name) {
                "yes, no cache".into()
            } else {
                "if a parent changes".into()
            },
            item.reason.to_string(),
        ]);
    }
    Output::text(table.render(&cx.styles))
}
