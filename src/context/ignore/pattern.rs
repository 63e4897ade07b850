//! One `.dockerignore` pattern compiled like moby/patternmatcher's `Pattern.compile`: a regular
//! expression, or one of its exact-, prefix- and suffix-match shortcuts; and the syntax check
//! Go's `filepath.Match` applies first.

use regex::Regex;

#[derive(Debug, Clone)]
pub(super) struct Pattern {
    /// The cleaned pattern without its `!`.
    pub(super) cleaned: String,
    pub(super) exclusion: bool,
    /// Number of `/`-separated components (for the single-level `Matches`).
    pub(super) dirs: usize,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact,
    Prefix,
    Suffix,
    Regex(Regex),
}

impl Pattern {
    /// Compiles a cleaned pattern (without its `!`); `None` when Go would reject its syntax.
    pub(super) fn new(cleaned: String, exclusion: bool) -> Option<Pattern> {
        if !go_match_syntax_ok(&cleaned) {
            return None;
        }
        let matcher = compile(&cleaned)?;
        Some(Pattern {
            dirs: cleaned.split('/').count(),
            cleaned,
            exclusion,
            matcher,
        })
    }

    pub(super) fn is_match(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.cleaned,
            Matcher::Prefix => path.starts_with(&self.cleaned[..self.cleaned.len() - 2]),
            Matcher::Suffix => {
                let suffix = &self.cleaned[2..];
                if path.ends_with(suffix) {
                    return true;
                }
                suffix.starts_with('/') && path == &suffix[1..]
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

#[derive(PartialEq, Clone, Copy)]
enum MatchType {
    Exact,
    Prefix,
    Suffix,
    Regex,
}

/// `Pattern.compile`: the pattern becomes a regular expression unless one of the shortcuts
/// applies. `None` for a pattern Go's regexp would reject.
fn compile(pattern: &str) -> Option<Matcher> {
    let mut c = Compiler {
        chars: pattern.chars().collect(),
        pos: 0,
        re: String::from("^"),
        kind: MatchType::Exact,
    };
    let mut iteration = 0;
    while let Some(ch) = c.bump() {
        match ch {
            '*' => c.star(iteration == 0),
            '?' => c.regex("[^/]"),
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                c.re.push('\\');
                c.re.push(ch);
            }
            '\\' => c.escape(),
            '[' | ']' => c.regex(if ch == '[' { "[" } else { "]" }),
            _ => c.literal(ch),
        }
        iteration += 1;
    }
    c.finish()
}

/// The state of [`compile`]: the characters, the next one, the expression so far and which
/// shortcut still applies.
struct Compiler {
    chars: Vec<char>,
    pos: usize,
    re: String,
    kind: MatchType,
}

impl Compiler {
    fn bump(&mut self) -> Option<char> {
        let ch = self.chars.get(self.pos).copied();
        if ch.is_some() {
            self.pos += 1;
        }
        ch
    }

    fn eat(&mut self, ch: char) -> bool {
        let found = self.chars.get(self.pos) == Some(&ch);
        if found {
            self.pos += 1;
        }
        found
    }

    fn regex(&mut self, re: &str) {
        self.re.push_str(re);
        self.kind = MatchType::Regex;
    }

    /// `*` (within one directory) or `**` (across directories, with an optional `/`).
    fn star(&mut self, first: bool) {
        if !self.eat('*') {
            self.regex("[^/]*");
            return;
        }
        self.eat('/');
        if self.pos < self.chars.len() {
            self.regex("(.*/)?");
        } else if self.kind == MatchType::Exact {
            self.kind = MatchType::Prefix;
        } else {
            self.regex(".*");
        }
        if first {
            self.kind = MatchType::Suffix;
        }
    }

    /// `\` + a character. Go's regexp reads `\` + punctuation as the punctuation itself; Rust's
    /// gives some of them other meanings (`\<`), so write them escaped.
    fn escape(&mut self) {
        match self.bump() {
            Some(next) => {
                if next.is_ascii_alphanumeric() {
                    self.re.push('\\');
                    self.re.push(next);
                } else {
                    self.re.push_str(&regex::escape(&next.to_string()));
                }
                self.kind = MatchType::Regex;
            }
            None => self.re.push_str("\\\\"),
        }
    }

    /// Go passes other characters through: `^` is an anchor there too.
    fn literal(&mut self, ch: char) {
        let mut buf = [0u8; 4];
        let s = ch.encode_utf8(&mut buf);
        if ch.is_alphanumeric() || ch == '/' || ch == '^' || ch == '-' || ch == '_' {
            self.re.push_str(s);
        } else {
            self.re.push_str(&regex::escape(s));
        }
    }

    fn finish(mut self) -> Option<Matcher> {
        Some(match self.kind {
            MatchType::Exact => Matcher::Exact,
            MatchType::Prefix => Matcher::Prefix,
            MatchType::Suffix => Matcher::Suffix,
            MatchType::Regex => {
                self.re.push('$');
                Matcher::Regex(Regex::new(&self.re).ok()?)
            }
        })
    }
}

/// The syntax check `filepath.Match(pattern, ".")` performs: character classes must be closed
/// and non-empty with valid ranges, and a pattern cannot end with a lone `\`.
fn go_match_syntax_ok(pattern: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return false;
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut ranges = 0;
                loop {
                    match chars.get(i) {
                        None => return false,
                        Some(']') if ranges > 0 => {
                            i += 1;
                            break;
                        }
                        _ => {}
                    }
                    let Some(next) = class_char(&chars, &mut i) else {
                        return false;
                    };
                    let _ = next;
                    if chars.get(i) == Some(&'-') {
                        i += 1;
                        if class_char(&chars, &mut i).is_none() {
                            return false;
                        }
                    }
                    ranges += 1;
                }
            }
            _ => i += 1,
        }
    }
    true
}

/// One (possibly escaped) character of a class, like Go's `getEsc`.
fn class_char(chars: &[char], i: &mut usize) -> Option<char> {
    let c = *chars.get(*i)?;
    if c == '-' || c == ']' {
        return None;
    }
    if c == '\\' {
        *i += 1;
        let c = *chars.get(*i)?;
        *i += 1;
        return Some(c);
    }
    *i += 1;
    Some(c)
}
