//! What a run tells people: events rendered live (indicatif bars on a terminal, one plain line
//! per event otherwise), the summary table at the end, and the JSON report (SPEC section 9)
//! written to `.hier/reports/`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::table::Table;

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
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Built => "built",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Unchanged => "unchanged",
            Status::Fetched => "fetched",
            Status::Pushed => "pushed",
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
    /// The manifest digest it was pushed as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A remark for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ImageReport {
    pub fn with_note(mut self, note: String) -> Self {
        self.note = Some(note);
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run: String,
    pub interrupted: bool,
    pub images: Vec<ImageReport>,
}

impl Report {
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
}

/// Something that happened during a run.
#[derive(Debug)]
pub enum Event {
    Started {
        name: String,
    },
    Step {
        name: String,
        line: String,
    },
    Testing {
        name: String,
        command: String,
    },
    Finished {
        name: String,
        status: Status,
        detail: String,
    },
}

/// Renders events for people, on standard error.
pub trait Reporter: Send {
    fn event(&mut self, event: &Event);
    fn finish(&mut self) {}
}

/// One line per event (CI logs, pipes).
pub struct Lines {
    start: Instant,
    quiet: bool,
}

impl Lines {
    pub fn new(quiet: bool) -> Lines {
        Lines {
            start: Instant::now(),
            quiet,
        }
    }
}

impl Reporter for Lines {
    fn event(&mut self, event: &Event) {
        let t = self.start.elapsed().as_secs_f64();
        match event {
            Event::Started { name } if !self.quiet => eprintln!("[{t:7.1}s] {name}: building"),
            Event::Testing { name, command } if !self.quiet => {
                eprintln!("[{t:7.1}s] {name}: testing `{command}`")
            }
            Event::Finished {
                name,
                status,
                detail,
            } if !self.quiet || *status == Status::Failed => {
                let sep = if detail.is_empty() { "" } else { ": " };
                eprintln!("[{t:7.1}s] {name}: {}{sep}{detail}", status.as_str());
            }
            _ => {}
        }
    }
}

/// Live progress on a terminal: a line per running build with its current step, and an overall
/// bar with counts and elapsed time.
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: Vec<(String, ProgressBar)>,
    done: u64,
    failed: u64,
}

impl Bars {
    pub fn new(total: u64) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            overall,
            running: Vec::new(),
            done: 0,
            failed: 0,
        }
    }

    fn bar(&self, name: &str) -> Option<&ProgressBar> {
        self.running.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }
}

impl Reporter for Bars {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started { name } => {
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
                        .expect("a valid template"),
                );
                bar.set_prefix(name.clone());
                bar.set_message("starting");
                bar.enable_steady_tick(Duration::from_millis(120));
                self.running.push((name.clone(), bar));
            }
            Event::Step { name, line } => {
                if line.starts_with("Step ")
                    && let Some(bar) = self.bar(name)
                {
                    bar.set_message(line.clone());
                }
            }
            Event::Testing { name, command } => {
                if let Some(bar) = self.bar(name) {
                    bar.set_message(format!("testing: {command}"));
                }
            }
            Event::Finished {
                name,
                status,
                detail,
            } => {
                if let Some(pos) = self.running.iter().position(|(n, _)| n == name) {
                    let (_, bar) = self.running.remove(pos);
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.done += 1;
                if *status == Status::Failed {
                    self.failed += 1;
                }
                let sep = if detail.is_empty() { "" } else { ": " };
                let _ = self
                    .multi
                    .println(format!("{name}: {}{sep}{detail}", status.as_str()));
                self.overall.set_position(self.done);
                self.overall.set_message(if self.failed > 0 {
                    format!("{} failed", self.failed)
                } else {
                    String::new()
                });
            }
        }
    }

    fn finish(&mut self) {
        self.overall.finish_and_clear();
    }
}

/// The reporter for this terminal: bars when standard error is one, lines otherwise.
pub fn reporter(total: u64, quiet: bool) -> Box<dyn Reporter> {
    if !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
        Box::new(Bars::new(total))
    } else {
        Box::new(Lines::new(quiet))
    }
}
