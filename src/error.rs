//! hier's errors and the exit codes they map to (in one place): 1 the work failed, 2 bad input
//! or usage (nothing written), 3 engine or registry unreachable, 130 interrupted.

use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Success = 0,
    Failed = 1,
    BadInput = 2,
    Unreachable = 3,
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// When several apply: 130, then 3, then 2, then 1.
    pub fn worst(self, other: Exit) -> Exit {
        fn rank(e: Exit) -> u8 {
            match e {
                Exit::Success => 0,
                Exit::Failed => 1,
                Exit::BadInput => 2,
                Exit::Unreachable => 3,
                Exit::Interrupted => 4,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Arguments that make no sense together, an unknown image on the command line, …
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },
    /// Problems in the user's files (catalog, templates, lock, contexts), all of them.
    #[error("{} problem(s) found", .0.len())]
    Input(Vec<Diagnostic>),
    /// The work was done and did not succeed (stale renders, a failed build, …); the details
    /// were already printed.
    #[error("{0}")]
    Failed(String),
    /// The engine or a registry did not answer (the message names the endpoint; the help says
    /// what to do).
    #[error("{message}")]
    Unreachable { message: String, help: String },
    /// Writing or reading something hier owns failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: None,
        }
    }

    pub fn usage_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn io(action: &'static str, path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_string(),
            source,
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage { .. } | Error::Input(_) => Exit::BadInput,
            Error::Failed(_) | Error::Io { .. } => Exit::Failed,
            Error::Unreachable { .. } => Exit::Unreachable,
        }
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Input(vec![d])
    }
}
