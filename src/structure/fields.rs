//! Reading the values of a structure-test file's YAML tree as the reference tool's YAML
//! reader (go-yaml v2, strict) reads them: a plain scalar is a string as written, `yes`/`on`
//! are booleans, integers may be hexadecimal or octal, an explicit nothing is the empty value,
//! `<<` merges a mapping's keys, and an unknown or repeated key is an error. Every problem is
//! collected with the place it was found (the first 50 of them), and patterns are compiled once
//! each, within a size bound.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::spec::Pattern;
use super::yaml::{Node, Value};
use crate::diagnostic::{Diagnostic, suggest};
use crate::source::SourceFile;

/// The most problems reported for one file (a hostile file could hold thousands).
const MAX_PROBLEMS: usize = 50;
/// The largest compiled pattern.
const MAX_PATTERN: usize = 1 << 20;

/// The file being read and the problems found so far.
pub struct Fields<'s> {
    pub source: &'s SourceFile,
    pub problems: Vec<Diagnostic>,
    /// Problems past [`MAX_PROBLEMS`], counted only.
    pub more: usize,
    /// Patterns compiled so far, by text (aliases repeat them).
    patterns: HashMap<String, regex::Regex>,
}

/// A mapping's entries by key, each taken once, the rest reported as unknown at the end.
pub struct Entries<'n> {
    entries: Vec<(&'n str, &'n Node, Range<usize>)>,
    taken: Vec<bool>,
    what: String,
}

impl<'s> Fields<'s> {
    pub fn new(source: &'s SourceFile) -> Self {
        Fields {
            source,
            problems: Vec::new(),
            more: 0,
            patterns: HashMap::new(),
        }
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.more += 1;
            return;
        }
        let d = Diagnostic::error(message).at(self.source.locate(span));
        self.problems.push(d);
    }

    pub fn error_help(&mut self, span: Range<usize>, message: String, help: &str) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.more += 1;
            return;
        }
        let d = Diagnostic::error(message)
            .at(self.source.locate(span))
            .help(help);
        self.problems.push(d);
    }

    /// The problems found, with a last one saying how many more there were.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        if self.more > 0 {
            let message = format!("… and {} more problems in this file", self.more);
            self.problems
                .push(Diagnostic::error(message).at_file(self.source.display.clone()));
        }
        self.problems
    }

    /// A mapping's entries (`<<` merged in); `None` when the node is not a mapping.
    pub fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<Entries<'n>> {
        let Value::Map(pairs) = &node.value else {
            if !node.is_null() {
                self.error(node.span.clone(), format!("{what} must be a mapping"));
            }
            return None;
        };
        let mut entries: Vec<(&'n str, &'n Node, Range<usize>)> = Vec::new();
        let mut merged: Vec<(&'n str, &'n Node, Range<usize>)> = Vec::new();
        let mut seen: HashSet<&'n str> = HashSet::new();
        for (key, value) in pairs {
            let Value::Scalar { text, plain } = &key.value else {
                self.error(key.span.clone(), format!("a key of {what} must be text"));
                continue;
            };
            if *plain && text == "<<" {
                self.merge(value, what, &mut merged, 0);
            } else if !seen.insert(text) {
                self.error(key.span.clone(), format!("`{text}` is set twice in {what}"));
            } else {
                entries.push((text, value, key.span.clone()));
            }
        }
        for entry in merged {
            if seen.insert(entry.0) {
                entries.push(entry);
            }
        }
        let taken = vec![false; entries.len()];
        Some(Entries {
            entries,
            taken,
            what: what.to_string(),
        })
    }

    /// The keys a `<<` brings in: a mapping's (with those of its own `<<`), or each of a list
    /// of mappings' (the first wins).
    fn merge<'n>(
        &mut self,
        value: &'n Node,
        what: &str,
        out: &mut Vec<(&'n str, &'n Node, Range<usize>)>,
        depth: usize,
    ) {
        let sources: Vec<&Node> = match &value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![value],
        };
        for source in sources {
            let Value::Map(pairs) = &source.value else {
                self.error(
                    source.span.clone(),
                    format!("`<<` in {what} must merge a mapping"),
                );
                continue;
            };
            let mut nested = Vec::new();
            for (key, value) in pairs {
                let Value::Scalar { text, plain } = &key.value else {
                    continue;
                };
                if *plain && text == "<<" && depth < 16 {
                    self.merge(value, what, &mut nested, depth + 1);
                } else if !out.iter().any(|(k, ..)| k == text) {
                    out.push((text, value, key.span.clone()));
                }
            }
            for entry in nested {
                if !out.iter().any(|(k, ..)| *k == entry.0) {
                    out.push(entry);
                }
            }
        }
    }

    /// Text: any scalar as written; an explicit nothing is empty.
    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, plain } => Some(if *plain && node.is_null() {
                String::new()
            } else {
                text.clone()
            }),
            _ => {
                self.error(node.span.clone(), format!("{what} must be text"));
                None
            }
        }
    }

    /// A list of texts; an explicit nothing is an empty list.
    pub fn strings(&mut self, node: &Node, what: &str) -> Vec<String> {
        self.list(node, what)
            .iter()
            .filter_map(|item| self.string(item, what))
            .collect()
    }

    /// A list's items; an explicit nothing is an empty list.
    pub fn list<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match &node.value {
            Value::Seq(items) => items,
            _ if node.is_null() => &[],
            _ => {
                self.error(node.span.clone(), format!("{what} must be a list"));
                &[]
            }
        }
    }

    /// A boolean, YAML 1.1's spellings included (`yes`, `on`, `y`).
    pub fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        let parsed = match &node.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On"
                | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
                | "OFF" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.error(node.span.clone(), format!("{what} must be true or false"));
        }
        parsed
    }

    /// A whole number: decimal, `0x…` hexadecimal, `0o…` or `0…` octal, with a sign.
    pub fn integer(&mut self, node: &Node, what: &str) -> Option<i64> {
        let parsed = match &node.value {
            Value::Scalar { text, plain: true } => parse_integer(text),
            _ => None,
        };
        if parsed.is_none() {
            self.error(node.span.clone(), format!("{what} must be a whole number"));
        }
        parsed
    }

    /// A regular expression (the reference tool's syntax, RE2, is a subset of this one).
    pub fn pattern(&mut self, node: &Node, what: &str) -> Option<Pattern> {
        let text = self.string(node, what)?;
        if let Some(regex) = self.patterns.get(&text) {
            let regex = regex.clone();
            return Some(Pattern { text, regex });
        }
        let built = regex::RegexBuilder::new(&text)
            .size_limit(MAX_PATTERN)
            .build();
        match built {
            Ok(regex) => {
                self.patterns.insert(text.clone(), regex.clone());
                Some(Pattern { text, regex })
            }
            Err(e) => {
                let first = e.to_string();
                let reason = first.lines().last().unwrap_or("").trim().to_string();
                self.error(
                    node.span.clone(),
                    format!("{what} is not a valid regular expression: {reason}"),
                );
                None
            }
        }
    }

    pub fn patterns(&mut self, node: &Node, what: &str) -> Vec<Pattern> {
        self.list(node, what)
            .iter()
            .filter_map(|item| self.pattern(item, what))
            .collect()
    }
}

