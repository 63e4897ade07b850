//! Typed reads from the spanned TOML tree: each accessor reports a wrong type or an invalid
//! value at the value's own span, and a table remembers which keys were read so that every
//! unknown key (a typo) becomes an error instead of being ignored.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Span;
use crate::diagnostic::{Diagnostic, suggest};
use crate::source::SourceFile;

/// Collects the problems of one catalog.
pub struct Problems<'s> {
    pub source: &'s SourceFile,
    pub list: Vec<Diagnostic>,
}

impl<'s> Problems<'s> {
    pub fn new(source: &'s SourceFile) -> Self {
        Problems {
            source,
            list: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        let d = Diagnostic::error(message).at(self.source.locate(span));
        self.list.push(d);
    }

    pub fn error_help(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::error(message)
            .at(self.source.locate(span))
            .help(help);
        self.list.push(d);
    }
}

/// Whether a value ends with a backslash (before any trailing blanks). Rendered at the end of a
/// Dockerfile line, it would continue the instruction onto the template's next line
/// (`RUN echo {{vars.x}}` then `USER nobody` becomes `RUN echo … USER nobody`).
pub fn ends_with_backslash(text: &str) -> bool {
    text.trim_end_matches([' ', '\t']).ends_with('\\')
}

/// The help of a value that ends with a backslash.
pub const BACKSLASH_HELP: &str = "a backslash at the end of a Dockerfile line joins the next line to the instruction; remove it, or end the value with another character";

impl Problems<'_> {
    /// A value rendered into Dockerfiles that ends with a backslash; `what` names it.
    pub fn ends_with_backslash(&mut self, span: Span, what: &str) {
        self.error_help(
            span,
            format!("{what} ends with a backslash"),
            BACKSLASH_HELP,
        );
    }
}

pub fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A table being read: `what` names it in messages ("image `python`", "[catalog]").
pub struct TableReader<'t, 'i> {
    table: &'t DeTable<'i>,
    what: String,
    read: Vec<&'t str>,
}

impl<'t, 'i> TableReader<'t, 'i> {
    pub fn new(table: &'t DeTable<'i>, what: impl Into<String>) -> Self {
        TableReader {
            table,
            what: what.into(),
            read: Vec::new(),
        }
    }

    /// Whether the table has `key`, read or not.
    pub fn contains(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// The span of a key's value, if the table has it.
    pub fn span(&self, key: &str) -> Option<Span> {
        self.table.get(key).map(|v| v.span())
    }

    pub fn get(&mut self, key: &'t str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.read.push(key);
        self.table.get(key)
    }

    pub fn string(&mut self, p: &mut Problems, key: &'t str) -> Option<(String, Span)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => {
                let s = s.to_string();
                if s.contains(['\n', '\r']) {
                    p.error_help(
                        value.span(),
                        format!("`{key}` of {} spans several lines", self.what),
                        "write it on one line",
                    );
                    return None;
                }
                Some((s, value.span()))
            }
            other => {
                p.error(
                    value.span(),
                    format!(
                        "`{key}` of {} must be a string, found {}",
                        self.what,
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    /// A list of single-line strings (a lone string is accepted as a list of one).
    pub fn strings(&mut self, p: &mut Problems, key: &'t str) -> Option<Vec<(String, Span)>> {
        let value = self.get(key)?;
        let items: Vec<&Spanned<DeValue<'i>>> = match value.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            DeValue::String(_) => vec![value],
            other => {
                p.error(
                    value.span(),
                    format!(
                        "`{key}` of {} must be a list of strings, found {}",
                        self.what,
                        type_name(other)
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match item.get_ref() {
                DeValue::String(s) if s.contains(['\n', '\r']) => {
                    p.error_help(
                        item.span(),
                        format!("an item of `{key}` of {} spans several lines", self.what),
                        "write each item on one line",
                    );
                    ok = false;
                }
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                other => {
                    p.error(
                        item.span(),
                        format!(
                            "`{key}` of {} must be a list of strings, found {} in it",
                            self.what,
                            type_name(other)
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    pub fn table(&mut self, p: &mut Problems, key: &'t str) -> Option<(&'t DeTable<'i>, Span)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(t) => Some((t, value.span())),
            other => {
                p.error(
                    value.span(),
                    format!(
                        "`{key}` of {} must be a table, found {}",
                        self.what,
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    /// Reports every key that was never read, with a suggestion among `allowed`.
    pub fn finish(self, p: &mut Problems, allowed: &[&str]) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if !self.read.contains(&name) {
                let message = format!("unknown key `{name}` in {}", self.what);
                match suggest(name, allowed.iter().copied()) {
                    Some(help) => p.error_help(key.span(), message, help),
                    None => p.error_help(
                        key.span(),
                        message,
                        format!("the keys of {} are: {}", self.what, allowed.join(", ")),
                    ),
                }
            }
        }
    }
}

/// Converts a TOML value for templates, rejecting multi-line strings (they could inject
/// Dockerfile instructions). `path` names the value in messages (`vars.packages`).
pub fn to_json(
    p: &mut Problems,
    value: &Spanned<DeValue<'_>>,
    path: &str,
    what: &str,
) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match value.get_ref() {
        DeValue::String(s) => {
            if s.contains(['\n', '\r']) {
                p.error_help(
                    value.span(),
                    format!("variable `{path}` of {what} spans several lines"),
                    "a single value must be one line (it could inject Dockerfile instructions); write multi-line content as a list",
                );
                return None;
            }
            if ends_with_backslash(s) {
                p.ends_with_backslash(value.span(), &format!("variable `{path}` of {what}"));
                return None;
            }
            Value::String(s.to_string())
        }
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::from(n),
            Err(_) => {
                p.error(
                    value.span(),
                    format!("variable `{path}` of {what}: integer out of range"),
                );
                return None;
            }
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) => serde_json::Number::from_f64(x)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Err(_) => Value::String(f.as_str().to_string()),
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                match to_json(p, item, &format!("{path}[{i}]"), what) {
                    Some(v) => out.push(v),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Value::Array(out)
        }
        DeValue::Table(t) => Value::Object(table_to_json(p, t, path, what)?),
    })
}

pub fn table_to_json(
    p: &mut Problems,
    table: &DeTable<'_>,
    path: &str,
    what: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut out = serde_json::Map::new();
    let mut ok = true;
    for (key, value) in table.iter() {
        let span = key.span();
        let key: &str = key.get_ref();
        if key.is_empty() || key.chars().any(crate::shown::hidden) {
            p.error_help(
                span,
                format!(
                    "variable `{path}.{}` of {what} has a name that cannot be shown",
                    match key {
                        "" => "\"\"".to_string(),
                        _ => crate::shown::escaped(key),
                    }
                ),
                "a variable's name is not empty and has no control or invisible characters",
            );
            ok = false;
            continue;
        }
        match to_json(p, value, &format!("{path}.{key}"), what) {
            Some(v) => {
                out.insert(key.to_string(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
