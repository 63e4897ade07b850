//! Where each ready image runs when the run has several builders: what it builds on (its
//! parent, its `uses`, a base's `from`) as needs, the builder [`Placement`] chooses for it, the
//! images each builder held when the run began, what a finished job leaves on its builder, and
//! a builder that stopped answering (what ran there starts again elsewhere, a bounded number of
//! times). With one engine nothing crosses and every job goes to it.

use std::collections::HashMap;
use std::sync::Arc;

use super::RunLoop;
use crate::catalog::Origin;
use crate::engine::EngineError;
use crate::name::ImageName;
use crate::pool::place::Needs;
use crate::pool::{HandoffError, Need, Pool};
use crate::rebuild::outcome::{Failure, JobOutcome, JobResult};
use crate::rebuild::policy::Decision;

/// A job lost with its builder starts again at most this many times.
pub const RESTARTS: usize = 2;

/// What becomes of a ready image now.
pub enum Placing {
    /// Its recorded image stays (the policy keeps it): no builder needed.
    Keep,
    /// It runs on this builder, once these images crossed to it.
    On {
        builder: usize,
        needs: Vec<Need>,
        decision: Option<Decision>,
    },
    /// It can never run: what it builds on is out of reach.
    Never(String),
    /// Not now: no builder that can take it has a free slot.
    Later,
}

