//! `hier new NAME --parent IMG [--template T]`: adds `[images.NAME]` to catalog.toml (with
//! toml_edit, so every comment, blank line and the order of the rest stay as they are) and
//! scaffolds its context folder: a Dockerfile on `HIER_PARENT` (or, with a template, the
//! rendering) and a `.dockerignore`. The result must open as a repository; when it does not,
//! everything written is taken back and the problem reported (exit 2), so nothing is left.

use std::path::{Path, PathBuf};

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::error::Error;
use crate::lock::write_atomic;
use crate::name::ImageName;
use crate::repo::Repository;

/// What `hier new` was asked.
pub struct Args {
    pub name: String,
    pub parent: String,
    pub template: Option<String>,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    let located = crate::repo::locate(cx.catalog.as_deref())?;
    // A catalog that is a symlink is edited where it leads.
    let catalog_path =
        std::fs::canonicalize(&located).map_err(|e| Error::io("read", located.display(), e))?;
    let repo = Repository::open(&catalog_path)?;
    let name = ImageName::parse(&args.name)
        .map_err(|e| Error::usage(format!("`{}` cannot be an image name: {e}", args.name)))?;
    check(&repo, &name, args)?;
    let context = repo.root.join(&repo.catalog.images_dir).join(name.as_str());
    let before = std::fs::read_to_string(&catalog_path)
        .map_err(|e| Error::io("read", catalog_path.display(), e))?;
    let after = added(&before, &repo, &name, args)?;
    let files = scaffold(&context, args.template.is_none());
    // The first folder `new` makes, which goes if it fails.
    let made = context
        .ancestors()
        .take_while(|p| !p.exists())
        .last()
        .map(Path::to_path_buf);
    let written = write_all(&catalog_path, &after, &context, &files)
        .and_then(|()| finish(&catalog_path, &name, args.template.is_some()));
    match written {
        Ok(rendered) => Ok(said(&located, &name, &context, &files, rendered)),
        Err(e) => {
            // Nothing is left of a failed `new`.
            let _ = write_atomic(&catalog_path, before.as_bytes());
            if let Some(made) = made {
                let _ = std::fs::remove_dir_all(made);
            }
            Err(e)
        }
    }
}

/// A new name, a parent that may be built on, a template that exists, and no context folder
/// in the way.
fn check(repo: &Repository, name: &ImageName, args: &Args) -> Result<(), Error> {
    if repo.catalog.get(name.as_str()).is_some() {
        return Err(Error::usage_help(
            format!("the catalog has an image `{name}` already"),
            "choose another name, or edit its [images.<name>] table",
        ));
    }
    let parent = repo.image_arg(&args.parent)?;
    if parent.kind == "app" {
        return Err(Error::usage_help(
            format!("`{}` is an app, and nothing builds on an app", args.parent),
            "`hier pick <need>` lists the images to build on",
        ));
    }
    if let Some(template) = &args.template {
        let path = repo.root.join(&repo.catalog.templates).join(template);
        if !path.is_file() || template.contains("..") || Path::new(template).is_absolute() {
            return Err(Error::usage(format!(
                "no template `{template}` in {}/",
                repo.catalog.templates
            )));
        }
    }
    let context = repo.root.join(&repo.catalog.images_dir).join(name.as_str());
    if std::fs::symlink_metadata(&context).is_ok() {
        return Err(Error::usage_help(
            format!(
                "{} exists already",
                crate::source::display_path(&context).display()
            ),
            "choose another name, or remove the folder",
        ));
    }
    Ok(())
}

/// The catalog's text with `[images.NAME]` added at its end, the rest untouched.
fn added(text: &str, repo: &Repository, name: &ImageName, args: &Args) -> Result<String, Error> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::usage(format!("catalog.toml: {e}")))?;
    let mut table = toml_edit::Table::new();
    table["parent"] = toml_edit::value(args.parent.as_str());
    table["version"] = toml_edit::value("0.1.0");
    if repo.catalog.kinds.iter().any(|k| k == "app") {
        table["kind"] = toml_edit::value("app");
    }
    match &args.template {
        Some(template) => table["template"] = toml_edit::value(template.as_str()),
        None => {
            let dockerfile = format!("{}/Dockerfile", images_prefix(repo, name));
            table["dockerfile"] = toml_edit::value(dockerfile);
            // What the scaffolded Dockerfile makes; a template's image says its own tests.
            let mut tests = toml_edit::Array::new();
            tests.push("test -d /app");
            table["test"] = toml_edit::value(tests);
        }
    }
    let images = doc.entry("images").or_insert_with(|| {
        let mut t = toml_edit::Table::new();
        t.set_implicit(true);
        toml_edit::Item::Table(t)
    });
    match images {
        toml_edit::Item::Table(images) => {
            images.insert(name.as_str(), toml_edit::Item::Table(table));
        }
        toml_edit::Item::Value(toml_edit::Value::InlineTable(images)) => {
            images.insert(
                name.as_str(),
                toml_edit::Value::InlineTable(table.into_inline_table()),
            );
        }
        _ => return Err(Error::usage("catalog.toml: `images` is not a table")),
    }
    let text = doc.to_string();
    // A file written with CRLF line ends keeps them.
    Ok(if crlf(repo) {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    })
}

