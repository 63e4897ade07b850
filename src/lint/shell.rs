//! Reading the shell commands inside a `RUN`, once `split` has made them words: the program of
//! a command, its subcommand, its operands and the package names it installs.

pub use super::split::{Word, commands};

/// The program of a simple command (after the shell's words that start one: `if`, `then`,
/// `do`, `!`…, `VAR=value` assignments, `sudo`, `env`, `exec`), and the words after it.
pub fn program(words: &[Word]) -> Option<(&str, &[Word])> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].text.as_str();
        let assignment = w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let keyword = matches!(
            w,
            "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "time"
        );
        if assignment || keyword || matches!(w, "sudo" | "env" | "exec" | "command" | "nice") {
            i += 1;
            continue;
        }
        let base = w.rsplit('/').next().unwrap_or(w);
        return Some((base, &words[i + 1..]));
    }
    None
}

/// The arguments that are not options (nor the values of options that take one), with their
/// index in `args`.
fn operands<'a>(
    args: &'a [Word],
    with_value: &'static [&'static str],
) -> impl Iterator<Item = (usize, &'a Word)> + 'a {
    let mut skip_next = false;
    args.iter().enumerate().filter(move |(_, w)| {
        if std::mem::take(&mut skip_next) {
            return false;
        }
        if w.text.starts_with('-') {
            skip_next = with_value.contains(&w.text.as_str());
            return false;
        }
        true
    })
}

/// The first operand: the subcommand (`install`, `add`, …).
pub fn subcommand<'a>(
    args: &'a [Word],
    with_value: &'static [&'static str],
) -> Option<(usize, &'a str)> {
    operands(args, with_value)
        .next()
        .map(|(i, w)| (i, w.text.as_str()))
}

/// The package names of an install command's arguments (after the subcommand).
pub fn packages<'a>(args: &'a [Word], with_value: &'static [&'static str]) -> Vec<&'a Word> {
    operands(args, with_value)
        .map(|(_, w)| w)
        .filter(|w| !w.text.contains('$') && !w.text.is_empty())
        .collect()
}
