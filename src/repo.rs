//! The hierarchy repository on disk: finding `catalog.toml`, reading it, its templates, the
//! hand-written Dockerfiles, the build contexts and `hier.lock`. This is the one module that
//! reads the repository's files; everything it hands on is a value.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::{self, Catalog, Image, Recipe};
use crate::context::{self, ContextError, FileDigests};
use crate::diagnostic::{Diagnostic, suggest};
use crate::dockerfile::{self, Refs, StableRefs, rendered_path, template_path};
use crate::error::Error;
use crate::graph::Hierarchy;
use crate::inherit::Inherited;
use crate::inputs::{self, Inputs};
use crate::lock::{LOCK_FILE, Lock};
use crate::name::ImageName;
use crate::source::{SourceFile, display_path};
use crate::templates::Templates;

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

    /// Renders every templated image (in parallel) with the given references. Failures are
    /// collected; one template error shared by many images is reported once.
    pub fn render_all(
        &self,
        refs: &(dyn Refs + Sync),
    ) -> Result<BTreeMap<ImageName, String>, Error> {
        let results: Vec<(ImageName, Option<Result<String, Diagnostic>>)> = self
            .catalog
            .images
            .par_iter()
            .map(|image| {
                let vars = &self.inherited.vars[&image.name];
                (
                    image.name.clone(),
                    dockerfile::render(&self.templates, &self.catalog, image, vars, refs),
                )
            })
            .collect();
        let mut rendered = BTreeMap::new();
        let mut failures: Vec<(ImageName, Diagnostic)> = Vec::new();
        for (name, result) in results {
            match result {
                Some(Ok(text)) => {
                    rendered.insert(name, text);
                }
                Some(Err(d)) => failures.push((name, d)),
                None => {}
            }
        }
        if failures.is_empty() {
            Ok(rendered)
        } else {
            Err(Error::Input(group_render_failures(failures)))
        }
    }

    /// The Dockerfile text an image's inputs are computed from: its stable rendering, or its
    /// hand-written file.
    pub fn dockerfile_bytes(
        &self,
        image: &Image,
        rendered: &BTreeMap<ImageName, String>,
    ) -> Result<Vec<u8>, Diagnostic> {
        match &image.recipe {
            Recipe::Template { .. } => Ok(rendered
                .get(&image.name)
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default()),
            Recipe::Dockerfile { path, .. } => fs::read(self.root.join(path)).map_err(|e| {
                Diagnostic::error(format!(
                    "cannot read the Dockerfile of image `{}`: {e}",
                    image.name
                ))
                .at_file(self.display(path))
            }),
        }
    }

    /// Computes the inputs of every image (renderings, contexts, Dockerfiles), in parallel,
    /// hashing each file once.
    pub fn inputs(&self) -> Result<BTreeMap<ImageName, Inputs>, Error> {
        self.inputs_of(&self.render_all(&StableRefs)?)
    }

    /// [`inputs`](Self::inputs), given the stable renderings (for a caller that needs them
    /// too, so every template is rendered once).
    pub fn inputs_of(
        &self,
        rendered: &BTreeMap<ImageName, String>,
    ) -> Result<BTreeMap<ImageName, Inputs>, Error> {
        let files = FileDigests::default();
        let results: Vec<Result<(ImageName, Inputs), Diagnostic>> = self
            .catalog
            .images
            .par_iter()
            .map(|image| {
                let bytes = self.dockerfile_bytes(image, rendered)?;
                let context_digest = self.context_digest(image, &files)?;
                let locked = self.lock.images.get(image.name.as_str());
                Ok((
                    image.name.clone(),
                    inputs::compute(&self.catalog, image, &bytes, context_digest, locked),
                ))
            })
            .collect();
        let mut out = BTreeMap::new();
        let mut problems = Vec::new();
        for result in results {
            match result {
                Ok((name, inputs)) => {
                    out.insert(name, inputs);
                }
                Err(d) => problems.push(d),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(Error::Input(problems))
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

    fn context_digest(&self, image: &Image, files: &FileDigests) -> Result<String, Diagnostic> {
        let root = self.root.join(&image.context);
        let in_context = self.dockerfile_in_context(image);
        let entries = context::walk(&root, in_context.as_deref())
            .map_err(|e| self.context_problem(image, e))?;
        let skip = match image.recipe {
            Recipe::Template { .. } => in_context.as_deref(),
            Recipe::Dockerfile { .. } => None,
        };
        inputs::context_digest(&root, &entries, files, skip).map_err(|e| {
            Diagnostic::error(format!(
                "cannot read the context of image `{}`: {e}",
                image.name
            ))
            .at_file(self.display(&image.context))
        })
    }

    fn context_problem(&self, image: &Image, error: ContextError) -> Diagnostic {
        match error {
            ContextError::Ignore {
                path,
                line,
                message,
            } => {
                let text = fs::read_to_string(&path).unwrap_or_default();
                let source = SourceFile::new(display_path(&path), text);
                let start = source.line_text(line);
                let mut location = source.locate(0..0);
                location.line = line;
                location.column = 1;
                if let Some(s) = location.snippet.as_mut() {
                    s.text = start.to_string();
                    s.width = start.chars().count().max(1);
                }
                Diagnostic::error(format!(
                    "invalid .dockerignore in the context of image `{}`: {message}",
                    image.name
                ))
                .at(location)
            }
            ContextError::Io { path, error } => Diagnostic::error(format!(
                "cannot read the context of image `{}`: {}: {error}",
                image.name,
                display_path(&path).display()
            ))
            .at_file(self.display(&image.context)),
        }
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

/// Reads the partials and every template the catalog names.
fn load_templates(root: &Path, catalog: &Catalog) -> (Templates, Vec<Diagnostic>) {
    let dir = root.join(&catalog.templates);
    let mut problems = Vec::new();
    let mut partials = Vec::new();
    let partial_dir = dir.join("partials");
    if let Ok(read) = fs::read_dir(&partial_dir) {
        let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == "hbs") && path.is_file() {
                let stem = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                match fs::read_to_string(&path) {
                    Ok(text) => partials.push((stem, SourceFile::new(display_path(&path), text))),
                    Err(e) => problems.push(
                        Diagnostic::error(format!("cannot read partial: {e}"))
                            .at_file(display_path(&path)),
                    ),
                }
            }
        }
    }
    let mut wanted: BTreeMap<&str, Vec<&Image>> = BTreeMap::new();
    for image in &catalog.images {
        if let Recipe::Template { name, .. } = &image.recipe {
            wanted.entry(name.as_str()).or_default().push(image);
        }
    }
    let available = || -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&dir)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let mut templates = Vec::new();
    for (name, images) in wanted {
        let path = dir.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => {
                templates.push((name.to_string(), SourceFile::new(display_path(&path), text)))
            }
            Err(e) => {
                let shown = template_path(catalog, name);
                for image in images {
                    let Recipe::Template { span, .. } = &image.recipe else {
                        continue;
                    };
                    let message = if e.kind() == std::io::ErrorKind::NotFound {
                        format!(
                            "template `{name}` of image `{}` does not exist ({shown})",
                            image.name
                        )
                    } else {
                        format!(
                            "cannot read template {shown} of image `{}`: {e}",
                            image.name
                        )
                    };
                    let names = available();
                    let help =
                        suggest(name, names.iter().map(String::as_str)).unwrap_or_else(|| {
                            if names.is_empty() {
                                format!("add the template to {}/", catalog.templates)
                            } else {
                                format!("the templates are: {}", names.join(", "))
                            }
                        });
                    problems.push(
                        Diagnostic::error(message)
                            .at(catalog.source.locate(span.clone()))
                            .help(help),
                    );
                }
            }
        }
    }
    let (templates, syntax) = Templates::new(partials, templates);
    problems.extend(syntax);
    (templates, problems)
}

