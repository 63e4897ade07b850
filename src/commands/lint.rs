//! `hier lint`: findings grouped by image (or `{"findings": […]}`), exit 1 on any error.

use serde_json::json;

use super::{Context, Output};
use crate::error::{Error, Exit};
use crate::lint::{self, rules::Severity};

pub fn run(cx: &Context, images: &[String], explain: Option<&str>) -> Result<Output, Error> {
    if let Some(id) = explain {
        return match lint::explain(id) {
            Some(text) => Ok(Output::text(text)),
            None => Err(Error::usage_help(
                format!("there is no lint rule `{id}`"),
                format!(
                    "the rules are {}",
                    lint::rules::RULES
                        .iter()
                        .map(|r| r.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        };
    }
    let repo = cx.open()?;
    let mut only = Vec::new();
    for image in images {
        only.push(repo.image_arg(image)?.name.clone());
    }
    let findings = lint::lint(&repo, &only)?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let mut output = if cx.json() {
        Output::json(&json!({ "findings": findings }))
    } else {
        let mut text = lint::render(&findings, &cx.styles);
        if !cx.quiet {
            if findings.is_empty() {
                text.push_str("no findings\n");
            } else {
                text.push_str(&format!(
                    "\n{errors} error{}, {warnings} warning{}\n",
                    if errors == 1 { "" } else { "s" },
                    if warnings == 1 { "" } else { "s" }
                ));
            }
        }
        Output::text(text)
    };
    if errors > 0 {
        output.exit = Some(Exit::Failed);
    }
    Ok(output)
}
