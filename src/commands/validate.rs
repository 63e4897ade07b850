//! `hier validate`: parse the catalog, check the graph and versions, render every template in
//! memory and walk every context; report all problems.

use serde_json::json;

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::error::{Error, Exit};
use crate::lint::{self, rules::Severity};

pub fn run(cx: &Context) -> Result<Output, Error> {
    let repo = cx.open()?;
    // Every template rendered once, every context walked (computing the inputs).
    let rendered = repo.render_all(&crate::dockerfile::StableRefs)?;
    let inputs = repo.inputs_of(&rendered)?;
    // And the lint: errors fail the validation, warnings are shown.
    let findings = lint::lint_rendered(&repo, &[], &rendered)?;
    let lint_errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let exit = (lint_errors > 0).then_some(Exit::Failed);
    let images = &repo.catalog.images;
    let bases = images.iter().filter(|i| i.is_base()).count();
    let templated = images
        .iter()
        .filter(|i| matches!(i.recipe, Recipe::Template { .. }))
        .count();
    if cx.json() {
        let mut out = Output::json(&json!({
            "valid": lint_errors == 0,
            "images": images.len(),
            "bases": bases,
            "templated": templated,
            "problems": [],
            "findings": findings,
        }));
        out.exit = exit;
        return Ok(out);
    }
    let _ = inputs;
    let lint_text = if findings.is_empty() {
        String::new()
    } else {
        format!(
            "\n{}\n{} lint error{}, {} warning{} (hier lint --explain ID tells why)\n",
            lint::render(&findings, &cx.styles).trim_end(),
            lint_errors,
            if lint_errors == 1 { "" } else { "s" },
            findings.len() - lint_errors,
            if findings.len() - lint_errors == 1 {
                ""
            } else {
                "s"
            }
        )
    };
    if cx.quiet {
        return Ok(Output {
            stdout: if lint_errors > 0 {
                lint_text
            } else {
                String::new()
            },
            exit,
            ..Output::default()
        });
    }
    let mut out = Output::text(format!(
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
    ));
    out.stdout.push_str(&lint_text);
    out.exit = exit;
    Ok(out)
}
