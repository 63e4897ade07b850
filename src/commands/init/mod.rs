//! `hier init [DIR] [--base busybox|debian] [--from REF]`: a new hierarchy repository that
//! validates, renders, lints clean and builds at once: a catalog of a base, a runtime and an
//! app; the templates and partial that keep the lint's practices; the app's Dockerfile;
//! `.gitignore`, a README and the CI and nightly workflows ([`files`]). The folder must be
//! new or empty (a `.git` in it is allowed); the rendered Dockerfiles are written too, so
//! `hier render --check` passes from the start.

mod files;

use std::path::{Path, PathBuf};

use super::Output;
use crate::error::Error;
use crate::lock::write_atomic;
use crate::repo::Repository;

/// The base image a new repository starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Busybox,
    Debian,
}

/// What `hier init` was asked.
pub struct Args {
    pub dir: PathBuf,
    pub base: Base,
    /// The base's `from` [default: `busybox:1.36` or `debian:bookworm-slim`].
    pub from: Option<String>,
}

pub fn run(args: &Args) -> Result<Output, Error> {
    let existed = check_empty(&args.dir)?;
    let name = catalog_name(&args.dir);
    let from = args.from.clone().unwrap_or_else(|| {
        match args.base {
            Base::Busybox => "busybox:1.36",
            Base::Debian => "debian:bookworm-slim",
        }
        .to_string()
    });
    crate::reference::Reference::parse(&from)
        .map_err(|e| Error::usage(format!("--from `{}`: {e}", from.escape_debug())))?;
    let made = write_files(&args.dir, &name, &from, args.base)
        .and_then(|written| Ok((written, render(&args.dir)?)));
    let (written, rendered) = match made {
        Ok(made) => made,
        Err(e) => {
            take_back(&args.dir, existed);
            return Err(e);
        }
    };
    let mut text = String::new();
    for path in written.iter().chain(&rendered) {
        text.push_str(&format!(
            "wrote {}\n",
            crate::source::display_path(path).display()
        ));
    }
    text.push_str("next: `hier rebuild` builds the three images; change `registry` in catalog.toml before `--push`\n");
    Ok(Output::text(text))
}

/// A new folder, or an empty one (but for `.git`); whether it existed.
fn check_empty(dir: &Path) -> Result<bool, Error> {
    let shown = crate::source::display_path(dir);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(dir).is_ok() {
                return Err(Error::usage(format!(
                    "{} is a symlink to nothing",
                    shown.display()
                )));
            }
            return Ok(false);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(Error::usage(format!("{} is not a folder", shown.display())));
        }
        Err(e) => return Err(Error::io("read", shown.display(), e)),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".git")
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(true);
    }
    Err(Error::usage_help(
        format!(
            "{} is not empty (it has {})",
            crate::source::display_path(dir).display(),
            names.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        ),
        "run `hier init` in a new or empty folder: `hier init NEW-FOLDER`",
    ))
}

/// The catalog's name from the folder's: lower-case letters and digits, other runs as `-`.
fn catalog_name(dir: &Path) -> String {
    let folder = std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut name = String::new();
    for c in folder.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    match name.trim_end_matches('-') {
        "" => "platform".to_string(),
        name => name.to_string(),
    }
}

fn write_files(dir: &Path, name: &str, from: &str, base: Base) -> Result<Vec<PathBuf>, Error> {
    let (base_extra, base_template) = match base {
        Base::Debian => (files::DEBIAN_BASE, files::DEBIAN_TEMPLATE),
        Base::Busybox => (files::BUSYBOX_BASE, files::BUSYBOX_TEMPLATE),
    };
    // `from` is a checked reference, written as a TOML string all the same; it goes in last,
    // so nothing in it is taken for a placeholder.
    let catalog = files::CATALOG
        .replace("{base_extra}", base_extra)
        .replace("{name}", name)
        .replace("\"{from}\"", &toml_edit::Value::from(from).to_string());
    let mut all: Vec<(&str, String)> = vec![
        ("catalog.toml", catalog),
        ("templates/base.Dockerfile.hbs", base_template.into()),
        (
            "templates/runtime.Dockerfile.hbs",
            files::RUNTIME_TEMPLATE.into(),
        ),
        ("images/hello/Dockerfile", files::APP_DOCKERFILE.into()),
        ("images/hello/index.html", files::APP_INDEX.into()),
        ("images/hello/.dockerignore", files::APP_DOCKERIGNORE.into()),
        (".gitignore", files::GITIGNORE.into()),
        ("README.md", files::README.replace("{name}", name)),
        (".github/workflows/ci.yml", files::CI_WORKFLOW.into()),
        (
            ".github/workflows/nightly.yml",
            files::NIGHTLY_WORKFLOW.into(),
        ),
    ];
    if base == Base::Debian {
        all.push((
            "templates/partials/apt-install.hbs",
            files::APT_PARTIAL.into(),
        ));
    }
    let mut written = Vec::new();
    for (relative, text) in all {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io("create", parent.display(), e))?;
        }
        write_atomic(&path, text.as_bytes()).map_err(|e| Error::io("write", path.display(), e))?;
        written.push(path);
    }
    Ok(written)
}

/// After a failure: what `init` wrote goes (everything but `.git`, the folder too when `init`
/// made it).
fn take_back(dir: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name() != ".git" {
            let path = entry.path();
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
}

/// Writes the stable renderings of the templated images, as `hier render` does.
fn render(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let repo = Repository::open(&dir.join("catalog.toml"))?;
    let mut written = Vec::new();
    for (name, text) in repo.stable_renderings()? {
        let path = repo
            .root
            .join(crate::dockerfile::rendered_path(&repo.catalog, name));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io("create", parent.display(), e))?;
        }
        write_atomic(&path, text.as_bytes()).map_err(|e| Error::io("write", path.display(), e))?;
        written.push(dir.join(crate::dockerfile::rendered_path(&repo.catalog, name)));
    }
    Ok(written)
}
