//! `hier refresh`: the nightly job (see [`crate::refresh`]): what is due and pending, then the
//! run under the refresh's rules, and the report file people read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use super::rebuild::{finish, reporters};
use super::{Context, Output};
use crate::catalog::{Builder, Refresh};
use crate::engine::Engine;
use crate::error::{Error, Exit};
use crate::inputs::Inputs;
use crate::name::ImageName;
use crate::rebuild::{self, Options, Provenance, Runner, preflight};
use crate::refresh::{self, Due, Findings};
use crate::repo::Repository;
use crate::report::{ImageReport, RunOutcome};
use crate::table::Table;

/// What `hier refresh` was asked.
pub struct Args {
    pub images: Vec<String>,
    pub schedule: Option<Refresh>,
    pub push: bool,
    pub atomic: bool,
    pub report: Option<PathBuf>,
    pub dry_run: bool,
    /// Rebuild every due base, whatever is found.
    pub force: bool,
    pub jobs: usize,
    pub builder: Option<Builder>,
    /// `--builders FILE`: spread the run over the engines it names.
    pub builders: Option<PathBuf>,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    if let Some(path) = &args.report {
        refresh::report::check_extension(path)?;
    }
    let (repo, _run_lock) = if args.dry_run {
        (cx.open()?, None)
    } else {
        let (repo, lock, _) = super::open_locked(cx)?;
        (repo, Some(lock))
    };
    let due = due(&repo, args)?;
    let provenance = Provenance::start(&repo.root);
    let inputs = repo.inputs()?;
    let (pool, pool_notes) =
        cx.pool(&repo.catalog.platform, args.builders.as_deref(), args.jobs)?;
    let engine = pool.primary();
    let (fetched, gathered) = fetch_recorded(cx, &repo, &pool, args.dry_run)?;
    let Some(findings) = find(cx, &repo, &inputs, engine.clone(), &due, args)? else {
        return Ok(Output {
            stderr: "interrupted: nothing was rebuilt\n".into(),
            exit: Some(Exit::Interrupted),
            ..Output::default()
        });
    };
    let warning = unchecked(&findings);
    if args.dry_run {
        let mut out = dry_run(cx, &findings);
        out.stderr.insert_str(0, &warning);
        return Ok(out);
    }
    keep_known(&repo, &findings);
    let mut stdout = Vec::new();
    let builder = args.builder.unwrap_or(repo.catalog.builder);
    let planned: Vec<_> = findings.plan.builds().map(|i| &i.name).collect();
    let runner = Runner {
        command: "refresh",
        repo: &repo,
        inputs: &inputs,
        pool,
        interrupt: cx.interrupt()?,
        secrets: crate::secrets::resolve(&repo.catalog, &repo.root, planned, builder)?,
        provenance: provenance.join().unwrap_or_default(),
        fetched,
        checked: Some(findings.checked.clone()),
    };
    let outcome = rebuild(cx, &runner, findings, args, builder, &mut stdout)?;
    if let Some(path) = &args.report {
        refresh::report::write(path, &repo.catalog, &outcome.report)?;
    }
    let mut out = finish(
        cx,
        outcome,
        stdout,
        "nothing to refresh: no base moved and no image has OS updates pending\n",
    );
    out.stderr.insert_str(0, &warning);
    out.stderr.insert_str(0, &(pool_notes + &gathered));
    Ok(out)
}

/// What the refresh covers: the images named, the schedule, `--force`.
fn due(repo: &Repository, args: &Args) -> Result<Due, Error> {
    let mut images = Vec::new();
    for image in &args.images {
        images.push(repo.image_arg(image)?.name.clone());
    }
    Ok(Due {
        images,
        schedule: args.schedule,
        force: args.force,
    })
}

/// Keeps what was read of the recorded images for the next refresh; only its speed depends on
/// it, so a failure is a warning.
fn keep_known(repo: &Repository, findings: &Findings) {
    let recorded = repo
        .lock
        .images
        .values()
        .map(|e| e.image_id.as_str())
        .collect();
    if let Err(e) = refresh::known::save(&repo.root, &findings.known, &recorded) {
        eprintln!("warning: cannot keep what this refresh read of the images: {e}");
    }
}

