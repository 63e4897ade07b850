//! One module per command. A command takes the settings it needs (never the command line's
//! types, which stop in `run`) and returns what to print and the exit status; `run` does the
//! printing. The context every command shares holds the process's one async runtime and its
//! one interrupt handler, both made on first use.

mod builders;
mod diff;
mod docs;
mod gc;
mod graph;
mod init;
mod lint;
mod list;
mod manual;
mod new;
mod pick;
pub mod plan;
mod push;
pub mod rebuild;
pub mod refresh;
mod relations;
mod render;
mod sbom;
mod show;
mod size;
mod test;
mod tree;
mod validate;

use std::cell::OnceCell;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub use builders::run as builders;
pub use diff::{Args as DiffArgs, run as diff};
pub use docs::{Args as DocsArgs, run as docs};
pub use gc::{Args as GcArgs, run as gc};
pub use graph::run as graph;
pub use init::{Args as InitArgs, Base as InitBase, run as init};
pub use lint::run as lint;
pub use list::run as list;
pub use manual::{completions, man};
pub use new::{Args as NewArgs, run as new};
pub use pick::run as pick;
pub use push::run as push;
pub use relations::{children, impact, parents};
pub use render::run as render;
pub use sbom::run as sbom;
pub use show::run as show;
pub use size::run as size;
pub use test::{Args as TestArgs, run as test};
pub use tree::run as tree;
pub use validate::run as validate;

use crate::engine::retry::{Backoff, Retrying};
use crate::engine::{Docker, Engine};
use crate::error::{Error, Exit};
use crate::interrupt::Interrupt;
use crate::repo::{self, Repository};
use crate::style::Styles;

/// How output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Dot,
    Mermaid,
    SpdxJson,
    CycloneDxJson,
}

/// Settings every command shares.
pub struct Context {
    pub catalog: Option<PathBuf>,
    pub format: Format,
    pub verbose: u8,
    pub quiet: bool,
    /// Styles for standard output (plain unless it is a terminal or colour was asked for).
    pub styles: Styles,
    /// Whether standard error gets colour (and the engine's own escape codes) or plain text.
    pub err_colour: bool,
    runtime: OnceCell<tokio::runtime::Runtime>,
    interrupt: OnceCell<Interrupt>,
}

impl Context {
    pub fn new(
        catalog: Option<PathBuf>,
        format: Format,
        verbose: u8,
        quiet: bool,
        styles: Styles,
        err_colour: bool,
    ) -> Self {
        Context {
            catalog,
            format,
            verbose,
            quiet,
            styles,
            err_colour,
            runtime: OnceCell::new(),
            interrupt: OnceCell::new(),
        }
    }

    pub fn open(&self) -> Result<Repository, Error> {
        Repository::open(&repo::locate(self.catalog.as_deref())?)
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime, Error> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
        Ok(self.runtime.get_or_init(|| runtime))
    }

