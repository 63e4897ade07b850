//! What a refresh shows while it asks images for something new: on a terminal, a bar of how
//! many images are answered (and which is being read) and a line per index download (indicatif),
//! gone when its images are answered; otherwise one plain line per step (how many are asked, an
//! image read, a download, an image answered). `-q` shows nothing.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ask::{Answer, Step};

/// Renders [`Step`]s.
pub enum Asking {
    Quiet,
    Lines(Mutex<Box<dyn Write + Send>>),
    Bars(Mutex<Bars>),
}

pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// Index downloads under way: the set, how many of its images are not answered yet.
    downloads: Vec<(String, usize, ProgressBar)>,
}

impl Asking {
    /// Bars on a terminal (unless `CI` is set), plain lines on standard error otherwise.
    pub fn stderr(quiet: bool) -> Asking {
        if quiet {
            Asking::Quiet
        } else if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            Asking::Bars(Mutex::new(Bars::new(ProgressDrawTarget::stderr())))
        } else {
            Asking::Lines(Mutex::new(Box::new(std::io::stderr())))
        }
    }

    pub fn step(&self, step: Step<'_>) {
        match self {
            Asking::Quiet => {}
            Asking::Lines(out) => {
                let mut out = out.lock().unwrap();
                let _ = writeln!(out, "{}", line(&step));
            }
            Asking::Bars(bars) => bars.lock().unwrap().step(&step),
        }
    }

    /// Clears what is still shown.
    pub fn finish(&self) {
        if let Asking::Bars(bars) = self {
            let bars = bars.lock().unwrap();
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
    }
}

/// A step as one plain line.
pub fn line(step: &Step<'_>) -> String {
    match step {
        Step::Asking(n) => format!(
            "checking {n} image{} for OS package updates",
            if *n == 1 { "" } else { "s" }
        ),
        Step::Reading(name) => format!("{name}: reading its packages and sources"),
        Step::Downloading(set, first, n) => {
            let s = if *n == 1 { "" } else { "s" };
            format!("{first}: downloading the package indexes of {set} for {n} image{s}")
        }
        Step::Answered(name, answer) => format!("{name}: {}", said(answer)),
    }
}

/// What an answer says, in a few words.
fn said(answer: &Answer) -> String {
    match (&answer.problem, answer.pending.len()) {
        (Some(p), _) => format!("not checked: {p}"),
        (None, 0) => "nothing pending".into(),
        (None, n) => {
            let (p, _, _) = &answer.pending[0];
            let more = if n > 1 {
                format!(" and {} more", n - 1)
            } else {
                String::new()
            };
            format!("{n} pending ({p}{more})")
        }
    }
}

impl Bars {
    fn new(target: ProgressDrawTarget) -> Bars {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("[{bar:30}] {pos}/{len} checked {wide_msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            overall,
            downloads: Vec::new(),
        }
    }

    fn step(&mut self, step: &Step<'_>) {
        match step {
            Step::Asking(n) => self.overall.set_length(*n as u64),
            Step::Reading(name) => self.overall.set_message(format!("(reading {name})")),
            Step::Downloading(set, _, n) => {
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {wide_msg}").expect("a valid template"),
                );
                bar.set_message(line(step));
                bar.enable_steady_tick(Duration::from_millis(120));
                self.downloads.push((set.to_string(), *n, bar));
            }
            Step::Answered(_, answer) => {
                self.overall.inc(1);
                let Some(set) = &answer.sources else { return };
                // A download's line goes once every image of its set is answered.
                self.downloads.retain_mut(|(s, left, bar)| {
                    if s == set {
                        *left = left.saturating_sub(1);
                    }
                    if *left == 0 {
                        bar.finish_and_clear();
                    }
                    *left > 0
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::ImageName;

    #[test]
    fn plain_lines_say_each_step() {
        let base = ImageName::parse("base").unwrap();
        let answer = Answer {
            sources: Some("apt sha256:0123456789ab".into()),
            pending: vec![
                ("curl".into(), "1.0".into(), "1.1".into()),
                ("zlib1g".into(), "1.2".into(), "1.3".into()),
            ],
            problem: None,
        };
        assert_eq!(
            line(&Step::Reading(&base)),
            "base: reading its packages and sources"
        );
        assert_eq!(
            line(&Step::Downloading("apt sha256:0123456789ab", &base, 6)),
            "base: downloading the package indexes of apt sha256:0123456789ab for 6 images"
        );
        assert_eq!(
            line(&Step::Answered(&base, &answer)),
            "base: 2 pending (curl and 1 more)"
        );
        assert_eq!(
            line(&Step::Answered(&base, &Answer::default())),
            "base: nothing pending"
        );
    }
}
