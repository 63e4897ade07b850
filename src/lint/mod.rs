//! `hier lint`: the practices of the field, checked on every image's
//! Dockerfile — the stable rendering of a templated image (the file `hier render` commits) or
//! the hand-written one — in every stage, plus what only the hierarchy knows: an app's
//! effective user through its parents, a base's init, each context's `.dockerignore`, a
//! structure-test file kept out of its context.

#[cfg(test)]
mod corpus_tests;
pub mod dockerfile;
mod file;
mod image;
mod packages;
pub mod rules;
mod runs;
mod scripts;
mod shell;
mod split;
mod stages;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Image, Recipe};
use crate::dockerfile::{StableRefs, rendered_path, template_path};
use crate::error::Error;
use crate::name::ImageName;
use crate::repo::{Repository, dockerfile_problems, utf8_text};
use dockerfile::Dockerfile;
use image::Users;
use rules::Severity;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub image: String,
    pub rule: &'static str,
    pub severity: Severity,
    pub file: String,
    /// 0 when the finding is about a file that is missing (no line to point at).
    pub line: usize,
    pub message: String,
}

/// The findings of one Dockerfile read alone, outside a catalog: what the engine would refuse
/// (H100) and the rules that need only the file, as (line, rule, message), in line order. Its
/// stages built on `HIER_PARENT` are taken to inherit nothing (no `SHELL`, no `WORKDIR`).
pub fn lint_text(text: &str) -> Vec<(usize, &'static str, String)> {
    let df = dockerfile::parse(text);
    let mut out: Vec<(usize, &'static str, String)> = df
        .errors
        .iter()
        .map(|e| (e.line, "H100", e.problem.message.clone()))
        .collect();
    let inherited = (runs::Shell::Plain, false);
    out.extend(
        file::check_file(&df, inherited)
            .into_iter()
            .map(|h| (h.line, h.rule, h.message)),
    );
    out.sort_by_key(|(line, rule, _)| (*line, *rule));
    out
}

/// One finding of a file, before it is attributed to an image.
#[derive(Clone)]
struct Hit {
    rule: &'static str,
    severity: Severity,
    line: usize,
    message: String,
}

fn hit(rule: &'static str, line: usize, message: impl Into<String>) -> Hit {
    let severity = rules::rule(rule)
        .map(|r| r.severity)
        .unwrap_or(Severity::Warning);
    Hit {
        rule,
        severity,
        line,
        message: message.into(),
    }
}

/// A parsed image Dockerfile and where it is.
struct Parsed {
    file: String,
    template: Option<String>,
    df: Dockerfile,
    /// What the engine would refuse the file for (H100).
    refused: Vec<Hit>,
    /// Whether the file is UTF-8 text; when it is not, H100 says so and no other rule looks
    /// at it (its text is not what the author wrote).
    text: bool,
}

/// Lints the images (all when `only` is empty), in build order, each finding once.
pub fn lint(repo: &Repository, only: &[ImageName]) -> Result<Vec<Finding>, Error> {
    lint_rendered(repo, only, &repo.render_all(&StableRefs)?)
}

/// [`lint`], given the stable renderings of the templated images.
pub fn lint_rendered(
    repo: &Repository,
    only: &[ImageName],
    rendered: &BTreeMap<ImageName, String>,
) -> Result<Vec<Finding>, Error> {
    let parsed = parse_all(repo, rendered)?;
    let mut users = Users::new();
    let mut left = image::Left::default();
    let mut findings = Vec::new();
    for name in repo.hierarchy.order() {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        findings.extend(image_findings(repo, name, &parsed, &mut users, &mut left));
    }
    Ok(findings)
}

/// Every image's Dockerfile, parsed: the stable rendering, or the hand-written file. A file
/// that cannot be read, or is not text, is a finding of its image; the others are linted.
fn parse_all(
    repo: &Repository,
    rendered: &BTreeMap<ImageName, String>,
) -> Result<BTreeMap<ImageName, Parsed>, Error> {
    let mut parsed = BTreeMap::new();
    for image in &repo.catalog.images {
        let (file, template, bytes) = match &image.recipe {
            Recipe::Template { name, .. } => (
                rendered_path(&repo.catalog, &image.name),
                Some(template_path(&repo.catalog, name)),
                Ok(rendered
                    .get(&image.name)
                    .cloned()
                    .unwrap_or_default()
                    .into_bytes()),
            ),
            Recipe::Dockerfile { path, .. } => {
                (path.clone(), None, std::fs::read(repo.root.join(path)))
            }
        };
        let (df, refused, text) = match &bytes {
            Ok(bytes) => parse_file(image, bytes),
            Err(e) => {
                let message = format!("cannot read this Dockerfile: {e}");
                (Dockerfile::default(), vec![hit("H100", 0, message)], false)
            }
        };
        let entry = Parsed {
            file,
            template,
            df,
            refused,
            text,
        };
        parsed.insert(image.name.clone(), entry);
    }
    Ok(parsed)
}

/// A Dockerfile's parse, what the engine would refuse in it, and whether it is text.
fn parse_file(image: &Image, bytes: &[u8]) -> (Dockerfile, Vec<Hit>, bool) {
    match utf8_text(bytes) {
        Ok(text) => {
            let df = dockerfile::parse(text);
            let refused = dockerfile_problems(image, &df)
                .into_iter()
                .map(|e| hit("H100", e.line, e.problem.message))
                .collect();
            (df, refused, true)
        }
        Err((line, _)) => {
            let df = dockerfile::parse(&String::from_utf8_lossy(bytes));
            let message = "this Dockerfile is not UTF-8 text: save it as UTF-8";
            (df, vec![hit("H100", line, message)], false)
        }
    }
}

/// The findings of one image that its `lint_ignore` keeps, by file, line and rule.
fn image_findings(
    repo: &Repository,
    name: &ImageName,
    parsed: &BTreeMap<ImageName, Parsed>,
    users: &mut Users,
    left: &mut image::Left,
) -> Vec<Finding> {
    let image = repo.catalog.image(name);
    let p = &parsed[name];
    let mut hits = p.refused.clone();
    if p.text {
        let inherited = image::parent_left(repo, image, parsed, left);
        hits.extend(file::check_file(&p.df, inherited));
        hits.extend(image::check_image(repo, image, parsed, users));
    }
    let mut findings: Vec<Finding> = hits
        .into_iter()
        .filter(|h| !ignored(image, h.rule))
        .map(|h| Finding {
            image: name.to_string(),
            rule: h.rule,
            severity: h.severity,
            file: p.file.clone(),
            line: h.line,
            message: match &p.template {
                Some(t) => format!("{} (rendered from {t})", h.message),
                None => h.message,
            },
        })
        .collect();
    if let Some(f) = image::check_context(repo, image)
        && !ignored(image, f.rule)
    {
        findings.push(Finding {
            image: name.to_string(),
            rule: f.rule,
            severity: f.severity,
            file: if image.context.is_empty() {
                ".".into()
            } else {
                image.context.clone()
            },
            line: 0,
            message: f.message,
        });
    }
    if let Some((file, f)) = image::check_spec(repo, image)
        && !ignored(image, f.rule)
    {
        findings.push(Finding {
            image: name.to_string(),
            rule: f.rule,
            severity: f.severity,
            file,
            line: 0,
            message: f.message,
        });
    }
    findings.sort_by_key(|f| (f.file.clone(), f.line, f.rule));
    findings
}

/// Whether the image silences a rule with `lint_ignore`.
fn ignored(image: &Image, rule: &str) -> bool {
    image
        .lint_ignore
        .iter()
        .any(|i| i.eq_ignore_ascii_case(rule))
}

/// Text for people: findings grouped by image, like a compiler's.
pub fn render(findings: &[Finding], styles: &crate::style::Styles) -> String {
    let mut out = String::new();
    let mut current = "";
    for f in findings {
        if f.image != current {
            if !current.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!(
                "{}\n",
                crate::style::Styles::paint(styles.bold, &f.image)
            ));
            current = &f.image;
        }
        let place = if f.line == 0 {
            f.file.clone()
        } else {
            format!("{}:{}", f.file, f.line)
        };
        let severity = match f.severity {
            Severity::Error => crate::style::Styles::paint(styles.error, "error"),
            Severity::Warning => crate::style::Styles::paint(styles.warning, "warning"),
        };
        out.push_str(&format!(
            "  {place}: {severity}[{}]: {}\n",
            f.rule, f.message
        ));
    }
    out
}

/// `--explain ID`: what the rule checks and why, its hadolint equivalent, and how an image
/// silences it.
pub fn explain(id: &str) -> Option<String> {
    let r = rules::rule(id)?;
    Some(format!(
        "{} ({}): {}\n\n{}\n{}\nTo silence it for an image, add `lint_ignore = [\"{}\"]` to the image's entry in the catalog ([images.<name>]).\n",
        r.id,
        r.severity.as_str(),
        r.summary,
        r.explanation,
        if r.hadolint.is_empty() {
            "hadolint: no equivalent rule\n".to_string()
        } else {
            format!("hadolint: {}\n", r.hadolint)
        },
        r.id,
    ))
}
