//! Images crossing to the builder a job runs on, through the catalog's registry: pushed from a
//! builder that holds it under its immutable tag (once per image in a run), pulled by digest,
//! and verified to be the same image id before anything is built on it. An image already in a
//! registry (pushed by an earlier run, or a base's `from` pulled from one) is pulled by its
//! digest without a push.

use std::time::Instant;

use serde::Serialize;

use super::Pool;
use crate::engine::EngineError;

/// Where an image came from when a copy was in a registry already.
const REGISTRY: &str = "registry";

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
    /// The registry did not answer: nothing can cross (the run stops, exit 3).
    Registry(String),
}

/// How long one image has to cross (a registry or builder that accepts and never answers).
const CROSS_WITHIN: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A push or pull that failed: the registry did not answer, or it refused.
fn registry_or(e: &EngineError, message: String) -> HandoffError {
    match e.is_unreachable() {
        true => HandoffError::Registry(message),
        false => HandoffError::Failed(message),
    }
}

impl Pool {
    /// Brings each of `needs` to `builder`; what crossed.
    pub async fn bring(&self, builder: usize, needs: &[Need]) -> Result<Vec<Moved>, HandoffError> {
        let mut moved = Vec::new();
        for need in needs {
            let crossed = tokio::time::timeout(CROSS_WITHIN, self.bring_one(builder, need)).await;
            let crossed = crossed.map_err(|_| {
                HandoffError::Failed(format!(
                    "{} did not cross to builder `{}` within {}",
                    need.image,
                    self.name(builder),
                    humantime::format_duration(CROSS_WITHIN)
                ))
            })?;
            moved.extend(crossed?);
        }
        Ok(moved)
    }

    async fn bring_one(&self, to: usize, need: &Need) -> Result<Option<Moved>, HandoffError> {
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
        let from = match self.pull(to, need, &copy).await {
            Ok(()) => from,
            // A copy known before the run that cannot be pulled (gone from the registry, say):
            // forgotten, and the image is pushed afresh from a builder that holds it.
            Err(HandoffError::Failed(why)) if from == REGISTRY && need.tag.is_some() => {
                self.forget_copy(&need.image_id, &copy);
                let (copy, from) = self.copy(need).await.map_err(|e| match e {
                    HandoffError::Failed(m) => HandoffError::Failed(format!("{why}; {m}")),
                    other => other,
                })?;
                self.pull(to, need, &copy).await?;
                from
            }
            Err(e) => return Err(e),
        };
        Ok(Some(Moved {
            image: need.image.clone(),
            image_id: need.image_id.clone(),
            from,
            to: self.name(to).to_string(),
            seconds: crate::report::seconds(start.elapsed()),
        }))
    }

    /// Pulls `copy` to builder `to` and checks it is the image needed.
    async fn pull(&self, to: usize, need: &Need, copy: &str) -> Result<(), HandoffError> {
        let engine = &self.members[to].engine;
        engine
            .pull(copy)
            .await
            .map_err(|e| match e.is_engine_lost() {
                true => HandoffError::Lost {
                    builder: to,
                    error: e,
                },
                false => registry_or(
                    &e,
                    format!("cannot pull {copy} to builder `{}`: {e}", self.name(to)),
                ),
            })?;
        let got = engine.inspect(copy).await.map_err(|e| self.judge(to, e))?;
        let got = got.map(|f| f.id).unwrap_or_default();
        if got != need.image_id {
            return Err(HandoffError::Failed(format!(
                "the registry served {copy} as image {got}, not {} ({}): nothing is built on it",
                need.image_id, need.image
            )));
        }
        Ok(())
    }

