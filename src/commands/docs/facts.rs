//! What the engine says is inside each image the lock records: its size, the bytes it adds to
//! its parent, and its OS packages (read from the image's package database without running
//! it). An image the engine no longer holds, or an engine that does not answer, leaves that
//! image's contents unknown, with the reason; it never stops the catalog from being written.

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use super::super::Context;
use crate::engine::{Engine, EngineError};
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

/// The contents of every recorded image, and a warning when the engine could not be asked.
pub fn gather(cx: &Context, repo: &Repository) -> (Facts, Option<String>) {
    let engine = match cx.engine(&repo.catalog.platform) {
        Ok(engine) => engine,
        Err(e) => {
            let why = format!("the engine was not available ({e})");
            let warning = format!("{why}; the pages say the contents are not known");
            return (unknown(repo, &why), Some(warning));
        }
    };
    let read = cx.block_on(read_all(engine, repo));
    match read {
        Ok(facts) => (facts, None),
        Err(e) => (unknown(repo, &format!("the runtime failed ({e})")), None),
    }
}

async fn read_all(engine: Arc<dyn Engine>, repo: &Repository) -> Facts {
    let recorded = repo.recorded();
    let reads = recorded.iter().map(|name| {
        let engine = engine.clone();
        let entry = &repo.lock.images[name.as_str()];
        let repository = repo.catalog.repository(name);
        let from = match &repo.catalog.image(name).origin {
            crate::catalog::Origin::Base { from, .. } => Some(from.as_str()),
            crate::catalog::Origin::Parent(_) => None,
        };
        async move {
            let inside = match contents(engine.as_ref(), &repository, entry, from).await {
                Ok(Some(contents)) => Inside::Known(contents),
                Ok(None) => Inside::Unknown(format!(
                    "the engine does not hold the recorded build {} (built elsewhere, or removed)",
                    crate::hash::short(&entry.image_id)
                )),
                Err(e) => Inside::Unknown(format!("the engine could not be read ({e})")),
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
    let Some(image) = engine.inspect(&entry.image_id).await? else {
        return Ok(None);
    };
    // The parent's build (or, for a base, the image it is made `from`) as the engine has it.
    let parent = match (&entry.parent_image_id, &entry.from) {
        (Some(id), _) => engine.inspect(id).await?,
        (None, Some(recorded)) if Some(recorded.as_str()) == from => {
            engine.inspect(recorded).await?
        }
        (None, _) => None,
    };
    let packages = packages::inventory(engine, repository, &image.id).await?;
    Ok(Some(Contents {
        size: image.size,
        added: parent.map(|p| image.size.saturating_sub(p.size)),
        packages,
    }))
}