/// Whether the catalog's lines end with CRLF.
fn crlf(repo: &Repository) -> bool {
    repo.catalog.source.text.contains("\r\n")
}

fn images_prefix(repo: &Repository, name: &ImageName) -> String {
    match repo.catalog.images_dir.as_str() {
        "" => name.to_string(),
        dir => format!("{dir}/{name}"),
    }
}

/// The files of the new context: a Dockerfile on `HIER_PARENT` (unless a template renders it)
/// that puts the context in `/app` and runs as `nobody` (uid 65534), and a `.dockerignore` keeping hier's
/// files out.
fn scaffold(context: &Path, dockerfile: bool) -> Vec<(PathBuf, &'static str)> {
    let mut files = vec![(
        context.join(".dockerignore"),
        "# Not part of the image.\nDockerfile\n.dockerignore\n",
    )];
    if dockerfile {
        files.push((
            context.join("Dockerfile"),
            "# Built on the exact parent image hier passes in.\nARG HIER_PARENT\nFROM ${HIER_PARENT}\n\nWORKDIR /app\nCOPY . /app/\n\n# An app does not run as root: 65534 is `nobody`, whether or not the image names it.\nUSER 65534\n",
        ));
    }
    files
}

fn write_all(
    catalog: &Path,
    text: &str,
    context: &Path,
    files: &[(PathBuf, &str)],
) -> Result<(), Error> {
    std::fs::create_dir_all(context).map_err(|e| Error::io("create", context.display(), e))?;
    for (path, content) in files {
        write_atomic(path, content.as_bytes())
            .map_err(|e| Error::io("write", path.display(), e))?;
    }
    write_atomic(catalog, text.as_bytes()).map_err(|e| Error::io("write", catalog.display(), e))
}

/// The repository opens with the new image (every check of `validate`), and a templated one is
/// rendered; the rendering's path when there is one.
fn finish(catalog: &Path, name: &ImageName, templated: bool) -> Result<Option<PathBuf>, Error> {
    let repo = Repository::open(catalog)?;
    // `validate` fails on a lint error (an app running as root, say): so does `new`.
    let errors: Vec<_> = crate::lint::lint(&repo, std::slice::from_ref(name))?
        .into_iter()
        .filter(|f| f.severity == crate::lint::rules::Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(Error::usage_help(
            format!(
                "`{name}` would not pass the lint:\n{}",
                crate::lint::render(&errors, &crate::style::Styles::plain()).trim_end()
            ),
            "choose another template or parent, or add the image by hand",
        ));
    }
    if !templated {
        return Ok(None);
    }
    let rendered = repo.stable_renderings()?;
    let image = repo.catalog.image(name);
    let Recipe::Template { .. } = &image.recipe else {
        return Ok(None);
    };
    let path = repo
        .root
        .join(crate::dockerfile::rendered_path(&repo.catalog, name));
    write_atomic(&path, rendered[name].as_bytes())
        .map_err(|e| Error::io("write", path.display(), e))?;
    Ok(Some(path))
}

fn said(
    catalog: &Path,
    name: &ImageName,
    context: &Path,
    files: &[(PathBuf, &str)],
    rendered: Option<PathBuf>,
) -> Output {
    let key = match name.as_str().contains('.') {
        true => format!("\"{name}\""),
        false => name.to_string(),
    };
    let mut text = format!(
        "added [images.{key}] to {}\n",
        crate::source::display_path(catalog).display()
    );
    for path in files.iter().map(|(p, _)| p.clone()).chain(rendered) {
        text.push_str(&format!(
            "wrote {}\n",
            crate::source::display_path(&path).display()
        ));
    }
    text.push_str(&format!(
        "next: put the image's files in {}/, then `hier rebuild {name}`\n",
        crate::source::display_path(context).display()
    ));
    Output::text(text)
}
