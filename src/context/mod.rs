//! Build contexts: which files the engine receives for an image (walked and filtered exactly
//! like the docker CLI does) and their digests.

pub mod archive;
pub mod ignore;
mod walk;

pub use walk::{Entry, EntryKind, FileDigests, walk, walk_for_buildkit};

/// A context problem: which file, and what went wrong.
#[derive(Debug)]
pub enum ContextError {
    /// A broken `.dockerignore` (its path, line and message).
    Ignore {
        path: std::path::PathBuf,
        line: usize,
        message: String,
    },
    Io {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContextError::Ignore {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            ContextError::Io { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
        }
    }
}
