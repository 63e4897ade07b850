//! An image's structure tests (its `test_spec`), run after its test commands: each result in
//! the log (a failed command test with what it wrote), the failures' reasons as the job's
//! output, and the image failed when one test fails.

use tokio::sync::mpsc;

use super::log::{Log, last};
use super::{Stop, stop};
use crate::engine::Engine;
use crate::rebuild::event::Event;
use crate::rebuild::outcome::Failure;
use crate::structure::{Outcome, Spec, Target};

use super::test::Tests;

/// Runs the structure tests of `spec` on `image_id`.
pub(super) async fn run(
    engine: &dyn Engine,
    tests: &Tests<'_>,
    spec: &Spec,
    image_id: &str,
    events: &mpsc::UnboundedSender<Event>,
    log: &mut Log,
    output: &mut Vec<String>,
) -> Result<(), Stop> {
    let what = format!("structure tests of {}", spec.path);
    let _ = events.send(Event::Testing {
        name: tests.name.clone(),
        command: what.clone(),
    });
    log.line(&format!("hier: {what}"));
    let target = Target {
        engine,
        owner: tests.repository,
        image: image_id,
        limit: tests.timeout,
    };
    let outcomes = crate::structure::run(&target, spec).await.map_err(|e| {
        stop(e, |error| Failure::TestError {
            command: what.clone(),
            error,
        })
    })?;
    let mut reasons = Vec::new();
    for outcome in &outcomes {
        logged(outcome, log, &mut reasons);
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    log.line(&format!(
        "hier: {} of {} structure tests passed",
        outcomes.len() - failed.len(),
        outcomes.len()
    ));
    let Some(first) = failed.first() else {
        return Ok(());
    };
    *output = last(&reasons);
    Err(Failure::Structure {
        failed: failed.len(),
        total: outcomes.len(),
        first: first.name.clone(),
    }
    .into())
}

/// Logs one result; a failure's reasons also go to `reasons`.
fn logged(outcome: &Outcome, log: &mut Log, reasons: &mut Vec<String>) {
    if outcome.passed() {
        log.line(&format!("hier: passed: {}", outcome.name));
        return;
    }
    log.line(&format!("hier: FAILED: {}", outcome.name));
    for error in &outcome.errors {
        let line = log.secrets.redact(&format!("{}: {error}", outcome.name));
        log.line(&format!("  {line}"));
        reasons.push(line);
    }
    for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        for line in text.lines() {
            let line = log.secrets.redact(line);
            log.line(&format!("  {stream}: {line}"));
        }
    }
}
