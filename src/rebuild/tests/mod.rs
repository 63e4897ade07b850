//! The run loop's behaviour against a scripted engine (no Docker, milliseconds each): a
//! hierarchy on disk and a runner on the fake engine, used here and by `refresh`'s tests.
//! `failures`: failures skip only their dependents, `--fail-fast`, retries of transient
//! failures and none of a failing step, a lost engine, interruption. `publishing`: `--atomic`,
//! the exact images each build names, secrets. `retest`: changed tests run on the recorded
//! image, and what builds on it waits for them. `limits`: never more builds at once than `-j`.
//! `budgets`: sizes recorded, an image over budget failing, a lowered budget checked again.
//! The same features are tested against the real engine in `tests/`.

mod budgets;
mod failures;
mod limits;
mod pool;
mod publishing;
mod retest;

use std::sync::Arc;
use std::time::Duration;

use super::policy::{Policy, Rebuild};
use super::reporter::Lines;
use super::{Options, Runner};
use crate::catalog::Builder;
use crate::engine::Engine;
use crate::engine::fake::Fake;
use crate::engine::retry::{Backoff, Retrying};
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::lock::Lock;
use crate::plan::{self, Selector};
use crate::repo::Repository;
use crate::report::{RunOutcome, Status};

fn retrying(fake: Fake) -> Arc<Retrying<Fake>> {
    let backoff = Backoff {
        retries: 3,
        first: Duration::from_millis(1),
    };
    Arc::new(Retrying::new(fake, backoff))
}

pub(crate) const FROM_ID: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000001";
pub(crate) const REGISTRY: &str = "reg.test/t";

/// A hierarchy on disk: `(name, parent, extra catalog lines)`; a parent of `None` is a base on
/// `busybox:1`. Every image has a hand-written Dockerfile on `HIER_PARENT` and a test.
pub(crate) struct Hierarchy {
    pub dir: tempfile::TempDir,
    pub engine: Arc<Retrying<Fake>>,
    /// More builders beside `engine` (a run then spreads over all of them).
    pub others: Vec<Arc<Retrying<Fake>>>,
}

impl Hierarchy {
    pub(crate) fn new(images: &[(&str, Option<&str>, &str)]) -> Hierarchy {
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
        Hierarchy {
            dir,
            engine: retrying(fake),
            others: Vec::new(),
        }
    }

    /// The hierarchy on `builders` fake engines sharing one registry; only the first has the
    /// bases' `from`.
    pub(crate) fn pooled(images: &[(&str, Option<&str>, &str)], builders: usize) -> Hierarchy {
        let mut h = Hierarchy::new(images);
        let registry = crate::engine::fake::Registry::default();
        let fakes: Vec<Fake> = (0..builders)
            .map(|b| Fake::in_pool(&format!("b{b}"), registry.clone()))
            .collect();
        fakes[0].add_image(FROM_ID, &["busybox:1"]);
        let mut engines = fakes.into_iter().map(retrying);
        h.engine = engines.next().unwrap();
        h.others = engines.collect();
        h
    }

    /// The engines of the run, `jobs` builds each.
    fn pool(&self, jobs: usize) -> crate::pool::Pool {
        let engines = std::iter::once(&self.engine).chain(&self.others);
        if self.others.is_empty() {
            return crate::pool::Pool::single(self.engine.clone() as Arc<dyn Engine>, jobs);
        }
        crate::pool::Pool::new(
            engines
                .enumerate()
                .map(|(b, engine)| crate::pool::Member {
                    name: format!("b{b}"),
                    engine: engine.clone() as Arc<dyn Engine>,
                    jobs,
                    tunnel: None,
                })
                .collect(),
        )
    }

    pub(crate) fn fake(&self) -> &Fake {
        self.engine.inner()
    }

    pub(crate) fn repo(&self) -> Repository {
        Repository::open(&self.dir.path().join("catalog.toml")).unwrap()
    }

    pub(crate) fn lock(&self) -> Lock {
        self.repo().lock
    }

    pub(crate) fn image_id(&self, name: &str) -> String {
        self.lock().images[name].image_id.clone()
    }

    /// Runs `--changed` (or `selector`) with `options` and `policy`.
    pub(crate) async fn run_with(
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

    pub(crate) async fn run_in(
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
            command: "rebuild",
            repo: &repo,
            inputs: &inputs,
            pool: Arc::new(self.pool(options.jobs)),
            interrupt,
            secrets,
            provenance: Default::default(),
            fetched: Vec::new(),
            checked: None,
        };
        runner.run(&plan, &options, policy, lines).await
    }

    pub(crate) async fn rebuild(&self, options: Options) -> RunOutcome {
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

pub(crate) fn options() -> Options {
    Options {
        jobs: 2,
        push: false,
        fail_fast: false,
        no_cache: false,
        builder: Builder::BuildKit,
        atomic: false,
    }
}

pub(crate) fn statuses(outcome: &RunOutcome) -> Vec<(String, Status)> {
    outcome
        .report
        .images
        .iter()
        .map(|i| (i.name.clone(), i.status))
        .collect()
}

pub(crate) fn pairs(items: &[(&str, Status)]) -> Vec<(String, Status)> {
    items.iter().map(|(n, s)| (n.to_string(), *s)).collect()
}

pub(crate) const TREE: &[(&str, Option<&str>, &str)] = &[
    ("base", None, ""),
    ("a", Some("base"), ""),
    ("a1", Some("a"), ""),
    ("b", Some("base"), ""),
];
