//! Each kind of test of a structure-test file read from its YAML mapping: a command test, a
//! file existence test, a file content test, the metadata test. What every kind shares (its
//! name, required texts, variables) is in `read`.

use super::fields::Fields;
use super::read::{commands, env_vars, name, required, strings};
use super::spec::{CommandTest, ExecutableBy, FileContentTest, FileExistenceTest, MetadataTest};
use super::yaml::Node;

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
pub(super) fn command(f: &mut Fields, node: &Node, what: &str) -> Option<CommandTest> {
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

pub(super) fn existence(f: &mut Fields, node: &Node, what: &str) -> Option<FileExistenceTest> {
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

pub(super) fn content(f: &mut Fields, node: &Node, what: &str) -> Option<FileContentTest> {
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

pub(super) fn metadata(f: &mut Fields, node: &Node) -> Option<MetadataTest> {
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
