//! A small, real Dockerfile parser for the linter and for validation: parser directives
//! (`# escape=`), comments, line continuations (with comment lines inside them dropped, as the
//! builder does), the instruction keyword, its flags (`flags`) and its arguments, exec form (a
//! JSON array) versus shell form, heredocs (`heredoc`), and the stages of a multi-stage build.
//! Every argument keeps the physical line it came from, so a finding points at the line a
//! person edits. What the engine would refuse is collected on the way (`syntax`, `mounts`), and
//! `parent` holds hier's own rule for the final stage of a hand-written Dockerfile.

mod flags;
mod heredoc;
mod mounts;
mod parent;
mod syntax;
#[cfg(test)]
mod tests;

pub use flags::Flag;
pub use heredoc::{Heredoc, marker};
pub use parent::check_final_stage;
pub use syntax::{INSTRUCTIONS, Problem, SyntaxError};

/// One instruction.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper case (`RUN`, `FROM`, …).
    pub keyword: String,
    /// The arguments after the flags, with continuations joined by a space.
    pub args: String,
    /// 1-based line of the keyword.
    pub line: usize,
    /// 1-based column of the keyword on its line.
    pub column: usize,
    /// Where each physical line's text starts in `args`: (offset, line).
    pub lines: Vec<(usize, usize)>,
    /// The leading `--name[=value]` flags (`RUN --mount=…`, `COPY --chmod=…`), in order.
    pub flags: Vec<Flag>,
    /// The exec form's items, when the arguments are a JSON array of strings.
    pub exec: Option<Vec<String>>,
    /// The heredocs of a `RUN`, `COPY` or `ADD`, in the order the arguments open them.
    pub heredocs: Vec<Heredoc>,
    /// Index of the stage it belongs to (`None` before the first `FROM`).
    pub stage: Option<usize>,
}

impl Instruction {
    /// The physical line of a byte offset in `args`.
    pub fn line_at(&self, offset: usize) -> usize {
        line_of(&self.lines, offset).unwrap_or(self.line)
    }
}

/// The line of the last entry of `lines` (offset, line) that starts at or before `offset`.
/// The entries are in offset order, so this is a binary search: a finding's line costs the
/// logarithm of the instruction's length, never its length (a 200 000-line `RUN` has as many
/// words to place).
pub fn line_of(lines: &[(usize, usize)], offset: usize) -> Option<usize> {
    let after = lines.partition_point(|(start, _)| *start <= offset);
    after.checked_sub(1).map(|i| lines[i].1)
}

/// A stage: its `FROM` and optional name.
#[derive(Debug, Clone)]
pub struct Stage {
    pub image: String,
    pub name: Option<String>,
    /// Index of the `FROM` instruction.
    pub from: usize,
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// What the engine would refuse the file for, in line order (empty when it would build).
    pub errors: Vec<SyntaxError>,
}

/// Parses a Dockerfile's text.
pub fn parse(text: &str) -> Dockerfile {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Dockerfile::default();
    let (escape, mut i) = directives(&lines, &mut out.errors);
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let (logical, next) = logical_line(&lines, i, escape);
        i = next;
        let mut ins = instruction(logical);
        ins.column = lines[ins.line - 1].chars().count() - trimmed.chars().count() + 1;
        if takes_heredocs(&ins) {
            for marker in heredoc::markers(&ins.args) {
                let (doc, next) = heredoc::read_body(&lines, i, marker);
                if !doc.terminated {
                    out.errors.push(unterminated(&ins, &doc));
                }
                ins.heredocs.push(doc);
                i = next;
            }
        }
        if let Some(problem) = syntax::check(&ins, escape, out.stages.is_empty()) {
            out.errors.push(at_keyword(&ins, problem));
        }
        if ins.keyword == "FROM" {
            out.stages.push(stage(&ins, out.instructions.len()));
        }
        ins.stage = out.stages.len().checked_sub(1);
        out.instructions.push(ins);
    }
    no_from(&mut out);
    out.errors.sort_by_key(|e| (e.line, e.column));
    out
}

/// A problem placed at an instruction's keyword.
fn at_keyword(ins: &Instruction, problem: Problem) -> SyntaxError {
    SyntaxError {
        line: ins.line,
        column: ins.column,
        width: ins.keyword.chars().count().max(1),
        problem,
    }
}

fn unterminated(ins: &Instruction, doc: &Heredoc) -> SyntaxError {
    let problem = Problem::new(format!(
        "the heredoc `{}` of this {} is never ended",
        doc.name, ins.keyword
    ))
    .help(format!(
        "end it with a line that is exactly `{}`{}",
        doc.name,
        if doc.chomp { " (after tabs)" } else { "" }
    ));
    at_keyword(ins, problem)
}

/// A file without any `FROM` builds nothing: one problem for it, instead of one for each
/// instruction that comes "before the first FROM".
fn no_from(out: &mut Dockerfile) {
    if !out.stages.is_empty() {
        return;
    }
    out.errors
        .retain(|e| !e.problem.message.ends_with(" before the first FROM"));
    out.errors.push(SyntaxError {
        line: out.instructions.first().map_or(1, |i| i.line),
        column: out.instructions.first().map_or(1, |i| i.column),
        width: 1,
        problem: Problem::new("this Dockerfile has no FROM: it builds nothing")
            .help("start the final stage with `FROM ${HIER_PARENT}` (after `ARG HIER_PARENT`)"),
    });
}

