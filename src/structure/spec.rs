//! A structure-test file as checked values: container-structure-test's schema 2.0.0
//! (commandTests, fileExistenceTests, fileContentTests, metadataTest, globalEnvVars), every
//! pattern compiled and every test complete, so nothing about the file itself can fail once
//! an image is being tested. `read` builds it from the YAML tree.

use regex::Regex;

/// A whole file.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The file, as a path in the repository (for messages).
    pub path: String,
    /// The digest of its text: part of the tests the lock records as passed.
    pub digest: String,
    /// Set in the environment of every command test (and used to expand file paths).
    pub global_env: Vec<EnvVar>,
    pub commands: Vec<CommandTest>,
    pub file_existence: Vec<FileExistenceTest>,
    pub file_content: Vec<FileContentTest>,
    /// Absent when the file has none, or an empty one.
    pub metadata: Option<MetadataTest>,
}

impl Spec {
    /// How many results a run gives.
    pub fn len(&self) -> usize {
        self.commands.len()
            + self.file_existence.len()
            + self.file_content.len()
            + usize::from(self.metadata.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A regular expression with the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    pub regex: Regex,
}

impl Pattern {
    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }
}

/// `key`/`value` of an environment variable or a label; `isRegex` makes the value a pattern
/// (metadata only).
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
    pub pattern: Option<Pattern>,
}

#[derive(Debug, Clone)]
pub struct CommandTest {
    pub name: String,
    /// Commands run first, each in a container whose result the next one starts from.
    pub setup: Vec<Vec<String>>,
    pub env: Vec<EnvVar>,
    pub exit_code: i64,
    pub command: String,
    pub args: Vec<String>,
    pub expected_output: Vec<Pattern>,
    pub excluded_output: Vec<Pattern>,
    pub expected_error: Vec<Pattern>,
    pub excluded_error: Vec<Pattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutableBy {
    Any,
    Owner,
    Group,
    Other,
}

impl ExecutableBy {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "any" => ExecutableBy::Any,
            "owner" => ExecutableBy::Owner,
            "group" => ExecutableBy::Group,
            "other" => ExecutableBy::Other,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutableBy::Any => "any",
            ExecutableBy::Owner => "owner",
            ExecutableBy::Group => "group",
            ExecutableBy::Other => "other",
        }
    }

    /// The permission bits that grant it.
    pub fn bits(self) -> u32 {
        match self {
            ExecutableBy::Any => 0o111,
            ExecutableBy::Owner => 0o100,
            ExecutableBy::Group => 0o010,
            ExecutableBy::Other => 0o001,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileExistenceTest {
    pub name: String,
    /// May name variables of the image's environment.
    pub path: String,
    pub should_exist: bool,
    /// As `ls -l` would show it in Go's notation (`-rwxr-xr-x`, `drwxr-xr-x`,
    /// `Lrwxrwxrwx`, `urwxr-xr-x` for setuid).
    pub permissions: Option<String>,
    pub uid: Option<i64>,
    pub gid: Option<i64>,
    pub executable_by: Option<ExecutableBy>,
}

#[derive(Debug, Clone)]
pub struct FileContentTest {
    pub name: String,
    pub path: String,
    pub expected: Vec<Pattern>,
    pub excluded: Vec<Pattern>,
}

#[derive(Debug, Clone, Default)]
pub struct MetadataTest {
    pub env: Vec<EnvVar>,
    pub unbound_env: Vec<String>,
    pub labels: Vec<EnvVar>,
    pub exposed_ports: Vec<String>,
    pub unexposed_ports: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub workdir: Option<String>,
    pub volumes: Vec<String>,
    pub unmounted_volumes: Vec<String>,
    pub user: Option<String>,
}

impl MetadataTest {
    /// An empty metadata test is skipped, as the reference tool skips it.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty()
            && self.unbound_env.is_empty()
            && self.labels.is_empty()
            && self.exposed_ports.is_empty()
            && self.unexposed_ports.is_empty()
            && self.entrypoint.is_none()
            && self.cmd.is_none()
            && self.workdir.is_none()
            && self.volumes.is_empty()
            && self.unmounted_volumes.is_empty()
            && self.user.is_none()
    }
}
