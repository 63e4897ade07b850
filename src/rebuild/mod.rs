//! `hier rebuild`: runs a plan against the engine. The scheduler decides what starts; this
//! module prepares each job (exact parents, labels, build args), runs up to `-j N` at once on
//! tokio, records every finished image in the lock at once (atomically), and writes the logs
//! and the report under `.hier/`. Ctrl-C and SIGTERM stop it cleanly.

pub mod job;
pub mod labels;
pub mod report;
mod runlock;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::catalog::{Catalog, Image, Origin, Recipe};
use crate::dockerfile::{self, Refs};
use crate::engine::{Engine, EngineError};
use crate::error::{Error, Exit};
use crate::inputs::{self, Inputs};
use crate::lock::LockEntry;
use crate::name::ImageName;
use crate::plan::Plan;
use crate::reference::Reference;
use crate::repo::Repository;
use crate::schedule::{self, Scheduler};
use crate::tags;
use job::{Finished, Job, Outcome};
use labels::{BuildFacts, Provenance};
use report::{Event, ImageReport, Report, Reporter, Status};

pub use runlock::RunLock;

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
pub struct Outcome2 {
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

/// The exact images of this run: what was built, else what the lock records.
struct ExactRefs<'a> {
    ids: &'a HashMap<ImageName, String>,
    from_ids: &'a HashMap<ImageName, String>,
}

impl Refs for ExactRefs<'_> {
    fn image(&self, _catalog: &Catalog, name: &ImageName) -> String {
        self.ids.get(name).cloned().unwrap_or_default()
    }

    fn from(&self, image: &Image, from: &str) -> String {
        self.from_ids
            .get(&image.name)
            .cloned()
            .unwrap_or_else(|| from.to_string())
    }
}

/// The identity of a base's `from`: the local image it builds on, and what the lock records
/// (a manifest digest when it came from a registry, else the local image id).
pub struct Upstream {
    pub local_id: String,
    pub recorded: String,
    pub manifest_digest: Option<String>,
}

pub async fn resolve_from(
    engine: &Engine,
    image: &Image,
    from: &str,
    recorded: Option<&str>,
) -> Result<Upstream, EngineError> {
    let reference = Reference::parse(from).map_err(EngineError::Failed)?;
    let repository = crate::reference::familiar(&reference.repository).to_string();
    let lookup = match recorded {
        Some(id) if !id.is_empty() => {
            // A local id is found as itself; a manifest digest through the repository, pulled
            // by that digest when the engine lacks it (a fresh runner).
            let by_digest = format!("{repository}@{id}");
            match engine.inspect(id).await? {
                Some(facts) => Some(facts),
                None => match engine.inspect(&by_digest).await? {
                    Some(facts) => Some(facts),
                    None => {
                        engine.pull(&by_digest).await.map_err(|e| match e {
                            EngineError::Failed(m) => EngineError::Failed(format!(
                                "the engine lacks {from} as the lock records it ({id}) for base `{}`, and pulling it failed: {m}; import it, or run `hier refresh {}` to move the base",
                                image.name, image.name
                            )),
                            other => other,
                        })?;
                        engine.inspect(&by_digest).await?
                    }
                },
            }
        }
        _ => engine.inspect(from).await?,
    };
    let Some(facts) = lookup else {
        return Err(EngineError::Failed(match recorded {
            Some(id) => format!(
                "the engine lacks {from} as the lock records it ({id}) for base `{}`; pull or import it, or run `hier refresh {}` to move the base",
                image.name, image.name
            ),
            None => format!(
                "the engine has no image {from} (the `from` of base `{}`); pull or import it",
                image.name
            ),
        }));
    };
    let prefix = format!("{repository}@");
    let manifest_digest = facts
        .repo_digests
        .iter()
        .find_map(|d| d.strip_prefix(&prefix).map(str::to_string));
    let recorded = match recorded {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => manifest_digest.clone().unwrap_or_else(|| facts.id.clone()),
    };
    Ok(Upstream {
        local_id: facts.id,
        recorded,
        manifest_digest,
    })
}

