//! Reading structure-test files: what go-yaml (the reference tool's reader) accepts is
//! accepted, and every problem is an error at its line and column, all of them in one pass.

use std::path::PathBuf;

use super::read;
use super::spec::{ExecutableBy, Spec};
use crate::source::SourceFile;

fn parse(text: &str) -> Result<Spec, Vec<String>> {
    let source = SourceFile::new(PathBuf::from("spec.yaml"), text.to_string());
    read(&source, "spec.yaml").map_err(|problems| {
        problems
            .iter()
            .map(|d| format!("{}: {}", d.place().unwrap_or_default(), d.message))
            .collect()
    })
}

#[test]
fn every_kind_of_test_is_read() {
    let spec = parse(
        r#"schemaVersion: "2.0.0"
globalEnvVars:
  - key: G
    value: "$HOME/x"
commandTests:
  - name: c
    setup: [["touch", "/x"]]
    teardown: [["rm", "/x"]]
    envVars: [{key: A, value: b}]
    command: sh
    args: ["-c", "echo"]
    exitCode: 0x2
    expectedOutput: ["a+"]
    excludedError: ["^$"]
fileExistenceTests:
  - name: e
    path: /etc
    shouldExist: yes
    permissions: drwxr-xr-x
    uid: 0
    gid: -1
    isExecutableBy: group
fileContentTests:
  - name: f
    path: /etc/passwd
    expectedContents: ["root"]
metadataTest:
  envVars: [{key: PATH, value: "^/", isRegex: true}]
  labels: [{key: a, value: b}]
  exposedPorts: [8080]
  cmd: []
  user: 1000
  workdir: ""
"#,
    )
    .unwrap();
    assert_eq!(spec.len(), 4);
    assert_eq!(spec.global_env[0].value, "$HOME/x");
    let c = &spec.commands[0];
    assert_eq!(
        (c.exit_code, c.setup.len(), c.env[0].value.as_str()),
        (2, 1, "b")
    );
    assert_eq!(c.expected_output[0].text, "a+");
    let e = &spec.file_existence[0];
    assert!(e.should_exist);
    assert_eq!((e.uid, e.gid), (Some(0), None));
    assert_eq!(e.executable_by, Some(ExecutableBy::Group));
    let m = spec.metadata.as_ref().unwrap();
    // Unquoted numbers are text as written, as go-yaml reads them into text fields.
    assert_eq!(m.exposed_ports, ["8080"]);
    assert_eq!(m.user.as_deref(), Some("1000"));
    assert_eq!(m.cmd.as_deref(), Some(&[][..]));
    assert_eq!(m.workdir, None);
    assert!(m.env[0].pattern.as_ref().unwrap().is_match("/bin"));
    assert_eq!(spec.digest.len(), "sha256:".len() + 64);
}

#[test]
fn merge_keys_and_anchors_are_followed() {
    let spec = parse(
        r#"schemaVersion: "2.0.0"
x-base: &base
  path: /etc/passwd
  shouldExist: true
fileExistenceTests:
  - <<: *base
    name: one
  - <<: *base
    name: two
    shouldExist: false
"#,
    );
    // `x-base` is no key of the schema: go-yaml's strict reading refuses it too.
    let problems = spec.unwrap_err();
    assert_eq!(
        problems,
        ["spec.yaml:2:1: unknown key `x-base` in the file"]
    );
    let spec = parse(
        r#"schemaVersion: "2.0.0"
fileExistenceTests:
  - &one
    name: one
    path: /etc/passwd
  - <<: *one
    name: two
    shouldExist: false
"#,
    )
    .unwrap();
    let tests = &spec.file_existence;
    assert_eq!(
        (tests[1].name.as_str(), tests[1].path.as_str()),
        ("two", "/etc/passwd")
    );
    assert!(tests[0].should_exist && !tests[1].should_exist);
}

