//! What the run loop publishes, against the fake engine: held until the end under `--atomic`,
//! the exact images each build names, and secrets checked before anything builds.

use std::sync::Arc;

use super::{FROM_ID, REGISTRY};
use super::{Hierarchy, TREE, options, pairs, statuses};
use crate::engine::fake::Call;
use crate::error::{Error, Exit};
use crate::interrupt::Interrupt;
use crate::plan::Selector;
use crate::rebuild::Options;
use crate::rebuild::policy::Rebuild;
use crate::report::Status;

#[tokio::test]
async fn atomic_holds_every_tag_and_push_until_everything_passed() {
    let h = Hierarchy::new(TREE);
    let atomic = Options {
        atomic: true,
        push: true,
        ..options()
    };
    let outcome = h.rebuild(atomic.clone()).await;
    assert_eq!(outcome.exit, Exit::Success);
    let calls = h.fake().calls();
    let last_build = calls
        .iter()
        .rposition(|c| matches!(c, Call::Build { .. }))
        .unwrap();
    let first_release = calls
        .iter()
        .position(|c| match c {
            Call::Tag { reference, .. } => {
                !reference.contains(":sha256-") && !reference.contains(":from-")
            }
            Call::Push(_) => true,
            _ => false,
        })
        .unwrap();
    assert!(last_build < first_release, "{calls:#?}");
    assert!(statuses(&outcome).iter().all(|(_, s)| *s == Status::Pushed));
    assert_eq!(h.lock().images.len(), 4);

    // A failure anywhere: nothing is tagged, pushed or recorded, and the report says why.
    let before = h.lock();
    std::fs::write(
        h.dir.path().join("images/base/Dockerfile"),
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN echo v2\n",
    )
    .unwrap();
    h.fake().set_exit("test a1", 1);
    let calls_before = h.fake().calls().len();
    let outcome = h.rebuild(atomic).await;
    assert_eq!(outcome.exit, Exit::Failed);
    let released = h.fake().calls()[calls_before..]
        .iter()
        .filter(|c| match c {
            Call::Tag { reference, .. } => {
                !reference.contains(":sha256-") && !reference.contains(":from-")
            }
            Call::Push(_) => true,
            _ => false,
        })
        .count();
    assert_eq!(released, 0);
    assert_eq!(h.lock(), before);
    assert!(
        outcome.notes.contains("`a1` blocked the refresh"),
        "{}",
        outcome.notes
    );
    let base = &outcome.report.images[0];
    assert_eq!(
        base.note.as_deref(),
        Some("not promoted: `a1` failed and the refresh is atomic")
    );
}

#[tokio::test]
async fn each_build_names_the_exact_images_it_builds_on() {
    let h = Hierarchy::new(&[
        ("base", None, ""),
        ("tools", Some("base"), ""),
        ("app", Some("base"), "uses = [\"tools\"]"),
    ]);
    std::fs::write(
        h.dir.path().join("images/app/Dockerfile"),
        "ARG HIER_PARENT\nARG HIER_USES_TOOLS\nFROM ${HIER_USES_TOOLS} AS tools\nFROM ${HIER_PARENT}\n",
    )
    .unwrap();
    h.rebuild(options()).await;
    let (base, tools) = (h.image_id("base"), h.image_id("tools"));
    let calls = h.fake().calls();
    let build_args = |image: &str| {
        calls
            .iter()
            .find_map(|c| match c {
                Call::Build {
                    image: i,
                    build_args,
                    ..
                } if i == image => Some(build_args.clone()),
                _ => None,
            })
            .unwrap()
    };
    let pin = |name: &str, id: &str| {
        format!(
            "{REGISTRY}/{name}:sha256-{}",
            id.trim_start_matches("sha256:")
        )
    };
    let from_pin = format!(
        "{REGISTRY}/base:from-sha256-{}",
        &FROM_ID["sha256:".len()..]
    );
    assert_eq!(build_args("base")["HIER_PARENT"], from_pin);
    assert_eq!(build_args("tools")["HIER_PARENT"], pin("base", &base));
    let app = build_args("app");
    assert_eq!(app["HIER_PARENT"], pin("base", &base));
    assert_eq!(app["HIER_USES_TOOLS"], pin("tools", &tools));
    // Only the arguments a Dockerfile declares are passed.
    assert!(!build_args("tools").contains_key("HIER_USES_TOOLS"));
    // Each pin names the exact image, set right before the build that uses it.
    for (reference, id) in [(pin("base", &base), &base), (pin("tools", &tools), &tools)] {
        assert_eq!(h.fake().resolve(&reference).as_ref(), Some(id));
        let tagged = calls.iter().rposition(
            |c| matches!(c, Call::Tag { reference: r, image } if *r == reference && image == id),
        );
        let app_build = calls
            .iter()
            .position(|c| matches!(c, Call::Build { image, .. } if image == "app"));
        assert!(tagged < app_build);
    }
    // The labels say so too, in the one LABEL instruction.
    let dockerfile = calls
        .iter()
        .find_map(|c| match c {
            Call::Build {
                image, dockerfile, ..
            } if image == "app" => Some(dockerfile.clone()),
            _ => None,
        })
        .unwrap();
    assert!(dockerfile.contains(&format!("\"io.hier.parent.id\"=\"{base}\"")));
    assert_eq!(h.lock().images["app"].uses_image_ids["tools"], tools);
}

#[tokio::test]
async fn a_missing_secret_stops_the_run_before_anything_builds() {
    let h = Hierarchy::new(&[("base", None, "secrets = [\"token\"]")]);
    let catalog = h.dir.path().join("catalog.toml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    std::fs::write(
        &catalog,
        text.replace(
            "\n\n[images.base]",
            "\n[catalog.secrets]\ntoken = { env = \"HIER_UNIT_TEST_NO_SUCH_VAR\" }\n\n[images.base]",
        ),
    )
    .unwrap();
    let (outcome, _) = h
        .run_with(
            Selector::Changed,
            options(),
            Arc::new(Rebuild),
            Interrupt::manual(),
        )
        .await;
    match outcome {
        Err(Error::Input(problems)) => assert_eq!(
            problems[0].message,
            "secret `token` (needed by `base`): the environment variable HIER_UNIT_TEST_NO_SUCH_VAR is not set"
        ),
        other => panic!("{other:?}"),
    }
    assert!(h.fake().built().is_empty());
}

#[tokio::test]
async fn a_refused_push_fails_the_image_and_the_next_push_run_pushes_it() {
    let h = Hierarchy::new(TREE);
    let refused = crate::engine::EngineError::Failed("denied: read-only".into());
    h.fake().script(
        "push reg.test/t/base:1.0.0",
        crate::engine::fake::Scripted::Fail(refused),
    );
    let push = Options {
        push: true,
        ..options()
    };
    let outcome = h.rebuild(push.clone()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Failed),
            ("a", Status::Skipped),
            ("b", Status::Skipped),
            ("a1", Status::Skipped)
        ])
    );
    // Built, tested and recorded, not pushed; nothing built on it.
    let lock = h.lock();
    assert!(lock.images["base"].pushed.is_empty());
    assert_eq!(lock.images.len(), 1);

    let outcome = h.rebuild(push).await;
    assert_eq!(outcome.exit, Exit::Success);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("a", Status::Pushed),
            ("b", Status::Pushed),
            ("a1", Status::Pushed),
            ("base", Status::Pushed)
        ])
    );
    assert!(h.lock().images.values().all(|e| !e.pushed.is_empty()));
}
