//! Before anything builds: which recorded images the plan builds on that the engine lacks (the
//! plan's `fetch` items, decided here and nowhere else), fetching them by the digest they were
//! pushed as, resolving each planned base's `from`, and restoring lost tags of up-to-date
//! images. Problems are gathered and reported together before any build starts.

use std::collections::BTreeSet;
use std::time::Instant;

use super::exact::Exact;
use super::policy::Policy;
use super::upstream::resolve_from;
use crate::catalog::Origin;
use crate::engine::{Engine, EngineError};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::name::ImageName;
use crate::plan::{self, Action, Plan, PlanItem};
use crate::repo::Repository;
use crate::report::{ImageReport, Status, seconds};

/// The `fetch` items of a plan: the recorded images it builds on or tests that the engine
/// lacks.
pub async fn fetch_items(
    engine: &dyn Engine,
    repo: &Repository,
    plan: &Plan,
) -> Result<Vec<PlanItem>, EngineError> {
    fetch_items_of(engine, repo, plan::recorded_needs(&repo.catalog, plan)).await
}

/// The `fetch` items for these images: those recorded that the engine lacks.
pub async fn fetch_items_of(
    engine: &dyn Engine,
    repo: &Repository,
    names: impl IntoIterator<Item = ImageName>,
) -> Result<Vec<PlanItem>, EngineError> {
    let mut missing = Vec::new();
    for name in names {
        let Some(entry) = repo.lock.images.get(name.as_str()) else {
            continue;
        };
        if engine.inspect(&entry.image_id).await?.is_none() {
            missing.push(name);
        }
    }
    Ok(plan::fetch_items(&repo.catalog, &repo.lock, &missing))
}

/// What preflight found: the exact images to build on, and the images it fetched.
pub struct Preflight {
    pub exact: Exact,
    pub fetched: Vec<ImageReport>,
}

/// Makes every image the plan builds on present, and knows each exactly. The engine or a registry not
/// answering is an error of its own (exit 3); every other problem is gathered (exit 1).
pub async fn run(
    engine: &dyn Engine,
    repo: &Repository,
    inputs: &std::collections::BTreeMap<ImageName, Inputs>,
    plan: &Plan,
    policy: &dyn Policy,
) -> Result<Preflight, Error> {
    let mut exact = Exact::default();
    let mut problems = Vec::new();
    let fetched = fetch(engine, repo, plan, &mut problems).await?;
    let fetching: BTreeSet<&ImageName> = plan
        .items
        .iter()
        .filter(|i| i.action == Action::Fetch)
        .map(|i| &i.name)
        .collect();
    for name in plan::outside_dependencies(&repo.catalog, plan) {
        let Some(entry) = repo.lock.images.get(name.as_str()) else {
            problems.push(format!(
                "`{name}` was never built, and the plan builds on it; run `hier rebuild {name}`"
            ));
            continue;
        };
        if fetching.contains(&name) && !fetched.iter().any(|f| f.name == name.as_str()) {
            continue; // its fetch failed, and said so
        }
        exact.ids.insert(name.clone(), entry.image_id.clone());
    }
    for item in plan.builds() {
        let image = repo.catalog.image(&item.name);
        let Origin::Base { from, .. } = &image.origin else {
            continue;
        };
        let upstream = match policy.upstream(&item.name) {
            Some(fresh) => fresh.clone(),
            None => {
                // The recorded identity belongs to the `from` it was resolved from: when
                // `from` changed in the catalog, it is resolved afresh.
                let recorded = repo.lock.images.get(item.name.as_str()).and_then(|e| {
                    let same_from =
                        e.components.get("from") == inputs[&item.name].components.get("from");
                    e.upstream_digest.as_deref().filter(|_| same_from)
                });
                match resolve_from(engine, image, from, recorded).await {
                    Ok(upstream) => upstream,
                    Err(e) if e.is_unreachable() => return Err(e.into()),
                    Err(e) => {
                        problems.push(e.to_string());
                        continue;
                    }
                }
            }
        };
        exact.upstreams.insert(item.name.clone(), upstream);
    }
    if !problems.is_empty() {
        return Err(Error::Failed(problems.join("\n")));
    }
    Ok(Preflight { exact, fetched })
}

