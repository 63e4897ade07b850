//! One plain line per event, with the time since the run started (CI logs, pipes): what started,
//! each test, and how each image ended; with `-v`, each build step too; under `--quiet`,
//! failures only.

use std::io::Write;
use std::time::Instant;

use super::Reporter;
use crate::rebuild::event::Event;
use crate::report::Status;

pub struct Lines<W> {
    out: W,
    quiet: bool,
    steps: bool,
    /// Without the engine's escape codes.
    plain: bool,
    /// Seconds since the run started.
    clock: Box<dyn FnMut() -> f64 + Send>,
}

impl<W: Write + Send> Lines<W> {
    pub fn new(out: W, quiet: bool) -> Self {
        let start = Instant::now();
        Lines::with_clock(out, quiet, move || start.elapsed().as_secs_f64())
    }

    /// With a clock of its own (tests use a fixed one).
    pub fn with_clock(out: W, quiet: bool, clock: impl FnMut() -> f64 + Send + 'static) -> Self {
        Lines {
            out,
            quiet,
            steps: false,
            plain: false,
            clock: Box::new(clock),
        }
    }

    /// Tells each build step as well.
    pub fn with_steps(mut self, steps: bool) -> Self {
        self.steps = steps;
        self
    }

    /// Writes what the engine says without its escape codes (colour is off).
    pub fn plain(mut self, plain: bool) -> Self {
        self.plain = plain;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for Lines<W> {
    fn event(&mut self, event: &Event) {
        let line = match event {
            Event::Started { name } if !self.quiet => format!("{name}: building"),
            Event::Retesting { name } if !self.quiet => {
                format!("{name}: testing the recorded image")
            }
            Event::Step { name, step } if self.steps && !self.quiet => format!("{name}: {step}"),
            Event::Testing { name, command } if !self.quiet => {
                format!("{name}: testing `{command}`")
            }
            Event::Finished {
                name,
                status,
                detail,
            } if !self.quiet || *status == Status::Failed => {
                let sep = if detail.is_empty() { "" } else { ": " };
                format!("{name}: {}{sep}{detail}", status.as_str())
            }
            _ => return,
        };
        let line = super::engine_text(self.plain, &line);
        let t = (self.clock)();
        let _ = writeln!(self.out, "[{t:7.1}s] {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::ImageName;

    fn name(n: &str) -> ImageName {
        ImageName::parse(n).unwrap()
    }

    fn events() -> Vec<Event> {
        vec![
            Event::Started { name: name("base") },
            Event::Step {
                name: name("base"),
                step: "[2/2] RUN echo hi".into(),
            },
            Event::Testing {
                name: name("base"),
                command: "test -f /etc/base".into(),
            },
            Event::Finished {
                name: name("base"),
                status: Status::Built,
                detail: "1.5s".into(),
            },
            Event::Finished {
                name: name("app"),
                status: Status::Failed,
                detail: "test `true` exited with 1".into(),
            },
            Event::Finished {
                name: name("leaf"),
                status: Status::Skipped,
                detail: "`app` failed".into(),
            },
        ]
    }

    fn render(quiet: bool) -> String {
        let mut t = 0.0;
        let mut lines = Lines::with_clock(Vec::new(), quiet, move || {
            t += 1.25;
            t
        });
        for e in events() {
            lines.event(&e);
        }
        String::from_utf8(lines.into_inner()).unwrap()
    }

    #[test]
    fn one_line_per_event() {
        assert_eq!(
            render(false),
            "[    1.2s] base: building\n\
             [    2.5s] base: testing `test -f /etc/base`\n\
             [    3.8s] base: built: 1.5s\n\
             [    5.0s] app: failed: test `true` exited with 1\n\
             [    6.2s] leaf: skipped: `app` failed\n"
        );
    }

    #[test]
    fn verbose_tells_each_step() {
        let mut lines = Lines::with_clock(Vec::new(), false, || 0.5).with_steps(true);
        lines.event(&events()[1]);
        assert_eq!(
            String::from_utf8(lines.into_inner()).unwrap(),
            "[    0.5s] base: [2/2] RUN echo hi\n"
        );
    }

    #[test]
    fn quiet_tells_failures_only() {
        assert_eq!(
            render(true),
            "[    1.2s] app: failed: test `true` exited with 1\n"
        );
    }
}
