//! What makes BuildKit's Dockerfile frontend refuse a file before it builds anything, checked
//! instruction by instruction: an unknown instruction, an instruction other than `ARG` before
//! the first `FROM`, the flags (`flags`), and the arguments each instruction needs (`ENV` and
//! `LABEL` as `key=value` pairs or the legacy `KEY value`, `FROM image [AS name]`, a source and
//! a destination for `COPY` and `ADD`, …). The file-wide ones (no `FROM` at all, a heredoc never
//! ended) are found by the parser itself.

use super::{Instruction, flags};
use crate::diagnostic::suggest;

/// The instructions of the Dockerfile syntax.
pub const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Why the engine would refuse an instruction, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A problem at its place: the 1-based line and column, and how many characters to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub width: usize,
    pub problem: Problem,
}

/// The first problem of one instruction; `before_from` when no `FROM` came before it.
pub fn check(ins: &Instruction, escape: char, before_from: bool) -> Option<Problem> {
    let keyword = ins.keyword.as_str();
    if !INSTRUCTIONS.contains(&keyword) {
        let help = suggest(keyword, INSTRUCTIONS.iter().copied())
            .unwrap_or_else(|| format!("the instructions are {}", INSTRUCTIONS.join(", ")));
        return Some(Problem::new(format!("unknown instruction `{keyword}`")).help(help));
    }
    if before_from && keyword != "ARG" && keyword != "FROM" {
        return Some(
            Problem::new(format!("{keyword} before the first FROM"))
                .help("only ARG (and parser directives) may come before the first FROM"),
        );
    }
    flags::check(keyword, &ins.flags).or_else(|| arguments(ins, escape))
}

/// The arguments an instruction needs.
fn arguments(ins: &Instruction, escape: char) -> Option<Problem> {
    let keyword = ins.keyword.as_str();
    let args = ins.args.as_str();
    match keyword {
        "ENV" | "LABEL" => pairs(keyword, args, escape),
        "ARG" => arg(args, escape),
        "FROM" => from(args),
        "COPY" | "ADD" => sources_and_destination(ins),
        "USER" | "WORKDIR" | "MAINTAINER" | "STOPSIGNAL" if args.is_empty() => {
            Some(Problem::new(format!("{keyword} needs an argument")))
        }
        "EXPOSE" | "VOLUME" if args.is_empty() => Some(Problem::new(format!(
            "{keyword} needs at least one argument"
        ))),
        "ONBUILD" => onbuild(args),
        "HEALTHCHECK" => healthcheck(ins),
        "SHELL" if ins.exec.as_ref().is_none_or(Vec::is_empty) => Some(
            Problem::new("SHELL needs the JSON form")
                .help("write the shell and its options as a list: SHELL [\"/bin/bash\", \"-c\"]"),
        ),
        _ => None,
    }
}

/// `ENV`/`LABEL`: `key=value` pairs, or the legacy single `KEY value`.
fn pairs(keyword: &str, args: &str, escape: char) -> Option<Problem> {
    let help = format!("write `{keyword} key=value …` (quote a value with spaces)");
    let list = words(args, escape);
    let Some(first) = list.first() else {
        return Some(Problem::new(format!("{keyword} needs a key=value pair")).help(help));
    };
    if !first.contains('=') {
        return (args.split_whitespace().count() < 2)
            .then(|| Problem::new(format!("{keyword} `{first}` has no value")).help(help.clone()));
    }
    for word in &list {
        if !word.contains('=') {
            return Some(
                Problem::new(format!(
                    "{keyword}: `{word}` is not a key=value pair (no `=` in it)"
                ))
                .help(help),
            );
        }
        if word.starts_with('=') {
            return Some(Problem::new(format!("{keyword}: `{word}` has no name")).help(help));
        }
    }
    None
}

fn arg(args: &str, escape: char) -> Option<Problem> {
    let list = words(args, escape);
    if list.is_empty() {
        return Some(Problem::new("ARG needs a name"));
    }
    list.iter()
        .find(|w| w.starts_with('='))
        .map(|w| Problem::new(format!("ARG: `{w}` has no name")))
}

/// `FROM image [AS name]`, the name a valid stage name.
fn from(args: &str) -> Option<Problem> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [_] => None,
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => {
            let lower = name.to_ascii_lowercase();
            let mut chars = lower.chars();
            let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
            (!valid).then(|| {
                Problem::new(format!("invalid stage name `{name}`")).help(
                    "a stage name starts with a letter, then letters, digits, `-`, `_` or `.`",
                )
            })
        }
        _ => Some(
            Problem::new("FROM takes an image, and optionally `AS name`")
                .help("write `FROM image` or `FROM image AS name`"),
        ),
    }
}

/// `COPY`/`ADD`: at least one source and a destination, which is not a heredoc.
fn sources_and_destination(ins: &Instruction) -> Option<Problem> {
    let items: Vec<&str> = match &ins.exec {
        Some(items) => items.iter().map(String::as_str).collect(),
        None => ins.args.split_whitespace().collect(),
    };
    match items.last() {
        _ if items.len() < 2 => Some(
            Problem::new(format!("{} needs a source and a destination", ins.keyword))
                .help(format!("write `{} <source>… <destination>`", ins.keyword)),
        ),
        Some(last) if ins.exec.is_none() && super::marker(last).is_some() => Some(
            Problem::new(format!("{} cannot write to a heredoc", ins.keyword))
                .help("the last argument is the destination; put the heredoc before it"),
        ),
        _ => None,
    }
}

fn onbuild(args: &str) -> Option<Problem> {
    let Some(trigger) = args.split_whitespace().next() else {
        return Some(Problem::new("ONBUILD needs an instruction"));
    };
    let trigger = trigger.to_ascii_uppercase();
    matches!(trigger.as_str(), "ONBUILD" | "FROM" | "MAINTAINER")
        .then(|| Problem::new(format!("{trigger} is not allowed after ONBUILD")))
}

/// `HEALTHCHECK NONE`, or `HEALTHCHECK [flags] CMD command`.
fn healthcheck(ins: &Instruction) -> Option<Problem> {
    let mut words = ins.args.split_whitespace();
    let kind = words.next().map(str::to_ascii_uppercase);
    let rest = words.next().is_some();
    match kind.as_deref() {
        Some("NONE") if !rest => None,
        Some("NONE") => Some(Problem::new("HEALTHCHECK NONE takes no arguments")),
        Some("CMD") if rest => None,
        Some("CMD") => Some(Problem::new("HEALTHCHECK CMD needs a command")),
        _ => Some(
            Problem::new("HEALTHCHECK takes NONE or CMD")
                .help("write `HEALTHCHECK CMD <command>` or `HEALTHCHECK NONE`"),
        ),
    }
}

/// Words split at white space outside quotes, quotes kept, as BuildKit's `parseWords` does
/// for `ENV`, `LABEL` and `ARG`; an escape character keeps the next character in the word.
pub fn words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut started = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            None if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
                continue;
            }
            None if c == '\'' || c == '"' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ => {}
        }
        started = true;
        word.push(c);
        if c == escape && quote != Some('\'') {
            word.extend(chars.next());
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes_and_escaped_spaces() {
        assert_eq!(
            words(r#"a="x y" b=c\ d 'e f'=g"#, '\\'),
            ["a=\"x y\"", "b=c\\ d", "'e f'=g"]
        );
    }
}
