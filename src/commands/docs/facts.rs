//! What the engine says is inside each image the lock records: its size, the bytes it adds to
//! its parent, and its OS packages (read from the image's package database without running
//! it). An image the engine no longer holds, or an engine that is not there, fails or does not
//! answer in time, leaves that image's contents unknown, with the reason (and a warning); it
//! never stops the catalog from being written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use super::super::Context;
use crate::engine::retry::{Backoff, Retrying};
use crate::engine::{Docker, Engine, EngineError};
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

/// The contents of every recorded image, and a warning when some could not be read.
pub fn gather(cx: &Context, repo: &Repository) -> (Facts, Option<String>) {
    let platform = repo.catalog.platform.clone();
    let connected = cx.block_on(async move {
        tokio::time::timeout(ANSWER_WITHIN, Docker::connect(&platform)).await
    });
    let engine: Arc<dyn Engine> = match connected {
        Ok(Ok(Ok(docker))) => Arc::new(Retrying::new(docker, Backoff::default())),
        Ok(Ok(Err(e))) => return not_available(repo, &e.to_string()),
        Ok(Err(_)) => return not_available(repo, &silent()),
        Err(e) => return not_available(repo, &e.to_string()),
    };
    let facts = match cx.block_on(read_all(engine, repo)) {
        Ok(facts) => facts,
        Err(e) => return not_available(repo, &e.to_string()),
    };
    let unread: Vec<&String> = facts
        .values()
        .filter_map(|i| match i {
            Inside::Unknown(why) if why.starts_with(UNREAD) => Some(why),
            _ => None,
        })
        .collect();
    let warning = unread.first().map(|first| {
        format!(
            "{} of {} recorded images could not be read from the engine: {}",
            unread.len(),
            facts.len(),
            &first[UNREAD.len()..].trim_start_matches([':', ' '])
        )
    });
    (facts, warning)
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

/// Reads every recorded image, a few at a time; once the engine failed to answer in time, the
/// rest are not asked.
async fn read_all(engine: Arc<dyn Engine>, repo: &Repository) -> Facts {
    let recorded = repo.recorded();
    let silent_engine = Arc::new(AtomicBool::new(false));
    let reads = recorded.iter().map(|name| {
        let engine = engine.clone();
        let silent_engine = silent_engine.clone();
        let entry = &repo.lock.images[name.as_str()];
        let repository = repo.catalog.repository(name);
        let from = match &repo.catalog.image(name).origin {
            crate::catalog::Origin::Base { from, .. } => Some(from.as_str()),
            crate::catalog::Origin::Parent(_) => None,
        };
        async move {
            if silent_engine.load(Ordering::Relaxed) {
                return (
                    name.clone(),
                    Inside::Unknown(format!("{UNREAD}: {}", silent())),
                );
            }
            let read = contents(engine.as_ref(), &repository, entry, from);
            let inside = match tokio::time::timeout(ANSWER_WITHIN, read).await {
                Ok(Ok(Some(contents))) => Inside::Known(contents),
                Ok(Ok(None)) => Inside::Unknown(format!(
                    "the engine does not hold the recorded build {} (built elsewhere, or removed)",
                    crate::hash::short(&entry.image_id)
                )),
                Ok(Err(e)) => Inside::Unknown(format!("{UNREAD}: {e}")),
                Err(_) => {
                    silent_engine.store(true, Ordering::Relaxed);
                    Inside::Unknown(format!("{UNREAD}: {}", silent()))
                }
            };
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
