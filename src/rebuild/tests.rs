//! The run loop's behaviour against a scripted engine (no Docker, milliseconds each): failures
//! skip only their dependents, `--fail-fast`, retries of transient failures and none of a
//! failing step, interruption, `--atomic`, a refresh keeping an unchanged image, and the exact
//! images each build names. The same features are tested against the real engine in
//! `tests/engine.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::policy::{Policy, Rebuild};
use super::reporter::Lines;
use super::{Options, Runner};
use crate::catalog::Builder;
use crate::engine::fake::{Call, Fake, Scripted};
use crate::engine::retry::{Backoff, Retrying};
use crate::engine::{Engine, EngineError};
use crate::error::{Error, Exit};
use crate::interrupt::Interrupt;
use crate::lock::Lock;
use crate::name::ImageName;
use crate::plan::{self, Selector};
use crate::rebuild::upstream::Upstream;
use crate::refresh::RefreshPolicy;
use crate::repo::Repository;
use crate::report::{RunOutcome, Status};

const FROM_ID: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
const REGISTRY: &str = "reg.test/t";

/// A hierarchy on disk: `(name, parent, extra catalog lines)`; a parent of `None` is a base on
/// `busybox:1`. Every image has a hand-written Dockerfile on `HIER_PARENT` and a test.
struct Hierarchy {
    dir: tempfile::TempDir,
    engine: Arc<Retrying<Fake>>,
}

impl Hierarchy {
    fn new(images: &[(&str, Option<&str>, &str)]) -> Hierarchy {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = format!("[catalog]\nname = \"t\"\nregistry = \"{REGISTRY}\"\n");
        for (name, parent, extra) in images {
            let origin = match parent {
                None => "from = \"busybox:1\"".to_string(),
                Some(p) => format!("parent = \"{p}\""),
            };
            catalog.push_str(&format!(
                "\n[images.{name}]\n{origin}\nversion = \"1.0.0\"\ndockerfile = \"images/{name}/Dockerfile\"\ntest = [\"test {name}\"]\n{extra}\n"
            ));
            let context = dir.path().join("images").join(name);
            std::fs::create_dir_all(&context).unwrap();
            std::fs::write(
                context.join("Dockerfile"),
                "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN true\n",
            )
            .unwrap();
            std::fs::write(context.join(".dockerignore"), "Dockerfile\n").unwrap();
        }
        std::fs::write(dir.path().join("catalog.toml"), catalog).unwrap();
        let fake = Fake::new();
        fake.add_image(FROM_ID, &["busybox:1"]);
        let backoff = Backoff {
            retries: 3,
            first: Duration::from_millis(1),
        };
        Hierarchy {
            dir,
            engine: Arc::new(Retrying::new(fake, backoff)),
        }
    }

    fn fake(&self) -> &Fake {
        self.engine.inner()
    }

    fn repo(&self) -> Repository {
        Repository::open(&self.dir.path().join("catalog.toml")).unwrap()
    }

    fn lock(&self) -> Lock {
        self.repo().lock
    }

    fn image_id(&self, name: &str) -> String {
        self.lock().images[name].image_id.clone()
    }

    /// Runs `--changed` (or `selector`) with `options` and `policy`.
    async fn run_with(
        &self,
        selector: Selector,
        options: Options,
        policy: Arc<dyn Policy>,
        interrupt: Interrupt,
    ) -> (Result<RunOutcome, Error>, String) {
        let mut lines = Lines::with_clock(Vec::new(), false, || 0.0);
        let outcome = self
            .run_in(selector, options, policy, interrupt, &mut lines)
            .await;
        (outcome, String::from_utf8(lines.into_inner()).unwrap())
    }

    async fn run_in(
        &self,
        selector: Selector,
        options: Options,
        policy: Arc<dyn Policy>,
        interrupt: Interrupt,
        lines: &mut Lines<Vec<u8>>,
    ) -> Result<RunOutcome, Error> {
        let repo = self.repo();
        let inputs = repo.inputs().unwrap();
        let plan = plan::make(
            &repo.catalog,
            &repo.hierarchy,
            &inputs,
            &repo.lock,
            &selector,
        );
        let planned: Vec<_> = plan.builds().map(|i| &i.name).collect();
        let secrets = crate::secrets::resolve(&repo.catalog, &repo.root, planned, options.builder)?;
        let runner = Runner {
            repo: &repo,
            inputs: &inputs,
            engine: self.engine.clone() as Arc<dyn Engine>,
            interrupt,
            secrets,
        };
        runner.run(&plan, &options, policy, lines).await
    }

