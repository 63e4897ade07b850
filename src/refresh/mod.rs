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
use crate::plan::{self, Plan, Reason};
use crate::rebuild::{self, Mode, Options, RefreshPlan, RunOutcome};
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
        let upstream = rebuild::fresh_upstream(engine, from, !dry_run)
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
    let direct: BTreeMap<ImageName, Reason> = candidates
        .iter()
        .map(|(name, why)| (name.clone(), Reason::Note(why.clone())))
        .collect();
    let plan = plan::with_dependents(catalog, &repo.hierarchy, inputs, &direct);
    Ok(Findings {
        refresh: RefreshPlan {
            candidates,
            upstreams,
            old_upstreams,
            atomic,
        },
        plan,
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