/// Parser directives, only at the very top (before any comment, blank line or instruction):
/// the escape character, and the index of the first line after them.
fn directives(lines: &[&str], errors: &mut Vec<SyntaxError>) -> (char, usize) {
    let mut escape = '\\';
    let mut i = 0;
    while i < lines.len() {
        match directive(lines[i]) {
            Some((key, value)) if key == "escape" => match value.as_str() {
                "\\" | "`" => escape = value.chars().next().unwrap_or(escape),
                _ => errors.push(SyntaxError {
                    line: i + 1,
                    column: 1,
                    width: lines[i].chars().count().max(1),
                    problem: Problem::new(format!("invalid escape character `{value}`"))
                        .help("the escape character is `\\` (the default) or `` ` ``"),
                }),
            },
            Some(_) => {}
            None => break,
        }
        i += 1;
    }
    (escape, i)
}

fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix('#')?.trim();
    let (key, value) = rest.split_once('=')?;
    let key = key.trim().to_ascii_lowercase();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| (key, value.trim().to_string()))
}

/// An instruction's physical lines joined: its keyword, its arguments (untrimmed) and where
/// each physical line starts in them.
struct Logical {
    keyword: String,
    args: String,
    offsets: Vec<(usize, usize)>,
    line: usize,
}

/// Reads the instruction starting at `lines[i]` through its continuations; returns it and the
/// index of the line after it.
fn logical_line(lines: &[&str], mut i: usize, escape: char) -> (Logical, usize) {
    let start_line = i + 1;
    let trimmed = lines[i].trim_start();
    let (keyword, rest) = trimmed
        .split_once(char::is_whitespace)
        .unwrap_or((trimmed, ""));
    let mut args = String::new();
    let mut offsets = Vec::new();
    let mut piece = rest;
    let mut line_no = start_line;
    loop {
        let continued = ends_with_escape(piece, escape);
        let text = if continued {
            let cut = piece.trim_end();
            &cut[..cut.len() - escape.len_utf8()]
        } else {
            piece
        };
        // Continuation lines are joined with one space (their indentation dropped).
        let text = if args.is_empty() {
            text
        } else {
            text.trim_start()
        };
        if !args.is_empty() && !text.trim().is_empty() {
            args.push(' ');
        }
        offsets.push((args.len(), line_no));
        args.push_str(text.trim_end());
        if !continued {
            break;
        }
        // Next physical line; comment lines and empty lines inside a continuation are dropped
        // (BuildKit warns of the empty ones and goes on).
        i += 1;
        while i < lines.len()
            && (lines[i].trim_start().starts_with('#') || lines[i].trim().is_empty())
        {
            i += 1;
        }
        if i >= lines.len() {
            break;
        }
        line_no = i + 1;
        piece = lines[i];
    }
    let logical = Logical {
        keyword: keyword.to_ascii_uppercase(),
        args,
        offsets,
        line: start_line,
    };
    (logical, i + 1)
}

fn ends_with_escape(line: &str, escape: char) -> bool {
    let t = line.trim_end();
    if !t.ends_with(escape) {
        return false;
    }
    // An escaped escape character is not a continuation.
    let count = t.chars().rev().take_while(|c| *c == escape).count();
    count % 2 == 1
}

/// The instruction of a logical line: flags split off, arguments trimmed, exec form read.
fn instruction(logical: Logical) -> Instruction {
    let trimmed = logical.args.trim();
    let lead = logical.args.len() - logical.args.trim_start().len();
    let (flags, command) = flags::split_flags(trimmed);
    let args = trimmed[command..].to_string();
    let shift = lead + command;
    let lines = logical
        .offsets
        .into_iter()
        .map(|(o, l)| (o.saturating_sub(shift), l))
        .collect();
    let exec = if args.starts_with('[') {
        serde_json::from_str::<Vec<String>>(&args).ok()
    } else {
        None
    };
    Instruction {
        keyword: logical.keyword,
        args,
        line: logical.line,
        column: 1,
        lines,
        flags,
        exec,
        heredocs: Vec::new(),
        stage: None,
    }
}

/// `RUN`, `COPY` and `ADD` in shell form (also after `ONBUILD`) may open heredocs.
fn takes_heredocs(ins: &Instruction) -> bool {
    let keyword = match ins.keyword.as_str() {
        "ONBUILD" => ins.args.split_whitespace().next().unwrap_or(""),
        keyword => keyword,
    };
    ["RUN", "COPY", "ADD"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(keyword))
        && ins.exec.is_none()
}

/// The stage a `FROM` (instruction `index`) starts: its image and `AS` name.
fn stage(ins: &Instruction, index: usize) -> Stage {
    let words: Vec<&str> = ins
        .args
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let image = words.first().map(|s| s.to_string()).unwrap_or_default();
    let name = match words.as_slice() {
        [_, kw, name, ..] if kw.eq_ignore_ascii_case("as") => Some(name.to_string()),
        _ => None,
    };
    Stage {
        image,
        name,
        from: index,
        line: ins.line,
    }
}
