//! `hier validate`: parse the catalog, check the graph and versions, render every template in
//! memory and walk every context; report all problems.

use serde_json::json;

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::error::Error;

pub fn run(cx: &Context) -> Result<Output, Error> {
    let repo = cx.open()?;
    // Computing the inputs renders every template and walks every context.
    let inputs = repo.inputs()?;
    let images = &repo.catalog.images;
    let bases = images.iter().filter(|i| i.is_base()).count();
    let templated = images
        .iter()
        .filter(|i| matches!(i.recipe, Recipe::Template { .. }))
        .count();
    if cx.json() {
        return Ok(Output::json(&json!({
            "valid": true,
            "images": images.len(),
            "bases": bases,
            "templated": templated,
            "problems": [],
        })));
    }
    let _ = inputs;
    if cx.quiet {
        return Ok(Output::default());
    }
    Ok(Output::text(format!(
        "{}: {} images ({} base{}, {} rendered from templates, {} hand-written) in {} waves; no problems found\n",
        repo.catalog.source.display.display(),
        images.len(),
        bases,
        if bases == 1 { "" } else { "s" },
        templated,
        images.len() - templated,
        images
            .iter()
            .map(|i| repo.hierarchy.wave(&i.name) + 1)
            .max()
            .unwrap_or(0)
    )))
}
