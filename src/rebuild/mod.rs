//! `hier rebuild` (and the building part of `hier refresh`): runs a plan against the engine.
//! The scheduler decides what starts; [`prepare`] makes each job (exact parents, labels, build
//! args) and [`job`] runs it; this module runs up to `-j N` at once on tokio, records every
//! finished image in the lock at once (atomically), and writes the logs and the report under
//! `.hier/`. Ctrl-C and SIGTERM stop it cleanly.

pub mod job;
pub mod labels;
mod prepare;
mod publish;
pub mod report;
mod runlock;
mod upstream;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::catalog::Origin;
use crate::engine::{Engine, EngineError};
use crate::error::{Error, Exit};
use crate::inputs::Inputs;
use crate::lock::LockEntry;
use crate::name::ImageName;
use crate::plan::Plan;
use crate::repo::Repository;
use crate::schedule::{self, Scheduler};
use crate::tags;
use job::{Finished, Outcome};
use labels::Provenance;
use report::{Event, ImageReport, Report, Reporter, Status};

pub use prepare::uses_arg;
use prepare::{parent_id, prepare};
use publish::{fetch, retag_unplanned};
pub use publish::{fetches, push_recorded};
pub use runlock::RunLock;
pub use upstream::{Upstream, fresh_upstream, resolve_from};

/// How to run.
pub struct Options {
    pub jobs: usize,
    /// Push every built image to the registry and the mirrors.
    pub push: bool,
    pub fail_fast: bool,
    pub no_cache: bool,
    pub quiet: bool,
}

/// What kind of run: a rebuild of the plan, or a refresh (SPEC section 7).
#[derive(Default)]
pub enum Mode {
    #[default]
    Rebuild,
    Refresh(RefreshPlan),
}

/// What a refresh decided before building.
pub struct RefreshPlan {
    /// The images rebuilt with no cache, and why (due bases, pending updates, named images).
    pub candidates: BTreeMap<ImageName, String>,
    /// Fresh identities of the due bases' `from`.
    pub upstreams: HashMap<ImageName, Upstream>,
    /// The identity each due base had before (from the lock).
    pub old_upstreams: HashMap<ImageName, Option<String>>,
    pub atomic: bool,
}

/// What a run did, and how it ends.
pub struct RunOutcome {
    pub report: Report,
    pub exit: Exit,
    /// Notes for people (failing logs' tails).
    pub notes: String,
}

/// A run's identity: its start time (UTC), used for the log folder and the report's name.
pub fn run_id() -> String {
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    now.replace([':', '-'], "")
}

