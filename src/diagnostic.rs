//! Diagnostics: one problem found in the user's input, with the place it was found and what to
//! do about it, rendered in one style for every kind of input (catalog, templates, lock,
//! Dockerfiles).

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::style::Styles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Where a problem is: a file, a 1-based line and column, and the line's text when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub snippet: Option<Snippet>,
}

/// The text of the offending line and how many characters from the column to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub width: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Box<Location>>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            help: None,
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(Box::new(location));
        self
    }

    pub fn at_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.location = Some(Box::new(Location {
            file: file.into(),
            line: 0,
            column: 0,
            snippet: None,
        }));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col`, or just the file when there is no position.
    pub fn place(&self) -> Option<String> {
        self.location.as_ref().map(|l| {
            if l.line == 0 {
                l.file.display().to_string()
            } else {
                format!("{}:{}:{}", l.file.display(), l.line, l.column)
            }
        })
    }

    /// Render as a few lines in the style of compilers:
    ///
    /// ```text
    /// error: unknown key `parnet` in image `python`
    ///   --> catalog.toml:14:1
    ///    |
    /// 14 | parnet = "base@^1"
    ///    | ^^^^^^
    ///    = help: did you mean `parent`?
    /// ```
    pub fn render(&self, styles: &Styles) -> String {
        let mut out = String::new();
        let (label, style) = match self.severity {
            Severity::Error => ("error", styles.error),
            Severity::Warning => ("warning", styles.warning),
        };
        let _ = writeln!(
            out,
            "{}{label}{}: {}",
            style.render(),
            style.render_reset(),
            self.message
        );
        let gutter = self
            .location
            .as_ref()
            .filter(|l| l.snippet.is_some())
            .map(|l| l.line.to_string().len())
            .unwrap_or(1);
        let pad = " ".repeat(gutter);
        let dim = styles.dim;
        if let Some(place) = self.place() {
            let _ = writeln!(
                out,
                "{pad}{}-->{} {place}",
                dim.render(),
                dim.render_reset()
            );
        }
        if let Some(location) = &self.location
            && let Some(snippet) = &location.snippet
        {
            let (d, r) = (dim.render(), dim.render_reset());
            let _ = writeln!(out, "{pad} {d}|{r}");
            let _ = writeln!(out, "{d}{} |{r} {}", location.line, snippet.text);
            let lead: String = snippet
                .text
                .chars()
                .take(location.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(
                out,
                "{pad} {d}|{r} {lead}{}{}{}",
                style.render(),
                "^".repeat(snippet.width),
                style.render_reset()
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(word.len()))
        .min()
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_message_place_snippet_and_help_without_colour() {
        let d = Diagnostic::error("unknown key `parnet` in image `python`")
            .at(Location {
                file: "catalog.toml".into(),
                line: 14,
                column: 1,
                snippet: Some(Snippet {
                    text: "parnet = \"base@^1\"".into(),
                    width: 6,
                }),
            })
            .help("did you mean `parent`?");
        assert_eq!(
            d.render(&Styles::plain()),
            "error: unknown key `parnet` in image `python`\n  --> catalog.toml:14:1\n   |\n14 | parnet = \"base@^1\"\n   | ^^^^^^\n   = help: did you mean `parent`?\n"
        );
    }

    #[test]
    fn suggests_only_close_words() {
        assert_eq!(
            suggest("parnet", ["parent", "uses"]).as_deref(),
            Some("did you mean `parent`?")
        );
        assert_eq!(suggest("zzzzzz", ["parent", "uses"]), None);
    }
}
