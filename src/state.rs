//! hier's local run state, under `.hier/` beside the catalog (never committed): each run's logs
//! in `logs/<run>/`, reports in `reports/<run>.json`, and the run lock. A run is named by its
//! start time (UTC).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The state folder of a repository.
pub fn dir(root: &Path) -> PathBuf {
    root.join(".hier")
}

pub fn reports(root: &Path) -> PathBuf {
    dir(root).join("reports")
}

pub fn logs(root: &Path, run: &str) -> PathBuf {
    dir(root).join("logs").join(run)
}

/// A new run's name: its start time, `20261203T062647Z`.
pub fn run_id() -> String {
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    now.replace([':', '-'], "")
}
