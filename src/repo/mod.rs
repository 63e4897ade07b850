//! The hierarchy repository on disk: finding `catalog.toml`, reading it, its templates, the
//! hand-written Dockerfiles, the structure-test files, the build contexts and `hier.lock`. This
//! is the one module that reads the repository's files; everything it hands on is a value.
//! Here: opening the repository and reading the lock; `locate` finds the catalog, and
//! `templates`, `files`, `specs`, `render` and `inputs` do the rest.

mod dockerfiles;
mod files;
mod inputs;
mod locate;
mod render;
mod specs;
mod templates;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::catalog::{self, Catalog, Image, Recipe};
use crate::diagnostic::suggest;
use crate::dockerfile::rendered_path;
use crate::error::Error;
use crate::graph::Hierarchy;
use crate::inherit::Inherited;
use crate::lock::{LOCK_FILE, Lock};
use crate::name::ImageName;
use crate::source::{SourceFile, display_path};
use crate::templates::Templates;
use files::check_files;
use templates::load_templates;

pub use dockerfiles::{problems as dockerfile_problems, utf8_text};
pub use locate::locate;

pub const CATALOG_FILE: &str = "catalog.toml";

pub struct Repository {
    /// The folder holding `catalog.toml` (absolute).
    pub root: PathBuf,
    pub catalog: Catalog,
    pub hierarchy: Hierarchy,
    pub templates: Templates,
    pub inherited: Inherited,
    pub lock: Lock,
    /// Which `hier.lock` the lock was read from (taken before it was read).
    lock_stamp: Option<FileStamp>,
    /// The stable renderings, made once.
    stable: OnceLock<Stable>,
}

/// The stable renderings (what `hier render` writes) of the templated images, and the digest
/// of each one's data besides its variables.
#[derive(Default)]
pub(crate) struct Stable {
    pub texts: BTreeMap<ImageName, String>,
    pub data: BTreeMap<ImageName, String>,
}

/// What tells one version of a file from another: hier replaces `hier.lock` by renaming a new
/// file over it (a new inode), and any write changes its size, time or change time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(path).ok()?;
        Some(FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

impl Repository {
    /// Reads and checks everything (catalog, edges, templates, Dockerfiles, contexts, lock).
    /// Every problem found is reported together.
    pub fn open(catalog_path: &Path) -> Result<Repository, Error> {
        // The lock and the catalog are independent reads: parse them side by side.
        let folder = lock_folder(catalog_path);
        let stamp = FileStamp::of(&folder.join(LOCK_FILE));
        let (lock, repo) = rayon::join(
            || read_lock(&folder),
            || Self::open_with_lock(catalog_path, Lock::default()),
        );
        match (repo, lock) {
            (Ok(mut repo), Ok(lock)) => {
                repo.lock = lock;
                repo.lock_stamp = stamp;
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
        let (mut catalog, mut problems) = catalog::parse(source);
        problems.extend(specs::load_specs(&root, &mut catalog));
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
            lock_stamp: None,
            stable: OnceLock::new(),
        })
    }

    /// Reads `hier.lock` again when it is not the file [`open`](Self::open) read (another run
    /// wrote it since): a run checks everything before it takes the run lock, and plans from
    /// the lock as it is once it holds it.
    pub fn reread_lock_if_changed(&mut self) -> Result<(), Error> {
        let stamp = FileStamp::of(&self.lock_path());
        if stamp.is_none() || stamp != self.lock_stamp {
            self.lock = read_lock(&self.root)?;
            self.lock_stamp = stamp;
        }
        Ok(())
    }

    /// The stable renderings of every templated image (what `hier render` writes), rendered
    /// once: a template that cannot be rendered is an error here.
    pub fn stable_renderings(&self) -> Result<&BTreeMap<ImageName, String>, Error> {
        Ok(&self.stable()?.texts)
    }

    pub(super) fn stable(&self) -> Result<&Stable, Error> {
        if let Some(stable) = self.stable.get() {
            return Ok(stable);
        }
        let stable = self.render_stable()?;
        Ok(self.stable.get_or_init(|| stable))
    }

    /// The images the lock records, in build order.
    pub fn recorded(&self) -> Vec<ImageName> {
        self.hierarchy
            .order()
            .iter()
            .filter(|n| self.lock.images.contains_key(n.as_str()))
            .cloned()
            .collect()
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

    /// The Dockerfile an image is built from, as a path in the repository (the rendering of a
    /// templated image, or the hand-written file).
    pub fn dockerfile_shown(&self, image: &Image) -> String {
        match &image.recipe {
            Recipe::Template { .. } => rendered_path(&self.catalog, &image.name),
            Recipe::Dockerfile { path, .. } => path.clone(),
        }
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

/// The folder of `hier.lock`: the catalog's, or for a catalog that is a symlink, the folder of
/// the file it leads to, which is the repository's root (the images, templates and `.hier/`).
fn lock_folder(catalog_path: &Path) -> PathBuf {
    let folder = catalog_path.parent().unwrap_or(Path::new("")).to_path_buf();
    let linked = fs::symlink_metadata(catalog_path).is_ok_and(|m| m.file_type().is_symlink());
    match linked
        .then(|| fs::canonicalize(catalog_path).ok())
        .flatten()
    {
        Some(real) => real.parent().map(Path::to_path_buf).unwrap_or(folder),
        None => folder,
    }
}

/// Reads `hier.lock` next to the catalog; a missing lock is an empty one. The lock must be a
/// file of its own: a symlink (which could lead out of the repository) or a fifo is refused.
pub fn read_lock(root: &Path) -> Result<Lock, Error> {
    let path = root.join(LOCK_FILE);
    let shown = display_path(&path);
    match fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Error::usage_help(
                format!("{} is a symlink, not a file", shown.display()),
                "hier writes hier.lock itself; replace the link with the file",
            ));
        }
        Ok(m) if !m.is_file() => {
            let kind = locate::not_a_file(&path).unwrap_or("a special file");
            return Err(Error::usage(format!(
                "{} is {kind}, not a file",
                shown.display()
            )));
        }
        _ => {}
    }
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Lock::parse(&SourceFile::new(display_path(&path), text))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
        Err(e) => Err(Error::usage(format!(
            "cannot read {}: {e}",
            display_path(&path).display()
        ))),
    }
}
