//! `hier refresh`, the nightly job (SPEC section 7): resolve the upstream identity of each due
//! base, ask every other image whether its OS packages have updates pending, rebuild those with
//! no cache, keep any rebuilt image whose upstream and packages did not change, promote the
//! rest and cascade through their dependents (the run itself is [`crate::rebuild::execute`] in
//! refresh mode), then write a report people read.

pub mod packages;
pub mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::catalog::{Origin, Refresh};
use crate::engine::{Engine, EngineError};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::name::ImageName;
use crate::plan::{Action, Plan, PlanItem, Reason};
use crate::rebuild::{self, Mode, Options, RefreshPlan, RunOutcome, Upstream};
use crate::reference::Reference;
use crate::repo::Repository;

/// Which images a refresh covers.
pub struct Due {
    /// Images named on the command line (all of them refreshed).
    pub images: Vec<ImageName>,
    /// `--schedule`: the bases whose `refresh` is this.
    pub schedule: Option<Refresh>,
}

/// What the refresh found before building (also what `--dry-run` prints).
pub struct Findings {
    pub refresh: RefreshPlan,
    pub plan: Plan,
}

/// The script asking an image's package manager about pending updates: prints
/// `HIER_PENDING <count>`, or `HIER_PENDING none` without apt or apk.
const PENDING: &str = "if command -v apt-get >/dev/null 2>&1; then \
    apt-get update -qq >/dev/null 2>&1 || { echo 'HIER_PENDING error'; exit 0; }; \
    n=$(apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | grep -c '^Inst '); \
    echo \"HIER_PENDING $n\"; \
  elif command -v apk >/dev/null 2>&1; then \
    apk update -q >/dev/null 2>&1 || { echo 'HIER_PENDING error'; exit 0; }; \
    n=$(apk version -l '<' 2>/dev/null | tail -n +2 | grep -c .); \
    echo \"HIER_PENDING $n\"; \
  else echo 'HIER_PENDING none'; fi";

/// Resolves a due base's upstream: a `from` that came from a registry (it has a repository
/// digest, or the engine lacks it) is resolved there and pulled fresh; one that exists only in
/// the engine (imported) is identified by its local image id.
async fn upstream_of(engine: &Engine, from: &str, pull: bool) -> Result<Upstream, EngineError> {
    let repository = Reference::parse(from)
        .map(|r| crate::reference::familiar(&r.repository).to_string())
        .unwrap_or_else(|_| from.to_string());
    let local = engine.inspect(from).await?;
    let from_registry = match &local {
        None => true,
        Some(facts) => facts
            .repo_digests
            .iter()
            .any(|d| d.starts_with(&format!("{repository}@"))),
    };
    if !from_registry {
        let facts = local.expect("present");
        return Ok(Upstream {
            recorded: facts.id.clone(),
            local_id: facts.id,
            manifest_digest: None,
        });
    }
    let digest = engine.remote_digest(from).await?;
    if pull {
        engine.pull(&format!("{repository}@{digest}")).await?;
    }
    let local_id = match engine.inspect(&format!("{repository}@{digest}")).await? {
        Some(facts) => facts.id,
        None => local.map(|f| f.id).unwrap_or_default(),
    };
    Ok(Upstream {
        local_id,
        recorded: digest.clone(),
        manifest_digest: Some(digest),
    })
}

