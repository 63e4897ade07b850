//! Where each ready image runs when the run has several builders: what it builds on (its
//! parent, its `uses`, a base's `from`) as needs, the builder [`Placement`] chooses for it,
//! what crosses there before the job starts, and what a finished job leaves on its builder.
//! With one engine nothing crosses and every job goes to it.
//!
//! [`Placement`]: crate::pool::place::Placement

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
        self.handles.insert(name.clone(), handle);
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

    /// A finished job's builder: its slot is free, and it holds what crossed to it and what it
    /// built.
    pub(super) fn returned(&mut self, result: &mut JobResult) -> Option<usize> {
        self.handles.remove(&result.name);
        // It ended before it could be stopped: what became of it decides.
        self.moving.remove(&result.name);
        let builder = self.on.remove(&result.name)?;
        self.placement.finish(builder);
        if !self.placement.is_alive(builder) {
            self.ended_on_lost_builder(result, builder);
        } else {
            for moved in &result.moved {
                self.placement.hold(builder, &moved.image_id);
            }
            if let JobOutcome::Built(built) = &result.outcome {
                self.placement.hold(builder, &built.image_id);
            }
        }
        Some(builder)
    }

    /// A job that ended on a builder already lost: what it built is out of reach unless it was
    /// pushed to the catalog's registry, and a failure may be the loss itself, so either starts
    /// again; a recorded image kept or tested stays as it is.
    fn ended_on_lost_builder(&self, result: &mut JobResult, builder: usize) {
        let repository = self.setting.repo.catalog.repository(&result.name);
        let again = match &result.outcome {
            JobOutcome::Built(built) => !built.pushed.contains_key(&repository),
            JobOutcome::Failed(_) => true,
            _ => false,
        };
        if again {
            result.outcome = JobOutcome::EngineLost(EngineError::Unreachable {
                endpoint: self.pool.name(builder).to_string(),
                message: "it stopped answering while this job ran there".into(),
            });
        }
    }

    /// The builder holding each image the run built on or built, for what follows the run.
    pub(super) fn holders(&self) -> (HashMap<String, usize>, usize) {
        self.placement.holdings()
    }
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
        Err(HandoffError::Registry(m)) => JobOutcome::Failed(crate::rebuild::outcome::Failed {
            failure: Failure::Registry(m),
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
