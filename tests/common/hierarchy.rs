//! A test hierarchy against the real engine: a repository whose images live under a registry
//! prefix of their own (removed when it is dropped), built with the builder the test run uses,
//! and the helpers the engine tests read it with.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::engine::{docker, docker_succeeds, remove_images};
use super::{Repo, Run, builder_line};

pub const BASE: &str = "hier-test/busybox:1";

/// Fails (never skips) when no engine answers: CI must have one.
pub fn require_engine() {
    assert!(
        docker_succeeds(&["image", "inspect", BASE]),
        "these tests need a Docker Engine with {BASE}: run scripts/engine-up first"
    );
}

/// A repository whose images live under a prefix of their own, removed on drop.
pub struct Hierarchy {
    pub repo: Repo,
    pub prefix: String,
}

impl Drop for Hierarchy {
    fn drop(&mut self) {
        if std::env::var_os("HIER_TEST_KEEP").is_some() {
            eprintln!("kept {} ({})", self.repo.path().display(), self.prefix);
            std::mem::forget(std::mem::replace(&mut self.repo, Repo::new()).dir.keep());
            return;
        }
        remove_images(&format!("{}/", self.prefix));
    }
}

impl Hierarchy {
    /// `images` is the `[images.*]` part of the catalog; templates `layer.hbs` (a file per
    /// image, from a var) and `copy.hbs` (copies the context) are there.
    pub fn new(test: &str, images: &str) -> Hierarchy {
        Hierarchy::with(test, &builder_line(), images)
    }

    /// Like [`new`](Self::new), with these lines in `[catalog]` (which must say the builder)
    /// instead of the test run's builder.
    pub fn with(test: &str, catalog_lines: &str, images: &str) -> Hierarchy {
        require_engine();
        let prefix = format!("hier-test-{test}-{}", std::process::id());
        let catalog = format!(
            "[catalog]\nname = \"t\"\nregistry = \"{prefix}\"\n{catalog_lines}\n[catalog.labels]\n\"org.example.test\" = \"{prefix}\"\n\n[catalog.vars]\nmark = \"one\"\n\n{images}"
        );
        let repo = Repo::with(&[
            ("catalog.toml", &catalog),
            (
                "templates/layer.hbs",
                "FROM {{parent.ref}}\nRUN echo {{image.name}} {{vars.mark}} > /etc/{{image.name}}\n",
            ),
            (
                "templates/copy.hbs",
                "FROM {{parent.ref}}\nCOPY . /ctx/{{image.name}}/\n",
            ),
        ]);
        let h = Hierarchy { repo, prefix };
        h.git(&["init", "-q"]);
        h.commit();
        h
    }

    pub fn git(&self, args: &[&str]) {
        let ok = Command::new("git")
            .args(args)
            .current_dir(self.repo.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    pub fn commit(&self) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", "change"]);
    }

    pub fn hier(&self, args: &[&str]) -> Run {
        self.repo.hier(args)
    }

    pub fn rebuild(&self, args: &[&str]) -> (Run, Value) {
        let mut all = vec!["rebuild", "--format", "json"];
        all.extend_from_slice(args);
        let run = self.hier(&all);
        let report: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", run.stdout, run.stderr));
        (run, report)
    }

    pub fn lock(&self) -> toml::Table {
        toml::from_str(&self.repo.read("hier.lock")).unwrap()
    }

    pub fn entry(&self, image: &str) -> toml::Table {
        self.lock()["images"][image].as_table().unwrap().clone()
    }

    pub fn reference(&self, image: &str, tag: &str) -> String {
        format!("{}/{image}:{tag}", self.prefix)
    }

    pub fn inspect(&self, reference: &str, format: &str) -> String {
        docker(&["image", "inspect", reference, "--format", format])
    }

    /// Waits (at most a minute) until the lock records `image`, as a running rebuild writes it.
    pub fn wait_for_lock_entry(&self, image: &str) {
        let start = Instant::now();
        let entry = format!("[images.{image}]");
        while start.elapsed() < Duration::from_secs(60) {
            let text =
                std::fs::read_to_string(self.repo.path().join("hier.lock")).unwrap_or_default();
            if text.contains(&entry) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// No test container of this hierarchy's images is left behind.
    pub fn assert_no_test_containers(&self) {
        let owners = docker(&[
            "ps",
            "-a",
            "--filter",
            "label=io.hier.test",
            "--format",
            "{{.Label \"io.hier.test\"}}",
        ]);
        let mine: Vec<&str> = owners
            .lines()
            .filter(|o| o.starts_with(&format!("{}/", self.prefix)))
            .collect();
        assert!(mine.is_empty(), "test containers left: {mine:?}");
    }

    /// Names planned by `hier plan --changed`.
    pub fn planned(&self) -> Vec<String> {
        let run = self.hier(&["plan", "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let plan: Value = serde_json::from_str(&run.stdout).unwrap();
        plan["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    }
}
