//! What a refresh finds before building (also all that `--dry-run` does): the fresh upstream
//! identity of each due base, then which images have something new. A due base whose upstream
//! moved (or that was never built, or is named, or with `--force`) is rebuilt; every other
//! recorded image, an unchanged due base among them, is asked whether its OS packages have
//! updates pending ([`super::ask`]) and rebuilt only if they have. Every image checked is
//! listed with what was found and why it will or will not be rebuilt.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::ask::{self, Answer, Asking, Step};
use super::known::Known;
use super::policy::RefreshPolicy;
use super::sources;
use crate::catalog::{Origin, Refresh};
use crate::engine::Engine;
use crate::error::Error;
use crate::inputs::Inputs;
use crate::name::ImageName;
use crate::plan::{self, Plan, Reason};
use crate::rebuild::fresh_upstream;
use crate::repo::Repository;
use crate::report::Checked;

/// Which images a refresh covers.
pub struct Due {
    /// Images named on the command line (all of them refreshed).
    pub images: Vec<ImageName>,
    /// `--schedule`: the bases whose `refresh` is this.
    pub schedule: Option<Refresh>,
    /// `--force`: every due base is rebuilt, whatever is found.
    pub force: bool,
}

/// What the refresh found: its rules, the plan (the candidates and everything on them), every
/// image checked, how many index downloads that took, and what is known of each image now.
pub struct Findings {
    pub policy: RefreshPolicy,
    pub plan: Plan,
    pub checked: Vec<Checked>,
    pub downloads: usize,
    pub known: Known,
}

/// How images are asked: `jobs` at once, reading only what `known` lacks, telling `progress`.
pub struct How<'a> {
    pub jobs: usize,
    pub known: &'a Known,
    pub progress: &'a (dyn Fn(Step<'_>) + Send + Sync),
}

/// Decides what the refresh rebuilds.
pub async fn find(
    repo: &Repository,
    inputs: &BTreeMap<ImageName, Inputs>,
    engine: Arc<dyn Engine>,
    due: &Due,
    dry_run: bool,
    how: &How<'_>,
) -> Result<Findings, Error> {
    let mut policy = RefreshPolicy {
        candidates: BTreeMap::new(),
        upstreams: HashMap::new(),
        old_upstreams: HashMap::new(),
        lock: repo.lock.clone(),
        recorded_on: engine.clone(),
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
    let asking = to_ask(repo, &policy.candidates);
    let asked = ask::ask(engine, &asking, how.known, how.jobs, how.progress).await?;
    for (name, answer) in &asked.answers {
        if let Some(why) = pending_reason(answer) {
            policy.candidates.insert(name.clone(), why);
        } else if let Some(problem) = failed(answer)
            && policy.upstreams.contains_key(name)
        {
            // A due base that could not be asked is rebuilt, as a refresh always did.
            let why = format!("not checked ({problem}), so rebuilt as a due base");
            policy.candidates.insert(name.clone(), why);
        }
    }
    // The plan: the candidates and everything that depends on them (built only if promoted).
    let direct: BTreeMap<ImageName, Reason> = policy
        .candidates
        .iter()
        .map(|(name, why)| (name.clone(), Reason::Note(why.clone())))
        .collect();
    let plan = plan::with_dependents(&repo.catalog, &repo.hierarchy, inputs, &direct);
    let checked = checked(repo, &policy, &plan, &asked.answers);
    Ok(Findings {
        policy,
        plan,
        checked,
        downloads: asked.downloads,
        known: asked.known,
    })
}

/// The recorded images that are not candidates yet.
fn to_ask(repo: &Repository, candidates: &BTreeMap<ImageName, String>) -> Vec<Asking> {
    repo.hierarchy
        .order()
        .iter()
        .filter(|name| !candidates.contains_key(*name))
        .filter_map(|name| {
            let entry = repo.lock.images.get(name.as_str())?;
            Some(Asking {
                name: name.clone(),
                image_id: entry.image_id.clone(),
                repository: repo.catalog.repository(name),
            })
        })
        .collect()
}

/// Why asking an image failed, when it did for a reason that may not hold next time (not
/// for an image with no package manager or no sources, which has nothing to ask).
pub fn failed(answer: &Answer) -> Option<&str> {
    answer
        .problem
        .as_deref()
        .filter(|p| ![sources::NO_MANAGER, sources::NO_SOURCES].contains(p))
}

/// Why an image with updates pending is rebuilt; `None` when it has none.
fn pending_reason(answer: &Answer) -> Option<String> {
    let n = answer.pending.len();
    let s = if n == 1 { "" } else { "s" };
    (n > 0).then(|| format!("{n} OS package update{s} pending"))
}

/// The due bases, each with its upstream resolved afresh (pulled, unless a dry run); those
/// with something new (or named, or forced) become candidates.
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
            Some(o) if *o != upstream.recorded => Some(format!(
                "{from} moved: {} -> {}",
                short(o),
                short(&upstream.recorded)
            )),
            Some(_) if named.contains(&image.name) => Some("named on the command line".into()),
            Some(_) if due.force => Some(format!("--force: {from} rebuilt as it is")),
            Some(_) => None,
            None => Some(format!("{from}: first build")),
        };
        if let Some(reason) = reason {
            policy.candidates.insert(image.name.clone(), reason);
        }
        policy.old_upstreams.insert(image.name.clone(), old);
        policy.upstreams.insert(image.name.clone(), upstream);
    }
    Ok(())
}

/// Every image of the hierarchy, in build order, with what was found and what it means.
fn checked(
    repo: &Repository,
    policy: &RefreshPolicy,
    plan: &Plan,
    answers: &BTreeMap<ImageName, Answer>,
) -> Vec<Checked> {
    let planned: BTreeSet<&ImageName> = plan.items.iter().map(|i| &i.name).collect();
    repo.hierarchy
        .order()
        .iter()
        .map(|name| {
            let answer = answers.get(name);
            let (rebuild, reason) = match (policy.candidates.get(name), answer) {
                (Some(why), _) => ("yes", why.clone()),
                (
                    None,
                    Some(Answer {
                        problem: Some(p), ..
                    }),
                ) if planned.contains(name) => ("if a parent changes", format!("not checked: {p}")),
                (None, _) if planned.contains(name) => {
                    ("if a parent changes", "nothing new of its own".into())
                }
                (
                    None,
                    Some(Answer {
                        problem: Some(p), ..
                    }),
                ) => ("no", format!("not checked: {p}")),
                (None, _) => ("no", "nothing new".into()),
            };
            Checked {
                name: name.to_string(),
                rebuild,
                reason,
                sources: answer.and_then(|a| a.sources.clone()),
                pending: answer.map_or_else(Vec::new, |a| {
                    a.pending
                        .iter()
                        .map(|(n, from, to)| format!("{n} {from} -> {to}"))
                        .collect()
                }),
                problem: answer.and_then(failed).map(str::to_string),
                upstream_old: policy.old_upstreams.get(name).cloned().flatten(),
                upstream_new: policy.upstreams.get(name).map(|u| u.recorded.clone()),
            }
        })
        .collect()
}

fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}
