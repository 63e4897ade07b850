//! Reading the shell commands inside a `RUN`: splitting a command line into simple commands and
//! words (quotes removed, each word with its offset), then the program of a command, its
//! subcommand, its operands and the package names it installs.

/// A word of a shell command, with its byte offset in the instruction's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub offset: usize,
}

/// Splits a shell-form command line into simple commands (at `&&`, `||`, `;`, `|`, `&`,
/// parentheses and braces), each a list of words with quotes removed.
pub fn commands(args: &str) -> Vec<Vec<Word>> {
    let mut s = Splitter::new(args);
    while let Some((pos, c)) = s.next() {
        match c {
            '\'' | '"' => s.quoted(pos, c),
            '\\' => s.escaped(pos),
            c if c.is_whitespace() => s.end_word(),
            '{' | '}' if s.brace_is_word() => s.push(pos, c),
            ';' | '|' | '&' | '(' | ')' | '{' | '}' => s.end_command(),
            c => s.push(pos, c),
        }
    }
    s.end_command();
    s.out
}

/// The state of [`commands`]: the commands so far, the current one and its current word.
struct Splitter {
    chars: Vec<(usize, char)>,
    /// Index in `chars` of the next character.
    next: usize,
    out: Vec<Vec<Word>>,
    current: Vec<Word>,
    word: String,
    /// Where the current word starts, once it has started.
    start: Option<usize>,
}

impl Splitter {
    fn new(text: &str) -> Self {
        Splitter {
            chars: text.char_indices().collect(),
            next: 0,
            out: Vec::new(),
            current: Vec::new(),
            word: String::new(),
            start: None,
        }
    }

    fn next(&mut self) -> Option<(usize, char)> {
        let c = self.chars.get(self.next).copied();
        self.next += 1;
        c
    }

    fn push(&mut self, pos: usize, c: char) {
        self.start.get_or_insert(pos);
        self.word.push(c);
    }

    /// `'…'` (taken as it is) or `"…"` (where a backslash escapes the next character).
    fn quoted(&mut self, pos: usize, quote: char) {
        self.start.get_or_insert(pos);
        while let Some((_, c)) = self.next() {
            if c == quote {
                break;
            }
            if quote == '"' && c == '\\' && self.next < self.chars.len() {
                let (_, escaped) = self.chars[self.next];
                self.next += 1;
                self.word.push(escaped);
            } else {
                self.word.push(c);
            }
        }
    }

    /// A backslash outside quotes: the next character as it is.
    fn escaped(&mut self, pos: usize) {
        self.start.get_or_insert(pos);
        if let Some((_, c)) = self.next() {
            self.word.push(c);
        }
    }

    /// Braces are words unless they stand alone (a group).
    fn brace_is_word(&self) -> bool {
        let alone_before = self.start.is_none();
        let next_blank = self
            .chars
            .get(self.next)
            .is_none_or(|(_, n)| n.is_whitespace() || *n == ';');
        !(alone_before && next_blank)
    }

    fn end_word(&mut self) {
        if let Some(offset) = self.start.take() {
            self.current.push(Word {
                text: std::mem::take(&mut self.word),
                offset,
            });
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        if !self.current.is_empty() {
            self.out.push(std::mem::take(&mut self.current));
        }
    }
}

/// The program of a simple command (after `VAR=value` assignments, `sudo`, `env`, `exec`),
/// and the words after it.
pub fn program(words: &[Word]) -> Option<(&str, &[Word])> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].text.as_str();
        let assignment = w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if assignment || matches!(w, "sudo" | "env" | "exec" | "command" | "nice") {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands_and_quotes() {
        let cmds = commands(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y 'a b' && rm -rf /x; echo \"q;x\" | tee f",
        );
        let words: Vec<Vec<&str>> = cmds
            .iter()
            .map(|c| c.iter().map(|w| w.text.as_str()).collect())
            .collect();
        assert_eq!(
            words,
            vec![
                vec![
                    "DEBIAN_FRONTEND=noninteractive",
                    "apt-get",
                    "install",
                    "-y",
                    "a b"
                ],
                vec!["rm", "-rf", "/x"],
                vec!["echo", "q;x"],
                vec!["tee", "f"],
            ]
        );
        let braces = commands("echo ${HOME} && { true; }");
        assert_eq!(braces[0][1].text, "${HOME}");
    }
}
