//! Rendering every templated image of the repository at once (in parallel), with the render
//! failures grouped so that one template error shared by many images is reported once; the
//! stable renderings also give the digest of each one's data besides its variables.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::{Repository, Stable};
use crate::diagnostic::Diagnostic;
use crate::dockerfile::{self, Refs, StableRefs};
use crate::error::Error;
use crate::name::ImageName;

impl Repository {
    /// Renders every templated image (in parallel) with the given references. Failures are
    /// collected; one template error shared by many images is reported once.
    pub fn render_all(
        &self,
        refs: &(dyn Refs + Sync),
    ) -> Result<BTreeMap<ImageName, String>, Error> {
        Ok(self.render_each(refs, false)?.texts)
    }

    /// The stable renderings, with their data's digests ([`dockerfile::data_digest`]).
    pub(super) fn render_stable(&self) -> Result<Stable, Error> {
        self.render_each(&StableRefs, true)
    }

    fn render_each(&self, refs: &(dyn Refs + Sync), digests: bool) -> Result<Stable, Error> {
        type Rendered = Option<(Result<String, Diagnostic>, Option<String>)>;
        let results: Vec<(ImageName, Rendered)> = self
            .catalog
            .images
            .par_iter()
            .map(|image| {
                let vars = &self.inherited.vars[&image.name];
                let data = dockerfile::template_data(&self.catalog, image, vars, refs);
                let text = dockerfile::render_data(&self.templates, &self.catalog, image, &data);
                let digest = digests.then(|| dockerfile::data_digest(&data));
                (image.name.clone(), text.map(|t| (t, digest)))
            })
            .collect();
        let mut stable = Stable::default();
        let mut failures: Vec<(ImageName, Diagnostic)> = Vec::new();
        for (name, result) in results {
            match result {
                Some((Ok(text), digest)) => {
                    if let Some(d) = digest {
                        stable.data.insert(name.clone(), d);
                    }
                    stable.texts.insert(name, text);
                }
                Some((Err(d), _)) => failures.push((name, d)),
                None => {}
            }
        }
        if failures.is_empty() {
            Ok(stable)
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
