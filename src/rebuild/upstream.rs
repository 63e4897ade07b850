//! The identity of a base's `from`: the local image a base builds on, and what the lock records
//! for it (a manifest digest when it came from a registry, else the local image id) — as the
//! lock records it (`rebuild`) or resolved afresh (`refresh`).

use crate::catalog::Image;
use crate::engine::{Engine, EngineError, ImageFacts};

use crate::reference::Reference;

/// The identity of a base's `from`: the local image it builds on, and what the lock records
/// (a manifest digest when it came from a registry, else the local image id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub local_id: String,
    pub recorded: String,
    pub manifest_digest: Option<String>,
}

/// A base's `from` as the lock records it (`recorded`), pulled by its digest when the engine
/// lacks it; the first time, what the engine has under that name.
pub async fn resolve_from(
    engine: &dyn Engine,
    image: &Image,
    from: &str,
    recorded: Option<&str>,
) -> Result<Upstream, EngineError> {
    let repository = repository_of(from)?;
    let lookup = match recorded {
        Some(id) if !id.is_empty() => {
            // A local id is found as itself; a manifest digest through the repository, pulled
            // by that digest when the engine lacks it (a fresh runner).
            let by_digest = format!("{repository}@{id}");
            match engine.inspect(id).await? {
                Some(facts) => Some(facts),
                None => match engine.inspect(&by_digest).await? {
                    Some(facts) => Some(facts),
                    None => {
                        engine.pull(&by_digest).await.map_err(|e| match e {
                            EngineError::Failed(m) => EngineError::Failed(format!(
                                "the engine lacks {from} as the lock records it ({id}) for base `{}`, and pulling it failed: {m}; import it, or run `hier refresh {}` to move the base",
                                image.name, image.name
                            )),
                            other => other,
                        })?;
                        engine.inspect(&by_digest).await?
                    }
                },
            }
        }
        _ => engine.inspect(from).await?,
    };
    let Some(facts) = lookup else {
        return Err(EngineError::Failed(match recorded {
            Some(id) => format!(
                "the engine lacks {from} as the lock records it ({id}) for base `{}`; pull or import it, or run `hier refresh {}` to move the base",
                image.name, image.name
            ),
            None => format!(
                "the engine has no image {from} (the `from` of base `{}`); pull or import it",
                image.name
            ),
        }));
    };
    let manifest_digest = manifest_digest(&facts, &repository);
    let recorded = match recorded {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => manifest_digest.clone().unwrap_or_else(|| facts.id.clone()),
    };
    Ok(Upstream {
        local_id: facts.id,
        recorded,
        manifest_digest,
    })
}

/// Resolves a due base's upstream afresh (`hier refresh`): a `from` that came from a registry (it has a repository
/// digest, or the engine lacks it) is resolved there and pulled fresh; one that exists only in
/// the engine (imported) is identified by its local image id.
pub async fn fresh_upstream(
    engine: &dyn Engine,
    from: &str,
    pull: bool,
) -> Result<Upstream, EngineError> {
    let repository = repository_of(from)?;
    let local = engine.inspect(from).await?;
    let from_registry = match &local {
        None => true,
        Some(facts) => manifest_digest(facts, &repository).is_some(),
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

/// The repository of a `from`, as the engine names it in `RepoDigests`.
pub fn repository_of(from: &str) -> Result<String, EngineError> {
    let reference = Reference::parse(from).map_err(EngineError::Failed)?;
    Ok(crate::reference::familiar(&reference.repository).to_string())
}

/// The manifest digest an image was pulled as from `repository`, if it came from there.
fn manifest_digest(facts: &ImageFacts, repository: &str) -> Option<String> {
    let prefix = format!("{repository}@");
    facts
        .repo_digests
        .iter()
        .filter_map(|d| d.strip_prefix(&prefix))
        .find(|d| crate::lock::is_digest(d))
        .map(str::to_string)
}
