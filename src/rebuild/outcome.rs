//! How one image's job ended, as values: built (with what was tagged and pushed), kept (a
//! refresh found nothing new), tested (a recorded image passed its tests again), failed (and
//! why), or the engine went away.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::EngineError;
use crate::name::ImageName;
use crate::packages::Changes;

/// Why an image failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// Its Dockerfile could not be made (rendered, read).
    #[error("{0}")]
    Prepare(String),
    /// Its context could not be sent as planned.
    #[error("{0}")]
    Context(String),
    /// A step failed, or the engine refused the Dockerfile: the engine's message.
    #[error("{0}")]
    Build(String),
    #[error("the build took longer than {}", humantime::format_duration(*.0))]
    BuildTimeout(Duration),
    #[error("test `{command}` exited with {exit_code}")]
    Test { command: String, exit_code: i64 },
    #[error("test `{command}` took longer than {}", humantime::format_duration(*.limit))]
    TestTimeout { command: String, limit: Duration },
    #[error("test `{command}`: {error}")]
    TestError { command: String, error: EngineError },
    /// Structure tests failed: how many, and the first.
    #[error("{failed} of {total} structure tests failed, first `{first}`")]
    Structure {
        failed: usize,
        total: usize,
        first: String,
    },
    #[error("cannot tag {reference}: {error}")]
    Tag {
        reference: String,
        error: EngineError,
    },
    /// Over its size budget: what went over.
    #[error("over budget: {0}")]
    Budget(String),
    #[error("cannot read the OS packages: {0}")]
    Packages(EngineError),
    /// Another engine call failed.
    #[error("{0}")]
    Engine(EngineError),
    /// What it builds on could not cross to its builder.
    #[error("{0}")]
    Handoff(String),
    /// The registry did not answer while what it builds on was crossing (the run stops).
    #[error("{0}")]
    Registry(String),
}

/// The OS packages of an image a refresh rebuilt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageFacts {
    /// The inventory's digest (`None` without a package database).
    pub digest: Option<String>,
    /// What changed against the image it replaces, when both have a database.
    pub changes: Option<Changes>,
}

/// An image built, tested and (unless held) tagged and pushed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Built {
    pub image_id: String,
    /// The tags it was given; empty while held for an atomic refresh.
    pub tags: Vec<String>,
    /// Repository → manifest digest, for what was pushed.
    pub pushed: BTreeMap<String, String>,
    /// The push's error (the image itself is good and is recorded).
    pub push_error: Option<EngineError>,
    pub packages: Option<PackageFacts>,
    /// Its size and the bytes it adds over its parent.
    pub sizes: Option<crate::budget::Sizes>,
}

/// An image that failed: why, the image if one was built (it failed its tests, say), and the
/// last lines of what failed (the step's or the test's output).
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub failure: Failure,
    pub image_id: Option<String>,
    pub output: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Built(Built),
    /// A refresh rebuilt it and found the same upstream and packages: the old image stays.
    Kept,
    Failed(Failed),
    /// A recorded image's tests were run again and passed (the plan's `test` action), with its
    /// sizes measured on the way.
    Tested(crate::budget::Sizes),
    /// The engine went away: the job starts again on another builder of the pool, or the run
    /// stops.
    EngineLost(EngineError),
    /// The builder an image it builds on was crossing from went away: the job starts again.
    SourceLost(usize, EngineError),
}

/// A finished job.
#[derive(Debug)]
pub struct JobResult {
    pub name: ImageName,
    pub outcome: JobOutcome,
    pub duration: Duration,
    /// The build's log.
    pub log: PathBuf,
    /// What crossed to its builder before it started.
    pub moved: Vec<crate::pool::Moved>,
}
