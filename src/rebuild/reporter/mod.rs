//! Reporters render a run for people and programs: the events as they happen (live bars on a
//! terminal, one plain line per event otherwise) and the report when the run ends (a table, or
//! the JSON document). Each writes into any writer, so tests read what they wrote.

mod bars;
mod lines;
mod summary;

use std::io::IsTerminal;

pub use bars::Bars;
pub use lines::Lines;
pub use summary::{Json, Table};

use super::event::Event;
use crate::report::Report;

/// Renders a run.
pub trait Reporter: Send {
    fn event(&mut self, event: &Event);
    /// The run ended with this report.
    fn finish(&mut self, _report: &Report) {}
}

/// Several reporters, each told everything.
pub struct All<'a>(pub Vec<Box<dyn Reporter + 'a>>);

impl Reporter for All<'_> {
    fn event(&mut self, event: &Event) {
        for r in &mut self.0 {
            r.event(event);
        }
    }

    fn finish(&mut self, report: &Report) {
        for r in &mut self.0 {
            r.finish(report);
        }
    }
}

/// The live reporter for standard error: bars on a terminal (not under CI), plain lines
/// otherwise (with each build step when `verbose`); without `colour`, no colour and none of
/// the engine's own escape codes.
pub fn progress(total: u64, quiet: bool, verbose: bool, colour: bool) -> Box<dyn Reporter> {
    if !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
        Box::new(Bars::stderr(total, colour))
    } else {
        Box::new(
            Lines::new(std::io::stderr(), quiet)
                .with_steps(verbose)
                .plain(!colour),
        )
    }
}

/// A line from the engine, without its escape codes when `plain`.
fn engine_text(plain: bool, text: &str) -> String {
    if plain {
        anstream::adapter::strip_str(text).to_string()
    } else {
        text.to_string()
    }
}
