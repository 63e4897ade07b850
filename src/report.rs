//! The report of a run: what ran (command, hier's version, the repository's
//! revision), how it ended (exit code, counts by status), and per image its status, id, time,
//! why it was in the run and what went wrong; written to `.hier/reports/<run>.json`, printed as
//! JSON or as a table.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Exit};
use crate::table::Table;

/// What a run did, and how it ends.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: Report,
    pub exit: Exit,
    /// Notes for people (the tails of failing logs, what blocked an atomic refresh).
    pub notes: String,
}

/// A duration as the report gives it: seconds, to the millisecond.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// What became of an image in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Built,
    Failed,
    #[default]
    Skipped,
    Unchanged,
    Fetched,
    Pushed,
    /// A recorded image whose tests were run again, and passed.
    Tested,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Built,
        Status::Pushed,
        Status::Tested,
        Status::Fetched,
        Status::Unchanged,
        Status::Failed,
        Status::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Built => "built",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Unchanged => "unchanged",
            Status::Fetched => "fetched",
            Status::Pushed => "pushed",
            Status::Tested => "tested",
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ImageReport {
    pub name: String,
    pub status: Status,
    pub image_id: Option<String>,
    pub duration_s: f64,
    pub reason: String,
    pub log: Option<String>,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A failed image: the last lines of what failed (the step's or the test's output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<String>>,
    /// A failed image: what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Refresh: the identity of a base's `from` before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_new: Option<String>,
    /// Refresh: OS package changes (`openssl 3.0.20-1 -> 3.0.22-1`, `+ name version`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Built: its size in bytes and what it adds over its parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<u64>,
    /// The manifest digest it was pushed as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A remark for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// With a builders file: the builder it ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// With a builders file: the images that crossed to its builder through the registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<crate::pool::Moved>,
    /// With a builders file: the builders that stopped answering while it ran there (it was
    /// started again elsewhere each time).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restarted_from: Vec<String>,
}

impl ImageReport {
    pub fn with_note(mut self, note: String) -> Self {
        self.note = Some(note);
        self
    }
}

/// An image a refresh checked for something new, and what it decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub name: String,
    /// `yes` (rebuilt with no cache), `no`, or `if a parent changes`.
    pub rebuild: &'static str,
    /// Why it is rebuilt or not.
    pub reason: String,
    /// The image's package sources (`apt sha256:…`); images with the same share one download
    /// of the package indexes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<String>,
    /// Its updates pending: `name current -> candidate`.
    pub pending: Vec<String>,
    /// Why it could not be asked this time (a failed download, say), when so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// A due base: the identity of `from` recorded, and found now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_new: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `rebuild`, `refresh`, `push`, `test`.
    pub command: String,
    pub hier_version: String,
    /// The repository's git revision, when it is in git.
    pub revision: Option<String>,
    pub exit_code: i32,
    /// How many images ended with each status.
    pub counts: BTreeMap<&'static str, usize>,
    pub run: String,
    pub interrupted: bool,
    pub images: Vec<ImageReport>,
    /// A refresh: every image it checked for something new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked: Option<Vec<Checked>>,
}

impl Report {
    /// The report of a run that ended with `exit`.
    pub fn new(
        command: &str,
        run: String,
        revision: Option<String>,
        interrupted: bool,
        images: Vec<ImageReport>,
        exit: Exit,
    ) -> Report {
        let counts = Status::ALL
            .iter()
            .map(|s| (s.as_str(), images.iter().filter(|i| i.status == *s).count()))
            .collect();
        Report {
            command: command.to_string(),
            hier_version: env!("CARGO_PKG_VERSION").to_string(),
            revision,
            exit_code: exit.code(),
            counts,
            run,
            interrupted,
            images,
            checked: None,
        }
    }

    pub fn table(&self, styles: &crate::style::Styles) -> String {
        let mut table = Table::new(&["IMAGE", "STATUS", "TIME", "IMAGE ID", "NOTE"]);
        for image in &self.images {
            let id = image
                .image_id
                .as_deref()
                .map(|id| id.trim_start_matches("sha256:").chars().take(12).collect())
                .unwrap_or_default();
            table.row(vec![
                image.name.clone(),
                image.status.as_str().to_string(),
                format!("{:.1}s", image.duration_s),
                id,
                image
                    .error
                    .clone()
                    .or_else(|| image.note.clone())
                    .unwrap_or_else(|| image.reason.clone()),
            ]);
        }
        table.render(styles)
    }

    /// How many images have this status.
    pub fn count(&self, status: Status) -> usize {
        self.images.iter().filter(|i| i.status == status).count()
    }

    /// Writes the report to `<dir>/<run>.json` (atomically).
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir.display(), e))?;
        let path = dir.join(format!("{}.json", self.run));
        crate::lock::write_atomic(&path, self.json().as_bytes())
            .map_err(|e| Error::io("write", path.display(), e))
    }

    /// The report as pretty JSON, with a final newline.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the report serialises");
        text.push('\n');
        text
    }
}
