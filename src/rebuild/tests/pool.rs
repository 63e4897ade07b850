//! A run over a pool of fake builders sharing one registry: images spread over the builders,
//! what a build needs crosses through the registry (pushed once, pulled by digest), a base's
//! `from` that exists on one builder keeps the base there, a builder lost mid-run has its
//! builds started again elsewhere, and exit 3 only when no builder is left.

use std::time::Duration;

use super::{Hierarchy, options, statuses};
use crate::engine::EngineError;
use crate::engine::fake::{Call, Scripted};
use crate::error::Exit;
use crate::report::{ImageReport, RunOutcome, Status};

fn wide(children: usize) -> Vec<(String, Option<&'static str>)> {
    let mut images = vec![("base".to_string(), None)];
    images.extend((0..children).map(|c| (format!("c{c}"), Some("base"))));
    images
}

fn pooled(images: &[(String, Option<&'static str>)], builders: usize) -> Hierarchy {
    let listed: Vec<(&str, Option<&str>, &str)> =
        images.iter().map(|(n, p)| (n.as_str(), *p, "")).collect();
    let h = Hierarchy::pooled(&listed, builders);
    for engine in std::iter::once(&h.engine).chain(&h.others) {
        engine.inner().set_build_time(Duration::from_millis(30));
    }
    h
}

fn lost() -> EngineError {
    EngineError::Unreachable {
        endpoint: "fake://b1".into(),
        message: "connection refused".into(),
    }
}

/// The image was started again on `b0` after `b1` was lost under it.
fn assert_restarted_from_b1_on_b0(image: &ImageReport) {
    assert_eq!(image.restarted_from, ["b1"], "{}", image.name);
    assert_eq!(image.builder.as_deref(), Some("b0"), "{}", image.name);
}

/// Every image of the run was built.
fn assert_all_built(outcome: &RunOutcome) {
    let statuses = statuses(outcome);
    assert!(
        statuses.iter().all(|(_, s)| *s == Status::Built),
        "{statuses:?}"
    );
}

fn pushes(calls: &[Call]) -> usize {
    calls.iter().filter(|c| matches!(c, Call::Push(_))).count()
}

#[tokio::test]
async fn images_spread_over_the_builders_and_cross_through_the_registry() {
    let h = pooled(&wide(4), 2);
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Success, "{:?}", outcome.report.images);
    let (first, second) = (h.engine.inner(), h.others[0].inner());
    // The base's `from` is only on the first builder: the base is built there.
    assert_eq!(first.built()[0], "base");
    assert!(
        !second.built().is_empty(),
        "the second builder took children"
    );
    assert_eq!(first.built().len() + second.built().len(), 5);
    // The base crossed once: pushed once from the first, pulled by digest on the second.
    assert_eq!(pushes(&first.calls()), 1);
    let base_id = h.image_id("base");
    let pulls: Vec<String> = second
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Pull(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert!(pulls[0].starts_with("reg.test/t/base@sha256:"));
    // The report names each image's builder and what crossed to it.
    for image in &outcome.report.images {
        let builder = image.builder.as_deref().unwrap();
        let built_there = match builder {
            "b0" => first.built(),
            _ => second.built(),
        };
        assert!(built_there.contains(&image.name), "{}", image.name);
    }
    let moved: Vec<_> = outcome
        .report
        .images
        .iter()
        .flat_map(|i| i.moved.iter())
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!((moved[0].from.as_str(), moved[0].to.as_str()), ("b0", "b1"));
    assert_eq!(moved[0].image_id, base_id);
    // Every child records the base it was built on.
    let lock = h.lock();
    for c in 0..4 {
        let entry = &lock.images[format!("c{c}").as_str()];
        assert_eq!(entry.parent_image_id.as_deref(), Some(base_id.as_str()));
    }
}

#[tokio::test]
async fn a_builder_holding_the_parent_is_preferred() {
    // One child: both builders are free when it is ready, and the first holds its parent.
    let h = pooled(&wide(1), 2);
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Success);
    assert_eq!(h.engine.inner().built(), ["base", "c0"]);
    assert!(h.others[0].inner().built().is_empty());
    assert_eq!(pushes(&h.engine.inner().calls()), 0, "nothing had to cross");
}

#[tokio::test]
async fn a_lost_builder_s_builds_start_again_elsewhere() {
    let h = pooled(&wide(4), 2);
    let second = h.others[0].inner();
    for c in 0..4 {
        second.script(&format!("build c{c}"), Scripted::Fail(lost()));
    }
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Success, "{}", outcome.notes);
    assert!(outcome.notes.contains("builder `b1` stopped answering"));
    // What was running there when it stopped answering started again on the other builder,
    // and nothing more went to it.
    let tried = second.built();
    assert!((1..=2).contains(&tried.len()), "{tried:?}");
    let restarted: Vec<_> = outcome
        .report
        .images
        .iter()
        .filter(|i| !i.restarted_from.is_empty())
        .collect();
    assert_eq!(restarted.len(), tried.len());
    for image in restarted {
        assert_restarted_from_b1_on_b0(image);
    }
    assert_all_built(&outcome);
    assert_eq!(h.lock().images.len(), 5);
}

