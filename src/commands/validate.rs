//! `hier validate`: parse the catalog, check the graph and versions, render every template in
//! memory, parse every Dockerfile, walk every context and lint; report all problems. With
//! `--format json` a bad input is a JSON document too (every problem, exit 2), not only an
//! error on standard error.

use serde_json::{Value, json};

use super::{Context, Output};
use crate::catalog::Recipe;
use crate::diagnostic::{Diagnostic, Severity as DiagnosticSeverity};
use crate::error::{Error, Exit};
use crate::lint::{self, Finding, rules::Severity};
use crate::plural::count;
use crate::repo::Repository;
use crate::run::render_error;
use crate::style::Styles;

pub fn run(cx: &Context) -> Result<Output, Error> {
    let repo = match cx.open() {
        Ok(repo) => repo,
        Err(error) => return failed(cx, error, None),
    };
    let counts = Counts::of(&repo);
    let findings = match check(&repo) {
        Ok(findings) => findings,
        Err(error) => return failed(cx, error, Some(&counts)),
    };
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
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
        let mut text = summary(&repo, &counts, findings.is_empty());
        text.push_str(&lint_text(&findings, errors, &cx.styles));
        Output::text(text)
    };
    out.exit = (errors > 0).then_some(Exit::Failed);
    Ok(out)
}

/// Every template rendered once, every Dockerfile parsed, every context walked (computing the
/// inputs), then the lint: its findings.
fn check(repo: &Repository) -> Result<Vec<Finding>, Error> {
    let rendered = repo.stable_renderings()?;
    repo.inputs_of(rendered)?;
    lint::lint_rendered(repo, &[], rendered)
}

/// The input was bad. With `--format json`, the JSON document lists every problem (standard
/// error says them in words too) and the exit is 2; otherwise the error goes on to be printed.
fn failed(cx: &Context, error: Error, counts: Option<&Counts>) -> Result<Output, Error> {
    let problems: Vec<Value> = match &error {
        Error::Input(list) if cx.json() => list.iter().map(problem).collect(),
        Error::Usage { message, help } if cx.json() => vec![json!({
            "file": null, "line": null, "column": null, "severity": "error",
            "message": message, "help": help,
        })],
        _ => return Err(error),
    };
    let mut out = Output::json(&json!({
        "valid": false,
        "images": counts.map(|c| c.images),
        "bases": counts.map(|c| c.bases),
        "templated": counts.map(|c| c.templated),
        "problems": problems,
        "findings": [],
    }));
    out.stderr = render_error(&error, &Styles::plain());
    out.exit = Some(Exit::BadInput);
    Ok(out)
}

/// One problem for JSON: where (null when it has no file, line or column), what, what to do.
fn problem(d: &Diagnostic) -> Value {
    let location = d.location.as_deref();
    let known = |n: usize| (n > 0).then_some(n);
    json!({
        "file": location.map(|l| l.file.display().to_string()),
        "line": location.and_then(|l| known(l.line)),
        "column": location.and_then(|l| known(l.column)),
        "severity": match d.severity {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
        },
        "message": d.message,
        "help": d.help,
    })
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

/// The line that says what the catalog holds and in how many waves; "no problems found" only
/// when the lint found nothing either.
fn summary(repo: &Repository, counts: &Counts, clean: bool) -> String {
    let waves = repo
        .catalog
        .images
        .iter()
        .map(|i| repo.hierarchy.wave(&i.name) + 1)
        .max()
        .unwrap_or(0);
    format!(
        "{}: {} ({}, {} rendered from templates, {} hand-written) in {}{}\n",
        repo.catalog.source.display.display(),
        count(counts.images, "image"),
        count(counts.bases, "base"),
        counts.templated,
        counts.images - counts.templated,
        count(waves, "wave"),
        if clean { "; no problems found" } else { "" }
    )
}

/// The lint findings and their count (nothing when there are none).
fn lint_text(findings: &[Finding], errors: usize, styles: &Styles) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let warnings = findings.len() - errors;
    format!(
        "\n{}\n\n{}, {} (hier lint --explain ID tells why)\n",
        lint::render(findings, styles).trim_end(),
        count(errors, "lint error"),
        count(warnings, "warning"),
    )
}
