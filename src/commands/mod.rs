//! One module per command. A command takes the settings it needs and returns what to print and
//! the exit status; `run` does the printing.

mod graph;
mod lint;
mod list;
mod pick;
mod plan;
mod push;
mod rebuild;
mod refresh;
mod relations;
mod render;
mod show;
mod tree;
mod validate;

use std::path::PathBuf;

use crate::cli::{Command, Format};
use crate::error::{Error, Exit};
use crate::repo::{self, Repository};
use crate::style::Styles;

/// Settings every command shares.
pub struct Context {
    pub catalog: Option<PathBuf>,
    pub format: Format,
    pub verbose: u8,
    pub quiet: bool,
    /// Styles for standard output (plain unless it is a terminal or colour was asked for).
    pub styles: Styles,
}

impl Context {
    pub fn open(&self) -> Result<Repository, Error> {
        Repository::open(&repo::locate(self.catalog.as_deref())?)
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// What a command prints and how it ends.
#[derive(Default)]
pub struct Output {
    pub stdout: String,
    /// Notes for people (never part of JSON output).
    pub stderr: String,
    pub exit: Option<Exit>,
}

impl Output {
    pub fn text(stdout: String) -> Self {
        Output {
            stdout,
            ..Default::default()
        }
    }

    pub fn json(value: &serde_json::Value) -> Self {
        let mut stdout = serde_json::to_string_pretty(value).expect("JSON output serialises");
        stdout.push('\n');
        Output::text(stdout)
    }
}

pub fn dispatch(command: &Command, cx: &Context) -> Result<Output, Error> {
    if matches!(cx.format, Format::Dot | Format::Mermaid) && !matches!(command, Command::Graph) {
        return Err(Error::usage_help(
            "--format dot and --format mermaid apply to `hier graph` only",
            "use --format text or --format json",
        ));
    }
    match command {
        Command::Validate => validate::run(cx),
        Command::Render { images, check } => render::run(cx, images, *check),
        Command::List { kind } => list::run(cx, kind.as_deref()),
        Command::Tree { image } => tree::run(cx, image.as_deref()),
        Command::Show { image } => show::run(cx, image),
        Command::Graph => graph::run(cx),
        Command::Parents { image } => relations::parents(cx, image),
        Command::Children { image, all } => relations::children(cx, image, *all),
        Command::Impact { images } => relations::impact(cx, images),
        Command::Pick { needs } => pick::run(cx, needs),
        Command::Plan(selection) => plan::run(cx, selection),
        Command::Lint { images, explain } => lint::run(cx, images, explain.as_deref()),
        Command::Push { images } => push::run(cx, images),
        Command::Refresh {
            images,
            schedule,
            push,
            atomic,
            report,
            dry_run,
            jobs,
        } => refresh::run(
            cx,
            &refresh::Args {
                images,
                schedule: *schedule,
                push: *push,
                atomic: *atomic,
                report: report.as_deref(),
                dry_run: *dry_run,
                jobs: usize::from(*jobs),
            },
        ),
        Command::Rebuild {
            selection,
            jobs,
            fail_fast,
            push,
            no_cache,
            dry_run,
        } => rebuild::run(
            cx,
            selection,
            &crate::rebuild::Options {
                jobs: usize::from(*jobs),
                fail_fast: *fail_fast,
                push: *push,
                no_cache: *no_cache,
                quiet: cx.quiet,
            },
            *dry_run,
        ),
    }
}
