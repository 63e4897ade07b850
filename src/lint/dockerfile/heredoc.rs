//! Heredocs in `RUN`, `COPY` and `ADD` (`RUN <<EOT`, `COPY <<a <<b /dst/`), found and read as
//! BuildKit's parser does: each word of the instruction's line (split at white space outside
//! quotes) that reads `[n]<<[-]WORD` opens one, in order; its body is the lines that follow the
//! instruction up to a line that is exactly `WORD` (after its leading tabs, with `<<-`). The
//! body is data or a script of its instruction: never instructions of the file.

/// One heredoc and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter, quotes removed.
    pub name: String,
    /// `<<-`: leading tabs are removed from the body and the delimiter line.
    pub chomp: bool,
    /// The delimiter was quoted (`<<'EOT'`, `<<"EOT"`): the body is not expanded.
    pub quoted: bool,
    /// The body: each line followed by `\n` (without its leading tabs, with `<<-`).
    pub body: String,
    /// Where each body line starts in `body`: (offset, line).
    pub lines: Vec<(usize, usize)>,
    /// 1-based line of the delimiter that ends it (the last line, when it is never ended).
    pub end: usize,
    /// Whether its delimiter was found (the engine refuses a heredoc that runs to the end).
    pub terminated: bool,
}

impl Heredoc {
    /// The physical line of a byte offset in `body`.
    pub fn line_at(&self, offset: usize) -> usize {
        super::line_of(&self.lines, offset).unwrap_or(self.end)
    }
}

/// A heredoc opened on an instruction's line, before its body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub name: String,
    pub chomp: bool,
    pub quoted: bool,
}

/// The heredocs an instruction's arguments open, in order.
pub fn markers(args: &str) -> Vec<Marker> {
    if !args.contains("<<") {
        return Vec::new();
    }
    raw_words(args).iter().filter_map(|w| marker(w)).collect()
}

/// `[n]<<[-]WORD`, where WORD (quotes removed) is one non-empty word without `<`.
pub fn marker(word: &str) -> Option<Marker> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = unquote(rest);
    (!name.is_empty()).then(|| Marker {
        quoted: name != rest,
        name,
        chomp,
    })
}

/// Words split at white space outside quotes, quotes and escapes kept.
fn raw_words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    words.push(&text[s..i]);
                }
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => {
                chars.next();
            }
            _ => {}
        }
        start.get_or_insert(i);
    }
    if let Some(s) = start {
        words.push(&text[s..]);
    }
    words
}

/// A word with its quotes and escapes removed.
fn unquote(word: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => out.extend(chars.next()),
            (_, c) => out.push(c),
        }
    }
    out
}

/// Reads the body of `marker` from `lines[next..]`; returns it and the index of the first line
/// after its delimiter.
pub fn read_body(lines: &[&str], mut next: usize, marker: Marker) -> (Heredoc, usize) {
    let mut body = String::new();
    let mut starts = Vec::new();
    while next < lines.len() {
        let line = lines[next];
        let text = if marker.chomp {
            line.trim_start_matches('\t')
        } else {
            line
        };
        next += 1;
        if text == marker.name {
            return (heredoc(marker, body, starts, next, true), next);
        }
        starts.push((body.len(), next));
        body.push_str(text);
        body.push('\n');
    }
    (heredoc(marker, body, starts, next, false), next)
}

fn heredoc(
    marker: Marker,
    body: String,
    lines: Vec<(usize, usize)>,
    end: usize,
    terminated: bool,
) -> Heredoc {
    Heredoc {
        name: marker.name,
        chomp: marker.chomp,
        quoted: marker.quoted,
        body,
        lines,
        end,
        terminated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &str) -> Vec<(String, bool, bool)> {
        markers(args)
            .into_iter()
            .map(|m| (m.name, m.chomp, m.quoted))
            .collect()
    }

    #[test]
    fn markers_are_whole_words() {
        assert_eq!(names("<<EOT"), [("EOT".into(), false, false)]);
        assert_eq!(
            names("<<-'EOT' <<\"x y\" 3<<fd /dst/"),
            [
                ("EOT".into(), true, true),
                ("x y".into(), false, true),
                ("fd".into(), false, false)
            ]
        );
        assert_eq!(
            names("python3 <<EOF > /out"),
            [("EOF".into(), false, false)]
        );
        // Not heredocs: quoted, glued to a word, a here-string, no word, a bare `<<`.
        assert!(names("echo '<<EOF' \"a <<b\" cat<<EOF <<<here << EOF <<-").is_empty());
    }

    #[test]
    fn a_body_runs_to_its_delimiter() {
        let lines = ["RUN <<-EOT", "\techo a", "\t\tFROM x", "\tEOT", "CMD y"];
        let (doc, next) = read_body(&lines, 1, marker("<<-EOT").unwrap());
        assert_eq!(doc.body, "echo a\nFROM x\n");
        assert_eq!(doc.line_at(doc.body.find("FROM").unwrap()), 3);
        assert_eq!((doc.end, next), (4, 4));
        // Without `-`, an indented delimiter is body.
        let (doc, next) = read_body(&lines, 1, marker("<<EOT").unwrap());
        assert_eq!(doc.body, "\techo a\n\t\tFROM x\n\tEOT\nCMD y\n");
        assert_eq!(next, 5);
    }
}