    /// Runs a future to completion on the process's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        Ok(self.runtime()?.block_on(future))
    }

    /// The process's interrupt (Ctrl-C, SIGTERM), listened to from the first call on.
    pub fn interrupt(&self) -> Result<Interrupt, Error> {
        if let Some(interrupt) = self.interrupt.get() {
            return Ok(interrupt.clone());
        }
        let _guard = self.runtime()?.enter();
        let interrupt = Interrupt::listen()
            .map_err(|e| Error::Failed(format!("cannot handle SIGTERM: {e}")))?;
        Ok(self.interrupt.get_or_init(|| interrupt).clone())
    }

    /// The engines a run builds on: each builder of the builders file that answers (exit 3
    /// naming them when none does; a note for each that does not), else the one engine taking
    /// `jobs` builds at once.
    pub fn pool(
        &self,
        platform: &str,
        builders: Option<&std::path::Path>,
        jobs: usize,
    ) -> Result<(Arc<crate::pool::Pool>, String), Error> {
        let (pool, silent) = self.connect_pool(platform, builders, jobs)?;
        let notes = silent
            .iter()
            .map(|s| format!("{s}; the run goes on without it\n"))
            .collect();
        Ok((pool, notes))
    }

    /// The pool, and what each builder that does not answer said.
    fn connect_pool(
        &self,
        platform: &str,
        builders: Option<&std::path::Path>,
        jobs: usize,
    ) -> Result<(Arc<crate::pool::Pool>, Vec<String>), Error> {
        let Some(path) = builders else {
            let engine = self.engine(platform)?;
            let pool = crate::pool::Pool::single(engine, jobs);
            return Ok((Arc::new(pool), Vec::new()));
        };
        let entries = crate::pool::file::load(path).map_err(Error::Input)?;
        let (members, failed) = self.block_on(crate::pool::connect(&entries, platform))?;
        let said: Vec<String> = failed
            .iter()
            .map(|(name, e)| format!("builder `{name}`: {e}"))
            .collect();
        if members.is_empty() {
            return Err(Error::Unreachable {
                message: format!(
                    "no builder of {} answers: {}",
                    path.display(),
                    said.join("; ")
                ),
                help: "check them with `hier builders`".to_string(),
            });
        }
        Ok((Arc::new(crate::pool::Pool::new(members)), said))
    }

    /// Brings the recorded images `names` that the pool's first builder lacks from the builders
    /// that hold them ([`crate::pool::gather`]); the names none holds, and a note of what moved.
    pub fn gather(
        &self,
        pool: &crate::pool::Pool,
        repo: &Repository,
        names: Vec<crate::name::ImageName>,
    ) -> Result<(Vec<crate::name::ImageName>, String), Error> {
        let gathered = self.block_on(crate::pool::gather::gather(pool, repo, names))?;
        let (left, moved) = gathered.map_err(Error::Failed)?;
        let notes = moved
            .iter()
            .map(|m| {
                format!(
                    "{} crossed from builder `{}` to `{}` ({:.1}s)\n",
                    m.image, m.from, m.to, m.seconds
                )
            })
            .collect();
        Ok((left, notes))
    }

    /// The engine a command reads recorded images from: with a builders file, its first
    /// builder, to which each of `names` it lacks crosses from a builder that holds it; else the
    /// one engine. Notes of what did not answer and what crossed.
    pub fn reader(
        &self,
        repo: &Repository,
        builders: Option<&std::path::Path>,
        names: Vec<crate::name::ImageName>,
    ) -> Result<(Arc<dyn Engine>, String), Error> {
        let (pool, silent) = self.connect_pool(&repo.catalog.platform, builders, 1)?;
        let notes: String = silent
            .iter()
            .map(|s| format!("{s}; the images only it holds cannot be read\n"))
            .collect();
        let (_, gathered) = self.gather(&pool, repo, names)?;
        Ok((pool.primary(), notes + &gathered))
    }

    /// Connects to the engine (exit 3 naming it when it does not answer); its calls are retried
    /// on transient failures.
    pub fn engine(&self, platform: &str) -> Result<Arc<dyn Engine>, Error> {
        let docker = self.block_on(Docker::connect(platform))??;
        Ok(Arc::new(Retrying::new(docker, Backoff::default())))
    }
}

/// An image named on the command line and its recorded build; an image never built is a usage
/// error naming the command that builds it.
fn recorded<'r>(
    repo: &'r Repository,
    name: &str,
) -> Result<(&'r crate::catalog::Image, &'r crate::lock::LockEntry), Error> {
    let image = repo.image_arg(name)?;
    match repo.lock.images.get(name) {
        Some(entry) => Ok((image, entry)),
        None => Err(Error::usage_help(
            format!("`{name}` has never been built: hier.lock records no build of it"),
            format!("build it with `hier rebuild {name}`"),
        )),
    }
}

/// What was read of a recorded build, or the error of an engine that does not hold it.
fn held<T>(
    read: Result<Option<T>, crate::engine::EngineError>,
    name: &str,
    image_id: &str,
) -> Result<T, Error> {
    read.map_err(|e| Error::Failed(format!("cannot read `{name}` from the engine: {e}")))?
        .ok_or_else(|| {
            Error::Failed(format!(
                "the engine does not hold the recorded build of `{name}` ({}): rebuild it, or pull it by its pushed digest",
                crate::hash::short(image_id)
            ))
        })
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

/// The repository a run that builds works on, with the run lock held. Everything a bad
/// catalog, template, lock or `SOURCE_DATE_EPOCH` makes an error is found before the run lock
/// is taken, so such an error leaves the repository as it was (no `.hier/`); the lock file is
/// read again if another run wrote it while this one waited.
pub fn open_locked(cx: &Context) -> Result<(Repository, crate::runlock::RunLock, PathBuf), Error> {
    lock_repository(cx, true)
}

/// [`open_locked`] for a run that builds nothing (`hier push`, `hier test`, `hier gc`): the
/// catalog and the lock are checked first; the templates are not rendered and
/// `SOURCE_DATE_EPOCH`, which only a build uses, is not read.
pub fn open_locked_to_build_nothing(
    cx: &Context,
) -> Result<(Repository, crate::runlock::RunLock, PathBuf), Error> {
    lock_repository(cx, false)
}

fn lock_repository(
    cx: &Context,
    builds: bool,
) -> Result<(Repository, crate::runlock::RunLock, PathBuf), Error> {
    let catalog_path = repo::locate(cx.catalog.as_deref())?;
    if builds {
        crate::rebuild::source_date_epoch()?;
    }
    let mut repo = Repository::open(&catalog_path)?;
    if builds {
        repo.stable_renderings()?;
    }
    let run_lock = crate::runlock::RunLock::acquire(&crate::state::dir(&repo.root), cx.quiet)?;
    repo.reread_lock_if_changed()?;
    Ok((repo, run_lock, catalog_path))
}
