//! Recorded images brought to the first builder of a pool, where a refresh reads what it
//! replaces and the commands that read recorded images read them: each that the first builder
//! lacks and another builder holds crosses through the registry as any hand-off does (pushed
//! under its immutable tag, pulled by digest, its id verified). What no builder holds is left
//! to the usual fetch by pushed digest. A run only asks which images no builder holds (to
//! fetch them): the others stay where they are until the run needs them elsewhere.

use super::{Need, Pool};
use crate::engine::EngineError;
use crate::name::ImageName;
use crate::repo::Repository;

/// Brings each of `names` (recorded images the first builder lacks) from a builder that holds
/// it; the names it could not bring (no other builder holds them). An image that cannot cross
/// is an error naming it.
pub async fn gather(
    pool: &Pool,
    repo: &Repository,
    names: Vec<ImageName>,
) -> Result<(Vec<ImageName>, Vec<super::Moved>), String> {
    let mut left = Vec::new();
    let mut moved = Vec::new();
    if !pool.is_shared() {
        return Ok((names, moved));
    }
    for name in names {
        let Some(entry) = repo.lock.images.get(name.as_str()) else {
            continue;
        };
        let sources = holders(pool, &entry.image_id).await;
        if sources.is_empty() {
            left.push(name);
            continue;
        }
        let version = &repo.catalog.image(&name).version;
        let need = Need {
            image: name.to_string(),
            image_id: entry.image_id.clone(),
            repository: repo.catalog.repository(&name),
            tag: Some(crate::tags::immutable_tag(version, &entry.image_id)),
            sources,
        };
        moved.extend(pool.bring(0, &[need]).await.map_err(|e| match e {
            super::HandoffError::Lost { builder, error } => lost(pool, builder, &error),
            super::HandoffError::Failed(m) | super::HandoffError::Registry(m) => m,
        })?);
    }
    Ok((left, moved))
}

/// Of `names` (recorded images the first builder lacks), those no other builder holds: the
/// ones to fetch by their pushed digest. The rest stay where they are; a run takes them from
/// there when it needs them elsewhere.
pub async fn held_nowhere(pool: &Pool, repo: &Repository, names: Vec<ImageName>) -> Vec<ImageName> {
    let mut nowhere = Vec::new();
    for name in names {
        let held = match repo.lock.images.get(name.as_str()) {
            Some(entry) => !holders(pool, &entry.image_id).await.is_empty(),
            None => false,
        };
        if !held {
            nowhere.push(name);
        }
    }
    nowhere
}

/// The builders other than the first that hold the image `id`.
async fn holders(pool: &Pool, id: &str) -> Vec<usize> {
    let mut sources = Vec::new();
    if !pool.is_shared() {
        return sources;
    }
    for builder in 1..pool.members.len() {
        let facts = pool.members[builder].engine.inspect(id).await;
        if facts.is_ok_and(|f| f.is_some_and(|f| f.id == id)) {
            sources.push(builder);
        }
    }
    sources
}

fn lost(pool: &Pool, builder: usize, error: &EngineError) -> String {
    format!(
        "builder `{}` stopped answering: {error}",
        pool.name(builder)
    )
}
