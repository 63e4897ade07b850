//! The refresh's rules, plugged into the run loop: an image is rebuilt when it is a candidate
//! (a due base, pending OS updates, named) or something it builds on was promoted; a candidate
//! is rebuilt with no cache. A rebuilt image is promoted when something it builds on was
//! promoted, its upstream moved, or its OS packages changed; otherwise the old image stays.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;

use crate::engine::{Engine, EngineError};
use crate::lock::Lock;
use crate::name::ImageName;
use crate::packages;
use crate::rebuild::outcome::PackageFacts;
use crate::rebuild::policy::{Candidate, Decision, Policy, Verdict};
use crate::rebuild::upstream::Upstream;
use crate::report::ImageReport;

/// What a refresh decided before building.
pub struct RefreshPolicy {
    /// The images rebuilt with no cache, and why (due bases, pending updates, named images).
    pub candidates: BTreeMap<ImageName, String>,
    /// Fresh identities of the due bases' `from`.
    pub upstreams: HashMap<ImageName, Upstream>,
    /// The identity each due base had before (from the lock).
    pub old_upstreams: HashMap<ImageName, Option<String>>,
    /// The lock before the refresh: the images a rebuilt one would replace.
    pub lock: Lock,
    /// The engine holding the recorded images (the first builder of a pool, which fetched any
    /// it lacked): their packages are read there, whichever builder built the new image.
    pub recorded_on: Arc<dyn Engine>,
}

impl RefreshPolicy {
    fn upstream_moved(&self, name: &ImageName) -> bool {
        match (self.upstreams.get(name), self.old_upstreams.get(name)) {
            (Some(new), Some(old)) => old.as_deref() != Some(new.recorded.as_str()),
            _ => false,
        }
    }
}

#[async_trait]
impl Policy for RefreshPolicy {
    fn decide(&self, name: &ImageName, built_on_promoted: bool, no_cache: bool) -> Decision {
        let candidate = self.candidates.contains_key(name);
        if !candidate && !built_on_promoted {
            return Decision::Keep;
        }
        Decision::Build {
            no_cache: no_cache || candidate,
            must_promote: built_on_promoted || self.upstream_moved(name),
        }
    }

    /// Compares the new image's OS packages with the old image's: the same (and nothing else
    /// moved) keeps the old image.
    async fn judge(
        &self,
        engine: &dyn Engine,
        candidate: &Candidate<'_>,
    ) -> Result<Verdict, EngineError> {
        let new = packages::inventory(engine, candidate.repository, candidate.image_id).await?;
        // The old image's packages: `None` inside when it has no package database, `None`
        // outside when there is no old image to compare with (or it cannot be read).
        let old = match self.lock.images.get(candidate.name.as_str()) {
            Some(entry) => {
                packages::inventory(&*self.recorded_on, candidate.repository, &entry.image_id)
                    .await
                    .ok()
            }
            None => None,
        };
        if old.as_ref() == Some(&new) && !candidate.must_promote {
            return Ok(Verdict::Keep);
        }
        let changes = match (&old, &new) {
            (Some(Some(o)), Some(n)) => Some(packages::diff(o, n)),
            _ => None,
        };
        Ok(Verdict::Promote(Some(PackageFacts {
            digest: new.as_ref().map(packages::digest),
            changes,
        })))
    }

    fn upstream(&self, name: &ImageName) -> Option<&Upstream> {
        self.upstreams.get(name)
    }

    fn annotate(&self, report: &mut ImageReport) {
        let Ok(name) = ImageName::parse(&report.name) else {
            return;
        };
        if let Some(new) = self.upstreams.get(&name) {
            report.upstream_old = self.old_upstreams.get(&name).cloned().flatten();
            report.upstream_new = Some(new.recorded.clone());
        }
    }
}
