//! Where a kind of run plugs into the loop. Before an image starts, its policy says whether to
//! build it (and how) or keep what the lock records; after a build passed its tests, whether to
//! promote it or keep the image it would replace. A rebuild builds everything planned and
//! promotes everything built; `refresh` has rules of its own (`crate::refresh::policy`).

use async_trait::async_trait;

use super::outcome::PackageFacts;
use super::upstream::Upstream;
use crate::engine::{Engine, EngineError};
use crate::name::ImageName;
use crate::report::ImageReport;

/// Before an image starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing it builds on moved: the recorded image stays, nothing is built.
    Keep,
    Build {
        no_cache: bool,
        /// Promote whatever the build gives (something it builds on was promoted, or its
        /// upstream moved).
        must_promote: bool,
    },
}

/// After a build passed its tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Tag, record and push it; what its OS packages are, when the policy read them.
    Promote(Option<PackageFacts>),
    /// Nothing new in it: the image it would replace stays.
    Keep,
}

/// A built image to judge.
pub struct Candidate<'a> {
    pub name: &'a ImageName,
    pub repository: &'a str,
    pub image_id: &'a str,
    pub must_promote: bool,
}

#[async_trait]
pub trait Policy: Send + Sync {
    /// Whether and how to build `name`; `built_on_promoted` when something it builds on was
    /// promoted in this run.
    fn decide(&self, name: &ImageName, built_on_promoted: bool, no_cache: bool) -> Decision;

    async fn judge(
        &self,
        engine: &dyn Engine,
        candidate: &Candidate<'_>,
    ) -> Result<Verdict, EngineError>;

    /// The identity of a due base's `from`, when the policy resolved it afresh.
    fn upstream(&self, _name: &ImageName) -> Option<&Upstream> {
        None
    }

    /// Adds what the policy knows to an image's report (a refresh: the upstream digests).
    fn annotate(&self, _report: &mut ImageReport) {}
}

/// `hier rebuild`: build what is planned, promote what is built.
pub struct Rebuild;

#[async_trait]
impl Policy for Rebuild {
    fn decide(&self, _: &ImageName, _: bool, no_cache: bool) -> Decision {
        Decision::Build {
            no_cache,
            must_promote: true,
        }
    }

    async fn judge(&self, _: &dyn Engine, _: &Candidate<'_>) -> Result<Verdict, EngineError> {
        Ok(Verdict::Promote(None))
    }
}