/// Runs the plan. `inputs` are the planned inputs of every image.
pub async fn execute(
    repo: Repository,
    inputs: BTreeMap<ImageName, Inputs>,
    plan: Plan,
    options: Options,
    mode: Mode,
    engine: Option<Engine>,
) -> Result<Outcome2, Error> {
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
    let state = repo.root.join(".hier");
    let log_dir = state.join("logs").join(&run);
    let report_dir = state.join("reports");
    let mut lock = repo.lock.clone();
    let lock_path = repo.lock_path();
    let catalog = &repo.catalog;
    let planned: Vec<ImageName> = plan.builds().map(|i| i.name.clone()).collect();
    let in_plan = |n: &ImageName| planned.contains(n);

    // One call: what the engine has. Recorded images the plan builds on must be there;
    // up-to-date images that lost a tag are retagged.
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
                .filter_map(|d| planned.iter().position(|p| *p == d.name))
                .collect(),
        })
        .collect();
    let mut scheduler = Scheduler::new(&jobs, options.fail_fast);
    if !planned.is_empty() {
        std::fs::create_dir_all(&log_dir).map_err(|e| Error::io("create", log_dir.display(), e))?;
        let _ = std::fs::write(state.join(".gitignore"), "*\n");
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
    let reason_of = |name: &ImageName| {
        plan.items
            .iter()
            .find(|i| i.name == *name)
            .map(|i| i.reason.to_string())
            .unwrap_or_default()
    };

    loop {
        while !interrupted && tasks.len() < options.jobs.max(1) {
            let Some(index) = scheduler.start_next() else {
                break;
            };
            let name = planned[index].clone();
            if let Some(r) = refresh {
                let image = catalog.image(&name);
                let needed = r.candidates.contains_key(&name)
                    || image.dependencies().any(|d| promoted.contains(&d.name));
                if !needed {
                    // Nothing it builds on moved: it stays as it is.
                    if let Some(entry) = lock.images.get(name.as_str()) {
                        ids.insert(name.clone(), entry.image_id.clone());
                    }
                    scheduler.finish(index, true);
                    continue;
                }
            }
            let check = refresh.map(|r| job::RefreshCheck {
                old_image: lock.images.get(name.as_str()).map(|e| e.image_id.clone()),
                promote: !r.candidates.contains_key(&name)
                    || catalog
                        .image(&name)
                        .dependencies()
                        .any(|d| promoted.contains(&d.name))
                    || match (r.upstreams.get(&name), r.old_upstreams.get(&name)) {
                        (Some(new), Some(old)) => old.as_deref() != Some(new.recorded.as_str()),
                        _ => false,
                    },
            });
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
                    let skipped = scheduler.finish(index, false);
                    exit = exit.worst(Exit::Failed);
                    reporter.event(&Event::Finished {
                        name: name.to_string(),
                        status: Status::Failed,
                        detail: message.clone(),
                    });
                    results.insert(
                        name.to_string(),
                        failed_report(&name, reason_of(&name), message, 0.0, None),
                    );
                    record_skipped(
                        &planned,
                        &skipped,
                        &mut results,
                        &name,
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
                let index = planned.iter().position(|p| *p == name).expect("planned");
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
                        let skipped = scheduler.finish(index, false);
                        notes.push_str(&failure_note(&name, &message, &log));
                        reporter.event(&Event::Finished {
                            name: name.to_string(),
                            status: Status::Failed,
                            detail: message.clone(),
                        });
                        results.insert(
                            name.to_string(),
                            failed_report(&name, reason_of(&name), message, round(finished.duration), Some(log_display)),
                        );
                        record_skipped(&planned, &skipped, &mut results, &name, &reason_of, &mut *reporter);
                    }
                    Outcome::Unreachable(e) => {
                        exit = exit.worst(Exit::Unreachable);
                        scheduler.finish(index, false);
                        scheduler.stop();
                        results.insert(
                            name.to_string(),
                            failed_report(&name, reason_of(&name), e.to_string(), round(finished.duration), Some(log_display)),
                        );
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
                    let mut tags = tags::moving_tags(&image.version, &image.tags);
                    tags.push(tags::immutable_tag(&image.version, &entry.image_id));
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
    Ok(Outcome2 {
        report,
        exit,
        notes,
    })
}

/// `hier push`: pushes the recorded images (every tag, to the registry and every mirror) and
/// records each repository's digest in the lock, image by image.
pub async fn push_recorded(repo: Repository, names: Vec<ImageName>) -> Result<Outcome2, Error> {
    let engine = Engine::connect(&repo.catalog.platform)
        .await
        .map_err(engine_error)?;
    let catalog = &repo.catalog;
    let mut lock = repo.lock.clone();
    let lock_path = repo.lock_path();
    let mut images = Vec::new();
    let mut exit = Exit::Success;
    let mut notes = String::new();
    for name in names {
        let start = std::time::Instant::now();
        let mut report = ImageReport {
            name: name.to_string(),
            status: Status::Failed,
            image_id: None,
            duration_s: 0.0,
            reason: String::new(),
            log: None,
            error: None,
            ..ImageReport::default()
        };
        let Some(entry) = lock.images.get(name.as_str()).cloned() else {
            report.error = Some(format!("never built; run `hier rebuild {name}`"));
            exit = exit.worst(Exit::Failed);
            images.push(report);
            continue;
        };
        report.image_id = Some(entry.image_id.clone());
        if engine
            .inspect(&entry.image_id)
            .await
            .map_err(engine_error)?
            .is_none()
        {
            report.error = Some(format!(
                "the engine lacks {} (the image the lock records); run `hier rebuild {name}`",
                entry.image_id
            ));
            exit = exit.worst(Exit::Failed);
            images.push(report);
            continue;
        }
        let primary = catalog.repository(&name);
        let push_to: Vec<String> = std::iter::once(primary.clone())
            .chain(catalog.mirrors.iter().map(|m| format!("{m}/{name}")))
            .collect();
        let (pushed, error) =
            job::push_tags(&engine, &push_to, &entry.image_id, &entry.tags, |_| {}).await;
        if !pushed.is_empty() {
            // What did get pushed is recorded, whatever happened next.
            let stored = lock.images.get_mut(name.as_str()).expect("recorded");
            stored.pushed.extend(pushed);
            lock.write_atomic(&lock_path)
                .map_err(|e| Error::io("write", lock_path.display(), e))?;
        }
        match error {
            None => {
                report.status = Status::Pushed;
                report.reason = push_to.join(", ");
            }
            Some(
                e @ (EngineError::Unreachable { .. } | EngineError::RegistryUnreachable { .. }),
            ) => {
                return Err(engine_error(e));
            }
            Some(e) => {
                notes.push_str(&format!("{name}: the push failed: {e}\n"));
                report.error = Some(e.to_string());
                exit = exit.worst(Exit::Failed);
            }
        }
        report.duration_s = round(start.elapsed());
        images.push(report);
    }
    let report = Report {
        run: run_id(),
        interrupted: false,
        images,
    };
    write_report(&repo.root.join(".hier").join("reports"), &report)?;
    Ok(Outcome2 {
        report,
        exit,
        notes,
    })
}

/// The recorded images a plan builds on that the engine lacks (`fetch` items, before the
/// builds), when an engine answers quickly; without one, none: a plan needs no engine.
pub fn fetches(repo: &Repository, plan: &Plan) -> Vec<crate::plan::PlanItem> {
    let planned: std::collections::HashSet<&ImageName> =
        plan.items.iter().map(|i| &i.name).collect();
    let mut wanted: BTreeMap<ImageName, String> = BTreeMap::new();
    for item in plan.builds() {
        for dep in repo.catalog.image(&item.name).dependencies() {
            if planned.contains(&dep.name) {
                continue;
            }
            if let Some(entry) = repo.lock.images.get(dep.name.as_str()) {
                wanted.insert(dep.name.clone(), entry.image_id.clone());
            }
        }
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    runtime.block_on(async {
        let connect = Engine::connect(&repo.catalog.platform);
        let Ok(Ok(engine)) = tokio::time::timeout(Duration::from_secs(2), connect).await else {
            return Vec::new();
        };
        let mut items = Vec::new();
        for (name, image_id) in wanted {
            if let Ok(None) = engine.inspect(&image_id).await {
                let entry = &repo.lock.images[name.as_str()];
                let repository = repo.catalog.repository(&name);
                let reason = match entry.pushed.get(&repository) {
                    Some(digest) => format!("the engine lacks it: pull {repository}@{digest}"),
                    None => format!(
                        "the engine lacks it and it was never pushed: run `hier rebuild {name}`"
                    ),
                };
                items.push(crate::plan::PlanItem {
                    inputs: entry.inputs.clone(),
                    name,
                    wave: 0,
                    reason: crate::plan::Reason::Note(reason),
                    action: crate::plan::Action::Fetch,
                });
            }
        }
        items
    })
}

/// Pulls `repository@digest` and checks it is the recorded image.
async fn fetch(
    engine: &Engine,
    repository: &str,
    digest: &str,
    image_id: &str,
) -> Result<(), EngineError> {
    let reference = format!("{repository}@{digest}");
    engine.pull(&reference).await?;
    match engine.inspect(&reference).await? {
        Some(facts) if facts.id == image_id => Ok(()),
        Some(facts) => Err(EngineError::Failed(format!(
            "{reference} is image {}, not the recorded {image_id}",
            facts.id
        ))),
        None => Err(EngineError::Failed(format!(
            "{reference} was pulled and is not in the engine"
        ))),
    }
}

/// Retags images that are up to date but lost tags: (name, repository, image id, tags).
async fn retag_unplanned(
    engine: Engine,
    registry: String,
    images: Vec<(String, String, String, Vec<String>)>,
) -> Result<Vec<ImageReport>, EngineError> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let present = engine.tags(&registry).await?;
    let mut reports = Vec::new();
    for (name, repository, image_id, tags) in images {
        let Some(have) = present.get(&image_id) else {
            continue;
        };
        let mut retagged = Vec::new();
        for tag in tags {
            if !have.contains(&format!("{repository}:{tag}")) {
                engine.tag(&image_id, &repository, &tag).await?;
                retagged.push(tag);
            }
        }
        if !retagged.is_empty() {
            reports.push(ImageReport {
                name,
                status: Status::Unchanged,
                image_id: Some(image_id),
                duration_s: 0.0,
                reason: format!("retagged: {}", retagged.join(", ")),
                log: None,
                error: None,
                ..ImageReport::default()
            });
        }
    }
    Ok(reports)
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

fn record_skipped(
    planned: &[ImageName],
    skipped: &[usize],
    results: &mut HashMap<String, ImageReport>,
    because: &ImageName,
    reason_of: &dyn Fn(&ImageName) -> String,
    reporter: &mut dyn Reporter,
) {
    for &s in skipped {
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

fn parent_id(
    image: &Image,
    ids: &HashMap<ImageName, String>,
    from_ids: &HashMap<ImageName, String>,
) -> String {
    match &image.origin {
        Origin::Base { .. } => from_ids[&image.name].clone(),
        Origin::Parent(dep) => ids[&dep.name].clone(),
    }
}

/// `HIER_USES_<NAME>`: upper case, `-` and `.` as `_`.
pub fn uses_arg(name: &ImageName) -> String {
    format!(
        "HIER_USES_{}",
        name.as_str().to_uppercase().replace(['-', '.'], "_")
    )
}

/// Everything one job needs, from the repository and the exact images known now.
#[allow(clippy::too_many_arguments)]
fn prepare(
    repo: &Repository,
    name: &ImageName,
    inputs: &BTreeMap<ImageName, Inputs>,
    ids: &HashMap<ImageName, String>,
    from_ids: &HashMap<ImageName, String>,
    upstreams: &HashMap<ImageName, Upstream>,
    provenance: &Provenance,
    log_dir: &Path,
    no_cache: bool,
    push: bool,
    run_pushed: &HashMap<ImageName, String>,
) -> Result<(Job, Inputs, String), String> {
    let catalog = &repo.catalog;
    let image = catalog.image(name);
    let parent = parent_id(image, ids, from_ids);
    let uses: BTreeMap<String, String> = image
        .uses
        .iter()
        .map(|u| (u.name.to_string(), ids[&u.name].clone()))
        .collect();
    let mut effective = inputs[name].clone();
    let (base_name, base_digest) = match &image.origin {
        Origin::Base { from, .. } => {
            let upstream = &upstreams[name];
            effective = inputs::with_upstream(&effective, from, &upstream.recorded);
            (from.clone(), upstream.manifest_digest.clone())
        }
        Origin::Parent(dep) => {
            let target = catalog.image(&dep.name);
            let repository = catalog.repository(&dep.name);
            let digest = run_pushed.get(&dep.name).cloned().or_else(|| {
                repo.lock
                    .images
                    .get(dep.name.as_str())
                    .filter(|e| e.image_id == parent)
                    .and_then(|e| e.pushed.get(&repository).cloned())
            });
            (catalog.stable_ref(target), digest)
        }
    };
    let fingerprint = inputs::fingerprint(&effective, Some(&parent), &uses);
    let mut text = match &image.recipe {
        Recipe::Template { .. } => {
            let refs = ExactRefs { ids, from_ids };
            let vars = &repo.inherited.vars[name];
            dockerfile::render(&repo.templates, catalog, image, vars, &refs)
                .expect("a templated image")
                .map_err(|d| d.message)?
        }
        Recipe::Dockerfile { path, .. } => std::fs::read_to_string(repo.root.join(path))
            .map_err(|e| format!("cannot read {path}: {e}"))?,
    };
    let mut declared = catalog.labels.clone();
    declared.extend(image.labels.clone());
    let version = image.version.to_string();
    let all = labels::labels(
        &declared,
        provenance,
        &BuildFacts {
            name: name.as_str(),
            version: &version,
            fingerprint: &fingerprint,
            parent_id: &parent,
            base_name: &base_name,
            base_digest: base_digest.as_deref(),
        },
    );

    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&labels::instruction(&all));

    let mut build_args: HashMap<String, String> = image
        .build_args
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    build_args.insert("HIER_PARENT".into(), parent.clone());
    for dep in &image.uses {
        build_args.insert(uses_arg(&dep.name), ids[&dep.name].clone());
    }
    let in_context = repo.dockerfile_in_context(image);
    let dockerfile_path = in_context
        .clone()
        .unwrap_or_else(|| ".hier.Dockerfile".to_string());
    let skip = match image.recipe {
        Recipe::Template { .. } => in_context.clone(),
        Recipe::Dockerfile { .. } => None,
    };
    let version_for_tag = image.version.clone();
    let job = Job {
        name: name.to_string(),
        context_root: repo.root.join(&image.context),
        dockerfile_in_context: in_context,
        dockerfile_path,
        dockerfile: text,
        skip,
        planned_context: effective.components["context"].clone(),
        build_args,
        no_cache,
        tests: image.test.clone(),
        test_timeout: image.test_timeout,
        build_timeout: image.build_timeout,
        repository: catalog.repository(name),
        tags: tags::moving_tags(&image.version, &image.tags),
        immutable_tag: Box::new(move |id| tags::immutable_tag(&version_for_tag, id)),
        log: log_dir.join(format!("{name}.log")),
        promote_now: true,
        refresh: None,
        push_to: if push {
            std::iter::once(catalog.repository(name))
                .chain(catalog.mirrors.iter().map(|m| format!("{m}/{name}")))
                .collect()
        } else {
            Vec::new()
        },
    };
    Ok((job, effective, fingerprint))
}

/// Where the run state lives for a repository.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join(".hier")
}
