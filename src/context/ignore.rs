//! `.dockerignore` exactly as the docker CLI applies it to a legacy build's context: the file is
//! read like `ignorefile.ReadAll`, patterns compile like moby/patternmatcher (including its
//! exact-, prefix- and suffix-match shortcuts), and the walker matches with the per-directory
//! results of the parent (`MatchesUsingParentResults`), which is what decides the tar's content.

use regex::Regex;

/// The compiled patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    list: Vec<Pattern>,
    exclusions: bool,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern without its `!`.
    cleaned: String,
    exclusion: bool,
    /// Number of `/`-separated components (for the single-level `Matches`).
    dirs: usize,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact,
    Prefix,
    Suffix,
    Regex(Regex),
    /// A pattern Go's regexp would reject: an error the first time it is used.
    Bad,
}

/// Per-pattern results for a directory, handed to its entries.
pub type ParentMatches = Vec<bool>;

/// A `.dockerignore` problem: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreError {
    pub line: usize,
    pub message: String,
}

/// Reads `.dockerignore` text into patterns (with the line each came from), like `ReadAll`.
pub fn read_lines(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with('#') {
            continue;
        }
        let mut pattern = raw.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut p = String::new();
        if !pattern.is_empty() {
            p = go_clean(pattern);
            if p.len() > 1 && p.starts_with('/') {
                p.remove(0);
            }
        }
        if invert {
            p.insert(0, '!');
        }
        out.push((i + 1, p));
    }
    out
}

impl Patterns {
    /// Compiles the lines of a `.dockerignore`, like `patternmatcher.New`.
    pub fn new(lines: &[(usize, String)]) -> Result<Patterns, IgnoreError> {
        let mut patterns = Patterns::default();
        for (line, text) in lines {
            patterns.push(*line, text)?;
        }
        Ok(patterns)
    }

