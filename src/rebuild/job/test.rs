//! An image's tests: each command in a throwaway container of the image, within its time limit,
//! its whole output in the log; and the job that runs the tests of a recorded image again,
//! building nothing (the plan's `test` action, `hier test`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::log::{Log, last};
use super::{Stop, Trail, ended, stop};
use crate::engine::{ContainerRun, Engine, SecretValues};
use crate::name::ImageName;
use crate::rebuild::event::Event;
use crate::rebuild::outcome::{Failure, JobOutcome, JobResult};

/// The tests of one image.
pub struct Tests<'a> {
    pub name: &'a ImageName,
    /// The image's repository: its test containers belong to it.
    pub repository: &'a str,
    pub commands: &'a [String],
    /// Its structure tests, run after the commands.
    pub spec: Option<&'a crate::structure::Spec>,
    pub timeout: Duration,
}

/// Runs every test on `image_id`, in order, stopping at the first that fails, then the
/// structure tests; the last lines of a failing test's output go to `output`.
pub(super) async fn run(
    engine: &dyn Engine,
    tests: &Tests<'_>,
    image_id: &str,
    events: &mpsc::UnboundedSender<Event>,
    log: &mut Log,
    output: &mut Vec<String>,
) -> Result<(), Stop> {
    for command in tests.commands {
        let _ = events.send(Event::Testing {
            name: tests.name.clone(),
            command: command.clone(),
        });
        log.line(&format!("hier: test `{command}`"));
        let run = ContainerRun {
            owner: tests.repository,
            image: image_id,
            command,
            limit: tests.timeout,
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
        *output = last(&lines);
        if outcome.timed_out {
            return Err(Failure::TestTimeout {
                command: command.clone(),
                limit: tests.timeout,
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
    match tests.spec {
        Some(spec) => {
            super::structure::run(engine, tests, spec, image_id, events, log, output).await
        }
        None => Ok(()),
    }
}

/// Everything running a recorded image's tests again needs.
pub struct TestJob {
    pub name: ImageName,
    pub repository: String,
    /// The recorded image.
    pub image_id: String,
    pub tests: Vec<String>,
    pub spec: Option<Arc<crate::structure::Spec>>,
    pub test_timeout: Duration,
    pub log: PathBuf,
    pub secrets: SecretValues,
    /// Its size budgets (checked again with its tests).
    pub size: super::SizeCheck,
}

/// Runs a recorded image's tests; it is `Tested` when they all pass.
pub async fn retest(
    engine: Arc<dyn Engine>,
    job: TestJob,
    events: mpsc::UnboundedSender<Event>,
) -> JobResult {
    let start = Instant::now();
    let _ = events.send(Event::Retesting {
        name: job.name.clone(),
    });
    let mut log = Log::create(&job.log, job.secrets.clone());
    log.line(&format!(
        "hier: testing the recorded image {}",
        job.image_id
    ));
    let tests = Tests {
        name: &job.name,
        repository: &job.repository,
        commands: &job.tests,
        spec: job.spec.as_deref(),
        timeout: job.test_timeout,
    };
    let mut trail = Trail {
        image_id: Some(job.image_id.clone()),
        output: Vec::new(),
    };
    let ran = run(
        &*engine,
        &tests,
        &job.image_id,
        &events,
        &mut log,
        &mut trail.output,
    )
    .await;
    let checked = match ran {
        Ok(()) => {
            super::size::check(
                &*engine,
                &job.size,
                &job.image_id,
                &mut log,
                &mut trail.output,
            )
            .await
        }
        Err(stopped) => Err(stopped),
    };
    let outcome = match checked {
        Ok(sizes) => {
            log.line(&format!("hier: {} tests passed", job.tests.len()));
            JobOutcome::Tested(sizes)
        }
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
