//! The inputs of every image, read from the repository: each Dockerfile (the stable rendering
//! or the hand-written file, which must parse as the engine parses it) and each build context
//! as the engine would receive it.

use std::collections::BTreeMap;
use std::fs;

use rayon::prelude::*;

use super::Repository;
use crate::catalog::{Image, Origin, Recipe};
use crate::context::{self, ContextError, FileDigests};
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::hash::{self, Hasher};
use crate::inputs::{self, Detail, Inputs};
use crate::name::ImageName;
use crate::source::{SourceFile, display_path};

impl Repository {
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
        self.inputs_of(self.stable_renderings()?)
    }

    /// [`inputs`](Self::inputs), given the stable renderings (for a caller that needs them
    /// too, so every template is rendered once). A Dockerfile the engine would refuse is a
    /// problem here, so planning and building never meet it first.
    pub fn inputs_of(
        &self,
        rendered: &BTreeMap<ImageName, String>,
    ) -> Result<BTreeMap<ImageName, Inputs>, Error> {
        let files = FileDigests::default();
        let templates = self.templates.digest();
        let data = &self.stable()?.data;
        let results: Vec<Result<(ImageName, Inputs), Vec<Diagnostic>>> = self
            .catalog
            .images
            .par_iter()
            .map(|image| {
                let bytes = self
                    .dockerfile_bytes(image, rendered)
                    .map_err(|d| vec![d])?;
                let mut problems = self.check_dockerfile(image, &bytes);
                match self.context_digest(image, &files) {
                    Ok(_) if !problems.is_empty() => Err(problems),
                    Ok((context_digest, each_file)) => {
                        let locked = self.lock.images.get(image.name.as_str());
                        let mut inputs =
                            inputs::compute(&self.catalog, image, &bytes, context_digest, locked);
                        let rendering = (templates.as_str(), data.get(&image.name));
                        inputs.detail = self.detail(image, each_file, rendering);
                        Ok((image.name.clone(), inputs))
                    }
                    Err(d) => {
                        problems.push(d);
                        Err(problems)
                    }
                }
            })
            .collect();
        let mut out = BTreeMap::new();
        let mut problems = Vec::new();
        for result in results {
            match result {
                Ok((name, inputs)) => {
                    out.insert(name, inputs);
                }
                Err(found) => problems.extend(found),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(Error::Input(problems))
        }
    }

    /// The finer digests a plan names changes with: the context's files (given), a templated
    /// image's variables and the rest of what its rendering is made of (`rendering`: the
    /// digest of every template and partial, and of the image's data besides its variables),
    /// a base's `from`.
    fn detail(
        &self,
        image: &Image,
        files: BTreeMap<String, String>,
        rendering: (&str, Option<&String>),
    ) -> Detail {
        let (vars, template) = match &image.recipe {
            Recipe::Template { name, .. } => {
                let vars = &self.inherited.vars[&image.name];
                let each = vars
                    .iter()
                    .map(|(key, value)| (key.clone(), hash::short(&hash::json_digest(value))))
                    .collect();
                let (templates, data) = rendering;
                let mut h = Hasher::new();
                h.field(templates).field(name);
                h.field(data.map(String::as_str).unwrap_or_default());
                (each, Some(hash::short(&h.finish())))
            }
            Recipe::Dockerfile { .. } => (BTreeMap::new(), None),
        };
        let from = match &image.origin {
            Origin::Base { from, .. } => Some(from.clone()),
            Origin::Parent(_) => None,
        };
        Detail {
            files,
            vars,
            template,
            from,
        }
    }

    /// The context's digest, and each of its entries' (by path).
    fn context_digest(
        &self,
        image: &Image,
        files: &FileDigests,
    ) -> Result<(String, BTreeMap<String, String>), Diagnostic> {
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
