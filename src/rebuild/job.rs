//! One image's job: pin what it builds on, build it from its streamed context with the
//! Dockerfile rendered for those exact images, run its tests in throwaway containers, let the run's policy judge it, and
//! only then tag (and push) it — unless the run holds promotion until the end. Everything the
//! job needs is prepared beforehand, so it owns its data and runs on a task of its own; its
//! log goes to `.hier/logs/<run>/<image>.log` with every secret value blanked out.

use std::collections::VecDeque;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::event::Event;
use super::outcome::{Built, Failed, Failure, JobOutcome, JobResult, PackageFacts};
use super::policy::{Candidate, Policy, Verdict};
use super::upload::{self, ContextSpec, UploadError};
use crate::engine::{
    BuildFailure, BuildRequest, ContainerRun, Engine, EngineError, Progress, SecretValues,
};
use crate::name::ImageName;

/// Everything one build needs.
pub struct Job {
    pub name: ImageName,
    pub context: ContextSpec,
    pub request: BuildRequest,
    pub tests: Vec<String>,
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

/// The build's log, written as it comes, secrets blanked out; its last lines are kept to say
/// what failed.
struct Log {
    file: Option<fs::File>,
    secrets: SecretValues,
    recent: VecDeque<String>,
}

/// How many of the log's last lines a job keeps, and how many it shows of what failed.
const RECENT: usize = 500;
const SHOWN: usize = 12;

impl Log {
    fn line(&mut self, line: &str) {
        let line = self.secrets.redact(line);
        if let Some(f) = self.file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// The output of the step that failed: under BuildKit the lines of the step that has an
    /// `ERROR` line (`#6 …`), with the legacy builder what follows the last `Step` line.
    fn failing_step(&self) -> Vec<String> {
        let lines: Vec<&str> = match self
            .recent
            .iter()
            .rev()
            .find(|l| l.starts_with('#') && l.contains(" ERROR: "))
        {
            Some(error) => {
                let prefix = format!("{} ", error.split_whitespace().next().unwrap_or("#"));
                let mut of_step = self.recent.iter().filter(|l| l.starts_with(&prefix));
                of_step.next(); // the step's own name
                of_step
                    .map(|l| &l[prefix.len()..])
                    .filter(|l| !l.starts_with("ERROR: ") && !l.starts_with("DONE "))
                    .collect()
            }
            None => {
                let start = self
                    .recent
                    .iter()
                    .rposition(|l| l.starts_with("Step "))
                    .map_or(0, |i| i + 1);
                self.recent
                    .iter()
                    .skip(start)
                    .filter(|l| !l.starts_with(" ---> ") && !l.starts_with("Removing intermediate"))
                    .map(String::as_str)
                    .collect()
            }
        };
        last(&lines)
    }
}

/// The last lines of some output, as many as a report shows.
fn last<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    lines[lines.len().saturating_sub(SHOWN)..]
        .iter()
        .map(|l| l.as_ref().to_string())
        .collect()
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
    let mut log = Log {
        file: fs::File::create(&job.log).ok(),
        secrets: job.request.secrets.clone(),
        recent: VecDeque::new(),
    };
    let mut trail = Trail::default();
    let outcome = match steps(&*engine, &*policy, &job, &events, &mut log, &mut trail).await {
        Ok(outcome) => outcome,
        Err(Stop::Failed(failure)) => {
            let failure = redacted(failure, &job.request.secrets);
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
        Err(Stop::Lost(e)) => {
            log.line(&format!("hier: {e}"));
            JobOutcome::EngineLost(e)
        }
    };
    JobResult {
        name: job.name,
        outcome,
        duration: start.elapsed(),
        log: job.log,
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
    for pin in &job.pins {
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
    let image_id = build(engine, job, events, log).await?;
    trail.image_id = Some(image_id.clone());
    test(engine, job, &image_id, events, log, trail).await?;
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
    for change in packages
        .iter()
        .flat_map(|p| p.changes.iter())
        .flat_map(|c| c.lines())
    {
        log.line(&format!("hier: package {change}"));
    }
    if !job.promote_now {
        return Ok(JobOutcome::Built(Built {
            image_id,
            packages,
            ..Built::default()
        }));
    }
    promote(engine, job, image_id, packages, log).await
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

async fn test(
    engine: &dyn Engine,
    job: &Job,
    image_id: &str,
    events: &mpsc::UnboundedSender<Event>,
    log: &mut Log,
    trail: &mut Trail,
) -> Result<(), Stop> {
    for command in &job.tests {
        let _ = events.send(Event::Testing {
            name: job.name.clone(),
            command: command.clone(),
        });
        log.line(&format!("hier: test `{command}`"));
        let run = ContainerRun {
            owner: &job.repository,
            image: image_id,
            command,
            limit: job.test_timeout,
            user: None,
        };
        let outcome = engine.run(&run).await.map_err(|e| {
            stop(e, |error| Failure::TestError {
                command: command.clone(),
                error,
            })
        })?;
        let lines: Vec<String> = outcome
            .output
            .lines()
            .map(|l| log.secrets.redact(l))
            .collect();
        for line in &lines {
            log.line(line);
        }
        trail.output = last(&lines);
        if outcome.timed_out {
            return Err(Failure::TestTimeout {
                command: command.clone(),
                limit: job.test_timeout,
            }
            .into());
        }
        if outcome.exit_code != 0 {
            return Err(Failure::Test {
                command: command.clone(),
                exit_code: outcome.exit_code,
            }
            .into());
        }
    }
    Ok(())
}

/// Tags the image with every tag, then pushes them; a failed push leaves a good, recorded
/// image.
async fn promote(
    engine: &dyn Engine,
    job: &Job,
    image_id: String,
    packages: Option<PackageFacts>,
    log: &mut Log,
) -> Result<JobOutcome, Stop> {
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
        image_id,
        tags,
        pushed,
        push_error,
        packages,
    }))
}