/// Decides what the refresh rebuilds.
pub async fn find(
    repo: &Repository,
    inputs: &BTreeMap<ImageName, Inputs>,
    engine: &Engine,
    due: &Due,
    atomic: bool,
    dry_run: bool,
    jobs: usize,
) -> Result<Findings, Error> {
    let catalog = &repo.catalog;
    let mut candidates: BTreeMap<ImageName, String> = BTreeMap::new();
    let mut upstreams = HashMap::new();
    let mut old_upstreams = HashMap::new();
    let named: BTreeSet<&ImageName> = due.images.iter().collect();
    for image in &catalog.images {
        let Origin::Base { from, refresh, .. } = &image.origin else {
            continue;
        };
        let is_due = if !named.is_empty() {
            named.contains(&image.name)
        } else {
            match due.schedule {
                Some(s) => *refresh == s,
                None => true,
            }
        };
        if !is_due {
            continue;
        }
        let upstream = upstream_of(engine, from, !dry_run)
            .await
            .map_err(rebuild::engine_error)?;
        let old = repo
            .lock
            .images
            .get(image.name.as_str())
            .and_then(|e| e.upstream_digest.clone());
        let reason = match &old {
            Some(o) if *o == upstream.recorded => format!("scheduled refresh of {from}"),
            Some(o) => format!(
                "{from} moved: {} -> {}",
                short(o),
                short(&upstream.recorded)
            ),
            None => format!("{from}: first build"),
        };
        candidates.insert(image.name.clone(), reason);
        old_upstreams.insert(image.name.clone(), old);
        upstreams.insert(image.name.clone(), upstream);
    }
    for name in &due.images {
        if !candidates.contains_key(name) {
            candidates.insert(name.clone(), "named on the command line".into());
        }
    }

    // Every other image: updates pending in its OS packages? Asked side by side, `jobs` at once.
    let to_ask: Vec<(ImageName, String)> = repo
        .hierarchy
        .order()
        .iter()
        .filter(|n| !candidates.contains_key(*n))
        .filter_map(|n| {
            let entry = repo.lock.images.get(n.as_str())?;
            Some((n.clone(), entry.image_id.clone()))
        })
        .collect();
    for name in repo.hierarchy.order() {
        if !repo.lock.images.contains_key(name.as_str()) && !candidates.contains_key(name) {
            candidates.insert(name.clone(), "never built".into());
        }
    }
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut asks = tokio::task::JoinSet::new();
    for (name, image_id) in to_ask {
        let engine = engine.clone();
        let semaphore = semaphore.clone();
        let owner = catalog.repository(&name);
        asks.spawn(async move {
            let _permit = semaphore.acquire().await;
            let answer = engine
                .run_shell(
                    &owner,
                    &image_id,
                    PENDING,
                    Duration::from_secs(300),
                    Some("0"),
                )
                .await;
            (name, answer)
        });
    }
    while let Some(joined) = asks.join_next().await {
        let Ok((name, answer)) = joined else { continue };
        match answer {
            Ok(outcome) => {
                let count = outcome
                    .output
                    .lines()
                    .find_map(|l| l.strip_prefix("HIER_PENDING "))
                    .and_then(|n| n.trim().parse::<u32>().ok());
                if let Some(n) = count.filter(|n| *n > 0) {
                    candidates.insert(
                        name,
                        format!(
                            "{n} OS package update{} pending",
                            if n == 1 { "" } else { "s" }
                        ),
                    );
                }
            }
            Err(e @ EngineError::Unreachable { .. }) => return Err(rebuild::engine_error(e)),
            Err(_) => {} // an image hier cannot ask (no shell): nothing pending that it knows of
        }
    }

    // The plan: the candidates and everything that depends on them (built only if promoted).
    let closure = repo.hierarchy.closure(candidates.keys().cloned());
    let items = repo
        .hierarchy
        .build_order(&closure)
        .into_iter()
        .map(|(name, wave)| {
            let reason = match candidates.get(&name) {
                Some(r) => Reason::Note(r.clone()),
                None => {
                    let image = catalog.image(&name);
                    let dep = image
                        .dependencies()
                        .find(|d| closure.contains(&d.name))
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| name.clone());
                    Reason::ParentRebuilt(dep)
                }
            };
            PlanItem {
                inputs: inputs
                    .get(&name)
                    .map(|i| i.digest.clone())
                    .unwrap_or_default(),
                name,
                wave,
                reason,
                action: Action::Build,
            }
        })
        .collect();
    Ok(Findings {
        refresh: RefreshPlan {
            candidates,
            upstreams,
            old_upstreams,
            atomic,
        },
        plan: Plan { items },
    })
}

fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

/// Runs the refresh: what [`find`] decided, built in refresh mode.
pub async fn run(
    repo: Repository,
    inputs: BTreeMap<ImageName, Inputs>,
    engine: Engine,
    findings: Findings,
    options: Options,
) -> Result<RunOutcome, Error> {
    rebuild::execute(
        repo,
        inputs,
        findings.plan,
        options,
        Mode::Refresh(findings.refresh),
        Some(engine),
    )
    .await
}