    async fn rebuild(&self, options: Options) -> RunOutcome {
        let (outcome, lines) = self
            .run_with(
                Selector::Changed,
                options,
                Arc::new(Rebuild),
                Interrupt::manual(),
            )
            .await;
        outcome.unwrap_or_else(|e| panic!("{e:?}\n{lines}"))
    }
}

fn options() -> Options {
    Options {
        jobs: 2,
        push: false,
        fail_fast: false,
        no_cache: false,
        builder: Builder::BuildKit,
        atomic: false,
    }
}

fn statuses(outcome: &RunOutcome) -> Vec<(String, Status)> {
    outcome
        .report
        .images
        .iter()
        .map(|i| (i.name.clone(), i.status))
        .collect()
}

fn pairs(items: &[(&str, Status)]) -> Vec<(String, Status)> {
    items.iter().map(|(n, s)| (n.to_string(), *s)).collect()
}

const TREE: &[(&str, Option<&str>, &str)] = &[
    ("base", None, ""),
    ("a", Some("base"), ""),
    ("a1", Some("a"), ""),
    ("b", Some("base"), ""),
];

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
    let watcher = {
        let (engine, interrupt) = (h.engine.clone(), interrupt.clone());
        tokio::spawn(async move {
            while !engine.inner().built().contains(&"a".to_string())
                || engine.inner().built().len() < 3
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // `b` may still be finishing: give it its moment, then stop.
            tokio::time::sleep(Duration::from_millis(20)).await;
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

fn refresh_policy(h: &Hierarchy, candidates: &[&str]) -> RefreshPolicy {
    let name = |n: &str| ImageName::parse(n).unwrap();
    RefreshPolicy {
        candidates: candidates
            .iter()
            .map(|c| (name(c), "scheduled".to_string()))
            .collect(),
        upstreams: HashMap::from([(
            name("base"),
            Upstream {
                local_id: FROM_ID.into(),
                recorded: FROM_ID.into(),
                manifest_digest: None,
            },
        )]),
        old_upstreams: HashMap::from([(name("base"), Some(FROM_ID.to_string()))]),
        lock: h.lock(),
    }
}

const DPKG: &str = "Package: openssl\nStatus: install ok installed\nVersion: 3.0.20-1\n";

#[tokio::test]
async fn a_refresh_keeps_an_unchanged_image_and_cascades_a_changed_one() {
    let h = Hierarchy::new(TREE);
    h.fake()
        .set_file("base", crate::packages::DPKG_STATUS, DPKG);
    h.rebuild(options()).await;
    let before = h.lock();
    let all = |h: &Hierarchy| {
        let repo = h.repo();
        Selector::Images(repo.hierarchy.order().to_vec())
    };

    // Same upstream, same packages: the old image stays, nothing below it is built.
    let builds = h.fake().built().len();
    let (outcome, _) = h
        .run_with(
            all(&h),
            options(),
            Arc::new(refresh_policy(&h, &["base"])),
            Interrupt::manual(),
        )
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(statuses(&outcome), pairs(&[("base", Status::Unchanged)]));
    assert_eq!(
        h.fake().built().len(),
        builds + 1,
        "only the base was rebuilt"
    );
    assert_eq!(h.lock(), before);
    let build = h.fake().calls().into_iter().rev().find_map(|c| match c {
        Call::Build { no_cache, .. } => Some(no_cache),
        _ => None,
    });
    assert_eq!(build, Some(true), "a candidate builds with no cache");

    // A package moved: the base is promoted and everything on it is rebuilt.
    h.fake().set_file(
        "base",
        crate::packages::DPKG_STATUS,
        &DPKG.replace("3.0.20-1", "3.0.22-1"),
    );
    let (outcome, _) = h
        .run_with(
            all(&h),
            options(),
            Arc::new(refresh_policy(&h, &["base"])),
            Interrupt::manual(),
        )
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Built),
            ("b", Status::Built),
            ("a1", Status::Built)
        ])
    );
    assert_eq!(
        outcome.report.images[0].packages.as_deref(),
        Some(&["openssl 3.0.20-1 -> 3.0.22-1".to_string()][..])
    );
    assert_ne!(h.image_id("base"), before.images["base"].image_id);
    assert_eq!(
        h.lock().images["a"].parent_image_id.as_deref(),
        Some(h.image_id("base").as_str())
    );
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
