//! The hierarchy repository on disk: finding `catalog.toml`, reading it, its templates, the
//! hand-written Dockerfiles, the build contexts and `hier.lock`. This is the one module that
//! reads the repository's files; everything it hands on is a value. Here: finding and opening
//! the repository and reading the lock; `templates`, `files`, `render` and `inputs` do the rest.

mod dockerfiles;
mod files;
mod inputs;
mod render;
mod templates;

use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::{self, Catalog, Image, Recipe};
use crate::diagnostic::suggest;
use crate::dockerfile::rendered_path;
use crate::error::Error;
use crate::graph::Hierarchy;
use crate::inherit::Inherited;
use crate::lock::{LOCK_FILE, Lock};
use crate::source::{SourceFile, display_path};
use crate::templates::Templates;
use files::check_files;
use templates::load_templates;

pub use dockerfiles::{problems as dockerfile_problems, utf8_text};

pub const CATALOG_FILE: &str = "catalog.toml";

pub struct Repository {
    /// The folder holding `catalog.toml` (absolute).
    pub root: PathBuf,
    pub catalog: Catalog,
    pub hierarchy: Hierarchy,
    pub templates: Templates,
    pub inherited: Inherited,
    pub lock: Lock,
}

/// Where the catalog is: `--catalog PATH` (a file, or a folder holding `catalog.toml`), else
/// `$HIER_CATALOG`, else `catalog.toml` in the current folder.
pub fn locate(flag: Option<&Path>) -> Result<PathBuf, Error> {
    let env = std::env::var_os("HIER_CATALOG").filter(|v| !v.is_empty());
    let (path, origin) = match (flag, env) {
        (Some(p), _) => (p.to_path_buf(), "--catalog"),
        (None, Some(p)) => (PathBuf::from(p), "HIER_CATALOG"),
        (None, None) => (PathBuf::from(CATALOG_FILE), ""),
    };
    let path = if path.is_dir() {
        path.join(CATALOG_FILE)
    } else {
        path
    };
    if path.is_file() {
        return Ok(path);
    }
    if let Some(kind) = not_a_file(&path) {
        let from = match origin {
            "" => String::new(),
            origin => format!(" (from {origin})"),
        };
        return Err(Error::usage_help(
            format!("the catalog {}{from} is {kind}, not a file", path.display()),
            "point --catalog (or HIER_CATALOG) at the catalog.toml file, or at its folder",
        ));
    }
    Err(match origin {
        "" => Error::usage_help(
            format!(
                "no {CATALOG_FILE} in {}",
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| ".".into())
            ),
            "run hier in the repository's folder, or pass --catalog PATH, or set HIER_CATALOG",
        ),
        origin => Error::usage(format!(
            "the catalog {} (from {origin}) does not exist",
            path.display()
        )),
    })
}

/// What a path that exists but is not a regular file is ("a fifo"), following symlinks.
fn not_a_file(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = fs::metadata(path).ok()?.file_type();
    Some(if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a fifo"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    })
}

impl Repository {
    /// Reads and checks everything (catalog, edges, templates, Dockerfiles, contexts, lock).
    /// Every problem found is reported together.
    pub fn open(catalog_path: &Path) -> Result<Repository, Error> {
        // The lock and the catalog are independent reads: parse them side by side.
        let (lock, repo) = rayon::join(
            || read_lock(catalog_path.parent().unwrap_or(Path::new("."))),
            || Self::open_with_lock(catalog_path, Lock::default()),
        );
        match (repo, lock) {
            (Ok(mut repo), Ok(lock)) => {
                repo.lock = lock;
                Ok(repo)
            }
            (Err(Error::Input(mut problems)), Err(Error::Input(more))) => {
                problems.extend(more);
                Err(Error::Input(problems))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    /// Like [`open`](Self::open), with a lock given by the caller (for an older revision, which
    /// is compared against today's lock).
    pub fn open_with_lock(catalog_path: &Path, lock: Lock) -> Result<Repository, Error> {
        let absolute = fs::canonicalize(catalog_path)
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", catalog_path.display())))?;
        let root = absolute
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let text = fs::read_to_string(&absolute)
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", catalog_path.display())))?;
        let source = SourceFile::new(display_path(catalog_path), text);
        let (catalog, mut problems) = catalog::parse(source);
        let (hierarchy, cycles) = Hierarchy::build(&catalog);
        problems.extend(cycles);
        let (templates, template_problems) = load_templates(&root, &catalog);
        problems.extend(template_problems);
        problems.extend(check_files(&root, &catalog));
        if !problems.is_empty() {
            return Err(Error::Input(problems));
        }
        let inherited = Inherited::compute(&catalog, &hierarchy);
        Ok(Repository {
            root,
            catalog,
            hierarchy,
            templates,
            inherited,
            lock,
        })
    }

    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// Shows a repository path relative to the working directory when possible.
    pub fn display(&self, relative: &str) -> PathBuf {
        display_path(&self.root.join(relative))
    }

    /// An image named on the command line, or a usage error with a suggestion.
    pub fn image_arg(&self, name: &str) -> Result<&Image, Error> {
        self.catalog.get(name).ok_or_else(|| {
            let message = format!("no image `{name}` in the catalog");
            match suggest(name, self.catalog.index.keys().map(|k| k.as_str())) {
                Some(help) => Error::usage_help(message, help),
                None => Error::usage_help(message, "`hier list` shows the images"),
            }
        })
    }

    /// The Dockerfile's path inside the image's context, if it lies there.
    pub fn dockerfile_in_context(&self, image: &Image) -> Option<String> {
        let path = match &image.recipe {
            Recipe::Template { .. } => rendered_path(&self.catalog, &image.name),
            Recipe::Dockerfile { path, .. } => path.clone(),
        };
        if image.context.is_empty() {
            return Some(path);
        }
        path.strip_prefix(&format!("{}/", image.context))
            .map(str::to_string)
    }
}

/// Reads `hier.lock` next to the catalog; a missing lock is an empty one.
pub fn read_lock(root: &Path) -> Result<Lock, Error> {
    let path = root.join(LOCK_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Lock::parse(&SourceFile::new(display_path(&path), text))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
        Err(e) => Err(Error::usage(format!(
            "cannot read {}: {e}",
            display_path(&path).display()
        ))),
    }
}