/// Where a path really is, resolving symlinks; parents are resolved once and remembered
/// (contexts share a few parent folders), leaves only when they are symlinks.
struct RealPaths(BTreeMap<PathBuf, Option<PathBuf>>);

impl RealPaths {
    fn resolve(&mut self, path: &Path) -> Option<PathBuf> {
        let meta = fs::symlink_metadata(path).ok()?;
        if meta.file_type().is_symlink() {
            return fs::canonicalize(path).ok();
        }
        let parent = path.parent()?;
        let real_parent = self
            .0
            .entry(parent.to_path_buf())
            .or_insert_with(|| fs::canonicalize(parent).ok())
            .clone()?;
        Some(real_parent.join(path.file_name()?))
    }
}

/// Hand-written Dockerfiles exist; contexts stay inside the repository (symlinks included).
fn check_files(root: &Path, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut real = RealPaths(BTreeMap::new());
    for image in &catalog.images {
        if let Recipe::Dockerfile { path, span } = &image.recipe {
            let full = root.join(path);
            if !full.is_file() {
                problems.push(
                    Diagnostic::error(format!(
                        "the Dockerfile of image `{}` does not exist ({path})",
                        image.name
                    ))
                    .at(catalog.source.locate(span.clone()))
                    .help("write the file, or use `template = …` to have hier render it"),
                );
            } else if !fs::canonicalize(&full).is_ok_and(|p| p.starts_with(&canonical_root)) {
                problems.push(
                    Diagnostic::error(format!(
                        "the Dockerfile of image `{}` ({path}) leads outside the repository through a symlink",
                        image.name
                    ))
                    .at(catalog.source.locate(span.clone())),
                );
            }
        }
        let context = root.join(&image.context);
        if let Some(real) = real.resolve(&context)
            && !real.starts_with(&canonical_root)
        {
            let span = image.context_span.clone().unwrap_or(image.span.clone());
            problems.push(
                Diagnostic::error(format!(
                    "the context of image `{}` ({}) leads outside the repository through a symlink",
                    image.name, image.context
                ))
                .at(catalog.source.locate(span)),
            );
        }
    }
    problems
}

/// One diagnostic per distinct (place, reason), naming the images it concerns.
fn group_render_failures(failures: Vec<(ImageName, Diagnostic)>) -> Vec<Diagnostic> {
    let mut groups: Vec<(Diagnostic, Vec<ImageName>)> = Vec::new();
    for (name, d) in failures {
        match groups
            .iter_mut()
            .find(|(g, _)| g.message == d.message && g.location == d.location)
        {
            Some((_, names)) => names.push(name),
            None => groups.push((d, vec![name])),
        }
    }
    groups
        .into_iter()
        .map(|(mut d, names)| {
            let who = match names.len() {
                1 => format!("image `{}`", names[0]),
                n if n <= 3 => format!(
                    "images {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                n => format!("images `{}`, `{}` and {} more", names[0], names[1], n - 2),
            };
            d.message = format!("cannot render {who}: {}", d.message);
            d
        })
        .collect()
}
