//! What a refresh finds before building (also all that `--dry-run` does): the fresh upstream
//! identity of each due base, and which other images have OS package updates pending, asked in
//! throwaway containers as root, `jobs` at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::policy::RefreshPolicy;
use crate::catalog::{Origin, Refresh};
use crate::engine::{ContainerRun, Engine};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::name::ImageName;
use crate::plan::{self, Plan, Reason};
use crate::rebuild::fresh_upstream;
use crate::repo::Repository;

/// Which images a refresh covers.
pub struct Due {
    /// Images named on the command line (all of them refreshed).
    pub images: Vec<ImageName>,
    /// `--schedule`: the bases whose `refresh` is this.
    pub schedule: Option<Refresh>,
}

/// What the refresh found: its rules, and the plan (the candidates and everything on them).
pub struct Findings {
    pub policy: RefreshPolicy,
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
    engine: Arc<dyn Engine>,
    due: &Due,
    dry_run: bool,
    jobs: usize,
) -> Result<Findings, Error> {
    let mut policy = RefreshPolicy {
        candidates: BTreeMap::new(),
        upstreams: HashMap::new(),
        old_upstreams: HashMap::new(),
        lock: repo.lock.clone(),
    };
    due_bases(repo, &*engine, due, dry_run, &mut policy).await?;
    for name in &due.images {
        if !policy.candidates.contains_key(name) {
            policy
                .candidates
                .insert(name.clone(), "named on the command line".into());
        }
    }
    for name in repo.hierarchy.order() {
        if !repo.lock.images.contains_key(name.as_str()) && !policy.candidates.contains_key(name) {
            policy.candidates.insert(name.clone(), "never built".into());
        }
    }
    let pending = pending_updates(repo, engine, &policy.candidates, jobs).await?;
    policy.candidates.extend(pending);
    // The plan: the candidates and everything that depends on them (built only if promoted).
    let direct: BTreeMap<ImageName, Reason> = policy
        .candidates
        .iter()
        .map(|(name, why)| (name.clone(), Reason::Note(why.clone())))
        .collect();
    let plan = plan::with_dependents(&repo.catalog, &repo.hierarchy, inputs, &direct);
    Ok(Findings { policy, plan })
}

/// The due bases, each with its upstream resolved afresh (pulled, unless a dry run).
async fn due_bases(
    repo: &Repository,
    engine: &dyn Engine,
    due: &Due,
    dry_run: bool,
    policy: &mut RefreshPolicy,
) -> Result<(), Error> {
    let named: BTreeSet<&ImageName> = due.images.iter().collect();
    for image in &repo.catalog.images {
        let Origin::Base { from, refresh, .. } = &image.origin else {
            continue;
        };
        let is_due = if !named.is_empty() {
            named.contains(&image.name)
        } else {
            due.schedule.is_none_or(|s| *refresh == s)
        };
        if !is_due {
            continue;
        }
        let upstream = fresh_upstream(engine, from, !dry_run).await?;
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
        policy.candidates.insert(image.name.clone(), reason);
        policy.old_upstreams.insert(image.name.clone(), old);
        policy.upstreams.insert(image.name.clone(), upstream);
    }
    Ok(())
}

/// The recorded images that are not candidates yet, asked side by side (`jobs` at once)
/// whether their OS packages have updates pending; those that have, with why.
async fn pending_updates(
    repo: &Repository,
    engine: Arc<dyn Engine>,
    candidates: &BTreeMap<ImageName, String>,
    jobs: usize,
) -> Result<BTreeMap<ImageName, String>, Error> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut asks = tokio::task::JoinSet::new();
    for name in repo.hierarchy.order() {
        if candidates.contains_key(name) {
            continue;
        }
        let Some(entry) = repo.lock.images.get(name.as_str()) else {
            continue;
        };
        let (engine, semaphore) = (engine.clone(), semaphore.clone());
        let (name, image_id) = (name.clone(), entry.image_id.clone());
        let owner = repo.catalog.repository(&name);
        asks.spawn(async move {
            let _permit = semaphore.acquire().await;
            let run = ContainerRun {
                owner: &owner,
                image: &image_id,
                command: PENDING,
                limit: Duration::from_secs(300),
                user: Some("0"),
            };
            (name, engine.run(&run).await)
        });
    }
    let mut pending = BTreeMap::new();
    while let Some(joined) = asks.join_next().await {
        let Ok((name, answer)) = joined else { continue };
        match answer {
            Ok(outcome) => {
                if let Some(n) = pending_count(&outcome.output) {
                    let s = if n == 1 { "" } else { "s" };
                    pending.insert(name, format!("{n} OS package update{s} pending"));
                }
            }
            Err(e) if e.is_engine_lost() => return Err(e.into()),
            Err(_) => {} // an image hier cannot ask (no shell): nothing pending that it knows of
        }
    }
    Ok(pending)
}

/// How many updates the script found, when some.
fn pending_count(output: &str) -> Option<u32> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("HIER_PENDING "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
}

fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_count_is_read_from_the_script() {
        assert_eq!(pending_count("noise\nHIER_PENDING 3\n"), Some(3));
        assert_eq!(pending_count("HIER_PENDING 0\n"), None);
        assert_eq!(pending_count("HIER_PENDING none\n"), None);
        assert_eq!(pending_count("HIER_PENDING error\n"), None);
    }
}
