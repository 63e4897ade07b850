//! Handlebars templates: strict mode (an undefined variable is an error), no HTML escaping,
//! partials by file stem, hier's helpers. Takes the template texts as values (the repository
//! module reads them) and turns Handlebars' errors into diagnostics naming template and line.

mod helpers;
mod includes;
mod syntax;

use std::collections::BTreeMap;

use handlebars::{Handlebars, RenderErrorReason};

pub use helpers::lines;

use crate::diagnostic::{Diagnostic, Location, Snippet};
use crate::source::SourceFile;

pub struct Templates {
    registry: Handlebars<'static>,
    /// Source of every registered template and partial, by registered name.
    sources: BTreeMap<String, SourceFile>,
    /// Templates (not partials) by registered name.
    templates: Vec<String>,
}

impl Templates {
    /// Registers partials (by stem) and templates (by file name under the templates folder).
    /// Syntax errors come back as diagnostics, and so do includes in a cycle (which would
    /// recurse until the stack overflows: nothing may be rendered then); a broken template is
    /// left out.
    pub fn new(
        partials: Vec<(String, SourceFile)>,
        templates: Vec<(String, SourceFile)>,
    ) -> (Templates, Vec<Diagnostic>) {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        helpers::register(&mut registry);
        let mut problems = Vec::new();
        let mut sources = BTreeMap::new();
        let mut names = Vec::new();
        for (name, source) in partials {
            match registry.register_partial(&name, source.text.as_str()) {
                Ok(()) => {}
                Err(e) => problems.push(syntax::problem(&e, &source)),
            }
            sources.insert(name, source);
        }
        for (name, source) in templates {
            match registry.register_template_string(&name, source.text.as_str()) {
                Ok(()) => names.push(name.clone()),
                Err(e) => problems.push(syntax::problem(&e, &source)),
            }
            sources.insert(name, source);
        }
        problems.extend(includes::cycles(&sources));
        (
            Templates {
                registry,
                sources,
                templates: names,
            },
            problems,
        )
    }

    /// The digest of every template's and partial's source, by name: what a rendering can be
    /// made of besides its data.
    pub fn digest(&self) -> String {
        let mut h = crate::hash::Hasher::new();
        for (name, source) in &self.sources {
            h.field(name).field(&source.text);
        }
        h.finish()
    }

    pub fn has(&self, name: &str) -> bool {
        self.templates.iter().any(|t| t == name)
    }

    /// The file a registered template was read from.
    pub fn source(&self, name: &str) -> Option<&SourceFile> {
        self.sources.get(name)
    }

    /// Renders a template. An error's message is the bare reason; the caller says which images
    /// it concerns.
    pub fn render(
        &self,
        name: &str,
        data: &serde_json::Value,
        image: &str,
    ) -> Result<String, Diagnostic> {
        self.registry.render(name, data).map_err(|e| {
            let reason = match e.reason() {
                RenderErrorReason::MissingVariable(Some(path)) => {
                    format!("undefined variable `{path}`")
                }
                RenderErrorReason::MissingVariable(None) => "undefined variable".to_string(),
                RenderErrorReason::PartialNotFound(p) => {
                    format!("no partial `{p}` (partials are templates/partials/<name>.hbs)")
                }
                RenderErrorReason::HelperNotFound(h) => format!("no helper `{h}`"),
                RenderErrorReason::Other(message) => message.clone(),
                other => other.to_string(),
            };
            let template = e.template_name.clone().unwrap_or_else(|| name.to_string());
            let _ = image;
            let mut d = Diagnostic::error(reason.clone());
            if let Some(source) = self.sources.get(&template) {
                d = d.at(position(source, e.line_no, e.column_no));
            }
            if reason.starts_with("undefined variable") {
                d = d.help(
                    "define it in [catalog.vars] or the image's `vars`, or guard it with `{{#if …}}` or `default`",
                );
            }
            d
        })
    }
}

pub(super) fn position(
    source: &SourceFile,
    line: Option<usize>,
    column: Option<usize>,
) -> Location {
    let line = line.unwrap_or(0);
    let column = column.unwrap_or(0);
    let snippet = (line > 0).then(|| Snippet {
        text: source.line_text(line).to_string(),
        width: 1,
    });
    Location {
        file: source.display.clone(),
        line,
        column: if line > 0 { column.max(1) } else { 0 },
        snippet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(name: &str, text: &str) -> SourceFile {
        SourceFile::new(format!("templates/{name}").into(), text.to_string())
    }

    #[test]
    fn renders_with_partials_and_no_escaping() {
        let (t, problems) = Templates::new(
            vec![("greet".into(), source("partials/greet.hbs", "hi <{{who}}>"))],
            vec![(
                "a.hbs".into(),
                source("a.hbs", "{{> greet who=vars.name}} & {{vars.name}}\n"),
            )],
        );
        assert!(problems.is_empty());
        let out = t
            .render("a.hbs", &json!({"vars": {"name": "a&b"}}), "img")
            .unwrap();
        assert_eq!(out, "hi <a&b> & a&b\n");
    }

    #[test]
    fn undefined_variable_names_template_line_and_column() {
        let (t, _) = Templates::new(
            vec![],
            vec![(
                "a.hbs".into(),
                source("a.hbs", "FROM x\nRUN {{vars.nope}}\n"),
            )],
        );
        let d = t.render("a.hbs", &json!({"vars": {}}), "img").unwrap_err();
        assert_eq!(d.message, "undefined variable `vars.nope`");
        assert_eq!(d.place().unwrap(), "templates/a.hbs:2:5");
    }

    #[test]
    fn undefined_variable_inside_a_partial_names_the_partial() {
        let (t, _) = Templates::new(
            vec![("p".into(), source("partials/p.hbs", "x\n  {{missing}}"))],
            vec![("a.hbs".into(), source("a.hbs", "{{> p}}\n"))],
        );
        let d = t.render("a.hbs", &json!({}), "img").unwrap_err();
        assert_eq!(d.place().unwrap(), "templates/partials/p.hbs:2:3");
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let (_, problems) = Templates::new(
            vec![],
            vec![("a.hbs".into(), source("a.hbs", "FROM x\n{{#if a}}\n"))],
        );
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.starts_with("invalid template syntax"),
            "{}",
            problems[0].message
        );
        assert!(problems[0].place().unwrap().starts_with("templates/a.hbs:"));
    }
}