/// Runs the plan. `inputs` are the planned inputs of every image.
pub async fn execute(
    repo: Repository,
    inputs: BTreeMap<ImageName, Inputs>,
    plan: Plan,
    options: Options,
    mode: Mode,
    engine: Option<Engine>,
) -> Result<RunOutcome, Error> {
    // Provenance (git) is read while the engine connects.
    let root = repo.root.clone();
    let provenance = tokio::task::spawn_blocking(move || Provenance::of(&root));
    let engine = match engine {
        Some(e) => e,
        None => Engine::connect(&repo.catalog.platform)
            .await
            .map_err(engine_error)?,
    };
    let refresh = match &mode {
        Mode::Refresh(r) => Some(r),
        Mode::Rebuild => None,
    };
    let atomic = refresh.is_some_and(|r| r.atomic);
    let run = run_id();
    let state = state_dir(&repo.root);
    let log_dir = state.join("logs").join(&run);
    let report_dir = state.join("reports");
    let mut lock = repo.lock.clone();
    let lock_path = repo.lock_path();
    let catalog = &repo.catalog;
    let planned: Vec<ImageName> = plan.builds().map(|i| i.name.clone()).collect();
    // Where each planned image is in `planned` (the scheduler's job index), and why it is there.
    let index_of: HashMap<ImageName, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let reasons: HashMap<ImageName, String> = plan
        .items
        .iter()
        .map(|i| (i.name.clone(), i.reason.to_string()))
        .collect();
    let reason_of = |name: &ImageName| reasons.get(name).cloned().unwrap_or_default();
    let in_plan = |n: &ImageName| index_of.contains_key(n);

    // Up-to-date images that lost a tag are retagged (one listing of the catalog's images,
    // side by side with the builds). A run with nothing to build skips it: listing images
    // costs the engine about 0.5 s per thousand, and a no-op run must stay cheap.
    let unplanned: Vec<(String, String, String, Vec<String>)> = lock
        .images
        .iter()
        .filter_map(|(name, entry)| {
            let image = ImageName::parse(name).ok()?;
            (!planned.is_empty() && !in_plan(&image) && catalog.get(name).is_some()).then(|| {
                (
                    name.clone(),
                    catalog.repository(&image),
                    entry.image_id.clone(),
                    entry.tags.clone(),
                )
            })
        })
        .collect();
    let retag = tokio::spawn(retag_unplanned(
        engine.clone(),
        catalog.registry.clone(),
        unplanned,
    ));

    // The recorded images the plan builds on must be in the engine (or be fetched).
    let mut ids: HashMap<ImageName, String> = HashMap::new();
    let mut fetched: Vec<ImageReport> = Vec::new();
    let mut problems = Vec::new();
    for item in plan.builds() {
        for dep in catalog.image(&item.name).dependencies() {
            if in_plan(&dep.name) || ids.contains_key(&dep.name) {
                continue;
            }
            match lock.images.get(dep.name.as_str()) {
                Some(entry)
                    if engine
                        .inspect(&entry.image_id)
                        .await
                        .map_err(engine_error)?
                        .is_some() =>
                {
                    ids.insert(dep.name.clone(), entry.image_id.clone());
                }
                Some(entry) => {
                    // A fresh engine: fetch the recorded image by the digest it was pushed as.
                    let repository = catalog.repository(&dep.name);
                    match entry.pushed.get(&repository) {
                        Some(digest) => {
                            let start = std::time::Instant::now();
                            match fetch(&engine, &repository, digest, &entry.image_id).await {
                                Ok(()) => {
                                    ids.insert(dep.name.clone(), entry.image_id.clone());
                                    fetched.push(ImageReport {
                                        name: dep.name.to_string(),
                                        status: Status::Fetched,
                                        image_id: Some(entry.image_id.clone()),
                                        duration_s: round(start.elapsed()),
                                        reason: format!("{repository}@{digest}"),
                                        log: None,
                                        error: None,
                                        ..ImageReport::default()
                                    });
                                }
                                Err(e @ (EngineError::Unreachable { .. } | EngineError::RegistryUnreachable { .. })) => {
                                    return Err(engine_error(e));
                                }
                                Err(e) => problems.push(format!(
                                    "`{}` builds on `{}` as the lock records it ({}); the engine lacks it and fetching {repository}@{digest} failed: {e}; run `hier rebuild {}` to rebuild it",
                                    item.name, dep.name, entry.image_id, dep.name
                                )),
                            }
                        }
                        None => problems.push(format!(
                            "`{}` builds on `{}` as the lock records it ({}), and the engine lacks that image, which was never pushed; run `hier rebuild {}` to rebuild it",
                            item.name, dep.name, entry.image_id, dep.name
                        )),
                    }
                }
                None => problems.push(format!(
                    "`{}` builds on `{}`, which was never built; run `hier rebuild {}`",
                    item.name, dep.name, dep.name
                )),
            }
        }
    }

    // Bases build on the identity of `from` the lock records (or, the first time, on what the
    // engine has under that name).
    let mut from_ids: HashMap<ImageName, String> = HashMap::new();
    let mut upstreams: HashMap<ImageName, Upstream> = HashMap::new();
    for name in &planned {
        let image = catalog.image(name);
        if let Origin::Base { from, .. } = &image.origin {
            if let Some(fresh) = refresh.and_then(|r| r.upstreams.get(name)) {
                from_ids.insert(name.clone(), fresh.local_id.clone());
                upstreams.insert(
                    name.clone(),
                    Upstream {
                        local_id: fresh.local_id.clone(),
                        recorded: fresh.recorded.clone(),
                        manifest_digest: fresh.manifest_digest.clone(),
                    },
                );
                continue;
            }
            // The recorded identity belongs to the `from` it was resolved from: when `from`
            // changed in the catalog (its input component moved), it is resolved afresh.
            let recorded = lock.images.get(name.as_str()).and_then(|e| {
                let same_from = e.components.get("from") == inputs[name].components.get("from");
                e.upstream_digest.as_deref().filter(|_| same_from)
            });
            match resolve_from(&engine, image, from, recorded).await {
                Ok(upstream) => {
                    from_ids.insert(name.clone(), upstream.local_id.clone());
                    upstreams.insert(name.clone(), upstream);
                }
                Err(EngineError::Failed(e)) => problems.push(e),
                Err(e) => {
                    retag.abort();
                    return Err(engine_error(e));
                }
            }
        }
    }
    if !problems.is_empty() {
        retag.abort();
        return Err(Error::Failed(problems.join("\n")));
    }

    let provenance = provenance.await.unwrap_or_default();
    let jobs: Vec<schedule::Job> = planned
        .iter()
        .map(|name| schedule::Job {
            deps: catalog
                .image(name)
                .dependencies()
                .filter_map(|d| index_of.get(&d.name).copied())
                .collect(),
        })
        .collect();
    let mut scheduler = Scheduler::new(&jobs, options.fail_fast);
    if !planned.is_empty() {
        std::fs::create_dir_all(&log_dir).map_err(|e| Error::io("create", log_dir.display(), e))?;
    }
    let mut reporter: Box<dyn Reporter> = report::reporter(planned.len() as u64, options.quiet);
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<Event>();
    let mut tasks: JoinSet<Finished> = JoinSet::new();
    let mut task_names: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut results: HashMap<String, ImageReport> = HashMap::new();
    let mut effective: HashMap<ImageName, Inputs> = HashMap::new();
    let mut fingerprints: HashMap<ImageName, String> = HashMap::new();
    let mut run_pushed: HashMap<ImageName, String> = HashMap::new();
    let mut promoted: std::collections::HashSet<ImageName> = std::collections::HashSet::new();
    // Under --atomic: entries to record once the whole cascade passed.
    let mut held: Vec<(ImageName, LockEntry)> = Vec::new();
    let mut exit = Exit::Success;
    let mut notes = String::new();
    let mut interrupted = false;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Failed(format!("cannot handle SIGTERM: {e}")))?;

    loop {
        while !interrupted && tasks.len() < options.jobs.max(1) {
            let Some(index) = scheduler.start_next() else {
                break;
            };
            let name = planned[index].clone();
            // Under refresh: an image is rebuilt when it is a candidate or something it builds on
            // was promoted, and promoted when that, or its upstream, moved.
            let check = match refresh {
                Some(r) => {
                    let candidate = r.candidates.contains_key(&name);
                    let parent_promoted = catalog
                        .image(&name)
                        .dependencies()
                        .any(|d| promoted.contains(&d.name));
                    if !candidate && !parent_promoted {
                        // Nothing it builds on moved: it stays as it is.
                        if let Some(entry) = lock.images.get(name.as_str()) {
                            ids.insert(name.clone(), entry.image_id.clone());
                        }
                        scheduler.finish(index, true);
                        continue;
                    }
                    let upstream_moved = match (r.upstreams.get(&name), r.old_upstreams.get(&name))
                    {
                        (Some(new), Some(old)) => old.as_deref() != Some(new.recorded.as_str()),
                        _ => false,
                    };
                    Some(job::RefreshCheck {
                        old_image: lock.images.get(name.as_str()).map(|e| e.image_id.clone()),
                        promote: parent_promoted || upstream_moved,
                    })
                }
                None => None,
            };
            let no_cache =
                options.no_cache || refresh.is_some_and(|r| r.candidates.contains_key(&name));
            match prepare(
                &repo,
                &name,
                &inputs,
                &ids,
                &from_ids,
                &upstreams,
                &provenance,
                &log_dir,
                no_cache,
                options.push,
                &run_pushed,
            ) {
                Ok((mut job, eff, fingerprint)) => {
                    job.refresh = check;
                    job.promote_now = !atomic;
                    effective.insert(name.clone(), eff);
                    fingerprints.insert(name.clone(), fingerprint);
                    let handle = tasks.spawn(job::run(engine.clone(), job, events_tx.clone()));
                    task_names.insert(handle.id(), name.to_string());
                }
                Err(message) => {
                    exit = exit.worst(Exit::Failed);
                    fail(
                        &mut scheduler,
                        index,
                        &planned,
                        failed_report(&name, reason_of(&name), message, 0.0, None),
                        &mut results,
                        &reason_of,
                        &mut *reporter,
                    );
                }
            }
        }
        if tasks.is_empty() && scheduler.is_done() {
            break;
        }
        if tasks.is_empty() && interrupted {
            break;
        }
        tokio::select! {
            Some(event) = events_rx.recv() => reporter.event(&event),
            joined = tasks.join_next_with_id() => {
                let Some(joined) = joined else { continue };
                let (finished, _) = match joined {
                    Ok((id, finished)) => (finished, id),
                    Err(e) => {
                        // Aborted on interrupt.
                        let name = task_names.get(&e.id()).cloned().unwrap_or_default();
                        results.insert(name.clone(), ImageReport {
                            name: name.clone(),
                            status: Status::Skipped,
                            image_id: None,
                            duration_s: 0.0,
                            reason: String::new(),
                            log: None,
                            error: Some("interrupted".into()),
                            ..ImageReport::default()
                        });
                        continue;
                    }
                };
                while let Ok(event) = events_rx.try_recv() {
                    reporter.event(&event);
                }
                let name = ImageName::parse(&finished.name).expect("a planned name");
                let index = index_of[&name];
                let log = log_dir.join(format!("{name}.log"));
                let log_display = crate::source::display_path(&log).display().to_string();
                match finished.outcome {
                    Outcome::Unchanged => {
                        if let Some(entry) = lock.images.get(name.as_str()) {
                            ids.insert(name.clone(), entry.image_id.clone());
                        }
                        scheduler.finish(index, true);
                        let detail = "same upstream and packages: the old image stays".to_string();
                        reporter.event(&Event::Finished {
                            name: name.to_string(),
                            status: Status::Unchanged,
                            detail: detail.clone(),
                        });
                        results.insert(name.to_string(), ImageReport {
                            name: name.to_string(),
                            status: Status::Unchanged,
                            image_id: lock.images.get(name.as_str()).map(|e| e.image_id.clone()),
                            duration_s: round(finished.duration),
                            reason: reason_of(&name),
                            log: Some(log_display),
                            error: None,
                            ..ImageReport::default()
                        }.with_note(detail));
                        continue;
                    }
                    Outcome::Built { image_id, tags, pushed, push_error, packages } => {
                        promoted.insert(name.clone());
                        if let Some(digest) = pushed.get(&catalog.repository(&name)) {
                            run_pushed.insert(name.clone(), digest.clone());
                        }
                        let status = match (&push_error, pushed.is_empty()) {
                            (Some(_), _) => Status::Failed,
                            (None, false) => Status::Pushed,
                            (None, true) => Status::Built,
                        };
                        let image = catalog.image(&name);
                        let eff = &effective[&name];
                        let entry = LockEntry {
                            inputs: eff.digest.clone(),
                            fingerprint: fingerprints[&name].clone(),
                            image_id: image_id.clone(),
                            parent_image_id: Some(parent_id(image, &ids, &from_ids)),
                            upstream_digest: upstreams.get(&name).map(|u| u.recorded.clone()),
                            packages: None,
                            built_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                            tags,
                            components: eff.components.clone(),
                            uses_image_ids: image
                                .uses
                                .iter()
                                .map(|u| (u.name.to_string(), ids[&u.name].clone()))
                                .collect(),
                            pushed,
                        };
                        let mut entry = entry;
                        if let Some(p) = &packages {
                            entry.packages = p.digest.clone();
                        }
                        if atomic {
                            held.push((name.clone(), entry));
                        } else {
                            lock.images.insert(name.to_string(), entry);
                            lock.write_atomic(&lock_path)
                                .map_err(|e| Error::io("write", lock_path.display(), e))?;
                        }
                        ids.insert(name.clone(), image_id.clone());
                        scheduler.finish(index, true);
                        if let Some((_, true)) = &push_error {
                            // The registry does not answer: record this image, start nothing more.
                            exit = exit.worst(Exit::Unreachable);
                            scheduler.stop();
                        }
                        let error = push_error.map(|(e, _)| format!("built and tagged, but the push failed: {e}"));
                        if let Some(e) = &error {
                            exit = exit.worst(Exit::Failed);
                            notes.push_str(&format!("\n{name}: {e}\n"));
                        }
                        reporter.event(&Event::Finished {
                            name: name.to_string(),
                            status,
                            detail: error.clone().unwrap_or_else(|| format!("{:.1}s", finished.duration.as_secs_f64())),
                        });
                        let upstream = refresh.and_then(|r| {
                            let new = r.upstreams.get(&name)?;
                            Some((r.old_upstreams.get(&name).cloned().flatten(), new.recorded.clone()))
                        });
                        results.insert(name.to_string(), ImageReport {
                            name: name.to_string(),
                            status,
                            image_id: Some(image_id.clone()),
                            duration_s: round(finished.duration),
                            reason: reason_of(&name),
                            log: Some(log_display),
                            error,
                            upstream_old: upstream.as_ref().and_then(|u| u.0.clone()),
                            upstream_new: upstream.map(|u| u.1),
                            packages: packages.and_then(|p| p.changes).map(|c| c.lines()),
                            owner: catalog.image(&name).owner.clone(),
                            digest: run_pushed.get(&name).cloned(),
                            note: None,
                        });
                    }
                    Outcome::Failed(message) | Outcome::Unreachable(EngineError::Failed(message)) => {
                        exit = exit.worst(Exit::Failed);
                        notes.push_str(&failure_note(&name, &message, &log));
                        let report = failed_report(&name, reason_of(&name), message, round(finished.duration), Some(log_display));
                        fail(&mut scheduler, index, &planned, report, &mut results, &reason_of, &mut *reporter);
                    }
                    Outcome::Unreachable(e) => {
                        exit = exit.worst(Exit::Unreachable);
                        scheduler.stop();
                        let report = failed_report(&name, reason_of(&name), e.to_string(), round(finished.duration), Some(log_display));
                        fail(&mut scheduler, index, &planned, report, &mut results, &reason_of, &mut *reporter);
                    }
                }
            }
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                scheduler.stop();
                tasks.abort_all();
            }
            _ = sigterm.recv(), if !interrupted => {
                interrupted = true;
                scheduler.stop();
                tasks.abort_all();
            }
        }
    }
    while let Ok(event) = events_rx.try_recv() {
        reporter.event(&event);
    }
    if interrupted {
        exit = exit.worst(Exit::Interrupted);
        // Test containers of aborted jobs.
        let owners: Vec<String> = planned.iter().map(|n| catalog.repository(n)).collect();
        for owner in owners.chunks(1) {
            let _ = engine.remove_test_containers(owner).await;
        }
    }
    for index in scheduler.skip_remaining() {
        let name = &planned[index];
        results
            .entry(name.to_string())
            .or_insert_with(|| ImageReport {
                name: name.to_string(),
                status: Status::Skipped,
                image_id: None,
                duration_s: 0.0,
                reason: reason_of(name),
                log: None,
                error: Some(
                    if interrupted {
                        "interrupted"
                    } else {
                        "not started"
                    }
                    .into(),
                ),
                ..ImageReport::default()
            });
    }
    if atomic && !held.is_empty() {
        let blocker = planned
            .iter()
            .find(|n| {
                results
                    .get(n.as_str())
                    .is_some_and(|r| r.status == Status::Failed)
            })
            .cloned();
        match blocker {
            Some(blocker) => {
                for (name, _) in &held {
                    if let Some(r) = results.get_mut(name.as_str()) {
                        r.note = Some(format!(
                            "not promoted: `{blocker}` failed and the refresh is atomic"
                        ));
                    }
                }
                notes.push_str(&format!(
                    "\nnothing was tagged or pushed: `{blocker}` blocked the refresh (--atomic)\n"
                ));
            }
            _ if interrupted => {}
            _ => {
                for (name, mut entry) in held {
                    let image = catalog.image(&name);
                    let repository = catalog.repository(&name);
                    let tags = tags::all_tags(&image.version, &image.tags, &entry.image_id);
                    for tag in &tags {
                        engine
                            .tag(&entry.image_id, &repository, tag)
                            .await
                            .map_err(engine_error)?;
                    }
                    entry.tags = tags.clone();
                    if options.push {
                        let push_to: Vec<String> = std::iter::once(repository.clone())
                            .chain(catalog.mirrors.iter().map(|m| format!("{m}/{name}")))
                            .collect();
                        let (pushed, error) =
                            job::push_tags(&engine, &push_to, &entry.image_id, &tags, |_| {}).await;
                        if let Some(r) = results.get_mut(name.as_str()) {
                            r.digest = pushed.get(&repository).cloned();
                            match &error {
                                None => r.status = Status::Pushed,
                                Some(e) => {
                                    r.status = Status::Failed;
                                    r.error =
                                        Some(format!("built and tagged, but the push failed: {e}"));
                                }
                            }
                        }
                        entry.pushed = pushed;
                        match error {
                            Some(
                                EngineError::Unreachable { .. }
                                | EngineError::RegistryUnreachable { .. },
                            ) => exit = exit.worst(Exit::Unreachable),
                            Some(_) => exit = exit.worst(Exit::Failed),
                            None => {}
                        }
                    }
                    lock.images.insert(name.to_string(), entry);
                    lock.write_atomic(&lock_path)
                        .map_err(|e| Error::io("write", lock_path.display(), e))?;
                }
            }
        }
    }
    reporter.finish();
    let mut report_images = retag
        .await
        .map_err(|e| Error::Failed(e.to_string()))?
        .map_err(engine_error)?;
    report_images.extend(fetched);
    for name in &planned {
        if let Some(r) = results.remove(name.as_str()) {
            report_images.push(r);
        }
    }
    let report = Report {
        run: run.clone(),
        interrupted,
        images: report_images,
    };
    write_report(&report_dir, &report)?;
    Ok(RunOutcome {
        report,
        exit,
        notes,
    })
}

