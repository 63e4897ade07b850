//! Structure tests: checks of a built image written in container-structure-test's format
//! (schema 2.0.0: command, file existence, file content and metadata tests), read from the
//! file an image's `test_spec` names and run by hier itself with the reference tool's
//! results. `yaml` reads the file into a tree that knows where each value is, `fields`, `read`
//! and `kinds` turn it into a checked [`Spec`] (`spec`), `expand` replaces `$VARS` as the reference
//! tool does, `check` decides each test from what was observed, and `run` observes it through
//! the engine.

mod check;
mod expand;
mod fields;
mod kinds;
mod read;
mod run;
mod spec;
mod yaml;

pub use read::read;
pub use run::{Outcome, Target, run};
pub use spec::Spec;

#[cfg(test)]
mod tests;