impl RunLoop<'_> {
    /// Where the ready image `index` goes now.
    pub(super) fn placing(&self, index: usize) -> Placing {
        let name = &self.planned[index];
        let tests_only = self.tests_only.contains(name);
        let decision = match tests_only {
            true => None,
            false => Some(self.decision(name)),
        };
        if decision == Some(Decision::Keep) {
            return Placing::Keep;
        }
        let needs = match (self.pool.is_shared(), tests_only) {
            (false, _) => Vec::new(),
            (true, true) => {
                vec![self.catalog_need(name, &self.recorder.lock().images[name.as_str()].image_id)]
            }
            (true, false) => self.build_needs(name),
        };
        let mut placed = Needs::default();
        for need in &needs {
            let movable = need.tag.is_some() || self.pool.copy_of(&need.image_id).is_some();
            if movable && need.sources.is_empty() && self.pool.copy_of(&need.image_id).is_none() {
                return Placing::Never(format!(
                    "{} ({}) is held by no builder that answers and by no registry",
                    need.image, need.image_id
                ));
            }
            match movable {
                true => placed.movable.push(need.image_id.clone()),
                false => placed.fixed.push(need.image_id.clone()),
            }
        }
        if !self.placement.possible(&placed) {
            return Placing::Never(format!(
                "{} exists on no builder that answers and cannot cross to one",
                needs
                    .iter()
                    .map(|n| n.image.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        match self.placement.choose(&placed) {
            Some(builder) => Placing::On {
                builder,
                needs,
                decision,
            },
            None => Placing::Later,
        }
    }

    /// What the policy says of building `name` now.
    fn decision(&self, name: &ImageName) -> Decision {
        let built_on_promoted = self
            .setting
            .repo
            .catalog
            .image(name)
            .dependencies()
            .any(|d| self.promoted.contains(&d.name));
        self.policy
            .decide(name, built_on_promoted, self.limits.no_cache)
    }

    /// Runs `job` on `builder` once its needs crossed there.
    pub(super) fn launch(
        &mut self,
        name: &ImageName,
        (builder, needs): (usize, Vec<Need>),
        job: impl std::future::Future<Output = crate::rebuild::outcome::JobResult> + Send + 'static,
    ) {
        self.placement.start(builder);
        self.on.insert(name.clone(), builder);
        let log = self.setting.log_dir.join(format!("{name}.log"));
        let placed = placed(self.pool.clone(), builder, needs, name.clone(), log, job);
        let handle = self.tasks.spawn(placed);
        self.task_names.insert(handle.id(), name.clone());
    }

    /// What a build of `name` builds on.
    fn build_needs(&self, name: &ImageName) -> Vec<Need> {
        let image = self.setting.repo.catalog.image(name);
        let mut needs = Vec::new();
        match &image.origin {
            Origin::Parent(dep) => {
                needs.push(self.catalog_need(&dep.name, &self.exact.ids[&dep.name]))
            }
            Origin::Base { from, .. } => {
                let id = &self.exact.upstreams[name].local_id;
                needs.push(Need {
                    image: format!("the `from` of {name} ({from})"),
                    image_id: id.clone(),
                    repository: crate::rebuild::upstream::repository_of(from).unwrap_or_default(),
                    tag: None,
                    sources: self.placement.holders(id),
                });
            }
        }
        for dep in &image.uses {
            needs.push(self.catalog_need(&dep.name, &self.exact.ids[&dep.name]));
        }
        needs
    }

    /// A catalog image `name` as image `id`, crossing under its immutable tag.
    fn catalog_need(&self, name: &ImageName, id: &str) -> Need {
        let catalog = &self.setting.repo.catalog;
        Need {
            image: name.to_string(),
            image_id: id.to_string(),
            repository: catalog.repository(name),
            tag: Some(crate::tags::immutable_tag(&catalog.image(name).version, id)),
            sources: self.placement.holders(id),
        }
    }

    /// Which of the images the run builds on each builder holds, and the registry copies the
    /// lock records of them (pulled by digest and verified before use, never trusted as is).
    pub(super) async fn survey(&mut self) {
        if !self.pool.is_shared() {
            return;
        }
        let repo = self.setting.repo;
        for (name, id) in &self.exact.ids {
            let repository = repo.catalog.repository(name);
            let pushed = repo
                .lock
                .images
                .get(name.as_str())
                .filter(|e| &e.image_id == id);
            if let Some(digest) = pushed.and_then(|e| e.pushed.get(&repository)) {
                self.pool.add_copy(id, format!("{repository}@{digest}"));
            }
        }
        for (name, upstream) in &self.exact.upstreams {
            let Origin::Base { from, .. } = &repo.catalog.image(name).origin else {
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
        let ids: Vec<String> = self
            .exact
            .ids
            .values()
            .chain(self.exact.upstreams.values().map(|u| &u.local_id))
            .cloned()
            .collect();
        for (builder, held) in held_by(&self.pool, &ids).await.into_iter().enumerate() {
            for id in held {
                self.placement.hold(builder, &id);
            }
        }
    }

    /// A finished job's builder: its slot is free, and it holds what crossed to it and what it
    /// built.
    pub(super) fn returned(&mut self, result: &JobResult) -> Option<usize> {
        let builder = self.on.remove(&result.name)?;
        self.placement.finish(builder);
        if self.placement.is_alive(builder) {
            for moved in &result.moved {
                self.placement.hold(builder, &moved.image_id);
            }
            if let JobOutcome::Built(built) = &result.outcome {
                self.placement.hold(builder, &built.image_id);
            }
        }
        Some(builder)
    }

    /// A job whose builder (or the builder an image was crossing from) stopped answering: that
    /// builder takes nothing more in this run, and the job starts again elsewhere. `false` when
    /// it cannot: one engine, no builder left, or started too many times.
    pub(super) fn lost(&mut self, name: &ImageName, builder: usize, error: &EngineError) -> bool {
        if !self.pool.is_shared() {
            return false;
        }
        if self.placement.is_alive(builder) {
            self.placement.lose(builder);
            self.scheduler.set_limit(self.placement.capacity());
            self.notes.push_str(&format!(
                "\nbuilder `{}` stopped answering ({error}); what ran there starts again on the others\n",
                self.pool.name(builder)
            ));
        }
        let restarts = self.restarts.entry(name.clone()).or_default();
        let again = self.placement.any_alive() && restarts.len() < RESTARTS;
        if again {
            restarts.push(self.pool.name(builder).to_string());
            self.scheduler.restart(self.index_of[name]);
        }
        self.reopen_stranded(builder);
        again
    }

    /// Images this run built that only the lost builder held (never pushed, never crossed)
    /// while something still to run needs them: each is built again (a bounded number of
    /// times), and what needs it waits for it.
    fn reopen_stranded(&mut self, lost: usize) {
        loop {
            let stranded: Vec<usize> = (0..self.planned.len())
                .filter(|&i| self.is_stranded(i, lost))
                .collect();
            if stranded.is_empty() {
                return;
            }
            for i in stranded {
                let name = self.planned[i].clone();
                let restarts = self.restarts.entry(name.clone()).or_default();
                restarts.push(self.pool.name(lost).to_string());
                self.scheduler.reopen(i);
                self.notes.push_str(&format!(
                    "{name} was only on builder `{}`: it is built again\n",
                    self.pool.name(lost)
                ));
            }
        }
    }

    /// Whether image `i` was built in this run, is now out of reach, and is still needed.
    fn is_stranded(&self, i: usize, lost: usize) -> bool {
        use crate::schedule::State;
        let name = &self.planned[i];
        if self.scheduler.state(i) != State::Succeeded
            || !self.prepared.contains_key(name)
            || self.restarts.get(name).is_some_and(|r| r.len() >= RESTARTS)
        {
            return false;
        }
        let Some(id) = self.exact.ids.get(name) else {
            return false;
        };
        let out_of_reach = self.placement.holders(id).is_empty() && self.pool.copy_of(id).is_none();
        out_of_reach
            && self
                .scheduler
                .dependents(i)
                .iter()
                .any(|&c| match self.scheduler.state(c) {
                    State::Waiting | State::Ready => true,
                    State::Running => self.on.get(&self.planned[c]) == Some(&lost),
                    _ => false,
                })
    }

    /// The builder holding each image the run built on or built, for what follows the run.
    pub(super) fn holders(&self) -> HashMap<String, usize> {
        self.exact
            .ids
            .values()
            .filter_map(|id| Some((id.clone(), *self.placement.holders(id).first()?)))
            .collect()
    }
}

/// Which of `ids` each builder holds (an engine that does not answer holds none).
async fn held_by(pool: &Pool, ids: &[String]) -> Vec<Vec<String>> {
    let asks = pool.members.iter().map(|member| async move {
        let mut held = Vec::new();
        for id in ids {
            let facts = member.engine.inspect(id).await;
            if facts.is_ok_and(|f| f.is_some_and(|f| &f.id == id)) {
                held.push(id.clone());
            }
        }
        held
    });
    futures_util::future::join_all(asks).await
}

/// A job placed on `builder`: what it builds on crosses there first, then `job` runs.
pub async fn placed(
    pool: Arc<Pool>,
    builder: usize,
    needs: Vec<Need>,
    name: ImageName,
    log: std::path::PathBuf,
    job: impl std::future::Future<Output = JobResult>,
) -> JobResult {
    let start = std::time::Instant::now();
    let outcome = match pool.bring(builder, &needs).await {
        Ok(moved) => {
            let mut result = job.await;
            result.moved = moved;
            return result;
        }
        Err(HandoffError::Lost { builder: b, error }) if b == builder => {
            JobOutcome::EngineLost(error)
        }
        Err(HandoffError::Lost { builder: b, error }) => JobOutcome::SourceLost(b, error),
        Err(HandoffError::Failed(m)) => JobOutcome::Failed(crate::rebuild::outcome::Failed {
            failure: Failure::Handoff(m),
            image_id: None,
            output: Vec::new(),
        }),
    };
    JobResult {
        name,
        outcome,
        duration: start.elapsed(),
        log,
        moved: Vec::new(),
    }
}
