//! A structure-test file read into a [`Spec`]: every key of schema 2.0.0 that hier runs, the
//! checks the reference tool makes before it runs a test (a name, a command or a path, no
//! empty setup command or environment key) made here instead, at the file's line and column,
//! and the keys hier does not run (`licenseTests`, `containerRunOptions`) refused rather than
//! ignored.

use super::fields::{Entries, Fields};
use super::spec::{
    CommandTest, EnvVar, ExecutableBy, FileContentTest, FileExistenceTest, MetadataTest, Spec,
};
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
const COMMAND_KEYS: &[&str] = &[
    "name",
    "setup",
    "teardown",
    "envVars",
    "exitCode",
    "command",
    "args",
    "expectedOutput",
    "excludedOutput",
    "expectedError",
    "excludedError",
];
const EXISTENCE_KEYS: &[&str] = &[
    "name",
    "path",
    "shouldExist",
    "permissions",
    "uid",
    "gid",
    "isExecutableBy",
];
const CONTENT_KEYS: &[&str] = &["name", "path", "expectedContents", "excludedContents"];
const METADATA_KEYS: &[&str] = &[
    "envVars",
    "unboundEnvVars",
    "exposedPorts",
    "unexposedPorts",
    "entrypoint",
    "cmd",
    "workdir",
    "volumes",
    "unmountedVolumes",
    "labels",
    "user",
];
const ENV_KEYS: &[&str] = &["key", "value", "isRegex"];

