//! Writing the catalog's folder whole: the files go to a new folder beside it, which then
//! takes its place, so a failure leaves the old catalog as it was and a page of an image that
//! left the catalog does not linger. A folder that is not empty is replaced only when hier
//! wrote it (it holds [`MARKER`]); a file, or a symlink, named as the folder is refused.

use std::fs;
use std::path::Path;

use crate::error::Error;
use crate::site::{File, MARKER};
use crate::source::display_path;

/// Refuses an `out` that is not a folder hier may (re)write.
pub fn check_target(out: &Path) -> Result<(), Error> {
    let shown = display_path(out);
    let Ok(meta) = fs::symlink_metadata(out) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Err(Error::usage_help(
            format!("{} is a symlink", shown.display()),
            "name the folder it leads to, or a new folder",
        ));
    }
    if !meta.is_dir() {
        return Err(Error::usage(format!("{} is not a folder", shown.display())));
    }
    let empty = fs::read_dir(out)
        .map_err(|e| Error::io("read", shown.display(), e))?
        .next()
        .is_none();
    let ours = fs::symlink_metadata(out.join(MARKER)).is_ok_and(|m| m.is_file());
    if !empty && !ours {
        return Err(Error::usage_help(
            format!(
                "{} is not empty and hier docs did not write it",
                shown.display()
            ),
            "name a new or empty folder (hier docs replaces the whole folder)",
        ));
    }
    Ok(())
}

/// Writes `files` as the folder `out`, replacing the catalog written there before.
pub fn site(out: &Path, files: &[File]) -> Result<(), Error> {
    let shown = display_path(out);
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io("create", parent.display(), e))?;
    let new = tempfile::Builder::new()
        .prefix(".hier-docs-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a folder in", parent.display(), e))?;
    for file in files {
        let path = new.path().join(&file.path);
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).map_err(|e| Error::io("create", folder.display(), e))?;
        }
        fs::write(&path, &file.content).map_err(|e| Error::io("write", path.display(), e))?;
    }
    // The folder is readable like any the user makes (a temporary folder is private).
    set_mode(new.path(), 0o755)?;
    check_target(out)?;
    let old = parent.join(format!(".hier-docs-old-{}", std::process::id()));
    let had_old = fs::symlink_metadata(out).is_ok();
    if had_old {
        fs::rename(out, &old).map_err(|e| Error::io("move aside", shown.display(), e))?;
    }
    let new = new.keep();
    if let Err(e) = fs::rename(&new, out) {
        if had_old {
            let _ = fs::rename(&old, out);
        }
        let _ = fs::remove_dir_all(&new);
        return Err(Error::io("write", shown.display(), e));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", path.display(), e))
}
