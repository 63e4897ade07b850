//! One image's job: pin what it builds on, build it from its streamed context with the
//! Dockerfile rendered for those exact images, run its tests in throwaway containers (`test`,
//! then its structure tests: `structure`), check its size against its budgets (`size`), let
//! the run's policy judge it, write its bills of materials (`sbom`), and only then tag (and
//! push) it — unless the run holds promotion until the end. Everything the job needs is
//! prepared beforehand, so it owns its data and runs on a task of its own; its
//! log goes to `.hier/logs/<run>/<image>.log` with every secret value blanked out.

mod log;
mod sbom;
mod size;
mod structure;
mod test;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::event::Event;
use super::outcome::{Built, Failed, Failure, JobOutcome, JobResult, PackageFacts};
use super::policy::{Candidate, Policy, Verdict};
use super::upload::{self, ContextSpec, UploadError};
use crate::engine::{BuildFailure, BuildRequest, Engine, EngineError, Progress, SecretValues};
use crate::name::ImageName;
use log::Log;
pub use size::SizeCheck;
pub use test::{TestJob, Tests, retest};

/// Everything one build needs.
pub struct Job {
    pub name: ImageName,
    pub context: ContextSpec,
    pub request: BuildRequest,
    pub tests: Vec<String>,
    /// Its structure tests (`test_spec`).
    pub spec: Option<std::sync::Arc<crate::structure::Spec>>,
    pub test_timeout: Duration,
    pub build_timeout: Duration,
    pub repository: String,
    /// The version and the catalog's extra tags: with the image id, they make every tag.
    pub version: semver::Version,
    pub extra_tags: Vec<String>,
    pub log: PathBuf,
    /// Repositories to push every tag to once promoted (`--push`): the registry, then mirrors.
    pub push_to: Vec<String>,
    /// Tag and push as soon as the image is judged; `false` when the run promotes everything
    /// at its end or nothing (`refresh --atomic`).
    pub promote_now: bool,
    pub must_promote: bool,
    /// The pin tags the build names its parent and `uses` images by, set before it starts.
    pub pins: Vec<Pin>,
    /// Its size budgets, checked once its tests passed.
    pub size: SizeCheck,
    /// Where its bills of materials go (`.hier/sbom/<name>/`).
    pub sbom_dir: PathBuf,
}

impl Job {
    /// Its tests, as [`test::run`] runs them.
    fn tests(&self) -> Tests<'_> {
        Tests {
            repository: &self.repository,
            name: &self.name,
            commands: &self.tests,
            spec: self.spec.as_deref(),
            timeout: self.test_timeout,
        }
    }
}

/// A pin tag to set: `repository:tag` on `image_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub image_id: String,
    pub repository: String,
    pub tag: String,
}

/// Builds the engine lost mid-upload are tried again this many times, after this long (which
/// doubles each time).
const BUILD_RETRIES: u32 = 2;
const BUILD_RETRY_WAIT: Duration = if cfg!(test) {
    Duration::from_millis(1)
} else {
    Duration::from_millis(500)
};

/// Why a job stopped early.
enum Stop {
    Failed(Failure),
    Lost(EngineError),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Failed(f)
    }
}

/// An engine error: the engine gone stops the run, anything else fails the image.
fn stop(e: EngineError, failure: impl FnOnce(EngineError) -> Failure) -> Stop {
    if e.is_engine_lost() {
        Stop::Lost(e.settled())
    } else {
        Stop::Failed(failure(e.settled()))
    }
}

/// What a job learned before it stopped: the image it built, and the output of what failed.
#[derive(Default)]
struct Trail {
    image_id: Option<String>,
    output: Vec<String>,
}

pub async fn run(
    engine: Arc<dyn Engine>,
    policy: Arc<dyn Policy>,
    job: Job,
    events: mpsc::UnboundedSender<Event>,
) -> JobResult {
    let start = Instant::now();
    let _ = events.send(Event::Started {
        name: job.name.clone(),
    });
    let mut log = Log::create(&job.log, job.request.secrets.clone());
    let mut trail = Trail::default();
    let outcome = match steps(&*engine, &*policy, &job, &events, &mut log, &mut trail).await {
        Ok(outcome) => outcome,
        Err(stopped) => ended(stopped, trail, &mut log),
    };
    JobResult {
        name: job.name,
        outcome,
        duration: start.elapsed(),
        log: job.log,
        moved: Vec::new(),
    }
}

/// How a job that stopped early ends: failed (with the output of what failed), or the engine
/// gone.
fn ended(stopped: Stop, trail: Trail, log: &mut Log) -> JobOutcome {
    match stopped {
        Stop::Failed(failure) => {
            let failure = redacted(failure, &log.secrets);
            let output = match failure {
                Failure::Build(_) => log.failing_step(),
                _ => trail.output,
            };
            log.line(&format!("hier: {failure}"));
            JobOutcome::Failed(Failed {
                failure,
                image_id: trail.image_id,
                output,
            })
        }
        Stop::Lost(e) => {
            log.line(&format!("hier: {e}"));
            JobOutcome::EngineLost(e)
        }
    }
}

/// A build's message may quote its own output.
fn redacted(failure: Failure, secrets: &SecretValues) -> Failure {
    match failure {
        Failure::Build(m) => Failure::Build(secrets.redact(&m)),
        other => other,
    }
}

