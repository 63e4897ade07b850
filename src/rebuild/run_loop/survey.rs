//! What each builder of a pool holds when a run begins: every image the run builds on (a
//! base's `from` included) and the recorded builds of the images it plans (of every recorded
//! image when it pushes), asked of all builders side by side, a few at a time, within a time
//! limit. A builder that stops answering meanwhile is lost before
//! anything goes to it. The registry copies the lock records (and a `from` pulled from a
//! registry) are noted too; each is pulled by digest and verified before use, never trusted as
//! it is.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;

use super::RunLoop;
use crate::catalog::Origin;
use crate::engine::{Engine, EngineError};
use crate::name::ImageName;

/// How many images are asked of one builder at once, and how long a builder has for all.
const AT_ONCE: usize = 8;
const WITHIN: Duration = Duration::from_secs(60);

impl RunLoop<'_> {
    pub(super) async fn survey(&mut self) {
        if !self.pool.is_shared() {
            return;
        }
        self.note_copies();
        // What the run builds on, the recorded builds of what it plans, and (when it pushes,
        // catching up on what a registry lacks) every recorded image.
        let mut ids: BTreeSet<String> = self.exact.ids.values().cloned().collect();
        ids.extend(self.exact.upstreams.values().map(|u| u.local_id.clone()));
        let lock = self.recorder.lock();
        let planned = |name: &&String| {
            self.setting.push
                || ImageName::parse(name).is_ok_and(|n| self.index_of.contains_key(&n))
        };
        ids.extend(
            lock.images
                .iter()
                .filter(|(name, _)| planned(name))
                .map(|(_, e)| e.image_id.clone()),
        );
        let ids: Vec<String> = ids.into_iter().collect();
        let asks = self
            .pool
            .members
            .iter()
            .map(|member| held(&*member.engine, &ids));
        let answers = futures_util::future::join_all(asks).await;
        for (builder, answer) in answers.into_iter().enumerate() {
            match answer {
                Ok(held) => held.iter().for_each(|id| self.placement.hold(builder, id)),
                Err(e) => {
                    self.placement.lose(builder);
                    self.notes.push_str(&format!(
                        "\nbuilder `{}` stopped answering before the run began ({e}); the run goes on without it\n",
                        self.pool.name(builder)
                    ));
                }
            }
        }
        self.scheduler.set_limit(self.placement.capacity());
    }

    /// The registry copies of recorded images (pushed to the catalog's registry) and of the
    /// bases' `from` pulled from a registry.
    fn note_copies(&self) {
        let catalog = &self.setting.repo.catalog;
        for (name, entry) in &self.recorder.lock().images {
            let Ok(name) = ImageName::parse(name) else {
                continue;
            };
            let repository = catalog.repository(&name);
            if let Some(digest) = entry.pushed.get(&repository) {
                self.pool
                    .add_copy(&entry.image_id, format!("{repository}@{digest}"));
            }
        }
        for (name, upstream) in &self.exact.upstreams {
            let Origin::Base { from, .. } = &catalog.image(name).origin else {
                continue;
            };
            if let (Some(digest), Ok(repository)) = (
                &upstream.manifest_digest,
                crate::rebuild::upstream::repository_of(from),
            ) {
                self.pool
                    .add_copy(&upstream.local_id, format!("{repository}@{digest}"));
            }
        }
    }
}

/// Which of `ids` an engine holds; an error when it stops answering (or takes too long).
async fn held(engine: &dyn Engine, ids: &[String]) -> Result<Vec<String>, EngineError> {
    let asked = futures_util::stream::iter(ids)
        .map(|id| async move { (id, engine.inspect(id).await) })
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>();
    let answers =
        tokio::time::timeout(WITHIN, asked)
            .await
            .map_err(|_| EngineError::Unreachable {
                endpoint: engine.endpoint().to_string(),
                message: format!("it did not say which images it holds within {WITHIN:?}"),
            })?;
    let mut held = Vec::new();
    for (id, answer) in answers {
        match answer {
            Ok(Some(facts)) if &facts.id == id => held.push(id.clone()),
            Err(e) if e.is_engine_lost() => return Err(e),
            _ => {}
        }
    }
    Ok(held)
}
