//! `hier validate`: parse the catalog, check the graph and versions, render every template in
//! memory and walk every context; report all problems.

use serde_json::json;

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::error::{Error, Exit};
use crate::lint::{self, Finding, rules::Severity};
use crate::repo::Repository;
use crate::style::Styles;

pub fn run(cx: &Context) -> Result<Output, Error> {
    let repo = cx.open()?;
    // Every template rendered once, every context walked (computing the inputs).
    let rendered = repo.render_all(&crate::dockerfile::StableRefs)?;
    repo.inputs_of(&rendered)?;
    // And the lint: errors fail the validation, warnings are shown.
    let findings = lint::lint_rendered(&repo, &[], &rendered)?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let counts = Counts::of(&repo);
    let mut out = if cx.json() {
        Output::json(&json!({
            "valid": errors == 0,
            "images": counts.images,
            "bases": counts.bases,
            "templated": counts.templated,
            "problems": [],
            "findings": findings,
        }))
    } else if cx.quiet {
        match errors {
            0 => Output::default(),
            _ => Output::text(lint_text(&findings, errors, &cx.styles)),
        }
    } else {
        let mut text = summary(&repo, &counts);
        text.push_str(&lint_text(&findings, errors, &cx.styles));
        Output::text(text)
    };
    out.exit = (errors > 0).then_some(Exit::Failed);
    Ok(out)
}

/// How many images the catalog holds, how many are bases and how many are templated.
struct Counts {
    images: usize,
    bases: usize,
    templated: usize,
}

impl Counts {
    fn of(repo: &Repository) -> Self {
        let images = &repo.catalog.images;
        Counts {
            images: images.len(),
            bases: images.iter().filter(|i| i.is_base()).count(),
            templated: images
                .iter()
                .filter(|i| matches!(i.recipe, Recipe::Template { .. }))
                .count(),
        }
    }
}

/// The line that says the catalog is valid: what it holds and in how many waves.
fn summary(repo: &Repository, counts: &Counts) -> String {
    let waves = repo
        .catalog
        .images
        .iter()
        .map(|i| repo.hierarchy.wave(&i.name) + 1)
        .max()
        .unwrap_or(0);
    format!(
        "{}: {} images ({} base{}, {} rendered from templates, {} hand-written) in {} waves; no problems found\n",
        repo.catalog.source.display.display(),
        counts.images,
        counts.bases,
        plural(counts.bases),
        counts.templated,
        counts.images - counts.templated,
        waves
    )
}

/// The lint findings and their count (nothing when there are none).
fn lint_text(findings: &[Finding], errors: usize, styles: &Styles) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let warnings = findings.len() - errors;
    format!(
        "\n{}\n{} lint error{}, {} warning{} (hier lint --explain ID tells why)\n",
        lint::render(findings, styles).trim_end(),
        errors,
        plural(errors),
        warnings,
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
