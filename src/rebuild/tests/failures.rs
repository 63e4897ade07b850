//! Failures and interruptions in the run loop, against the fake engine.

use std::sync::Arc;
use std::time::Duration;

use super::{Hierarchy, TREE, options, pairs, statuses};
use crate::engine::EngineError;
use crate::engine::fake::{Call, Scripted};
use crate::error::Exit;
use crate::interrupt::Interrupt;
use crate::plan::Selector;
use crate::rebuild::Options;
use crate::rebuild::policy::Rebuild;
use crate::report::Status;

#[tokio::test]
async fn a_failure_skips_only_its_dependents() {
    let h = Hierarchy::new(TREE);
    h.fake().set_exit("test a", 1);
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Failed),
            ("b", Status::Built),
            ("a1", Status::Skipped)
        ])
    );
    let report = &outcome.report.images;
    assert_eq!(
        report[1].error.as_deref(),
        Some("test `test a` exited with 1")
    );
    assert_eq!(report[3].error.as_deref(), Some("`a` failed"));
    let lock = h.lock();
    assert!(lock.images.contains_key("base") && lock.images.contains_key("b"));
    assert!(!lock.images.contains_key("a") && !lock.images.contains_key("a1"));
    assert!(!h.fake().built().contains(&"a1".to_string()));
    assert!(
        outcome
            .notes
            .contains("a failed: test `test a` exited with 1")
    );
}

#[tokio::test]
async fn fail_fast_starts_nothing_after_the_first_failure() {
    let h = Hierarchy::new(TREE);
    h.fake().set_exit("test a", 1);
    let outcome = h
        .rebuild(Options {
            jobs: 1,
            fail_fast: true,
            ..options()
        })
        .await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(h.fake().built(), ["base", "a"]);
    let b = outcome
        .report
        .images
        .iter()
        .find(|i| i.name == "b")
        .unwrap();
    assert_eq!(b.status, Status::Skipped);
    assert_eq!(b.error.as_deref(), Some("not started"));
}

#[tokio::test]
async fn transient_failures_are_retried_and_a_failing_step_is_not() {
    let h = Hierarchy::new(TREE);
    let fake = h.fake();
    let flaky = EngineError::Failed("503 service unavailable".into()).transient();
    // A tag that fails twice, then works; a build whose upload is cut before it began; a
    // build whose step fails.
    fake.script("tag reg.test/t/base:1.0.0", Scripted::Fail(flaky.clone()));
    fake.script("tag reg.test/t/base:1.0.0", Scripted::Fail(flaky.clone()));
    fake.script("build b", Scripted::Fail(flaky));
    fake.script(
        "build a",
        Scripted::StepFails("step [2/2] RUN true returned a non-zero code: 1".into()),
    );
    let outcome = h.rebuild(options()).await;
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Failed),
            ("b", Status::Built),
            ("a1", Status::Skipped)
        ])
    );
    let calls = fake.calls();
    let tries = |reference: &str| {
        calls
            .iter()
            .filter(|c| matches!(c, Call::Tag { reference: r, .. } if r == reference))
            .count()
    };
    assert_eq!(tries("reg.test/t/base:1.0.0"), 3);
    let builds = fake.built();
    assert_eq!(
        builds.iter().filter(|b| *b == "a").count(),
        1,
        "a step is not retried"
    );
    assert_eq!(
        builds.iter().filter(|b| *b == "b").count(),
        2,
        "a lost upload is"
    );
    assert_eq!(
        outcome.report.images[1].error.as_deref(),
        Some("step [2/2] RUN true returned a non-zero code: 1")
    );
}

#[tokio::test]
async fn a_lost_engine_stops_the_run_with_exit_3() {
    let h = Hierarchy::new(TREE);
    let lost = EngineError::Unreachable {
        endpoint: "fake://engine".into(),
        message: "connection refused".into(),
    };
    h.fake().script("run test base", Scripted::Fail(lost));
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Unreachable);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Failed),
            ("a", Status::Skipped),
            ("b", Status::Skipped),
            ("a1", Status::Skipped)
        ])
    );
    assert!(h.lock().images.is_empty());
}

#[tokio::test]
async fn an_interruption_stops_the_run_and_keeps_what_finished() {
    let h = Hierarchy::new(TREE);
    h.fake().script("build a", Scripted::Hang);
    let interrupt = Interrupt::manual();
    // Stop once `a` hangs in its build and `b` is recorded.
    let watcher = {
        let (engine, interrupt) = (h.engine.clone(), interrupt.clone());
        let lock = h.dir.path().join("hier.lock");
        tokio::spawn(async move {
            let b_recorded =
                || std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("[images.b]"));
            while !engine.inner().built().contains(&"a".to_string()) || !b_recorded() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            interrupt.trigger();
        })
    };
    let (outcome, _) = h
        .run_with(Selector::Changed, options(), Arc::new(Rebuild), interrupt)
        .await;
    watcher.await.unwrap();
    let outcome = outcome.unwrap();
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(outcome.report.interrupted);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Skipped),
            ("b", Status::Built),
            ("a1", Status::Skipped)
        ])
    );
    let report_file = h
        .dir
        .path()
        .join(".hier/reports")
        .join(format!("{}.json", outcome.report.run));
    assert!(report_file.is_file(), "the report is written");
    let lock = h.lock();
    assert!(lock.images.contains_key("base") && lock.images.contains_key("b"));
    assert!(!lock.images.contains_key("a"));
    assert!(h.fake().calls().iter().any(
        |c| matches!(c, Call::RemoveContainers(o) if o.contains(&"reg.test/t/a".to_string()))
    ));
}

#[tokio::test]
async fn a_job_that_panics_fails_its_image_and_the_run_ends() {
    let h = Hierarchy::new(TREE);
    h.fake().script("build a", Scripted::Panic);
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Failed),
            ("b", Status::Built),
            ("a1", Status::Skipped)
        ])
    );
    let error = outcome.report.images[1].error.as_deref().unwrap();
    assert!(
        error.starts_with("hier failed while building it"),
        "{error}"
    );
}

#[tokio::test]
async fn an_interruption_before_anything_started_builds_nothing() {
    let h = Hierarchy::new(TREE);
    let interrupt = Interrupt::manual();
    interrupt.trigger();
    let (outcome, _) = h
        .run_with(Selector::Changed, options(), Arc::new(Rebuild), interrupt)
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(outcome.report.interrupted);
    assert!(
        statuses(&outcome)
            .iter()
            .all(|(_, s)| *s == Status::Skipped)
    );
    assert_eq!(statuses(&outcome).len(), 4);
    assert!(h.fake().built().is_empty());
    assert!(h.lock().images.is_empty());
}
