//! Source text of the files hier reads (catalog, templates, lock), the mapping from byte
//! offsets to the `line:column` positions its messages print, and how a path is shown: relative
//! to the working directory, or to the repository's root when hier found the catalog in a
//! folder above the working directory.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A file's text plus the path under which messages name it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the working directory when possible).
    pub display: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(display: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            display,
            text,
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count()
            + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// The byte offset of a 1-based line and a 0-based column counted in characters (the end
    /// of the line when it is shorter, the end of the file past its last line).
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let text = self.line_text(line);
        start
            + text
                .char_indices()
                .nth(column)
                .map_or(text.len(), |(i, _)| i)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// A location for a byte range, with the line's text for the snippet.
    pub fn locate(&self, span: Range<usize>) -> crate::diagnostic::Location {
        let start = self.position(span.start);
        let line_text = self.line_text(start.line).to_string();
        // Underline at most to the end of the first line of the span.
        let end = if span.end > span.start {
            let end = self.position(span.end);
            if end.line == start.line {
                end.column
            } else {
                line_text.chars().count() + 1
            }
        } else {
            start.column + 1
        };
        crate::diagnostic::Location {
            file: self.display.clone(),
            line: start.line,
            column: start.column,
            snippet: Some(crate::diagnostic::Snippet {
                text: line_text,
                width: end.saturating_sub(start.column).max(1),
            }),
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The folder paths are shown from, when it is not the working directory.
static SHOWN_FROM: OnceLock<PathBuf> = OnceLock::new();

/// Shows every path from now on relative to `root` (absolute): hier found the catalog in a
/// folder above the working directory, and shows paths as it would from the repository's root.
pub fn show_paths_from(root: &Path) {
    let _ = SHOWN_FROM.set(root.to_path_buf());
}

/// The path to show for a file: relative to the folder paths are shown from (the working
/// directory, unless [`show_paths_from`] said otherwise) when it lies below it.
pub fn display_path(path: &Path) -> PathBuf {
    if path.is_relative() {
        return path.to_path_buf();
    }
    let base = match SHOWN_FROM.get() {
        Some(root) => root.clone(),
        None => match std::env::current_dir() {
            Ok(cwd) => cwd,
            Err(_) => return path.to_path_buf(),
        },
    };
    match path.strip_prefix(&base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let file = SourceFile::new("x".into(), "ab\nçd = 1\n\nlast".into());
        assert_eq!(file.position(0), Position { line: 1, column: 1 });
        assert_eq!(file.position(3), Position { line: 2, column: 1 });
        // 'ç' is two bytes: the offset of 'd' is 5, its column 2.
        assert_eq!(file.position(5), Position { line: 2, column: 2 });
        assert_eq!(file.position(12), Position { line: 4, column: 1 });
        assert_eq!(file.line_text(2), "çd = 1");
        assert_eq!(file.line_text(3), "");
        assert_eq!(file.line_text(4), "last");
    }

    #[test]
    fn locate_underlines_the_span_on_its_first_line() {
        let file = SourceFile::new("c.toml".into(), "[a]\nkey = \"value\"\n".into());
        let loc = file.locate(10..17);
        assert_eq!((loc.line, loc.column), (2, 7));
        assert_eq!(loc.snippet.unwrap().width, 7);
    }
}
