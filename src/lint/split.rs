//! Splitting the shell text inside a `RUN` (a command line, or a script over several lines)
//! into simple commands and words (quotes removed, each word with its offset), and finding its
//! pipes: outside quotes, comments and heredoc bodies, inside `"$(…)"`, not between the
//! alternatives of a `case` item.

/// A word of a shell command, with its byte offset in the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub offset: usize,
}

/// Splits shell text into simple commands (at `&&`, `||`, `;`, `|`, `&`, parentheses, braces
/// and line ends), each a list of words with quotes removed. Comments (`#` starting a word) and
/// the bodies of heredocs inside the text (`cat <<EOF` … `EOF`) are not commands; a backslash
/// before a line end continues the line.
pub fn commands(text: &str) -> Vec<Vec<Word>> {
    split(text).out
}

/// Where the text pipes one command into another (`|`, `|&`; not `||`), outside quotes,
/// comments and heredoc bodies: byte offsets.
pub fn pipes(text: &str) -> Vec<usize> {
    split(text).pipes
}

fn split(text: &str) -> Splitter {
    let mut s = Splitter::new(text);
    while let Some((pos, c)) = s.next() {
        match c {
            '\'' | '"' => s.quoted(pos, c),
            '\\' => s.escaped(pos),
            '\n' => {
                s.end_command();
                s.skip_heredoc_bodies();
            }
            '#' if s.start.is_none() => s.comment(),
            c if c.is_whitespace() => s.end_word(),
            '{' | '}' if s.brace_is_word() => s.push(pos, c),
            '|' if s.is_case_alternative() => s.push(pos, c),
            '|' => {
                if s.peek() == Some('|') {
                    s.next += 1;
                } else {
                    s.pipes.push(pos);
                }
                s.end_command();
            }
            ';' | '&' | '(' | ')' | '{' | '}' => s.end_command(),
            c => s.push(pos, c),
        }
    }
    s.end_command();
    s
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
    /// The current word starts with an unquoted character (it may be a `<<` operator).
    bare: bool,
    /// Heredocs opened on the current line: (delimiter, `<<-`), and whether the next word is a
    /// delimiter (after a lone `<<`).
    heredocs: Vec<(String, bool)>,
    delimiter_next: Option<bool>,
    /// Offsets of the pipes seen.
    pipes: Vec<usize>,
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
            bare: false,
            heredocs: Vec::new(),
            delimiter_next: None,
            pipes: Vec::new(),
        }
    }

    fn next(&mut self) -> Option<(usize, char)> {
        let c = self.chars.get(self.next).copied();
        self.next += 1;
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.next).map(|(_, c)| *c)
    }

    /// Starts the current word at `pos` unless it has started.
    fn begin(&mut self, pos: usize, bare: bool) {
        if self.start.is_none() {
            self.start = Some(pos);
            self.bare = bare;
        }
    }

    fn push(&mut self, pos: usize, c: char) {
        self.begin(pos, true);
        self.word.push(c);
    }

    /// `'…'` (taken as it is) or `"…"` (where a backslash escapes the next character, and a
    /// backslash before a line end removes both).
    fn quoted(&mut self, pos: usize, quote: char) {
        self.begin(pos, false);
        // Inside `"…$(…)…"`: the depth of command substitutions, and whether a quote opened in
        // one is open (its pipes are pipes, its quotes do not end the word).
        let mut depth = 0;
        let mut inner = false;
        while let Some((at, c)) = self.next() {
            if c == quote && depth == 0 {
                break;
            }
            if quote == '"' {
                match c {
                    '"' => inner = !inner,
                    '$' if !inner && self.peek() == Some('(') => depth += 1,
                    ')' if !inner && depth > 0 => depth -= 1,
                    '|' if !inner && depth > 0 => {
                        if self.peek() == Some('|') {
                            self.next += 1;
                            self.word.push_str("||");
                            continue;
                        }
                        self.pipes.push(at);
                    }
                    _ => {}
                }
            }
            if quote == '"' && c == '\\' && self.next < self.chars.len() {
                let (_, escaped) = self.chars[self.next];
                self.next += 1;
                if escaped != '\n' {
                    self.word.push(escaped);
                }
            } else {
                self.word.push(c);
            }
        }
    }

    /// Whether the `|` just read separates the patterns of a `case` item (`x86_64|aarch64)`):
    /// written against the word before it, and the word after it ends the pattern with `)`.
    fn is_case_alternative(&self) -> bool {
        let before = self.next.checked_sub(2).map(|i| self.chars[i].1);
        if before.is_none_or(char::is_whitespace) {
            return false;
        }
        let rest = self.chars[self.next..]
            .iter()
            .map(|(_, c)| *c)
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|'));
        rest.last() == Some(')')
    }

    /// A backslash outside quotes: the next character as it is; before a line end, both go
    /// (the line continues).
    fn escaped(&mut self, pos: usize) {
        if self.peek() == Some('\n') {
            self.next += 1;
            return;
        }
        self.begin(pos, false);
        if let Some((_, c)) = self.next() {
            self.word.push(c);
        }
    }

    /// A comment runs to the end of the line (which still ends the command).
    fn comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.next += 1;
        }
    }

    /// Braces are words unless they stand alone (a group).
    fn brace_is_word(&self) -> bool {
        let alone_before = self.start.is_none();
        let next_blank = self.peek().is_none_or(|n| n.is_whitespace() || n == ';');
        !(alone_before && next_blank)
    }

    fn end_word(&mut self) {
        if let Some(offset) = self.start.take() {
            let text = std::mem::take(&mut self.word);
            self.note_heredoc(&text);
            self.current.push(Word { text, offset });
        }
    }

    /// Remembers the heredocs a word opens: `<<EOF`, `<<-'EOF'`, or `<<` then `EOF`.
    fn note_heredoc(&mut self, text: &str) {
        if let Some(chomp) = self.delimiter_next.take() {
            self.heredocs.push((text.to_string(), chomp));
            return;
        }
        let Some(rest) = text
            .strip_prefix("<<")
            .filter(|r| self.bare && !r.starts_with('<'))
        else {
            return;
        };
        let (chomp, rest) = match rest.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let name: String = rest
            .chars()
            .take_while(|c| !matches!(c, '<' | '>'))
            .collect();
        if name.is_empty() {
            self.delimiter_next = Some(chomp);
        } else {
            self.heredocs.push((name, chomp));
        }
    }

    /// At a line end: skips the bodies of the heredocs the line opened, each up to its
    /// delimiter line.
    fn skip_heredoc_bodies(&mut self) {
        self.delimiter_next = None;
        for (name, chomp) in std::mem::take(&mut self.heredocs) {
            while self.next < self.chars.len() {
                let line: String = self.chars[self.next..]
                    .iter()
                    .map(|(_, c)| *c)
                    .take_while(|c| *c != '\n')
                    .collect();
                self.next += line.chars().count() + 1;
                let line = if chomp {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line == name {
                    break;
                }
            }
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        if !self.current.is_empty() {
            self.out.push(std::mem::take(&mut self.current));
        }
    }
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

    fn texts(text: &str) -> Vec<Vec<String>> {
        commands(text)
            .iter()
            .map(|c| c.iter().map(|w| w.text.clone()).collect())
            .collect()
    }

    #[test]
    fn scripts_over_several_lines() {
        let script = "set -e # strict\n# apt-get update in a comment\napt-get install -y \\\n    curl \"a\\\nb\"\necho '#not a comment' x#y\n";
        assert_eq!(
            texts(script),
            [
                vec!["set", "-e"],
                vec!["apt-get", "install", "-y", "curl", "ab"],
                vec!["echo", "#not a comment", "x#y"],
            ]
        );
        let curl = commands(script)[1][3].offset;
        assert_eq!(&script[curl..curl + 4], "curl");
    }

    #[test]
    fn pipes_are_found_outside_quotes_comments_and_heredocs() {
        let text = "a | b || c && d |& e; echo 'x | y' \"|\" # f | g\ncat <<EOF\nh | i\nEOF\nj|k\n";
        let found: Vec<&str> = pipes(text).iter().map(|&p| &text[p..p + 2]).collect();
        assert_eq!(found, ["| ", "|&", "|k"]);
        // In a command substitution inside double quotes, a pipe is one; a case item's
        // alternatives are not.
        let text = "deps=\"$(scanelf x | awk '{ print \"so:\" $1 }' || true)\"; case $a in x86_64|arm64) b ;; esac\n";
        let found: Vec<usize> = pipes(text);
        assert_eq!(found, [text.find("| awk").unwrap()]);
    }

    #[test]
    fn heredoc_bodies_inside_a_script_are_skipped() {
        assert_eq!(
            texts("cat > /a <<'EOF' && cat > /b << -X\napt-get update\nEOF\napk add x\n-X\ntrue\n"),
            [
                vec!["cat", ">", "/a", "<<EOF"],
                vec!["cat", ">", "/b", "<<", "-X"],
                vec!["true"],
            ]
        );
        assert_eq!(
            texts("cat <<-EOF>/x\n\tapk add y\n\tEOF\ngrep a <<<\"b\"\necho \"<<EOF\"\nnext\n"),
            [
                vec!["cat", "<<-EOF>/x"],
                vec!["grep", "a", "<<<b"],
                vec!["echo", "<<EOF"],
                vec!["next"],
            ]
        );
    }
}
