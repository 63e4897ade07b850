//! Live progress on a terminal (indicatif): a line per running build with its current step or
//! test, the finished images printed above, and an overall bar with counts and elapsed time.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Reporter;
use crate::name::ImageName;
use crate::rebuild::event::Event;
use crate::report::{Report, Status};

pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: Vec<(ImageName, ProgressBar)>,
    done: u64,
    failed: u64,
    /// Spinners and the clock redraw on their own (off in tests, which draw on events only).
    ticking: bool,
    colour: bool,
}

impl Bars {
    /// Bars on standard error, coloured or not.
    pub fn stderr(total: u64, colour: bool) -> Bars {
        Bars::new(ProgressDrawTarget::stderr(), total, true, colour)
    }

    pub fn new(target: ProgressDrawTarget, total: u64, ticking: bool, colour: bool) -> Bars {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total));
        let template = if colour {
            "[{bar:30.cyan/blue}] {pos}/{len} {msg}"
        } else {
            "[{bar:30}] {pos}/{len} {msg}"
        };
        overall.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        if ticking {
            overall.enable_steady_tick(Duration::from_millis(200));
        } else {
            overall.tick();
        }
        Bars {
            multi,
            overall,
            running: Vec::new(),
            done: 0,
            failed: 0,
            ticking,
            colour,
        }
    }

    fn bar(&self, name: &ImageName) -> Option<&ProgressBar> {
        self.running.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }

    fn started(&mut self, name: &ImageName) {
        let bar = self
            .multi
            .insert_before(&self.overall, ProgressBar::new_spinner());
        let template = if self.colour {
            "{spinner} {prefix:.bold} {wide_msg}"
        } else {
            "{spinner} {prefix} {wide_msg}"
        };
        bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
        bar.set_prefix(name.to_string());
        bar.set_message("starting");
        if self.ticking {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.running.push((name.clone(), bar));
    }

    fn finished(&mut self, name: &ImageName, status: Status, detail: &str) {
        if let Some(pos) = self.running.iter().position(|(n, _)| n == name) {
            let (_, bar) = self.running.remove(pos);
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.done += 1;
        if status == Status::Failed {
            self.failed += 1;
        }
        let sep = if detail.is_empty() { "" } else { ": " };
        let detail = super::engine_text(!self.colour, detail);
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

impl Reporter for Bars {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started { name } | Event::Retesting { name } => self.started(name),
            Event::Step { name, step } => {
                if let Some(bar) = self.bar(name) {
                    bar.set_message(super::engine_text(!self.colour, step));
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
            } => self.finished(name, *status, detail),
        }
    }

    fn finish(&mut self, _report: &Report) {
        self.overall.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use indicatif::{InMemoryTerm, TermLike};

    use super::*;

    fn name(n: &str) -> ImageName {
        ImageName::parse(n).unwrap()
    }

    #[test]
    fn running_builds_show_their_current_step() {
        let term = InMemoryTerm::new(10, 100);
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        let mut bars = Bars::new(target, 3, false, true);
        bars.event(&Event::Started { name: name("base") });
        bars.event(&Event::Started {
            name: name("tools"),
        });
        bars.event(&Event::Step {
            name: name("base"),
            step: "[2/3] RUN apt-get update".into(),
        });
        bars.event(&Event::Testing {
            name: name("tools"),
            command: "tools --version".into(),
        });
        bars.event(&Event::Started { name: name("idle") });
        assert_eq!(
            term.contents(),
            "\u{2801} base [2/3] RUN apt-get update\n\
             \u{2801} tools testing: tools --version\n\
             \u{2801} idle starting\n\
             [                              ] 0/3"
        );
        bars.event(&Event::Finished {
            name: name("base"),
            status: Status::Failed,
            detail: "step [2/3] RUN apt-get update returned a non-zero code: 100".into(),
        });
        assert_eq!(
            term.contents(),
            "base: failed: step [2/3] RUN apt-get update returned a non-zero code: 100\n\
             \u{2801} tools testing: tools --version\n\
             \u{2801} idle starting\n\
             [==========>                   ] 1/3 1 failed"
        );
        assert_eq!(term.height(), 10);
    }
}
