//! Images crossing to the builder a job runs on, through the catalog's registry: pushed from a
//! builder that holds it under its immutable tag (once per image in a run), pulled by digest,
//! and verified to be the same image id before anything is built on it. An image already in a
//! registry (pushed by an earlier run, or a base's `from` pulled from one) is pulled by its
//! digest without a push.

use std::time::Instant;

use serde::Serialize;

use super::Pool;
use crate::engine::EngineError;

/// An image a job needs on its builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// What it is, for messages and the report (`python`, `from of base`).
    pub image: String,
    pub image_id: String,
    /// The repository it crosses through.
    pub repository: String,
    /// The tag it is pushed under there; `None` when it can only be pulled by a known copy.
    pub tag: Option<String>,
    /// The live builders holding it when the job was placed.
    pub sources: Vec<usize>,
}

/// An image that crossed to a job's builder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    pub image: String,
    pub image_id: String,
    /// The builder it was pushed from, or `registry` when a copy was there already.
    pub from: String,
    pub to: String,
    pub seconds: f64,
}

/// Why a handoff did not happen.
#[derive(Debug)]
pub enum HandoffError {
    /// A builder stopped answering (the job's own, or the one it was pushing from).
    Lost { builder: usize, error: EngineError },
    /// The image cannot cross (the registry refused, or served another image).
    Failed(String),
}

impl Pool {
    /// Brings each of `needs` to `builder`; what crossed.
    pub async fn bring(&self, builder: usize, needs: &[Need]) -> Result<Vec<Moved>, HandoffError> {
        let mut moved = Vec::new();
        for need in needs {
            moved.extend(self.bring_one(builder, need).await?);
        }
        Ok(moved)
    }

    async fn bring_one(&self, to: usize, need: &Need) -> Result<Option<Moved>, HandoffError> {
        let lost = |error| HandoffError::Lost { builder: to, error };
        let lock = self.lock_for(Some(to), &need.image_id);
        let _held = lock.lock().await;
        let engine = &self.members[to].engine;
        let held = engine
            .inspect(&need.image_id)
            .await
            .map_err(|e| self.judge(to, e))?;
        if held.is_some_and(|facts| facts.id == need.image_id) {
            return Ok(None);
        }
        let start = Instant::now();
        let (copy, from) = self.copy(need).await?;
        engine
            .pull(&copy)
            .await
            .map_err(|e| match e.is_engine_lost() {
                true => lost(e),
                false => HandoffError::Failed(format!(
                    "cannot pull {copy} to builder `{}`: {e}",
                    self.name(to)
                )),
            })?;
        let got = engine.inspect(&copy).await.map_err(|e| self.judge(to, e))?;
        let got = got.map(|f| f.id).unwrap_or_default();
        if got != need.image_id {
            return Err(HandoffError::Failed(format!(
                "the registry served {copy} as image {got}, not {} ({}): nothing is built on it",
                need.image_id, need.image
            )));
        }
        Ok(Some(Moved {
            image: need.image.clone(),
            image_id: need.image_id.clone(),
            from,
            to: self.name(to).to_string(),
            seconds: crate::report::seconds(start.elapsed()),
        }))
    }

    /// A registry copy of the image: known, or pushed now from a builder holding it (once).
    async fn copy(&self, need: &Need) -> Result<(String, String), HandoffError> {
        let lock = self.lock_for(None, &need.image_id);
        let _held = lock.lock().await;
        if let Some(copy) = self.copy_of(&need.image_id) {
            return Ok((copy, "registry".to_string()));
        }
        let Some(tag) = &need.tag else {
            return Err(HandoffError::Failed(format!(
                "{} ({}) is on no builder that answers, and in no registry",
                need.image, need.image_id
            )));
        };
        let mut why = Vec::new();
        for &source in &need.sources {
            let engine = &self.members[source].engine;
            let pushed = async {
                engine.tag(&need.image_id, &need.repository, tag).await?;
                engine.push(&need.repository, tag).await
            };
            match pushed.await {
                Ok(digest) => {
                    let copy = format!("{}@{digest}", need.repository);
                    self.add_copy(&need.image_id, copy.clone());
                    return Ok((copy, self.name(source).to_string()));
                }
                Err(e) if e.is_engine_lost() => {
                    return Err(HandoffError::Lost {
                        builder: source,
                        error: e,
                    });
                }
                Err(e) => why.push(format!("from builder `{}`: {e}", self.name(source))),
            }
        }
        Err(HandoffError::Failed(format!(
            "cannot push {}:{tag} ({}) for another builder: {}",
            need.repository,
            need.image,
            match why.is_empty() {
                true => "no builder that answers holds it".to_string(),
                false => why.join("; "),
            }
        )))
    }

    /// An error of the job's own builder: lost, or a failure.
    fn judge(&self, builder: usize, error: EngineError) -> HandoffError {
        match error.is_engine_lost() {
            true => HandoffError::Lost { builder, error },
            false => HandoffError::Failed(format!("builder `{}`: {error}", self.name(builder))),
        }
    }
}