/// A warning naming the images that could not be asked (a failed download, say), which the
/// refresh could not judge: nothing new is not known of them.
fn unchecked(findings: &Findings) -> String {
    let failed: Vec<String> = findings
        .checked
        .iter()
        .filter_map(|c| c.problem.as_ref().map(|p| format!("{}: {p}", c.name)))
        .collect();
    match failed.len() {
        0 => String::new(),
        n => format!(
            "warning: {n} image{} could not be checked for updates: {}\n",
            if n == 1 { "" } else { "s" },
            failed.join("; ")
        ),
    }
}

/// Every recorded image the first engine lacks is brought there first: from another builder of
/// the pool that holds it (not for a dry run, which pushes nothing), else fetched by its pushed
/// digest (a fresh runner). The refresh asks each about updates, and may build on any of them.
/// What was fetched, and a note of what crossed from another builder.
fn fetch_recorded(
    cx: &Context,
    repo: &Repository,
    pool: &crate::pool::Pool,
    dry_run: bool,
) -> Result<(Vec<ImageReport>, String), Error> {
    let engine = pool.primary();
    let items = cx.block_on(preflight::fetch_items_of(&*engine, repo, repo.recorded()))??;
    let (items, gathered) = match dry_run {
        true => (items, String::new()),
        false => {
            let missing = items.iter().map(|i| i.name.clone()).collect();
            let (left, gathered) = cx.gather(pool, repo, missing)?;
            let items = items
                .into_iter()
                .filter(|i| left.contains(&i.name))
                .collect();
            (items, gathered)
        }
    };
    let fetched = cx.block_on(preflight::fetch_now(&*engine, repo, items))??;
    Ok((fetched, gathered))
}

/// What is due and pending; `None` when interrupted while asking (which takes a while: the
/// containers it started are removed).
fn find(
    cx: &Context,
    repo: &Repository,
    inputs: &BTreeMap<ImageName, Inputs>,
    engine: Arc<dyn Engine>,
    due: &Due,
    args: &Args,
) -> Result<Option<Findings>, Error> {
    let interrupt = cx.interrupt()?;
    let shown = refresh::progress::Asking::stderr(cx.quiet);
    let progress = |step: refresh::ask::Step<'_>| shown.step(step);
    let known = refresh::known::load(&repo.root);
    let how = refresh::How {
        jobs: args.jobs,
        known: &known,
        progress: &progress,
    };
    let find = refresh::find(repo, inputs, engine.clone(), due, args.dry_run, &how);
    let found = cx.block_on(async {
        tokio::select! {
            found = find => found.map(Some),
            _ = interrupt.wait() => {
                let all = repo.catalog.images.iter().map(|i| &i.name);
                rebuild::remove_containers(&*engine, &repo.catalog, all).await;
                Ok(None)
            }
        }
    });
    shown.finish();
    found?
}

/// The run under the refresh's rules; the report (table or JSON) goes into `stdout`.
fn rebuild(
    cx: &Context,
    runner: &Runner,
    findings: Findings,
    args: &Args,
    builder: Builder,
    stdout: &mut Vec<u8>,
) -> Result<RunOutcome, Error> {
    let options = Options {
        jobs: args.jobs,
        push: args.push,
        fail_fast: false,
        no_cache: false,
        builder,
        atomic: args.atomic,
    };
    let mut reporter = reporters(cx, findings.plan.builds().count(), stdout);
    let policy = Arc::new(findings.policy);
    cx.block_on(runner.run(&findings.plan, &options, policy, &mut reporter))?
}

/// What a refresh would do: every image checked, with what was found and whether it would be
/// rebuilt (a table, or JSON with the pending packages and the upstream digests).
fn dry_run(cx: &Context, findings: &Findings) -> Output {
    let nothing = findings.plan.items.is_empty();
    if cx.json() {
        return Output::json(&json!({
            "downloads": findings.downloads,
            "images": findings.checked,
        }));
    }
    let mut table = Table::new(&["IMAGE", "REBUILD", "WHY", "PENDING"]);
    for checked in &findings.checked {
        table.row(vec![
            checked.name.clone(),
            checked.rebuild.to_string(),
            checked.reason.clone(),
            checked.pending.join(", "),
        ]);
    }
    let mut out = Output::text(table.render(&cx.styles));
    if nothing {
        out.stderr =
            "nothing to refresh: no base moved and no image has OS updates pending\n".into();
    }
    out
}
