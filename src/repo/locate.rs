//! Finding `catalog.toml`, as cargo finds `Cargo.toml`: `--catalog PATH` (a file, or a folder
//! holding it), else `$HIER_CATALOG`, else the current folder or the nearest folder above it
//! that holds one. A catalog found above the current folder makes hier show every path as it
//! would from the repository's root ([`crate::source::show_paths_from`]), so output is the same
//! from any folder of the repository. A catalog above that another user owns is refused.

use std::fs;
use std::path::{Path, PathBuf};

use super::CATALOG_FILE;
use crate::error::Error;

/// Where the catalog is (see the module's documentation).
pub fn locate(flag: Option<&Path>) -> Result<PathBuf, Error> {
    let env = std::env::var_os("HIER_CATALOG").filter(|v| !v.is_empty());
    let (path, origin) = match (flag, env) {
        (Some(p), _) => (p.to_path_buf(), "--catalog"),
        (None, Some(p)) => (PathBuf::from(p), "HIER_CATALOG"),
        (None, None) => return search(),
    };
    let path = if path.is_dir() {
        path.join(CATALOG_FILE)
    } else {
        path
    };
    if path.is_file() {
        return Ok(path);
    }
    if let Some(kind) = not_a_file(&path) {
        return Err(Error::usage_help(
            format!(
                "the catalog {} (from {origin}) is {kind}, not a file",
                path.display()
            ),
            "point --catalog (or HIER_CATALOG) at the catalog.toml file, or at its folder",
        ));
    }
    Err(Error::usage(format!(
        "the catalog {} (from {origin}) does not exist",
        path.display()
    )))
}

/// The current folder's `catalog.toml`, else the nearest one above it. The first that exists
/// is the one: something else by that name (a folder, a fifo) is an error, not skipped.
fn search() -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the current folder: {e}")))?;
    for dir in cwd.ancestors() {
        let candidate = dir.join(CATALOG_FILE);
        if candidate.is_file() {
            if dir == cwd {
                // Relative, as the user would name it.
                return Ok(PathBuf::from(CATALOG_FILE));
            }
            check_owner(&candidate, &cwd)?;
            // The repository's root as `Repository::open` will see it.
            let root = fs::canonicalize(&candidate)
                .ok()
                .and_then(|c| c.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| dir.to_path_buf());
            crate::source::show_paths_from(&root);
            return Ok(candidate);
        }
        let kind = match not_a_file(&candidate) {
            Some(kind) => Some(kind),
            // A symlink that leads nowhere (a missing file, a loop) is not passed over either.
            None => fs::symlink_metadata(&candidate)
                .is_ok()
                .then_some("a symlink to nothing hier can read"),
        };
        if let Some(kind) = kind {
            return Err(Error::usage_help(
                format!("the catalog {} is {kind}, not a file", candidate.display()),
                "remove or rename it, or pass --catalog PATH",
            ));
        }
    }
    Err(Error::usage_help(
        format!(
            "no {CATALOG_FILE} in {} nor in any folder above it",
            cwd.display()
        ),
        "run hier inside the hierarchy's repository, or pass --catalog PATH, or set HIER_CATALOG",
    ))
}

/// A catalog found above the current folder is taken only if it belongs to the current user or
/// to the current folder's owner: one planted in a shared folder above (`/tmp`) by someone else
/// would choose what hier builds, with the user's credentials, so it is refused (as git refuses
/// a repository another user owns). `--catalog` names one explicitly.
fn check_owner(candidate: &Path, cwd: &Path) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let uid = |path: &Path| fs::metadata(path).map(|m| m.uid()).ok();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    match uid(candidate) {
        Some(owner) if owner != me && Some(owner) != uid(cwd) => Err(Error::usage_help(
            format!(
                "the catalog {} above the current folder belongs to another user (uid {owner})",
                candidate.display()
            ),
            format!(
                "pass --catalog {} to use it anyway, or run hier in your own repository",
                candidate.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// What a path that exists but is not a regular file is ("a fifo"), following symlinks.
pub(super) fn not_a_file(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = fs::metadata(path).ok()?.file_type();
    Some(if kind.is_file() {
        return None;
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a fifo"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    })
}