/// Runs `fetch` items before a run (a refresh, which asks the recorded images about updates
/// before it plans): the fetched images' reports, or every problem at once.
pub async fn fetch_now(
    engine: &dyn Engine,
    repo: &Repository,
    items: Vec<PlanItem>,
) -> Result<Vec<ImageReport>, Error> {
    let mut problems = Vec::new();
    let fetched = fetch(engine, repo, &Plan { items }, &mut problems).await?;
    if problems.is_empty() {
        Ok(fetched)
    } else {
        Err(Error::Failed(problems.join("\n")))
    }
}

/// Runs the plan's `fetch` items: each recorded image is pulled by the digest it was pushed as
/// and checked to be the recorded image.
async fn fetch(
    engine: &dyn Engine,
    repo: &Repository,
    plan: &Plan,
    problems: &mut Vec<String>,
) -> Result<Vec<ImageReport>, Error> {
    let mut fetched = Vec::new();
    for item in plan.items.iter().filter(|i| i.action == Action::Fetch) {
        let name = &item.name;
        let entry = &repo.lock.images[name.as_str()];
        let repository = repo.catalog.repository(name);
        let Some(digest) = entry.pushed.get(&repository) else {
            problems.push(format!(
                "the plan needs `{name}` as the lock records it ({}), and the engine lacks that image, which was never pushed; run `hier rebuild {name}` to rebuild it",
                entry.image_id
            ));
            continue;
        };
        let start = Instant::now();
        match pull_exact(engine, &repository, digest, &entry.image_id).await {
            Ok(()) => fetched.push(ImageReport {
                name: name.to_string(),
                status: Status::Fetched,
                image_id: Some(entry.image_id.clone()),
                duration_s: seconds(start.elapsed()),
                reason: format!("{repository}@{digest}"),
                ..ImageReport::default()
            }),
            Err(e) if e.is_unreachable() => return Err(e.into()),
            Err(e) => problems.push(format!(
                "the plan needs `{name}` as the lock records it ({}); the engine lacks it and fetching {repository}@{digest} failed: {e}; run `hier rebuild {name}` to rebuild it",
                entry.image_id
            )),
        }
    }
    Ok(fetched)
}

/// Pulls `repository@digest` and checks it is the recorded image.
async fn pull_exact(
    engine: &dyn Engine,
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

/// Restores the tags of up-to-date images that lost some (one listing of the catalog's
/// images). Runs beside the builds; only when the run builds something, since listing images
/// costs the engine about 0.5 s per thousand and a no-op run must stay cheap.
pub async fn retag(
    engine: std::sync::Arc<dyn Engine>,
    registry: String,
    images: Vec<Retag>,
) -> Result<Vec<ImageReport>, EngineError> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let present = engine.tags(&registry).await?;
    let mut reports = Vec::new();
    for image in images {
        let Some(have) = present.get(&image.image_id) else {
            continue;
        };
        let mut retagged = Vec::new();
        for tag in image.tags {
            if !have.contains(&format!("{}:{tag}", image.repository)) {
                engine.tag(&image.image_id, &image.repository, &tag).await?;
                retagged.push(tag);
            }
        }
        if !retagged.is_empty() {
            reports.push(ImageReport {
                name: image.name.to_string(),
                status: Status::Unchanged,
                image_id: Some(image.image_id),
                reason: format!("retagged: {}", retagged.join(", ")),
                ..ImageReport::default()
            });
        }
    }
    Ok(reports)
}

/// An up-to-date image whose tags the run checks.
pub struct Retag {
    pub name: ImageName,
    pub repository: String,
    pub image_id: String,
    pub tags: Vec<String>,
}

/// The recorded images outside the plan whose tags a run (that builds something) checks.
pub fn retags(repo: &Repository, plan: &Plan) -> Vec<Retag> {
    if plan.builds().next().is_none() {
        return Vec::new();
    }
    let planned: BTreeSet<&ImageName> = plan.builds().map(|i| &i.name).collect();
    repo.lock
        .images
        .iter()
        .filter_map(|(name, entry)| {
            let image = repo.catalog.get(name)?;
            // The tags come from the catalog, never from the lock's copy of them.
            (!planned.contains(&image.name)).then(|| Retag {
                name: image.name.clone(),
                repository: repo.catalog.repository(&image.name),
                image_id: entry.image_id.clone(),
                tags: crate::tags::all_tags(&image.version, &image.tags, &entry.image_id),
            })
        })
        .collect()
}
