//! What the engine says is inside each image the lock records: its size, the bytes it adds to
//! its parent, and its OS packages (read from the image's package database without running
//! it). An image the engine no longer holds, or an engine that is not there, fails or does not
//! answer in time, leaves that image's contents unknown, with the reason (and a warning); it
//! never stops the catalog from being written. With a builders file, each image is read on a
//! builder that holds it, without moving it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use super::super::Context;
use crate::engine::retry::{Backoff, Retrying};
use crate::engine::{Docker, Engine, EngineError};
use crate::error::Error;
use crate::lock::LockEntry;
use crate::name::ImageName;
use crate::packages;
use crate::repo::Repository;
use crate::site::{Contents, Facts, Inside};

/// Images read from the engine at once.
const AT_ONCE: usize = 4;

/// Every recorded image's contents unknown for `why` (the others: not built).
pub fn unknown(repo: &Repository, why: &str) -> Facts {
    repo.recorded()
        .into_iter()
        .map(|name| (name, Inside::Unknown(why.to_string())))
        .collect()
}

/// The contents of every recorded image, and a warning when some could not be read. With a
/// builders file, each image is read on a builder that holds it.
pub fn gather(
    cx: &Context,
    repo: &Repository,
    builders: Option<&Path>,
) -> Result<(Facts, Option<String>), Error> {
    let (members, silent_builders) = match builders {
        Some(path) => {
            let entries = crate::pool::file::load(path).map_err(Error::Input)?;
            let platform = repo.catalog.platform.clone();
            let (members, failed) =
                cx.block_on(async move { crate::pool::connect(&entries, &platform).await })?;
            let failed: Vec<String> = failed
                .iter()
                .map(|(name, e)| format!("builder `{name}`: {e}"))
                .collect();
            if members.is_empty() {
                return Ok(not_available(repo, &failed.join("; ")));
            }
            (members, failed)
        }
        None => match one_engine(cx, repo) {
            Ok(member) => (vec![member], Vec::new()),
            Err(cause) => return Ok(not_available(repo, &cause)),
        },
    };
    let engines: Vec<Arc<dyn Engine>> = members.iter().map(|m| m.engine.clone()).collect();
    let facts = match cx.block_on(read_all(&engines, repo)) {
        Ok(facts) => facts,
        Err(e) => return Ok(not_available(repo, &e.to_string())),
    };
    let unread: Vec<&String> = facts
        .values()
        .filter_map(|i| match i {
            Inside::Unknown(why) if why.starts_with(UNREAD) => Some(why),
            _ => None,
        })
        .collect();
    let mut warnings: Vec<String> = silent_builders
        .iter()
        .map(|s| format!("{s}; the images only it holds are not known"))
        .collect();
    warnings.extend(unread.first().map(|first| {
        format!(
            "{} of {} recorded images could not be read from the engine: {}",
            unread.len(),
            facts.len(),
            &first[UNREAD.len()..].trim_start_matches([':', ' '])
        )
    }));
    let warning = (!warnings.is_empty()).then(|| warnings.join("\n"));
    Ok((facts, warning))
}

/// `DOCKER_HOST`'s engine, as a pool of one.
fn one_engine(cx: &Context, repo: &Repository) -> Result<crate::pool::Member, String> {
    let platform = repo.catalog.platform.clone();
    let connected = cx.block_on(async move {
        tokio::time::timeout(ANSWER_WITHIN, Docker::connect(&platform)).await
    });
    match connected {
        Ok(Ok(Ok(docker))) => Ok(crate::pool::Member {
            name: "engine".to_string(),
            engine: Arc::new(Retrying::new(docker, Backoff::default())),
            jobs: 1,
            tunnel: None,
        }),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(_)) => Err(silent()),
        Err(e) => Err(e.to_string()),
    }
}

/// How long the engine has to answer each question.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// The reason given for an image the engine was asked about and did not answer for.
const UNREAD: &str = "the engine could not be read";

fn silent() -> String {
    format!("no answer within {}s", ANSWER_WITHIN.as_secs())
}

fn not_available(repo: &Repository, cause: &str) -> (Facts, Option<String>) {
    let why = format!("the engine was not available ({cause})");
    let warning = format!("{why}; the pages say the contents are not known");
    (unknown(repo, &why), Some(warning))
}

/// Reads every recorded image, a few at a time, on the first of `engines` that holds it; once
/// an engine failed to answer in time, it is not asked again.
async fn read_all(engines: &[Arc<dyn Engine>], repo: &Repository) -> Facts {
    let recorded = repo.recorded();
    let silent_engines: Vec<AtomicBool> = engines.iter().map(|_| AtomicBool::new(false)).collect();
    let silent_engines = &silent_engines;
    let reads = recorded.iter().map(|name| {
        let entry = &repo.lock.images[name.as_str()];
        let repository = repo.catalog.repository(name);
        let from = match &repo.catalog.image(name).origin {
            crate::catalog::Origin::Base { from, .. } => Some(from.as_str()),
            crate::catalog::Origin::Parent(_) => None,
        };
        async move {
            let mut inside = Inside::Unknown(format!(
                "the engine does not hold the recorded build {} (built elsewhere, or removed)",
                crate::hash::short(&entry.image_id)
            ));
            for (engine, silent_engine) in engines.iter().zip(silent_engines) {
                if silent_engine.load(Ordering::Relaxed) {
                    inside = Inside::Unknown(format!("{UNREAD}: {}", silent()));
                    continue;
                }
                let read = contents(engine.as_ref(), &repository, entry, from);
                match tokio::time::timeout(ANSWER_WITHIN, read).await {
                    Ok(Ok(Some(contents))) => return (name.clone(), Inside::Known(contents)),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => inside = Inside::Unknown(format!("{UNREAD}: {e}")),
                    Err(_) => {
                        silent_engine.store(true, Ordering::Relaxed);
                        inside = Inside::Unknown(format!("{UNREAD}: {}", silent()));
                    }
                }
            }
            (name.clone(), inside)
        }
    });
    stream::iter(reads)
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<(ImageName, Inside)>>()
        .await
        .into_iter()
        .collect()
}

/// One recorded build's contents; `None` when the engine does not hold it. `from` is a base's
/// `from` in the catalog: the lock's is used only when it is the same.
async fn contents(
    engine: &dyn Engine,
    repository: &str,
    entry: &LockEntry,
    from: Option<&str>,
) -> Result<Option<Contents>, EngineError> {
    // The parent's build (or, for a base, the image it is made `from`) as the engine has it.
    let parent = match (&entry.parent_image_id, &entry.from) {
        (Some(id), _) => Some(id.as_str()),
        (None, Some(recorded)) if Some(recorded.as_str()) == from => Some(recorded.as_str()),
        (None, _) => None,
    };
    let Some(sizes) = crate::size::measure(engine, &entry.image_id, parent).await? else {
        return Ok(None);
    };
    let packages = packages::inventory(engine, repository, &entry.image_id).await?;
    Ok(Some(Contents {
        size: sizes.size,
        added: sizes.added,
        packages,
    }))
}
