//! Helpers shared by the integration tests: temporary hierarchy repositories and running the
//! real `hier` binary in them.

#![allow(dead_code)]

pub mod dive;
pub mod engine;
pub mod hierarchy;
pub mod hostile;
pub mod own_engine;
pub mod sbom;
pub mod site;
pub mod sshd;
pub mod structure;
pub mod stub;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The builder the engine tests build with: the classic builder when `HIER_TEST_BUILDER=legacy`,
/// BuildKit otherwise. `scripts/test` runs the engine, registry and refresh tests under both.
pub fn builder() -> &'static str {
    match std::env::var("HIER_TEST_BUILDER").as_deref() {
        Ok("legacy") => "legacy",
        _ => "buildkit",
    }
}

/// The `[catalog]` line that selects [`builder`].
pub fn builder_line() -> String {
    format!("builder = \"{}\"\n", builder())
}

/// A temporary hierarchy repository.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

/// What a run of `hier` printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Repo {
    pub fn new() -> Repo {
        Repo {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// A repository with these files (path → text).
    pub fn with(files: &[(&str, &str)]) -> Repo {
        let repo = Repo::new();
        for (path, text) in files {
            repo.write(path, text);
        }
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, text).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        fs::read_to_string(self.path().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub fn hier(&self, args: &[&str]) -> Run {
        hier_in(self.path(), args)
    }

    /// Runs hier with these environment variables set.
    pub fn hier_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run(self.path(), args, env)
    }

    /// Runs hier with no engine to be found (the offline commands must not depend on one).
    pub fn hier_offline(&self, args: &[&str]) -> Run {
        run(
            self.path(),
            args,
            &[("DOCKER_HOST", "unix:///nonexistent/hier-test.sock")],
        )
    }

    /// Every file below the repository with its content (to check nothing was written).
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(self.path())
    }

    /// Fails naming the paths added, removed or changed since `before` was taken.
    pub fn assert_unchanged(&self, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
        let after = self.snapshot();
        let differ: Vec<&PathBuf> = before
            .keys()
            .chain(after.keys())
            .filter(|p| before.get(*p) != after.get(*p))
            .collect();
        assert!(
            differ.is_empty(),
            "{what} changed the repository: {differ:?}"
        );
    }
}

pub fn hier_in(dir: &Path, args: &[&str]) -> Run {
    run(dir, args, &[])
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(args)
        .current_dir(dir)
        .env_remove("HIER_CATALOG")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .envs(env.iter().copied())
        .output()
        .expect("hier runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), Vec::new());
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Compares `actual` with the snapshot file, or rewrites the file when HIER_BLESS is set.
pub fn assert_snapshot(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("HIER_BLESS").is_some() {
        fs::write(path, actual).unwrap();
        return Ok(());
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (rerun with HIER_BLESS=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ))
    }
}