async fn steps(
    engine: &dyn Engine,
    policy: &dyn Policy,
    job: &Job,
    events: &mpsc::UnboundedSender<Event>,
    log: &mut Log,
    trail: &mut Trail,
) -> Result<JobOutcome, Stop> {
    set_pins(engine, &job.pins).await?;
    let image_id = build(engine, job, events, log).await?;
    trail.image_id = Some(image_id.clone());
    test::run(
        engine,
        &job.tests(),
        &image_id,
        events,
        log,
        &mut trail.output,
    )
    .await?;
    let sizes = size::check(engine, &job.size, &image_id, log, &mut trail.output).await?;
    let candidate = Candidate {
        name: &job.name,
        repository: &job.repository,
        image_id: &image_id,
        must_promote: job.must_promote,
    };
    let packages = match policy
        .judge(engine, &candidate)
        .await
        .map_err(|e| stop(e, Failure::Packages))?
    {
        Verdict::Keep => {
            log.line(
                "hier: same upstream and packages as the image it would replace: kept the old one",
            );
            return Ok(JobOutcome::Kept);
        }
        Verdict::Promote(packages) => packages,
    };
    log_changes(log, packages.as_ref());
    sbom::write(engine, job, &image_id, log).await;
    if !job.promote_now {
        return Ok(JobOutcome::Built(Built {
            image_id,
            packages,
            sizes: Some(sizes),
            ..Built::default()
        }));
    }
    let built = Built {
        image_id,
        packages,
        sizes: Some(sizes),
        ..Built::default()
    };
    promote(engine, job, built, log).await
}

/// Tags the images the build names by their pins.
async fn set_pins(engine: &dyn Engine, pins: &[Pin]) -> Result<(), Stop> {
    for pin in pins {
        engine
            .tag(&pin.image_id, &pin.repository, &pin.tag)
            .await
            .map_err(|e| {
                stop(e, |error| Failure::Tag {
                    reference: format!("{}:{}", pin.repository, pin.tag),
                    error,
                })
            })?;
    }
    Ok(())
}

/// Each package change of a promoted image, in its log.
fn log_changes(log: &mut Log, packages: Option<&PackageFacts>) {
    for change in packages
        .iter()
        .flat_map(|p| p.changes.iter())
        .flat_map(|c| c.lines())
    {
        log.line(&format!("hier: package {change}"));
    }
}

/// Builds, trying again when the engine dropped the connection before the build began to
/// answer (the context is streamed afresh).
async fn build(
    engine: &dyn Engine,
    job: &Job,
    events: &mpsc::UnboundedSender<Event>,
    log: &mut Log,
) -> Result<String, Stop> {
    let mut attempt = 0;
    loop {
        let mut answered = false;
        let (context, check) = upload::open(&job.context, job.request.builder)
            .await
            .map_err(Failure::Context)?;
        let mut progress = |p: Progress<'_>| {
            answered = true;
            match p {
                Progress::Step(step) => {
                    let _ = events.send(Event::Step {
                        name: job.name.clone(),
                        step: step.to_string(),
                    });
                }
                Progress::Line(line) => log.line(line),
            }
        };
        let built = tokio::time::timeout(
            job.build_timeout,
            engine.build(&job.request, context, &mut progress),
        )
        .await;
        // A context that could not be sent as planned fails the image (a failed upload may look
        // like a lost connection: the context's error is the real one). An engine that just
        // stopped reading says why in the build's own error.
        match check.finish().await {
            Err(UploadError::Context(m)) => return Err(Failure::Context(m).into()),
            Err(UploadError::Stopped) | Ok(()) => {}
        }
        match built {
            Err(_) => return Err(Failure::BuildTimeout(job.build_timeout).into()),
            Ok(Ok(id)) => return Ok(id),
            Ok(Err(BuildFailure::Step(message))) => return Err(Failure::Build(message).into()),
            Ok(Err(BuildFailure::Engine(e)))
                if e.is_transient() && !answered && attempt < BUILD_RETRIES =>
            {
                log.line(&format!("hier: {e}; trying again"));
                tokio::time::sleep(BUILD_RETRY_WAIT * (1 << attempt)).await;
                attempt += 1;
            }
            Ok(Err(BuildFailure::Engine(e))) => return Err(stop(e, Failure::Engine)),
        }
    }
}

/// Tags the image with every tag, then pushes them; a failed push leaves a good, recorded
/// image.
async fn promote(
    engine: &dyn Engine,
    job: &Job,
    built: Built,
    log: &mut Log,
) -> Result<JobOutcome, Stop> {
    let image_id = built.image_id.clone();
    let tags = crate::tags::all_tags(&job.version, &job.extra_tags, &image_id);
    crate::push::tag_all(engine, &image_id, &job.repository, &tags)
        .await
        .map_err(|(tag, e)| {
            stop(e, |error| Failure::Tag {
                reference: format!("{}:{tag}", job.repository),
                error,
            })
        })?;
    log.line(&format!(
        "hier: built {image_id}, tagged {}",
        tags.join(", ")
    ));
    let (pushed, push_error) =
        crate::push::push_tags(engine, &job.push_to, &image_id, &tags, |line| {
            log.line(line)
        })
        .await;
    Ok(JobOutcome::Built(Built {
        tags,
        pushed,
        push_error,
        ..built
    }))
}
