//! Every Dockerfile must build: each image's file (the stable rendering of a templated image,
//! in memory, or the hand-written file) is parsed as the engine parses it, and a hand-written
//! one must build its final stage on the parent hier hands it. Found here, a problem is an error
//! at file:line:col before anything is planned or built, never first at build time; a rendered
//! file is named by the path `hier render` writes it to and the template it came from.

use std::collections::BTreeMap;

use crate::catalog::{Image, Origin, Recipe};
use crate::diagnostic::{Diagnostic, Location, Snippet};
use crate::dockerfile::{rendered_path, template_path};
use crate::error::Error;
use crate::lint::dockerfile::{self, SyntaxError, check_final_stage};
use crate::name::ImageName;
use crate::source::SourceFile;

use super::Repository;

/// A Dockerfile's text, or where it stops being UTF-8: (line, column) of the first bad byte.
pub fn utf8_text(bytes: &[u8]) -> Result<&str, (usize, usize)> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, column)
    })
}

/// The problems of a parsed image Dockerfile: what the engine refuses, then (hand-written
/// files only) a final stage not on the parent.
pub fn problems(image: &Image, df: &dockerfile::Dockerfile) -> Vec<SyntaxError> {
    let mut out = df.errors.clone();
    if matches!(image.recipe, Recipe::Dockerfile { .. }) {
        let from = match &image.origin {
            Origin::Base { from, .. } => Some(from.as_str()),
            Origin::Parent(_) => None,
        };
        out.extend(check_final_stage(df, from));
    }
    out
}

impl Repository {
    /// Checks the stable renderings of the templated images: `hier render` writes none of them
    /// when one would not build.
    pub fn check_renderings(&self, rendered: &BTreeMap<ImageName, String>) -> Result<(), Error> {
        let problems: Vec<Diagnostic> = self
            .catalog
            .images
            .iter()
            .filter_map(|image| Some((image, rendered.get(&image.name)?)))
            .flat_map(|(image, text)| self.check_dockerfile(image, text.as_bytes()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Input(problems))
        }
    }

    /// The problems of an image's Dockerfile, whose bytes the caller read (or rendered).
    pub(super) fn check_dockerfile(&self, image: &Image, bytes: &[u8]) -> Vec<Diagnostic> {
        let (file, template) = match &image.recipe {
            Recipe::Template { name, .. } => (
                rendered_path(&self.catalog, &image.name),
                Some(template_path(&self.catalog, name)),
            ),
            Recipe::Dockerfile { path, .. } => (path.clone(), None),
        };
        let source = |text: &str| SourceFile::new(self.display(&file), text.to_string());
        let text = match utf8_text(bytes) {
            Ok(text) => text,
            Err((line, column)) => {
                let lossy = String::from_utf8_lossy(bytes);
                let location = place(&source(&lossy), line, column, 1);
                let message = format!("the Dockerfile of image `{}` is not UTF-8 text", image.name);
                return vec![
                    Diagnostic::error(message)
                        .at(location)
                        .help("save it as UTF-8: hier reads Dockerfiles as text"),
                ];
            }
        };
        let df = dockerfile::parse(text);
        let found = problems(image, &df);
        if found.is_empty() {
            return Vec::new();
        }
        let source = source(text);
        let rendered = template
            .map(|t| format!(" (rendered from {t})"))
            .unwrap_or_default();
        found
            .into_iter()
            .map(|e| {
                let message = format!("image `{}`: {}{rendered}", image.name, e.problem.message);
                let mut d =
                    Diagnostic::error(message).at(place(&source, e.line, e.column, e.width));
                d.help = e.problem.help;
                d
            })
            .collect()
    }
}

fn place(source: &SourceFile, line: usize, column: usize, width: usize) -> Location {
    Location {
        file: source.display.clone(),
        line,
        column,
        snippet: Some(Snippet {
            text: source.line_text(line).to_string(),
            width,
        }),
    }
}