fn round(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

pub fn engine_error(e: EngineError) -> Error {
    match e {
        EngineError::Unreachable { .. } | EngineError::RegistryUnreachable { .. } => {
            Error::Unreachable(e.to_string())
        }
        EngineError::Failed(m) => Error::Failed(m),
    }
}

fn failed_report(
    name: &ImageName,
    reason: String,
    message: String,
    duration_s: f64,
    log: Option<String>,
) -> ImageReport {
    ImageReport {
        name: name.to_string(),
        status: Status::Failed,
        image_id: None,
        duration_s,
        reason,
        log,
        error: Some(message),
        ..ImageReport::default()
    }
}

/// Records a failed job: the scheduler skips its dependents, and the failure and the skips are
/// reported.
fn fail(
    scheduler: &mut Scheduler,
    index: usize,
    planned: &[ImageName],
    report: ImageReport,
    results: &mut HashMap<String, ImageReport>,
    reason_of: &dyn Fn(&ImageName) -> String,
    reporter: &mut dyn Reporter,
) {
    let skipped = scheduler.finish(index, false);
    let because = &planned[index];
    reporter.event(&Event::Finished {
        name: because.to_string(),
        status: Status::Failed,
        detail: report.error.clone().unwrap_or_default(),
    });
    results.insert(because.to_string(), report);
    for s in skipped {
        let name = &planned[s];
        let why = format!("`{because}` failed");
        reporter.event(&Event::Finished {
            name: name.to_string(),
            status: Status::Skipped,
            detail: why.clone(),
        });
        results.insert(
            name.to_string(),
            ImageReport {
                name: name.to_string(),
                status: Status::Skipped,
                image_id: None,
                duration_s: 0.0,
                reason: reason_of(name),
                log: None,
                error: Some(why),
                ..ImageReport::default()
            },
        );
    }
}

/// The last lines of a failing build's log, for the terminal.
fn failure_note(name: &ImageName, message: &str, log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    let mut note = format!(
        "\n{name} failed: {message}\n--- last lines of {}\n",
        crate::source::display_path(log).display()
    );
    for line in tail {
        note.push_str("    ");
        note.push_str(line);
        note.push('\n');
    }
    note
}

fn write_report(dir: &Path, report: &Report) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir.display(), e))?;
    let path = dir.join(format!("{}.json", report.run));
    let mut text = serde_json::to_string_pretty(report).expect("the report serialises");
    text.push('\n');
    crate::lock::write_atomic(&path, text.as_bytes())
        .map_err(|e| Error::io("write", path.display(), e))
}

/// Where the run state lives for a repository.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join(".hier")
}
