//! `hier rebuild`: the plan (with its `fetch` items), then the run against the engine (see
//! [`crate::rebuild`]); progress on standard error, the report on standard output.

use std::sync::Arc;

use super::plan::Selection;
use super::{Context, Output};
use crate::catalog::Builder;
use crate::error::{Error, Exit};
use crate::plan::Plan;
use crate::pool::Pool;
use crate::rebuild::policy::Rebuild;
use crate::rebuild::reporter::{self, All, Json, Table};
use crate::rebuild::{Options, Provenance, Runner, preflight};
use crate::repo::Repository;
use crate::report::{RunOutcome, Status};

/// What `hier rebuild` was asked.
pub struct Args {
    pub selection: Selection,
    pub jobs: usize,
    pub push: bool,
    pub fail_fast: bool,
    pub no_cache: bool,
    pub dry_run: bool,
    /// `--builder`; the catalog's `builder` otherwise.
    pub builder: Option<Builder>,
    /// `--builders FILE`: spread the run over the engines it names.
    pub builders: Option<std::path::PathBuf>,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    if args.dry_run {
        return super::plan::run(cx, &args.selection);
    }
    let (repo, _run_lock, catalog_path) = super::open_locked(cx)?;
    let provenance = Provenance::start(&repo.root);
    let inputs = repo.inputs()?;
    let mut plan = super::plan::make(&repo, &catalog_path, &args.selection)?;
    let builder = args.builder.unwrap_or(repo.catalog.builder);
    let planned: Vec<_> = plan.builds().map(|i| &i.name).collect();
    let secrets = crate::secrets::resolve(&repo.catalog, &repo.root, planned, builder)?;
    let (pool, pool_notes) =
        cx.pool(&repo.catalog.platform, args.builders.as_deref(), args.jobs)?;
    add_fetches(cx, &pool, &repo, &mut plan)?;
    let options = Options {
        jobs: args.jobs,
        push: args.push,
        fail_fast: args.fail_fast,
        no_cache: args.no_cache,
        builder,
        atomic: false,
    };
    let runner = Runner {
        command: "rebuild",
        repo: &repo,
        inputs: &inputs,
        pool,
        interrupt: cx.interrupt()?,
        secrets,
        provenance: provenance.join().unwrap_or_default(),
        fetched: Vec::new(),
        checked: None,
    };
    let (outcome, stdout) = run_plan(cx, &runner, &plan, &options)?;
    let mut output = finish(cx, outcome, stdout, super::plan::UP_TO_DATE);
    output.stderr.insert_str(0, &pool_notes);
    Ok(output)
}

/// The plan's `fetch` items: the recorded images it builds on or tests that the pool's first
/// builder lacks and no other builder holds (those another holds stay there; the run takes
/// them from there when it needs them elsewhere).
pub fn add_fetches(
    cx: &Context,
    pool: &Pool,
    repo: &Repository,
    plan: &mut Plan,
) -> Result<(), Error> {
    let fetches = cx.block_on(async {
        let fetches = preflight::fetch_items(&*pool.primary(), repo, plan).await?;
        let missing = fetches.iter().map(|i| i.name.clone()).collect();
        let nowhere = crate::pool::gather::held_nowhere(pool, repo, missing).await;
        let fetches: Vec<_> = fetches
            .into_iter()
            .filter(|i| nowhere.contains(&i.name))
            .collect();
        Ok::<_, crate::engine::EngineError>(fetches)
    })??;
    plan.add_fetches(fetches);
    Ok(())
}

/// Runs `plan` under `hier rebuild`'s rules with the command's reporters; the outcome, and what
/// the reporters wrote for standard output.
pub fn run_plan(
    cx: &Context,
    runner: &Runner,
    plan: &Plan,
    options: &Options,
) -> Result<(RunOutcome, Vec<u8>), Error> {
    let mut stdout = Vec::new();
    let outcome = {
        let mut reporter = reporters(cx, plan.runs().count(), &mut stdout);
        cx.block_on(runner.run(plan, options, Arc::new(Rebuild), &mut reporter))??
    };
    Ok((outcome, stdout))
}

/// Progress on standard error, and the report into `stdout`: JSON, or a table unless `-q`.
pub fn reporters<'a>(cx: &Context, total: usize, stdout: &'a mut Vec<u8>) -> All<'a> {
    let progress = reporter::progress(total as u64, cx.quiet, cx.verbose > 0, cx.err_colour);
    if cx.json() {
        All(vec![progress, Box::new(Json::new(stdout))])
    } else if cx.quiet {
        // `-q`: what failed, and nothing else (the table is for people who asked for it).
        All(vec![progress])
    } else {
        All(vec![progress, Box::new(Table::new(stdout, cx.styles))])
    }
}

/// What happened, counted: `3 built, 3 pushed, 0 failed, 1 skipped` (pushed, fetched and
/// unchanged only when some were).
fn summary(report: &crate::report::Report) -> String {
    let built = report
        .images
        .iter()
        .filter(|i| i.status == Status::Built || (i.status == Status::Pushed && i.log.is_some()))
        .count();
    let mut parts = vec![format!("{built} built")];
    for status in [
        Status::Pushed,
        Status::Tested,
        Status::Fetched,
        Status::Unchanged,
    ] {
        let n = report.count(status);
        if n > 0 {
            parts.push(format!("{n} {}", status.as_str()));
        }
    }
    parts.push(format!("{} failed", report.count(Status::Failed)));
    parts.push(format!("{} skipped", report.count(Status::Skipped)));
    parts.join(", ")
}

/// The command's output: the report, the notes, and a summary line.
pub fn finish(cx: &Context, outcome: RunOutcome, stdout: Vec<u8>, nothing: &str) -> Output {
    let report = &outcome.report;
    let mut output = Output::text(String::from_utf8_lossy(&stdout).into_owned());
    output.stderr = outcome.notes.clone();
    if !cx.quiet {
        if report.images.is_empty() {
            output.stderr.push_str(nothing);
        } else {
            output.stderr.push_str(&format!(
                "{} (report: .hier/reports/{}.json)\n",
                summary(report),
                report.run
            ));
        }
    }
    if outcome.exit != Exit::Success {
        output.exit = Some(outcome.exit);
    }
    output
}
