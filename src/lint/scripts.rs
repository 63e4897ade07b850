//! Which texts of a shell-form `RUN` the shell runs: its command line, and each heredoc that is
//! a script — the body of a `RUN <<EOT` whose command is nothing else (unless a `#!` line names
//! another interpreter), or a heredoc fed to a shell (`RUN bash <<EOT`). Other heredocs are
//! data: what `cat <<EOF > file` writes, what `python3 <<EOF` reads.

use super::dockerfile::{Heredoc, Instruction, line_of, marker};
use super::shell::{Word, commands, program};

/// Shell text of a `RUN`, and the physical line of each of its offsets.
pub struct Script<'a> {
    pub text: &'a str,
    lines: &'a [(usize, usize)],
    /// The line of an offset before the first entry of `lines`.
    line: usize,
}

impl Script<'_> {
    /// The physical line of a byte offset in `text`.
    pub fn line_at(&self, offset: usize) -> usize {
        line_of(self.lines, offset).unwrap_or(self.line)
    }
}

/// The scripts of a shell-form `RUN`, in order.
pub fn scripts(ins: &Instruction) -> Vec<Script<'_>> {
    if let [doc] = ins.heredocs.as_slice()
        && marker(&ins.args).is_some()
    {
        // `RUN <<EOT`: the body is the script.
        return match interpreter(&doc.body) {
            Some(program) if !is_shell(program) => Vec::new(),
            _ => vec![body(doc)],
        };
    }
    let mut out = vec![Script {
        text: &ins.args,
        lines: &ins.lines,
        line: ins.line,
    }];
    let readers = heredoc_readers(&ins.args);
    for (doc, reader) in ins.heredocs.iter().zip(readers) {
        if reader.is_some_and(|(program, args)| reads_script(&program, &args)) {
            out.push(body(doc));
        }
    }
    out
}

fn body(doc: &Heredoc) -> Script<'_> {
    Script {
        text: &doc.body,
        lines: &doc.lines,
        line: doc.end,
    }
}

/// For each heredoc the command line opens, in order: the program reading it and its
/// arguments (`None` when no program does, as in `<<EOF cat`'s odd cousins).
fn heredoc_readers(args: &str) -> Vec<Option<(String, Vec<Word>)>> {
    let mut readers = Vec::new();
    for words in commands(args) {
        let opened = words
            .iter()
            .filter(|w| {
                let raw = &args[w.offset..];
                !raw.starts_with(['\'', '"']) && marker(&w.text).is_some()
            })
            .count();
        let reader = program(&words).map(|(p, rest)| (p.to_string(), rest.to_vec()));
        readers.extend(std::iter::repeat_n(reader, opened));
    }
    readers
}

/// Whether a program reading a heredoc on its standard input runs it as a script: a shell
/// with no script file, no `-c` command and nothing else to read.
fn reads_script(program: &str, args: &[Word]) -> bool {
    is_shell(program)
        && args.iter().all(|w| {
            marker(&w.text).is_some()
                || (w.text.starts_with('-') && !w.text.contains('c') && w.text.len() > 1)
        })
}

/// The interpreter a `#!` first line names (`#!/usr/bin/env python3` → `python3`).
fn interpreter(body: &str) -> Option<&str> {
    let first = body.lines().next()?.strip_prefix("#!")?;
    let mut words = first.split_whitespace();
    let program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        return words.find(|w| !w.starts_with('-') && !w.contains('='));
    }
    Some(program)
}

fn is_shell(program: &str) -> bool {
    matches!(
        program,
        "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::dockerfile::parse;

    /// The scripts of the RUN on the file's last instruction, with the line of each command.
    fn scripts_of(dockerfile: &str) -> Vec<Vec<(String, usize)>> {
        let df = parse(dockerfile);
        let run = df.instructions.last().unwrap();
        scripts(run)
            .iter()
            .map(|s| {
                commands(s.text)
                    .iter()
                    .map(|c| {
                        let words: Vec<&str> = c.iter().map(|w| w.text.as_str()).collect();
                        (words.join(" "), s.line_at(c[0].offset))
                    })
                    .collect()
            })
            .collect()
    }

    fn script(commands: &[(&str, usize)]) -> Vec<(String, usize)> {
        commands.iter().map(|(c, l)| (c.to_string(), *l)).collect()
    }

    #[test]
    fn a_run_heredoc_alone_is_the_script() {
        assert_eq!(
            scripts_of(
                "FROM x:1\nRUN --mount=type=cache,target=/var/cache/apt <<EOT\nset -e\n# apt-get update in a comment\napt-get install -y \\\n  curl\nEOT\n"
            ),
            [script(&[("set -e", 3), ("apt-get install -y curl", 5)])]
        );
    }

    #[test]
    fn another_interpreter_reads_its_own_script() {
        assert!(
            scripts_of("FROM x:1\nRUN <<EOT\n#!/usr/bin/env python3\nimport os\nEOT\n")[..]
                .is_empty()
        );
        assert_eq!(
            scripts_of("FROM x:1\nRUN <<EOT\n#!/bin/bash\ntrue\nEOT\n"),
            [script(&[("true", 4)])]
        );
    }

    #[test]
    fn heredocs_fed_to_commands_are_data_unless_a_shell_reads_them() {
        assert_eq!(
            scripts_of(
                "FROM x:1\nRUN cat <<EOF > /etc/x && python3 <<PY\napt-get update\nEOF\nprint(1)\nPY\n"
            ),
            [script(&[("cat <<EOF > /etc/x", 2), ("python3 <<PY", 2)])]
        );
        assert_eq!(
            scripts_of("FROM x:1\nRUN bash -e <<'EOF'\napt-get update\nEOF\n"),
            [
                script(&[("bash -e <<EOF", 2)]),
                script(&[("apt-get update", 3)])
            ]
        );
        assert_eq!(
            scripts_of("FROM x:1\nRUN bash -c 'cat' <<EOF\napt-get update\nEOF\n"),
            [script(&[("bash -c cat <<EOF", 2)])]
        );
    }

    #[test]
    fn heredocs_inside_a_script_are_data() {
        assert_eq!(
            scripts_of(
                "FROM x:1\nRUN <<EOT\ncat > /x <<-EOF\n\tapt-get update\n\tEOF\necho done\nEOT\n"
            ),
            [script(&[("cat > /x <<-EOF", 3), ("echo done", 6)])]
        );
    }
}
