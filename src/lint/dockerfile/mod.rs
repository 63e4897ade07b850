//! A small, real Dockerfile parser for the linter: parser directives (`# escape=`), comments,
//! line continuations (with comment lines inside them dropped, as the builder does), the
//! instruction keyword, its flags (`flags`) and its arguments, exec form (a JSON array) versus
//! shell form, heredocs (`heredoc`), and the stages of a multi-stage build. Every argument keeps
//! the physical line it came from, so a finding points at the line a person edits.

mod flags;
mod heredoc;

pub use flags::Flag;
pub use heredoc::{Heredoc, marker};

/// One instruction.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper case (`RUN`, `FROM`, …).
    pub keyword: String,
    /// The arguments after the flags, with continuations joined by a space.
    pub args: String,
    /// 1-based line of the keyword.
    pub line: usize,
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
pub fn line_of(lines: &[(usize, usize)], offset: usize) -> Option<usize> {
    lines
        .iter()
        .take_while(|(start, _)| *start <= offset)
        .last()
        .map(|(_, line)| *line)
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
}

/// Parses a Dockerfile's text.
pub fn parse(text: &str) -> Dockerfile {
    let lines: Vec<&str> = text.lines().collect();
    let (escape, mut i) = directives(&lines);
    let mut out = Dockerfile::default();
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let (logical, next) = logical_line(&lines, i, escape);
        i = next;
        let mut ins = instruction(logical);
        if takes_heredocs(&ins) {
            for marker in heredoc::markers(&ins.args) {
                let (doc, next) = heredoc::read_body(&lines, i, marker);
                ins.heredocs.push(doc);
                i = next;
            }
        }
        if ins.keyword == "FROM" {
            out.stages.push(stage(&ins, out.instructions.len()));
        }
        ins.stage = out.stages.len().checked_sub(1);
        out.instructions.push(ins);
    }
    out
}

