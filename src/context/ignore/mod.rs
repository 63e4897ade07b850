//! `.dockerignore` exactly as the docker CLI applies it to a legacy build's context: the file is
//! read like `ignorefile.ReadAll`, patterns compile like moby/patternmatcher (including its
//! exact-, prefix- and suffix-match shortcuts), and the walker matches with the per-directory
//! results of the parent (`MatchesUsingParentResults`), which is what decides the tar's content.

mod gopath;
mod pattern;

use gopath::{go_clean, go_dir};
use pattern::Pattern;

/// The compiled patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    list: Vec<Pattern>,
    exclusions: bool,
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
        let message = format!("syntax error in pattern `{p}`");
        let pattern = Pattern::new(p, exclusion).ok_or(IgnoreError { line, message })?;
        self.list.push(pattern);
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