/// Reads a structure-test file; `path` is how the lock and messages name it.
pub fn read(source: &SourceFile, path: &str) -> Result<Spec, Vec<Diagnostic>> {
    let mut f = Fields::new(source);
    let document = match yaml::parse(&source.text) {
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
fn name(f: &mut Fields, e: &mut Entries, node: &Node, what: &str) -> String {
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
fn required(f: &mut Fields, e: &mut Entries, key: &str, node: &Node, what: &str) -> String {
    let text = e
        .take(key)
        .and_then(|n| f.string(n, &format!("`{key}` of {what}")))
        .unwrap_or_default();
    if text.is_empty() {
        f.error(node.span.clone(), format!("{what} has no `{key}`"));
    }
    text
}

fn command(f: &mut Fields, node: &Node, what: &str) -> Option<CommandTest> {
    let mut e = f.map(node, what)?;
    let name = name(f, &mut e, node, what);
    let what = &format!("command test `{name}`");
    let command = required(f, &mut e, "command", node, what);
    let setup = commands(f, &mut e, "setup", what);
    commands(f, &mut e, "teardown", what);
    let env = e
        .take("envVars")
        .map(|n| env_vars(f, n, &format!("`envVars` of {what}"), true))
        .unwrap_or_default();
    let exit_code = e
        .take("exitCode")
        .filter(|n| !n.is_null())
        .and_then(|n| f.integer(n, &format!("`exitCode` of {what}")))
        .unwrap_or(0);
    let args = strings(f, &mut e, "args", what);
    let mut patterns = |key: &str| match e.take(key) {
        Some(n) => f.patterns(n, &format!("`{key}` of {what}")),
        None => Vec::new(),
    };
    let test = CommandTest {
        name,
        setup,
        env,
        exit_code,
        command,
        args,
        expected_output: patterns("expectedOutput"),
        excluded_output: patterns("excludedOutput"),
        expected_error: patterns("expectedError"),
        excluded_error: patterns("excludedError"),
    };
    e.finish(f, COMMAND_KEYS);
    Some(test)
}

/// `setup` or `teardown`: a list of commands, none empty.
fn commands(f: &mut Fields, e: &mut Entries, key: &str, what: &str) -> Vec<Vec<String>> {
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

fn strings(f: &mut Fields, e: &mut Entries, key: &str, what: &str) -> Vec<String> {
    match e.take(key) {
        Some(n) => f.strings(n, &format!("`{key}` of {what}")),
        None => Vec::new(),
    }
}

/// `key`/`value` pairs; a command test's need both (`full`), the others a key.
fn env_vars(f: &mut Fields, node: &Node, what: &str, full: bool) -> Vec<EnvVar> {
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

fn existence(f: &mut Fields, node: &Node, what: &str) -> Option<FileExistenceTest> {
    let mut e = f.map(node, what)?;
    let name = name(f, &mut e, node, what);
    let what = &format!("file existence test `{name}`");
    let path = required(f, &mut e, "path", node, what);
    let should_exist = match e.take("shouldExist") {
        Some(n) => f
            .boolean(n, &format!("`shouldExist` of {what}"))
            .unwrap_or(true),
        None => true,
    };
    let permissions = e
        .take("permissions")
        .and_then(|n| f.string(n, &format!("`permissions` of {what}")))
        .filter(|p| !p.is_empty());
    // -1, the reference tool's default, checks nothing.
    let mut id = |key: &str| {
        e.take(key)
            .and_then(|n| f.integer(n, &format!("`{key}` of {what}")))
            .filter(|&v| v != -1)
    };
    let uid = id("uid");
    let gid = id("gid");
    let executable_by = match e.take("isExecutableBy") {
        Some(n) => executable(f, n, what),
        None => None,
    };
    e.finish(f, EXISTENCE_KEYS);
    Some(FileExistenceTest {
        name,
        path,
        should_exist,
        permissions,
        uid,
        gid,
        executable_by,
    })
}

fn executable(f: &mut Fields, node: &Node, what: &str) -> Option<ExecutableBy> {
    let text = f.string(node, &format!("`isExecutableBy` of {what}"))?;
    if text.is_empty() {
        return None;
    }
    let parsed = ExecutableBy::parse(&text);
    if parsed.is_none() {
        f.error_help(
            node.span.clone(),
            format!("`isExecutableBy` of {what} is `{text}`"),
            "write any, owner, group or other",
        );
    }
    parsed
}

fn content(f: &mut Fields, node: &Node, what: &str) -> Option<FileContentTest> {
    let mut e = f.map(node, what)?;
    let name = name(f, &mut e, node, what);
    let what = &format!("file content test `{name}`");
    let path = required(f, &mut e, "path", node, what);
    let mut patterns = |key: &str| match e.take(key) {
        Some(n) => f.patterns(n, &format!("`{key}` of {what}")),
        None => Vec::new(),
    };
    let expected = patterns("expectedContents");
    let excluded = patterns("excludedContents");
    e.finish(f, CONTENT_KEYS);
    Some(FileContentTest {
        name,
        path,
        expected,
        excluded,
    })
}

fn metadata(f: &mut Fields, node: &Node) -> Option<MetadataTest> {
    let what = "`metadataTest`";
    let mut e = f.map(node, what)?;
    let mut pairs = |f: &mut Fields, key: &str| match e.take(key) {
        Some(n) => env_vars(f, n, &format!("`{key}` of {what}"), false),
        None => Vec::new(),
    };
    let env = pairs(f, "envVars");
    let unbound_env = pairs(f, "unboundEnvVars")
        .into_iter()
        .map(|v| v.key)
        .collect();
    let labels = pairs(f, "labels");
    let mut list = |f: &mut Fields, key: &str, not_empty: bool| {
        let Some(n) = e.take(key) else {
            return Vec::new();
        };
        let values = f.strings(n, &format!("`{key}` of {what}"));
        if not_empty && values.iter().any(String::is_empty) {
            f.error(
                n.span.clone(),
                format!("`{key}` of {what} holds an empty value"),
            );
        }
        values
    };
    let exposed_ports = list(f, "exposedPorts", true);
    let unexposed_ports = list(f, "unexposedPorts", false);
    let volumes = list(f, "volumes", true);
    let unmounted_volumes = list(f, "unmountedVolumes", false);
    // An explicit nothing checks nothing, as the reference tool reads it.
    let mut argv = |f: &mut Fields, key: &str| {
        e.take(key)
            .filter(|n| !n.is_null())
            .map(|n| f.strings(n, &format!("`{key}` of {what}")))
    };
    let entrypoint = argv(f, "entrypoint");
    let cmd = argv(f, "cmd");
    let mut text = |f: &mut Fields, key: &str| {
        e.take(key)
            .and_then(|n| f.string(n, &format!("`{key}` of {what}")))
            .filter(|t| !t.is_empty())
    };
    let workdir = text(f, "workdir");
    let user = text(f, "user");
    e.finish(f, METADATA_KEYS);
    Some(MetadataTest {
        env,
        unbound_env,
        labels,
        exposed_ports,
        unexposed_ports,
        entrypoint,
        cmd,
        workdir,
        volumes,
        unmounted_volumes,
        user,
    })
}