#[tokio::test]
async fn no_builder_left_stops_the_run_with_exit_3() {
    // One job each: one child goes to the builder holding the base, the other crosses.
    let h = pooled(&wide(2), 2);
    for engine in [&h.engine, &h.others[0]] {
        engine.inner().script("build c0", Scripted::Fail(lost()));
        engine.inner().script("build c1", Scripted::Fail(lost()));
    }
    let outcome = h
        .rebuild(crate::rebuild::Options {
            jobs: 1,
            ..options()
        })
        .await;
    assert_eq!(
        outcome.exit,
        Exit::Unreachable,
        "{:?}",
        outcome.report.images
    );
    // The one lost last fails; one started again before finds no builder left.
    let statuses = statuses(&outcome);
    assert_eq!(statuses[0], ("base".to_string(), Status::Built));
    assert!(
        statuses[1..]
            .iter()
            .all(|(_, s)| matches!(s, Status::Failed | Status::Skipped)),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_image_only_a_lost_builder_held_is_built_again_for_what_needs_it() {
    // base -> mid -> leaf, base -> other; both builders have the `from`, one job each. The base
    // and mid are built on the first builder, other crosses to the second; the first is lost
    // under leaf: mid (never pushed, never crossed) is built again on the second, then leaf.
    let images = [
        ("base".to_string(), None),
        ("mid".to_string(), Some("base")),
        ("other".to_string(), Some("base")),
        ("leaf".to_string(), Some("mid")),
    ];
    let h = pooled(&images, 2);
    h.others[0]
        .inner()
        .add_image(super::FROM_ID, &["busybox:1"]);
    h.engine
        .inner()
        .script("build leaf", Scripted::Fail(lost()));
    let outcome = h
        .rebuild(crate::rebuild::Options {
            jobs: 1,
            ..options()
        })
        .await;
    assert_eq!(outcome.exit, Exit::Success, "{}", outcome.notes);
    assert!(
        outcome
            .notes
            .contains("mid was only on builder `b0`: it is built again")
    );
    let second = h.others[0].inner().built();
    assert!(second.contains(&"mid".to_string()) && second.contains(&"leaf".to_string()));
    let lock = h.lock();
    let mid = &lock.images["mid"].image_id;
    assert_eq!(lock.images["leaf"].parent_image_id.as_ref(), Some(mid));
    // The lost build replaced nothing the lock knew of; the one that stays replaces nothing.
    assert_eq!(lock.images["mid"].previous_image_id, None);
    let report = |name: &str| {
        outcome
            .report
            .images
            .iter()
            .find(|i| i.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(report("mid").restarted_from, ["b0"]);
    assert_eq!(report("mid").builder.as_deref(), Some("b1"));
    assert_eq!(report("leaf").builder.as_deref(), Some("b1"));
}

#[tokio::test]
async fn a_base_whose_from_only_a_lost_builder_held_fails_what_builds_on_it() {
    // Both children go to the builder holding the base; it is lost under them, and the base's
    // `from` is on no other builder: it cannot be built again.
    let h = pooled(&wide(2), 2);
    h.engine.inner().script("build c0", Scripted::Fail(lost()));
    h.engine.inner().script("build c1", Scripted::Fail(lost()));
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    let error = outcome.report.images[0].error.clone().unwrap_or_default();
    assert!(error.contains("busybox:1"), "{error}");
    assert!(error.contains("no builder that answers"), "{error}");
}

#[tokio::test]
async fn a_build_hanging_on_a_lost_builder_is_stopped_and_started_again() {
    // The children on the builder holding the base go there; the other two cross. One of those
    // finds the builder gone, the other hangs there: it is stopped and built elsewhere.
    let h = pooled(&wide(4), 2);
    h.others[0]
        .inner()
        .script("build c2", Scripted::Fail(lost()));
    h.others[0].inner().script("build c3", Scripted::Hang);
    let run = h.rebuild(options());
    let outcome = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the run does not wait for a build on a lost builder");
    assert_eq!(outcome.exit, Exit::Success, "{}", outcome.notes);
    let c3 = outcome
        .report
        .images
        .iter()
        .find(|i| i.name == "c3")
        .unwrap();
    assert_restarted_from_b1_on_b0(c3);
    assert_all_built(&outcome);
}

#[tokio::test]
async fn a_recorded_image_is_tested_again_where_it_is() {
    let h = pooled(&wide(4), 2);
    assert_eq!(h.rebuild(options()).await.exit, Exit::Success);
    let catalog = h.dir.path().join("catalog.toml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    let changed = text.replace("test = [\"test c3\"]", "test = [\"test c3 again\"]");
    assert_ne!(text, changed);
    std::fs::write(&catalog, changed).unwrap();
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Success, "{:?}", outcome.report.images);
    assert_eq!(statuses(&outcome), [("c3".to_string(), Status::Tested)]);
    assert!(
        outcome.report.images[0].moved.is_empty(),
        "it was tested where it is"
    );
}
