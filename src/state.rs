//! hier's local run state, under `.hier/` beside the catalog (never committed): each run's logs
//! in `logs/<run>/`, reports in `reports/<run>.json`, and the run lock. A run is named by its
//! start time (UTC, to the millisecond).

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

/// A new run's name: its start time to the millisecond, `20261203T062647.123Z`, so runs that
/// follow each other within a second keep their own logs and reports.
pub fn run_id() -> String {
    let now = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    now.replace([':', '-'], "")
}
