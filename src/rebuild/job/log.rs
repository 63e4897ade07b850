//! A job's log: written line by line to `.hier/logs/<run>/<image>.log` as it comes, every
//! secret value blanked out, its last lines kept to say what failed.

use std::collections::VecDeque;
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::engine::SecretValues;

/// The build's log, written as it comes, secrets blanked out; its last lines are kept to say
/// what failed.
pub(super) struct Log {
    file: Option<fs::File>,
    pub(super) secrets: SecretValues,
    recent: VecDeque<String>,
}

/// How many of the log's last lines a job keeps, and how many it shows of what failed.
const RECENT: usize = 500;
const SHOWN: usize = 12;

impl Log {
    /// A log written to `path` (or only kept in memory when it cannot be created).
    pub(super) fn create(path: &Path, secrets: SecretValues) -> Log {
        Log {
            file: fs::File::create(path).ok(),
            secrets,
            recent: VecDeque::new(),
        }
    }

    pub(super) fn line(&mut self, line: &str) {
        let line = self.secrets.redact(line);
        if let Some(f) = self.file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// The output of the step that failed: under BuildKit the lines of the step that has an
    /// `ERROR` line (`#6 …`), with the legacy builder what follows the last `Step` line.
    pub(super) fn failing_step(&self) -> Vec<String> {
        let lines: Vec<&str> = match self
            .recent
            .iter()
            .rev()
            .find(|l| l.starts_with('#') && l.contains(" ERROR: "))
        {
            Some(error) => {
                let prefix = format!("{} ", error.split_whitespace().next().unwrap_or("#"));
                let mut of_step = self.recent.iter().filter(|l| l.starts_with(&prefix));
                of_step.next(); // the step's own name
                of_step
                    .map(|l| &l[prefix.len()..])
                    .filter(|l| !l.starts_with("ERROR: ") && !l.starts_with("DONE "))
                    .collect()
            }
            None => {
                let start = self
                    .recent
                    .iter()
                    .rposition(|l| l.starts_with("Step "))
                    .map_or(0, |i| i + 1);
                self.recent
                    .iter()
                    .skip(start)
                    .filter(|l| !l.starts_with(" ---> ") && !l.starts_with("Removing intermediate"))
                    .map(String::as_str)
                    .collect()
            }
        };
        last(&lines)
    }
}

/// The last lines of some output, as many as a report shows.
pub(super) fn last<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    lines[lines.len().saturating_sub(SHOWN)..]
        .iter()
        .map(|l| l.as_ref().to_string())
        .collect()
}
