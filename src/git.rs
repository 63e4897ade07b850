//! `--since REV`: the repository as it was at a git revision, extracted with `git archive` into
//! a temporary folder so its inputs can be computed exactly like today's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::inputs::Inputs;
use crate::name::ImageName;
use crate::repo::Repository;

/// `git -C dir args…`, reading nothing from standard input.
fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).args(args).stdin(Stdio::null());
    command
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, Error> {
    git_command(dir, args).output().map_err(cannot_run)
}

fn cannot_run(error: std::io::Error) -> Error {
    Error::usage(format!(
        "--since needs git, which could not be run: {error}"
    ))
}

/// The inputs of every image at revision `rev` (an image absent then is absent from the map).
/// Bases are compared with the identity today's lock records for `from`.
pub fn inputs_at(
    repo: &Repository,
    catalog_file: &str,
    rev: &str,
) -> Result<BTreeMap<ImageName, Inputs>, Error> {
    let top = toplevel(&repo.root, rev)?;
    let commit = commit(&repo.root, rev)?;
    let prefix = repo
        .root
        .strip_prefix(&top)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = tempfile::tempdir().map_err(|e| Error::io("create", "a temporary folder", e))?;
    if !extract(&top, &commit, &prefix, dir.path(), rev)? {
        // `git archive` fails when the path did not exist at that revision: nothing then.
        return Ok(BTreeMap::new());
    }
    let catalog = dir.path().join(&prefix).join(catalog_file);
    if !catalog.is_file() {
        return Ok(BTreeMap::new());
    }
    let then =
        Repository::open_with_lock(&catalog, repo.lock.clone()).map_err(|e| at_revision(e, rev))?;
    then.inputs().map_err(|e| at_revision(e, rev))
}

/// The top folder of the git work tree holding `root` (canonical).
fn toplevel(root: &Path, rev: &str) -> Result<PathBuf, Error> {
    let top = git(root, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(Error::usage_help(
            format!(
                "--since {rev}: {} is not in a git repository",
                root.display()
            ),
            "commit the hierarchy to git, or plan with --changed",
        ));
    }
    std::fs::canonicalize(String::from_utf8_lossy(&top.stdout).trim())
        .map_err(|e| Error::usage(format!("--since {rev}: {e}")))
}

/// The commit `rev` names.
fn commit(root: &Path, rev: &str) -> Result<String, Error> {
    let verify = git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    if !verify.status.success() {
        return Err(Error::usage_help(
            format!("unknown git revision `{rev}`"),
            "name a commit, branch or tag (`git log --oneline` lists them)",
        ));
    }
    Ok(String::from_utf8_lossy(&verify.stdout).trim().to_string())
}

/// Unpacks `prefix` (the whole tree when empty) as it was at `commit` into `dir`; false when
/// `git archive` fails.
fn extract(top: &Path, commit: &str, prefix: &str, dir: &Path, rev: &str) -> Result<bool, Error> {
    let mut args = vec!["archive", "--format=tar", commit];
    if !prefix.is_empty() {
        args.push("--");
        args.push(prefix);
    }
    let mut child = git_command(top, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(cannot_run)?;
    let stdout = child.stdout.take().expect("piped stdout");
    let unpacked = tar::Archive::new(stdout).unpack(dir);
    let status = child
        .wait()
        .map_err(|e| Error::io("run", "git archive", e))?;
    if !status.success() {
        return Ok(false);
    }
    unpacked.map_err(|e| Error::io("unpack", format!("git archive of {rev}"), e))?;
    Ok(true)
}

fn at_revision(error: Error, rev: &str) -> Error {
    match error {
        Error::Input(mut problems) => {
            for p in &mut problems {
                p.message = format!("at revision {rev}: {}", p.message);
            }
            Error::Input(problems)
        }
        other => other,
    }
}
