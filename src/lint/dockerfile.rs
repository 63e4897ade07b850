//! A small, real Dockerfile parser for the linter: parser directives (`# escape=`), comments,
//! line continuations (with comment lines inside them dropped, as the builder does), the
//! instruction keyword and its arguments, exec form (a JSON array) versus shell form, and the
//! stages of a multi-stage build. Every argument keeps the physical line it came from, so a
//! finding points at the line a person edits.

/// One instruction.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper case (`RUN`, `FROM`, …).
    pub keyword: String,
    /// The arguments with continuations joined by a space.
    pub args: String,
    /// 1-based line of the keyword.
    pub line: usize,
    /// Where each physical line's text starts in `args`: (offset, line).
    pub lines: Vec<(usize, usize)>,
    /// The exec form's items, when the arguments are a JSON array of strings.
    pub exec: Option<Vec<String>>,
    /// Index of the stage it belongs to (`None` before the first `FROM`).
    pub stage: Option<usize>,
}

impl Instruction {
    /// The physical line of a byte offset in `args`.
    pub fn line_at(&self, offset: usize) -> usize {
        self.lines
            .iter()
            .take_while(|(start, _)| *start <= offset)
            .last()
            .map(|(_, line)| *line)
            .unwrap_or(self.line)
    }
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

fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix('#')?.trim();
    let (key, value) = rest.split_once('=')?;
    let key = key.trim().to_ascii_lowercase();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| (key, value.trim().to_string()))
}

/// Parses a Dockerfile's text.
pub fn parse(text: &str) -> Dockerfile {
    let mut escape = '\\';
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    // Parser directives: only at the very top, before any comment, blank line or instruction.
    while i < lines.len() {
        match directive(lines[i]) {
            Some((key, value)) if key == "escape" => {
                if let Some(c) = value.chars().next() {
                    escape = c;
                }
                i += 1;
            }
            Some(_) => i += 1,
            None => break,
        }
    }
    let mut out = Dockerfile::default();
    while i < lines.len() {
        let raw = lines[i];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start_line = i + 1;
        let (keyword, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((k, r)) => (k, r),
            None => (trimmed, ""),
        };
        let mut args = String::new();
        let mut offsets = Vec::new();
        let mut piece = rest.to_string();
        let mut line_no = start_line;
        loop {
            let continued = ends_with_escape(&piece, escape);
            let text = if continued {
                let cut = piece.trim_end();
                &cut[..cut.len() - escape.len_utf8()]
            } else {
                piece.as_str()
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
            piece = lines[i].to_string();
        }
        i += 1;
        let keyword = keyword.to_ascii_uppercase();
        let args_trimmed = args.trim().to_string();
        let lead = args.len() - args.trim_start().len();
        let offsets: Vec<(usize, usize)> = offsets
            .into_iter()
            .map(|(o, l)| (o.saturating_sub(lead), l))
            .collect();
        let exec = if args_trimmed.starts_with('[') {
            serde_json::from_str::<Vec<String>>(&args_trimmed).ok()
        } else {
            None
        };
        let index = out.instructions.len();
        if keyword == "FROM" {
            let words: Vec<&str> = args_trimmed
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let image = words.first().map(|s| s.to_string()).unwrap_or_default();
            let name = match words.as_slice() {
                [_, kw, name, ..] if kw.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            out.stages.push(Stage {
                image,
                name,
                from: index,
                line: start_line,
            });
        }
        out.instructions.push(Instruction {
            keyword,
            args: args_trimmed,
            line: start_line,
            lines: offsets,
            exec,
            stage: out.stages.len().checked_sub(1),
        });
    }
    out
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
}