/// Parser directives, only at the very top (before any comment, blank line or instruction):
/// the escape character, and the index of the first line after them.
fn directives(lines: &[&str]) -> (char, usize) {
    let mut escape = '\\';
    let mut i = 0;
    while i < lines.len() {
        match directive(lines[i]) {
            Some((key, value)) if key == "escape" => {
                if let Some(c) = value.chars().next() {
                    escape = c;
                }
            }
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
        // Next physical line; comment lines inside a continuation are dropped.
        i += 1;
        while i < lines.len() && lines[i].trim_start().starts_with('#') {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_stages() {
        let df = parse(
            "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS build\n# a comment\nRUN apt-get update \\\n    # dropped inside the continuation\n    && apt-get install -y \\\n       curl\n\nFROM debian:bookworm-slim\nCOPY --from=build /x /x\nCMD [\"/x\", \"--serve\"]\n",
        );
        let keywords: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(keywords, ["FROM", "RUN", "FROM", "COPY", "CMD"]);
        let run = &df.instructions[1];
        assert_eq!(run.line, 4);
        assert_eq!(run.args, "apt-get update && apt-get install -y curl");
        let curl = run.args.find("curl").unwrap();
        assert_eq!(run.line_at(curl), 7);
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
        assert_eq!(
            df.instructions[4].exec.as_deref(),
            Some(&["/x".to_string(), "--serve".to_string()][..])
        );
        assert_eq!(df.instructions[3].stage, Some(1));
    }

    #[test]
    fn escape_directive() {
        let df = parse("# escape=`\nFROM x:1\nRUN echo a `\n  b\n");
        assert_eq!(df.instructions[1].args, "echo a b");
    }

    /// (keyword, line) of every instruction.
    fn keywords(df: &Dockerfile) -> Vec<(&str, usize)> {
        df.instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.line))
            .collect()
    }

    #[test]
    fn heredoc_bodies_stay_in_their_instruction() {
        let df = parse(
            "FROM debian:12\nRUN <<EOT\nFROM ubuntu\nCMD foo\nRUN x\nEOT\nCOPY <<a <<'b' /dst/\nUSER a\na\nENTRYPOINT b\nb\nUSER app\nCMD [\"x\"]\n",
        );
        assert_eq!(
            keywords(&df),
            [
                ("FROM", 1),
                ("RUN", 2),
                ("COPY", 7),
                ("USER", 12),
                ("CMD", 13)
            ]
        );
        assert_eq!(df.stages.len(), 1);
        let run = &df.instructions[1];
        assert_eq!(run.args, "<<EOT");
        assert_eq!(run.heredocs[0].body, "FROM ubuntu\nCMD foo\nRUN x\n");
        assert_eq!(
            run.heredocs[0].line_at(run.heredocs[0].body.find("RUN").unwrap()),
            5
        );
        let copy = &df.instructions[2];
        let docs: Vec<(&str, &str, bool)> = copy
            .heredocs
            .iter()
            .map(|d| (d.name.as_str(), d.body.as_str(), d.quoted))
            .collect();
        assert_eq!(
            docs,
            [("a", "USER a\n", false), ("b", "ENTRYPOINT b\n", true)]
        );
    }

    #[test]
    fn heredocs_after_flags_with_tabs_and_quotes() {
        let df = parse(
            "FROM x:1\nRUN --mount=type=cache,target=/x \\\n    --network=none <<-\"EOT\"\n\tapt-get update\n\t EOT\n\t\tEOT\nRUN [\"echo\", \"<<EOT\"]\nONBUILD RUN <<X\nFROM y\nX\nUSER app\n",
        );
        assert_eq!(
            keywords(&df),
            [
                ("FROM", 1),
                ("RUN", 2),
                ("RUN", 7),
                ("ONBUILD", 8),
                ("USER", 11)
            ]
        );
        let run = &df.instructions[1];
        assert_eq!(run.args, "<<-\"EOT\"");
        assert_eq!(run.line_at(0), 3, "the command starts after the flags");
        let doc = &run.heredocs[0];
        assert_eq!(
            (doc.name.as_str(), doc.chomp, doc.quoted),
            ("EOT", true, true)
        );
        assert_eq!(doc.body, "apt-get update\n EOT\n");
        assert_eq!(doc.end, 6);
        // Exec form opens no heredoc.
        assert!(df.instructions[2].heredocs.is_empty());
        assert_eq!(df.instructions[3].heredocs[0].body, "FROM y\n");
    }

    #[test]
    fn flags_are_split_from_the_arguments() {
        let df = parse(
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nCOPY --chmod=755 --chown=app:app --link run.sh /usr/local/bin/\nADD --checksum=sha256:0123 https://example.com/x.tgz /opt/\nCOPY --from=build [\"/out/a b\", \"/x/\"]\nRUN --security=insecure --mount=type=secret,id=npm_token,required=true \\\n  npm ci\n",
        );
        let copy = &df.instructions[1];
        let names: Vec<&str> = copy.flags.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["chmod", "chown", "link"]);
        assert_eq!(copy.flags[0].value.as_deref(), Some("755"));
        assert_eq!(copy.args, "run.sh /usr/local/bin/");
        assert_eq!(df.instructions[2].args, "https://example.com/x.tgz /opt/");
        assert_eq!(
            df.instructions[3].exec.as_deref(),
            Some(&["/out/a b".to_string(), "/x/".to_string()][..])
        );
        let run = &df.instructions[4];
        assert_eq!(run.args, "npm ci");
        assert_eq!(run.line_at(0), 6);
        assert_eq!(df.stages[0].image, "golang:1.22");
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
    }

    #[test]
    fn an_unterminated_heredoc_runs_to_the_end() {
        let df = parse("FROM x:1\nRUN <<EOT\necho a\nUSER root\n");
        assert_eq!(keywords(&df), [("FROM", 1), ("RUN", 2)]);
        assert_eq!(df.instructions[1].heredocs[0].body, "echo a\nUSER root\n");
    }
}