    /// A registry copy of the image: known, or pushed now from a builder holding it (once).
    async fn copy(&self, need: &Need) -> Result<(String, String), HandoffError> {
        let lock = self.lock_for(None, &need.image_id);
        let _held = lock.lock().await;
        if let Some(copy) = self.copy_of(&need.image_id) {
            return Ok((copy, REGISTRY.to_string()));
        }
        let Some(tag) = &need.tag else {
            return Err(HandoffError::Failed(format!(
                "{} ({}) is on no builder that answers, and in no registry",
                need.image, need.image_id
            )));
        };
        let mut why = Vec::new();
        let mut lost = None;
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
                // Another builder may hold it too: the loss is told only if none could push.
                Err(e) if e.is_engine_lost() => {
                    lost.get_or_insert(HandoffError::Lost {
                        builder: source,
                        error: e,
                    });
                }
                Err(e) if e.is_unreachable() => {
                    let message = format!(
                        "cannot push {}:{tag} ({}) for another builder: {e}",
                        need.repository, need.image
                    );
                    return Err(HandoffError::Registry(message));
                }
                Err(e) => why.push(format!("from builder `{}`: {e}", self.name(source))),
            }
        }
        if let Some(lost) = lost {
            return Err(lost);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::fake::{Call, Fake, Registry};
    use crate::pool::{Member, Pool};

    const WANT: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const OTHER: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn pool(registry: &Registry) -> Pool {
        let members = ["first", "second", "third"]
            .iter()
            .map(|name| Member {
                name: name.to_string(),
                engine: Arc::new(Fake::in_pool(name, registry.clone())),
                jobs: 1,
                tunnel: None,
            })
            .collect();
        Pool::new(members)
    }

    fn need(sources: Vec<usize>) -> Need {
        Need {
            image: "base".into(),
            image_id: WANT.into(),
            repository: "reg.test/t/base".into(),
            tag: Some("1.0.0-111111111111".into()),
            sources,
        }
    }

    #[tokio::test]
    async fn an_image_crosses_once_and_is_verified() {
        let registry = Registry::default();
        let fakes: Vec<Arc<Fake>> = ["first", "second", "third"]
            .iter()
            .map(|n| Arc::new(Fake::in_pool(n, registry.clone())))
            .collect();
        fakes[0].add_image(WANT, &[]);
        let pool = Pool::new(
            fakes
                .iter()
                .enumerate()
                .map(|(b, f)| Member {
                    name: format!("b{b}"),
                    engine: f.clone(),
                    jobs: 1,
                    tunnel: None,
                })
                .collect(),
        );
        let needs = [need(vec![0])];
        let (second, third) = tokio::join!(pool.bring(1, &needs), pool.bring(2, &needs));
        let (second, third) = (second.unwrap(), third.unwrap());
        assert_eq!(second.len() + third.len(), 2);
        let pushes = fakes[0]
            .calls()
            .into_iter()
            .filter(|c| matches!(c, Call::Push(_)))
            .count();
        assert_eq!(pushes, 1, "one push serves both builders");
        assert_eq!(fakes[1].resolve(WANT).as_deref(), Some(WANT));
        // Already there: nothing crosses again.
        assert!(pool.bring(1, &[need(vec![0])]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_registry_serving_another_image_is_refused() {
        let registry = Registry::default();
        registry
            .lock()
            .unwrap()
            .insert("reg.test/t/base@sha256:feed".into(), OTHER.into());
        let pool = pool(&registry);
        pool.add_copy(WANT, "reg.test/t/base@sha256:feed".into());
        match pool.bring(1, &[need(vec![])]).await {
            Err(HandoffError::Failed(m)) => {
                assert!(
                    m.contains(OTHER) && m.contains("nothing is built on it"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_copy_the_registry_no_longer_has_falls_back_to_a_push() {
        let registry = Registry::default();
        let first = Arc::new(Fake::in_pool("first", registry.clone()));
        first.add_image(WANT, &[]);
        let second = Arc::new(Fake::in_pool("second", registry));
        let pool = Pool::new(vec![
            Member {
                name: "first".into(),
                engine: first.clone(),
                jobs: 1,
                tunnel: None,
            },
            Member {
                name: "second".into(),
                engine: second.clone(),
                jobs: 1,
                tunnel: None,
            },
        ]);
        pool.add_copy(WANT, "reg.test/t/base@sha256:gone".into());
        let moved = pool.bring(1, &[need(vec![0])]).await.unwrap();
        assert_eq!(moved[0].from, "first");
        assert_eq!(second.resolve(WANT).as_deref(), Some(WANT));
        assert_ne!(
            pool.copy_of(WANT).as_deref(),
            Some("reg.test/t/base@sha256:gone")
        );
    }

    #[tokio::test]
    async fn a_registry_that_does_not_answer_stops_the_crossing() {
        let registry = Registry::default();
        let fake = Fake::in_pool("first", registry.clone());
        fake.add_image(WANT, &[]);
        fake.script(
            "push reg.test/t/base:1.0.0-111111111111",
            crate::engine::fake::Scripted::Fail(EngineError::RegistryUnreachable {
                registry: "reg.test".into(),
                message: "connection refused".into(),
            }),
        );
        let members = vec![
            Member {
                name: "first".into(),
                engine: Arc::new(fake),
                jobs: 1,
                tunnel: None,
            },
            Member {
                name: "second".into(),
                engine: Arc::new(Fake::in_pool("second", registry)),
                jobs: 1,
                tunnel: None,
            },
        ];
        let pool = Pool::new(members);
        match pool.bring(1, &[need(vec![0])]).await {
            Err(HandoffError::Registry(m)) => assert!(m.contains("connection refused"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_image_no_builder_holds_and_no_registry_has_cannot_cross() {
        let pool = pool(&Registry::default());
        match pool.bring(1, &[need(vec![])]).await {
            Err(HandoffError::Failed(m)) => assert!(m.contains("cannot push"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
