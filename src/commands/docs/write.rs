//! Writing the catalog's folder. Every file is written first to a staging folder inside it;
//! only when all are written do they replace the old ones, each by a rename (a page is never
//! seen half-written, and a failure while writing leaves the old catalog as it was). Then the
//! pages the last run wrote and this one did not (an image that left the catalog) are
//! removed: the [`MARKER`] file lists what hier wrote, and nothing else in the folder is ever
//! touched (a `CNAME`, a `.git`). The folder itself stays (a mount point, a shell in it).
//!
//! Refused (exit 2): a file or a symlink as the folder; a folder that is not empty and has no
//! marker; a folder that holds the repository, or lies inside an image's build context (the
//! pages would become part of what it is built from).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::repo::Repository;
use crate::site::{File, MARKER};
use crate::source::display_path;

/// The prefix of the staging folder (one left by an interrupted run is removed by the next).
const STAGING: &str = ".hier-docs-new-";

/// `out` without a trailing `/` or `.` (`site/`, `site/.` are `site`).
pub fn normalized(out: &Path) -> PathBuf {
    let path: PathBuf = out.components().collect();
    match path.as_os_str().is_empty() {
        true => PathBuf::from("."),
        false => path,
    }
}

/// Refuses an `out` that is not a folder hier may write the catalog in.
pub fn check_target(repo: &Repository, out: &Path) -> Result<(), Error> {
    let shown = display_path(out);
    if let Ok(meta) = fs::symlink_metadata(out) {
        if meta.file_type().is_symlink() {
            return Err(Error::usage_help(
                format!("{} is a symlink", shown.display()),
                "name the folder it leads to, or a new folder",
            ));
        }
        if !meta.is_dir() {
            return Err(Error::usage(format!("{} is not a folder", shown.display())));
        }
        if !is_ours_or_empty(out)? {
            return Err(Error::usage_help(
                format!(
                    "{} is not empty and hier docs did not write it",
                    shown.display()
                ),
                "name a new or empty folder",
            ));
        }
    }
    check_place(repo, out)
}

fn is_ours_or_empty(out: &Path) -> Result<bool, Error> {
    let mut entries = fs::read_dir(out).map_err(|e| Error::io("read", out.display(), e))?;
    let ours = fs::symlink_metadata(out.join(MARKER)).is_ok_and(|m| m.is_file());
    Ok(ours || entries.next().is_none())
}

/// The folder must not hold the repository nor lie in a build context.
fn check_place(repo: &Repository, out: &Path) -> Result<(), Error> {
    let Some(target) = resolved(out) else {
        return Ok(());
    };
    let shown = display_path(out);
    let root = fs::canonicalize(&repo.root).unwrap_or_else(|_| repo.root.clone());
    if root.starts_with(&target) {
        return Err(Error::usage_help(
            format!("{} holds the repository", shown.display()),
            "write the catalog to a folder of its own, such as target/catalog",
        ));
    }
    for image in &repo.catalog.images {
        let context = root.join(&image.context);
        if target.starts_with(&context) {
            return Err(Error::usage_help(
                format!(
                    "{} is inside the build context of image `{}`",
                    shown.display(),
                    image.name
                ),
                "write the catalog outside every build context, such as target/catalog",
            ));
        }
    }
    Ok(())
}

/// Where `out` is on disk: itself when it exists, else its nearest existing folder with the
/// rest of the path after it.
fn resolved(out: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(out).ok()?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            return Some(rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c)));
        }
        rest.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    }
}

/// Writes `files` into `out` (see the module's documentation).
pub fn site(repo: &Repository, out: &Path, files: &[File]) -> Result<(), Error> {
    fs::create_dir_all(out).map_err(|e| Error::io("create", display_path(out).display(), e))?;
    check_target(repo, out)?;
    remove_stale_staging(out);
    let old = listed(out);
    let staging = out.join(format!("{STAGING}{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let written = stage(&staging, files);
    let placed = written.and_then(|()| place(&staging, out, files));
    let _ = fs::remove_dir_all(&staging);
    placed?;
    let kept: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for old in old.iter().filter(|p| !kept.contains(p.as_str())) {
        let _ = fs::remove_file(out.join(old));
    }
    Ok(())
}

/// Writes every file below `staging` (made with the user's umask, like any folder).
fn stage(staging: &Path, files: &[File]) -> Result<(), Error> {
    for file in files {
        let path = staging.join(&file.path);
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).map_err(|e| Error::io("create", folder.display(), e))?;
        }
        fs::write(&path, &file.content).map_err(|e| Error::io("write", path.display(), e))?;
    }
    Ok(())
}

/// Moves each staged file over its place in `out`, the marker last.
fn place(staging: &Path, out: &Path, files: &[File]) -> Result<(), Error> {
    let mut order: Vec<&File> = files.iter().filter(|f| f.path != MARKER).collect();
    order.extend(files.iter().filter(|f| f.path == MARKER));
    for file in order {
        let target = out.join(&file.path);
        if let Some(folder) = target.parent() {
            ensure_folder(folder)?;
        }
        fs::rename(staging.join(&file.path), &target)
            .map_err(|e| Error::io("write", display_path(&target).display(), e))?;
    }
    Ok(())
}

/// A folder of the catalog (`images/`): made when missing; a symlink or a file is refused.
fn ensure_folder(folder: &Path) -> Result<(), Error> {
    match fs::symlink_metadata(folder) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::usage(format!(
            "{} is not a folder hier docs wrote",
            display_path(folder).display()
        ))),
        Err(_) => fs::create_dir(folder).map_err(|e| Error::io("create", folder.display(), e)),
    }
}

/// The files the marker in `out` lists, when each is one hier writes (`index.html`,
/// `images/<name>.html`, …): a marker someone edited cannot name anything else.
fn listed(out: &Path) -> Vec<String> {
    let text = fs::read_to_string(out.join(MARKER)).unwrap_or_default();
    text.lines()
        .filter(|line| crate::site::is_site_path(line))
        .map(str::to_string)
        .collect()
}

/// Staging folders an interrupted run left.
fn remove_stale_staging(out: &Path) {
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && name.to_string_lossy().starts_with(STAGING) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