#[test]
fn every_problem_is_named_at_its_place() {
    let problems = parse(
        r#"schemaVersion: "2.0.0"
commandTests:
  - name: no command
  - command: echo
    expectedOutput: ["(unclosed"]
  - name: empty setup
    command: "true"
    setup: [[]]
    envVars: [{key: A}]
    exitcode: 1
fileExistenceTests:
  - name: bad
    path: /x
    shouldExist: maybe
    isExecutableBy: everyone
    uid: root
fileContentTests:
  - name: no path
metadataTest:
  envVars: [{value: x}]
  exposedPorts: [""]
  labels: [{key: a, value: "[", isRegex: true}]
licenseTests: []
"#,
    )
    .unwrap_err();
    assert_eq!(
        problems,
        [
            "spec.yaml:23:1: hier does not run `licenseTests`",
            "spec.yaml:3:5: command test `no command` has no `command`",
            "spec.yaml:4:5: commandTests[1] has no `name`",
            "spec.yaml:5:22: `expectedOutput` of command test `` is not a valid regular expression: error: unclosed group",
            "spec.yaml:8:13: a command of `setup` of command test `empty setup` is empty",
            "spec.yaml:9:15: an entry of `envVars` of command test `empty setup` needs a key and a value",
            "spec.yaml:10:5: unknown key `exitcode` in commandTests[2]",
            "spec.yaml:14:18: `shouldExist` of file existence test `bad` must be true or false",
            "spec.yaml:16:10: `uid` of file existence test `bad` must be a whole number",
            "spec.yaml:15:21: `isExecutableBy` of file existence test `bad` is `everyone`",
            "spec.yaml:18:5: file content test `no path` has no `path`",
            "spec.yaml:20:13: an entry of `envVars` of `metadataTest` needs a key",
            "spec.yaml:22:28: the value of `a` in `labels` of `metadataTest` is not a valid regular expression: error: unclosed character class",
            "spec.yaml:21:17: `exposedPorts` of `metadataTest` holds an empty value",
        ]
    );
}

#[test]
fn the_file_must_be_a_spec_of_schema_2() {
    let first = |text: &str| parse(text).unwrap_err().remove(0);
    assert_eq!(
        first(""),
        "spec.yaml:1:1: the file is empty: it needs `schemaVersion: \"2.0.0\"`"
    );
    assert_eq!(
        first("commandTests: []\n"),
        "spec.yaml:1:1: the file has no `schemaVersion`"
    );
    assert_eq!(
        first("schemaVersion: \"1.0.0\"\ncommandTests: []\n"),
        "spec.yaml:1:16: schema version `1.0.0` is not supported"
    );
    assert_eq!(
        first("schemaVersion: \"2.0.0\"\n"),
        "spec.yaml:1:1: the file has no tests"
    );
    assert_eq!(
        first("- a\n- b\n"),
        "spec.yaml:1:1: the file must be a mapping"
    );
    assert!(first("a: [1,\n").starts_with("spec.yaml:2:1: not valid YAML:"));
    assert_eq!(
        first("schemaVersion: \"2.0.0\"\nschemaVersion: \"2.0.0\"\n"),
        "spec.yaml:2:1: `schemaVersion` is set twice in the file"
    );
    assert_eq!(
        first("schemaVersion: \"2.0.0\"\ncontainerRunOptions:\n  privileged: true\n"),
        "spec.yaml:2:1: hier does not run `containerRunOptions`"
    );
}

#[test]
fn nothing_where_a_test_belongs_is_an_error_and_nothing_in_cmd_checks_nothing() {
    let problems =
        parse("schemaVersion: \"2.0.0\"\ncommandTests:\n  -\n  - name: a\n    command: b\n")
            .unwrap_err();
    assert_eq!(problems, ["spec.yaml:4:5: commandTests[0] is empty"]);
    let spec = parse("schemaVersion: \"2.0.0\"\nmetadataTest:\n  cmd: ~\n  user: app\n").unwrap();
    assert_eq!(spec.metadata.unwrap().cmd, None);
}

#[test]
fn merges_follow_merges_and_problems_stop_at_fifty() {
    let spec = parse(
        "schemaVersion: \"2.0.0\"\nfileExistenceTests:\n  - &a {path: /etc, name: a}\n  - &b {<<: *a, shouldExist: false, name: b}\n  - {<<: *b, name: c}\n",
    )
    .unwrap();
    let c = &spec.file_existence[2];
    assert_eq!(
        (c.name.as_str(), c.path.as_str(), c.should_exist),
        ("c", "/etc", false)
    );
    let many =
        "schemaVersion: \"2.0.0\"\ncommandTests:\n".to_string() + &"  - {nme: x}\n".repeat(200);
    let problems = parse(&many).unwrap_err();
    assert_eq!(problems.len(), 51);
    assert!(
        problems[50].ends_with("… and 550 more problems in this file"),
        "{}",
        problems[50]
    );
}
