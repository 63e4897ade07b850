//! How a Dockerfile's `RUN`s are written, beyond their packages: a pipe under a shell without
//! `pipefail`, which hides the failure of every command but the last (H114), and consecutive
//! single-command `RUN`s that could be one layer (H115). The shell a stage runs its `RUN`s with is followed
//! (by `stages`) through `SHELL`, earlier stages and the image's parents.

use super::dockerfile::{Dockerfile, Instruction};
use super::scripts::scripts;
use super::split::{commands, pipes};
use super::{Hit, hit};

/// The shell a stage's shell-form `RUN`s run under, as far as pipes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shell {
    /// `/bin/sh -c` or another POSIX shell without `pipefail`.
    #[default]
    Plain,
    /// A shell with `-o pipefail` (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`).
    Pipefail,
    /// Not a POSIX shell (PowerShell, cmd): not checked.
    Other,
}

impl Shell {
    /// The shell a `SHELL` instruction sets.
    pub fn of(ins: &Instruction) -> Shell {
        let Some(argv) = &ins.exec else {
            return Shell::Plain;
        };
        let program = argv
            .first()
            .map_or("", |p| p.rsplit(['/', '\\']).next().unwrap_or(p));
        let posix = matches!(
            program.trim_end_matches(".exe"),
            "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh" | "busybox"
        );
        if !posix {
            return Shell::Other;
        }
        if sets_pipefail(argv) {
            Shell::Pipefail
        } else {
            Shell::Plain
        }
    }
}

/// `-o pipefail` among options (`-o`, `-eo`, `-euxo` before `pipefail`).
fn sets_pipefail<S: AsRef<str>>(args: &[S]) -> bool {
    args.windows(2).any(|pair| {
        let option = pair[0].as_ref();
        option.starts_with('-') && option.ends_with('o') && pair[1].as_ref() == "pipefail"
    })
}

/// The shell a `SHELL` instruction sets (for [`super::stages::Stages`]).
pub fn shell_set(ins: &Instruction) -> Option<Shell> {
    (ins.keyword == "SHELL").then(|| Shell::of(ins))
}

/// H114: a shell-form `RUN` with a pipe, under a shell without `pipefail`, that does not turn
/// it on itself (`set -o pipefail` before the pipe).
pub fn check_pipefail(ins: &Instruction, shell: Shell, hits: &mut Vec<Hit>) {
    if shell != Shell::Plain {
        return;
    }
    for script in scripts(ins) {
        let Some(&pipe) = pipes(script.text).first() else {
            continue;
        };
        let turned_on = commands(script.text).iter().any(|words| {
            words
                .first()
                .is_some_and(|w| w.text == "set" && w.offset < pipe)
                && sets_pipefail(&words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>())
        });
        if !turned_on {
            hits.push(hit(
                "H114",
                script.line_at(pipe),
                "a pipe without `pipefail`: a failure before the last command is lost; add `set -o pipefail &&` or `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`",
            ));
            return;
        }
    }
}

/// H115: a `RUN` of one command right after another of the same stage, with the same flags:
/// one layer would do. `RUN`s that chain commands are apart on purpose, and so are heredoc
/// scripts.
pub fn check_consecutive(df: &Dockerfile, hits: &mut Vec<Hit>) {
    for pair in df.instructions.windows(2) {
        let [a, b] = pair else { continue };
        let runs = a.keyword == "RUN" && b.keyword == "RUN" && a.stage == b.stage;
        let alike = a.flags.len() == b.flags.len()
            && a.flags
                .iter()
                .zip(&b.flags)
                .all(|(x, y)| x.name == y.name && x.value == y.value);
        if runs && alike && short(a) && short(b) {
            hits.push(hit(
                "H115",
                b.line,
                "a RUN right after another: join them with `&&` into one layer",
            ));
        }
    }
}

/// A `RUN` of one command, not a heredoc script.
fn short(ins: &Instruction) -> bool {
    ins.heredocs.is_empty() && (ins.exec.is_some() || commands(&ins.args).len() <= 1)
}