    fn push(&mut self, line: usize, text: &str) -> Result<(), IgnoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        let mut p = go_clean(text);
        let mut exclusion = false;
        if let Some(rest) = p.strip_prefix('!') {
            if rest.is_empty() {
                return Err(IgnoreError {
                    line,
                    message: "illegal exclusion pattern: \"!\"".into(),
                });
            }
            exclusion = true;
            p = rest.to_string();
            self.exclusions = true;
        }
        if !go_match_syntax_ok(&p) {
            return Err(IgnoreError {
                line,
                message: format!("syntax error in pattern `{p}`"),
            });
        }
        let matcher = compile(&p);
        if matches!(matcher, Matcher::Bad) {
            return Err(IgnoreError {
                line,
                message: format!("syntax error in pattern `{p}`"),
            });
        }
        self.list.push(Pattern {
            dirs: p.split('/').count(),
            cleaned: p,
            exclusion,
            matcher,
        });
        Ok(())
    }

    /// Appends the exceptions the docker CLI adds so that `.dockerignore` and the Dockerfile
    /// are always sent (`TrimBuildFilesFromExcludes`, which uses the single-level `Matches`).
    pub fn keep_build_files(&mut self, dockerfile: Option<&str>) {
        if self.matches_single_level(".dockerignore") {
            let _ = self.push(0, "!.dockerignore");
        }
        if let Some(dockerfile) = dockerfile
            && self.matches_single_level(dockerfile)
        {
            let _ = self.push(0, &format!("!{dockerfile}"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// The deprecated `Matches`: a pattern is tried on the path and on its ancestor with as
    /// many components as the pattern has.
    fn matches_single_level(&self, file: &str) -> bool {
        let parent = go_dir(file);
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for pattern in &self.list {
            if pattern.exclusion != matched {
                continue;
            }
            let mut hit = pattern.is_match(file);
            if !hit && parent != "." && pattern.dirs <= parent_dirs.len() {
                hit = pattern.is_match(&parent_dirs[..pattern.dirs].join("/"));
            }
            if hit {
                matched = !pattern.exclusion;
            }
        }
        matched
    }

    /// `MatchesUsingParentResults`: whether `file` (relative, `/`-separated) is excluded, and
    /// the per-pattern results to hand to its entries if it is a directory. `parent` is `None`
    /// for entries at the top of the context.
    pub fn matches(&self, file: &str, parent: Option<&ParentMatches>) -> (bool, ParentMatches) {
        let mut matched = false;
        let mut info = vec![false; self.list.len()];
        for (i, pattern) in self.list.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p.get(i).copied().unwrap_or(false));
            if !hit {
                if pattern.exclusion != matched {
                    continue;
                }
                hit = pattern.is_match(file);
                if !hit && parent.is_none() {
                    let dir = go_dir(file);
                    if dir != "." {
                        let parts: Vec<&str> = dir.split('/').collect();
                        for n in 1..=parts.len() {
                            if pattern.is_match(&parts[..n].join("/")) {
                                hit = true;
                                break;
                            }
                        }
                    }
                }
            }
            info[i] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        (matched, info)
    }

    /// Whether the walker descends into an excluded directory: only when the text of some
    /// exception pattern starts with `dir/` (a literal prefix test, as the docker CLI does).
    pub fn descend_excluded(&self, dir: &str) -> bool {
        if !self.exclusions {
            return false;
        }
        let dir_slash = format!("{dir}/");
        self.list
            .iter()
            .filter(|p| p.exclusion)
            .any(|p| format!("{}/", p.cleaned).starts_with(&dir_slash))
    }
}

impl Pattern {
    fn is_match(&self, path: &str) -> bool {
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
            Matcher::Bad => false,
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
/// applies.
fn compile(pattern: &str) -> Matcher {
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from("^");
    let mut kind = MatchType::Exact;
    let mut pos = 0;
    let mut iteration = 0;
    while pos < chars.len() {
        let ch = chars[pos];
        pos += 1;
        if ch == '*' {
            if chars.get(pos) == Some(&'*') {
                pos += 1;
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos >= chars.len() {
                    if kind == MatchType::Exact {
                        kind = MatchType::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = MatchType::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = MatchType::Regex;
                }
                if iteration == 0 {
                    kind = MatchType::Suffix;
                }
            } else {
                re.push_str("[^/]*");
                kind = MatchType::Regex;
            }
        } else if ch == '?' {
            re.push_str("[^/]");
            kind = MatchType::Regex;
        } else if matches!(ch, '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$') {
            re.push('\\');
            re.push(ch);
        } else if ch == '\\' {
            match chars.get(pos) {
                Some(&next) => {
                    pos += 1;
                    // Go's regexp reads `\` + punctuation as the punctuation itself; Rust's
                    // gives some of them other meanings (`\<`), so write them escaped.
                    if next.is_ascii_alphanumeric() {
                        re.push('\\');
                        re.push(next);
                    } else {
                        re.push_str(&regex::escape(&next.to_string()));
                    }
                    kind = MatchType::Regex;
                }
                None => re.push_str("\\\\"),
            }
        } else if ch == '[' || ch == ']' {
            re.push(ch);
            kind = MatchType::Regex;
        } else {
            // Go passes other characters through: `^` is an anchor there too.
            let mut buf = [0u8; 4];
            let s = ch.encode_utf8(&mut buf);
            if ch.is_alphanumeric() || ch == '/' || ch == '^' || ch == '-' || ch == '_' {
                re.push_str(s);
            } else {
                re.push_str(&regex::escape(s));
            }
        }
        iteration += 1;
    }
    match kind {
        MatchType::Exact => Matcher::Exact,
        MatchType::Prefix => Matcher::Prefix,
        MatchType::Suffix => Matcher::Suffix,
        MatchType::Regex => {
            re.push('$');
            match Regex::new(&re) {
                Ok(re) => Matcher::Regex(re),
                Err(_) => Matcher::Bad,
            }
        }
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

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            part => out.push(part),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Dir` for relative `/`-separated paths.
fn go_dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => go_clean(&path[..i]),
        None => ".".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(text: &str) -> Patterns {
        Patterns::new(&read_lines(text)).unwrap()
    }

    /// Excluded as the tar walker decides, walking down from the top.
    fn excluded(p: &Patterns, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let mut info: Option<ParentMatches> = None;
        let mut result = false;
        for n in 1..=parts.len() {
            let (m, i) = p.matches(&parts[..n].join("/"), info.as_ref());
            result = m;
            info = Some(i);
        }
        result
    }

    #[test]
    fn reads_lines_like_the_docker_cli() {
        let lines = read_lines(
            "\u{feff}# comment\n  # not a comment\n\n/abs/\n! ./keep//me \r\n./x/../y\n",
        );
        let texts: Vec<&str> = lines.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["# not a comment", "abs", "!keep/me", "y"]);
        assert_eq!(lines[1].0, 4);
    }

    #[test]
    fn go_clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("a//b/./c/..", "a/b"),
            ("/../x", "/x"),
            ("../x", "../x"),
            ("./", "."),
            ("/", "/"),
            ("a/../..", ".."),
        ] {
            assert_eq!(go_clean(input), want, "{input}");
        }
    }

    #[test]
    fn star_stays_in_one_directory_and_double_star_crosses() {
        let p = patterns("*.log\n**/*.tmp\n");
        assert!(excluded(&p, "a.log"));
        assert!(!excluded(&p, "dir/a.log"));
        assert!(excluded(&p, "x.tmp"));
        assert!(excluded(&p, "dir/sub/x.tmp"));
    }

    #[test]
    fn shortcuts_behave_like_patternmatcher() {
        // `**foo` is a plain suffix test; `foo**` a plain prefix test.
        assert!(excluded(&patterns("**foo"), "xfoo"));
        assert!(excluded(&patterns("foo**"), "foobar/x"));
        // `**/foo` matches `foo` at the top and below.
        let p = patterns("**/foo");
        assert!(excluded(&p, "foo"));
        assert!(excluded(&p, "a/b/foo"));
        assert!(!excluded(&p, "afoo"));
        // `a**b` is `^a(.*/)?b$`.
        let p = patterns("a**b");
        assert!(excluded(&p, "ab"));
        assert!(excluded(&p, "ax/b"));
        assert!(!excluded(&p, "axb"));
    }

    #[test]
    fn a_directory_pattern_excludes_its_contents() {
        let p = patterns("build\n");
        assert!(excluded(&p, "build"));
        assert!(excluded(&p, "build/out/x.o"));
        assert!(!excluded(&p, "builder"));
    }

    #[test]
    fn exceptions_and_the_last_match_wins() {
        let p = patterns("*.md\n!README.md\nREADME*.md\n");
        assert!(excluded(&p, "a.md"));
        assert!(excluded(&p, "README.md"));
        let p = patterns("*.md\n!README.md\n");
        assert!(!excluded(&p, "README.md"));
    }

    #[test]
    fn parent_results_differ_from_a_full_ancestor_scan() {
        // The docker CLI's walker excludes d/f here (the `!d` bit was never recorded for `d`).
        let p = patterns("**/f\n!d\n");
        assert!(excluded(&p, "d/f"));
    }

    #[test]
    fn excluded_directories_are_entered_only_for_literal_exceptions() {
        let p = patterns("sub\n!sub/keep.txt\n");
        assert!(p.descend_excluded("sub"));
        assert!(!excluded(&p, "sub/keep.txt"));
        assert!(excluded(&p, "sub/other.txt"));
        let p = patterns("sub\n!**/keep.txt\n");
        assert!(!p.descend_excluded("sub"));
    }

    #[test]
    fn build_files_are_kept() {
        let mut p = patterns("*\n");
        p.keep_build_files(Some("Dockerfile"));
        assert!(!excluded(&p, ".dockerignore"));
        assert!(!excluded(&p, "Dockerfile"));
        assert!(excluded(&p, "other"));
    }

    #[test]
    fn classes_escapes_and_errors() {
        let p = patterns("[a-c].txt\n\\*star\n");
        assert!(excluded(&p, "b.txt"));
        assert!(!excluded(&p, "d.txt"));
        assert!(excluded(&p, "*star"));
        assert!(!excluded(&p, "xstar"));
        assert_eq!(
            Patterns::new(&read_lines("ok\n!\n")).unwrap_err(),
            IgnoreError {
                line: 2,
                message: "illegal exclusion pattern: \"!\"".into()
            }
        );
        assert_eq!(Patterns::new(&read_lines("[abc\n")).unwrap_err().line, 1);
        assert!(Patterns::new(&read_lines("[]\n")).is_err());
        assert!(Patterns::new(&read_lines("trailing\\\n")).is_err());
    }
}