fn parse_integer(text: &str) -> Option<i64> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i64::from_str_radix(digits, radix).ok()?;
    if negative {
        value.checked_neg()
    } else {
        Some(value)
    }
}

impl<'n> Entries<'n> {
    /// The value of `key`, taken.
    pub fn take(&mut self, key: &str) -> Option<&'n Node> {
        let i = self.entries.iter().position(|(k, ..)| *k == key)?;
        self.taken[i] = true;
        Some(self.entries[i].1)
    }

    /// Where `key` is written, if it is.
    pub fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|(k, ..)| *k == key)
            .map(|(.., span)| span.clone())
    }

    /// Reports the keys not taken as unknown.
    pub fn finish(self, fields: &mut Fields, allowed: &[&str]) {
        for ((key, _, span), taken) in self.entries.iter().zip(&self.taken) {
            if *taken {
                continue;
            }
            let message = format!("unknown key `{key}` in {}", self.what);
            match suggest(key, allowed.iter().copied()) {
                Some(help) => fields.error_help(span.clone(), message, &help),
                None => fields.error_help(
                    span.clone(),
                    message,
                    &format!("the keys are {}", allowed.join(", ")),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_go_yaml_reads_them() {
        for (text, want) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-1", Some(-1)),
            ("+7", Some(7)),
            ("0x1F", Some(31)),
            ("0o17", Some(15)),
            ("017", Some(15)),
            ("1_000", Some(1000)),
            ("1.5", None),
            ("", None),
            ("abc", None),
            ("08", None),
            ("0x-5", None),
            ("0-10", None),
            ("-0x8000000000000000", None),
            ("-9223372036854775807", Some(-9223372036854775807)),
        ] {
            assert_eq!(parse_integer(text), want, "{text}");
        }
    }
}
