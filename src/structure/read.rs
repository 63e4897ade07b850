//! A structure-test file read into a [`Spec`]: the file's own keys (its schema version, its
//! global variables, its lists of tests, each test read by `kinds`), the keys hier does not run
//! (`licenseTests`, `containerRunOptions`) refused rather than ignored, and what every kind of
//! test shares. The checks the reference tool makes before it runs a test (a name, a command
//! or a path, no empty setup command or environment key) are made here instead, at the file's
//! line and column.

use super::fields::{Entries, Fields};
use super::kinds::{command, content, existence, metadata};
use super::spec::{EnvVar, Spec};
use super::yaml::{self, Node};
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

const TOP_KEYS: &[&str] = &[
    "schemaVersion",
    "globalEnvVars",
    "commandTests",
    "fileExistenceTests",
    "fileContentTests",
    "metadataTest",
];
const ENV_KEYS: &[&str] = &["key", "value", "isRegex"];

/// Reads a structure-test file; `path` is how the lock and messages name it.
pub fn read(source: &SourceFile, path: &str) -> Result<Spec, Vec<Diagnostic>> {
    let mut f = Fields::new(source);
    let document = match yaml::parse(source) {
        Ok(document) => document,
        Err(e) => {
            f.error(e.at..e.at, format!("not valid YAML: {}", e.message));
            return Err(f.finish());
        }
    };
    let spec = document.and_then(|doc| top(&mut f, &doc, path));
    if let Some(spec) = &spec
        && spec.is_empty()
        && f.problems.is_empty()
    {
        // The reference tool fails a run of no tests; hier says so before anything runs.
        f.error_help(
            0..0,
            "the file has no tests".into(),
            "add commandTests, fileExistenceTests, fileContentTests or a metadataTest",
        );
    }
    match spec {
        Some(spec) if f.problems.is_empty() => Ok(spec),
        None if f.problems.is_empty() => {
            f.error(
                0..0,
                "the file is empty: it needs `schemaVersion: \"2.0.0\"`",
            );
            Err(f.finish())
        }
        _ => Err(f.finish()),
    }
}

fn top(f: &mut Fields, doc: &Node, path: &str) -> Option<Spec> {
    let mut e = f.map(doc, "the file")?;
    version(f, &mut e, doc);
    for key in ["licenseTests", "containerRunOptions"] {
        if let Some(span) = e.key_span(key) {
            e.take(key);
            f.error_help(
                span,
                format!("hier does not run `{key}`"),
                "hier runs command, file existence, file content and metadata tests, in containers of the image as its own user; remove the key",
            );
        }
    }
    let global_env = e
        .take("globalEnvVars")
        .map(|n| env_vars(f, n, "globalEnvVars", false))
        .unwrap_or_default();
    let commands = tests(f, &mut e, "commandTests", command);
    let file_existence = tests(f, &mut e, "fileExistenceTests", existence);
    let file_content = tests(f, &mut e, "fileContentTests", content);
    let metadata = e
        .take("metadataTest")
        .and_then(|n| metadata(f, n))
        .filter(|m| !m.is_empty());
    e.finish(f, TOP_KEYS);
    Some(Spec {
        path: path.to_string(),
        digest: crate::hash::digest(f.source.text.as_bytes()),
        global_env,
        commands,
        file_existence,
        file_content,
        metadata,
    })
}

fn version(f: &mut Fields, e: &mut Entries, doc: &Node) {
    let Some(node) = e.take("schemaVersion") else {
        f.error_help(
            doc.span.clone(),
            "the file has no `schemaVersion`".into(),
            "add `schemaVersion: \"2.0.0\"`",
        );
        return;
    };
    match f.string(node, "`schemaVersion`").as_deref() {
        Some("2.0.0") | None => {}
        Some(other) => f.error_help(
            node.span.clone(),
            format!("schema version `{other}` is not supported"),
            "hier reads container-structure-test's schema 2.0.0",
        ),
    }
}

/// A list of tests, each read by `one`.
fn tests<T>(
    f: &mut Fields,
    e: &mut Entries,
    key: &str,
    one: fn(&mut Fields, &Node, &str) -> Option<T>,
) -> Vec<T> {
    let Some(node) = e.take(key) else {
        return Vec::new();
    };
    let items = f.list(node, &format!("`{key}`"));
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.is_null() {
            f.error(item.span.clone(), format!("{key}[{i}] is empty"));
        } else if let Some(test) = one(f, item, &format!("{key}[{i}]")) {
            out.push(test);
        }
    }
    out
}

/// A test's `name`, which must not be empty.
pub(super) fn name(f: &mut Fields, e: &mut Entries, node: &Node, what: &str) -> String {
    let name = e
        .take("name")
        .and_then(|n| f.string(n, &format!("`name` of {what}")))
        .unwrap_or_default();
    if name.is_empty() {
        f.error(node.span.clone(), format!("{what} has no `name`"));
    }
    name
}

/// A required text (`command`, `path`) of a test, not empty.
pub(super) fn required(
    f: &mut Fields,
    e: &mut Entries,
    key: &str,
    node: &Node,
    what: &str,
) -> String {
    let text = e
        .take(key)
        .and_then(|n| f.string(n, &format!("`{key}` of {what}")))
        .unwrap_or_default();
    if text.is_empty() {
        f.error(node.span.clone(), format!("{what} has no `{key}`"));
    }
    text
}

/// `setup` or `teardown`: a list of commands, none empty.
pub(super) fn commands(f: &mut Fields, e: &mut Entries, key: &str, what: &str) -> Vec<Vec<String>> {
    let Some(node) = e.take(key) else {
        return Vec::new();
    };
    let what = format!("`{key}` of {what}");
    let mut out = Vec::new();
    for item in f.list(node, &what) {
        let argv = f.strings(item, &format!("a command of {what}"));
        if argv.is_empty() {
            f.error(item.span.clone(), format!("a command of {what} is empty"));
        }
        out.push(argv);
    }
    out
}

pub(super) fn strings(f: &mut Fields, e: &mut Entries, key: &str, what: &str) -> Vec<String> {
    match e.take(key) {
        Some(n) => f.strings(n, &format!("`{key}` of {what}")),
        None => Vec::new(),
    }
}

/// `key`/`value` pairs; a command test's need both (`full`), the others a key.
pub(super) fn env_vars(f: &mut Fields, node: &Node, what: &str, full: bool) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for item in f.list(node, what) {
        if item.is_null() {
            f.error(item.span.clone(), format!("an entry of {what} is empty"));
            continue;
        }
        let Some(mut e) = f.map(item, &format!("an entry of {what}")) else {
            continue;
        };
        let key = e
            .take("key")
            .and_then(|n| f.string(n, &format!("`key` in {what}")))
            .unwrap_or_default();
        let value_node = e.take("value");
        let value = value_node
            .and_then(|n| f.string(n, &format!("`value` in {what}")))
            .unwrap_or_default();
        let regex = e
            .take("isRegex")
            .is_some_and(|n| f.boolean(n, &format!("`isRegex` in {what}")) == Some(true));
        let pattern = match value_node {
            Some(n) if regex => f.pattern(n, &format!("the value of `{key}` in {what}")),
            _ => None,
        };
        if key.is_empty() || (full && value.is_empty()) {
            let needs = if full { "a key and a value" } else { "a key" };
            f.error(
                item.span.clone(),
                format!("an entry of {what} needs {needs}"),
            );
        }
        e.finish(f, ENV_KEYS);
        out.push(EnvVar {
            key,
            value,
            pattern,
        });
    }
    out
}
