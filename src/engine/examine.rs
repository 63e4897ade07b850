//! The types of what examining an image asks of an engine (structure tests): a command run as
//! an argument vector with its own environment and its standard output and error apart, after
//! setup commands whose changes it sees; a path's entry as the engine's archive of it begins;
//! and the image's run configuration.

use std::time::Duration;

/// A command in a throwaway container of an image, as an argument vector (no shell), the
/// entrypoint cleared and the image's user kept; first, each setup command in a container of
/// its own, whose filesystem and environment the next one starts from (how a setup command
/// exits does not matter). What the setup made is removed afterwards, and nothing else.
#[derive(Debug, Clone)]
pub struct Exec<'a> {
    /// Who the container belongs to (the image's repository).
    pub owner: &'a str,
    pub image: &'a str,
    pub argv: &'a [String],
    /// `KEY=VALUE` set over the image's environment (a later one wins).
    pub env: &'a [String],
    /// The time limit of each command, setup commands included.
    pub limit: Duration,
    pub setup: &'a [Vec<String>],
    /// `KEY=VALUE` set for the setup commands (and kept for the command after them).
    pub setup_env: &'a [String],
}

/// How an [`Exec`] ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutcome {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
    /// The command, or a setup command, took longer than the limit.
    pub timed_out: bool,
    /// The engine could not start the command or a setup command (no such file, say): why.
    pub not_started: Option<String>,
}

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    File,
    /// A second name of a file the archive already holds.
    HardLink,
    Directory,
    Symlink,
    /// A fifo, socket or device.
    Other,
}

/// A path of an image as the engine's archive of it begins (the path's own entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEntry {
    pub kind: PathKind,
    /// The permission bits, setuid, setgid and sticky included.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// A symlink's target, as written.
    pub link: Option<String>,
    /// A regular file's content, when asked for (and not too large to hold: 64 MiB).
    pub content: Option<Vec<u8>>,
}

/// A path to look up, with its content or without.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRequest {
    pub path: String,
    pub content: bool,
}

/// How a container of the image runs, as its configuration says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// `KEY=VALUE`, in order.
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Declared volumes, sorted.
    pub volumes: Vec<String>,
    pub workdir: String,
    /// `8080/tcp`, sorted.
    pub exposed_ports: Vec<String>,
    pub user: String,
}
