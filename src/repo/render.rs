//! Rendering every templated image of the repository at once (in parallel), with the render
//! failures grouped so that one template error shared by many images is reported once.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::Repository;
use crate::diagnostic::Diagnostic;
use crate::dockerfile::{self, Refs};
use crate::error::Error;
use crate::name::ImageName;

impl Repository {
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
