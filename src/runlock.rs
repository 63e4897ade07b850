//! One hier run at a time per repository: an exclusive lock on `.hier/run.lock`, held for the
//! whole run and released by the operating system if the process dies. A second run waits for
//! it, saying so.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// hier writes its state (the lock, logs, reports, bills of materials) inside the repository only: a `.hier` (or a
/// folder in it) that is a symlink is refused rather than written through.
fn refuse_symlinks(state: &Path) -> Result<(), Error> {
    for path in [
        state.to_path_buf(),
        state.join("logs"),
        state.join("reports"),
        state.join("sbom"),
        state.join("run.lock"),
        state.join(".gitignore"),
    ] {
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::usage_help(
                format!(
                    "{} is a symlink, and hier writes its run state inside the repository only",
                    crate::source::display_path(&path).display()
                ),
                "remove it; hier makes the folder itself",
            ));
        }
    }
    Ok(())
}

pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock of the repository whose state folder is `state`, waiting if another run
    /// holds it.
    pub fn acquire(state: &Path, quiet: bool) -> Result<RunLock, Error> {
        refuse_symlinks(state)?;
        fs::create_dir_all(state).map_err(|e| Error::io("create", state.display(), e))?;
        let _ = fs::write(state.join(".gitignore"), "*\n");
        let path = state.join("run.lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", path.display(), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                if !quiet {
                    eprintln!(
                        "waiting for another hier run in this repository to finish ({}, {})",
                        holder.trim(),
                        crate::source::display_path(&path).display()
                    );
                }
                file.lock()
                    .map_err(|e| Error::io("lock", path.display(), e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path.display(), e)),
        }
        let _ = file.set_len(0);
        let _ = write!(file, "pid {}", std::process::id());
        Ok(RunLock { _file: file })
    }
}
