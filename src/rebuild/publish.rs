//! The registry side of a run: `hier push` of recorded images, fetching recorded images a fresh
//! engine lacks (and listing them in a plan), and restoring tags of up-to-date images.

use std::collections::BTreeMap;
use std::time::Duration;

use super::report::{ImageReport, Report, Status};
use super::{RunOutcome, engine_error, job, round, run_id, write_report};
use crate::engine::{Engine, EngineError};
use crate::error::{Error, Exit};
use crate::name::ImageName;
use crate::plan::Plan;
use crate::repo::Repository;

/// `hier push`: pushes the recorded images (every tag, to the registry and every mirror) and
/// records each repository's digest in the lock, image by image.
pub async fn push_recorded(repo: Repository, names: Vec<ImageName>) -> Result<RunOutcome, Error> {
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
    write_report(&super::state_dir(&repo.root).join("reports"), &report)?;
    Ok(RunOutcome {
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
pub(super) async fn fetch(
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
pub(super) async fn retag_unplanned(
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
