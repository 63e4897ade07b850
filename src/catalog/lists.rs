//! The lists of an image entry: `uses` (dependencies, each once, no two passed as the same
//! `HIER_USES_*` build argument), `provides`, extra `tags` and `test` commands.

use super::fields::parse_dependency;
use super::image::{EntryReader, check_tag_lengths};
use super::value::Problems;
use super::{Dependency, Span};
use crate::reference::is_tag;

impl EntryReader<'_, '_> {
    pub(super) fn uses(&mut self, p: &mut Problems) -> Vec<Dependency> {
        let mut uses: Vec<Dependency> = Vec::new();
        for (text, span) in self.t.strings(p, "uses").unwrap_or_default() {
            match parse_dependency(&text, span.clone()) {
                Ok(dep) if uses.iter().any(|d| d.name == dep.name) => p.error(
                    span,
                    format!("`uses` of {} names `{}` twice", self.what, dep.name),
                ),
                Ok(dep) => match uses.iter().find(|d| d.name.uses_arg() == dep.name.uses_arg()) {
                    Some(first) => p.error_help(
                        span,
                        format!(
                            "`uses` of {} names `{}` and `{}`, which are both passed as the build argument {}",
                            self.what,
                            first.name,
                            dep.name,
                            dep.name.uses_arg()
                        ),
                        "a hand-written Dockerfile could not tell them apart; use one of them, or rename the other image",
                    ),
                    None => uses.push(dep),
                },
                Err(e) => p.error(span, format!("`uses` of {}: {e}", self.what)),
            }
        }
        uses
    }

    /// `provides`: `name` or `name=version`, trimmed, each once.
    pub(super) fn provides(&mut self, p: &mut Problems) -> Vec<String> {
        let Some(list) = self.t.strings(p, "provides") else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for (item, span) in list {
            let item = item.trim().to_string();
            if item.is_empty() || item.contains(char::is_whitespace) || item.starts_with('=') {
                p.error_help(
                    span,
                    format!("invalid entry `{item}` in `provides` of {}", self.what),
                    "write `name` or `name=version`, e.g. `python=3.12`",
                );
            } else if !out.contains(&item) {
                out.push(item);
            }
        }
        out
    }

    /// Extra `tags`: valid Docker tags, never `latest`, each once; and every tag of the version
    /// (when it could be read, with its span) short enough.
    pub(super) fn tags(
        &mut self,
        p: &mut Problems,
        version: Option<&(semver::Version, Span)>,
    ) -> Vec<String> {
        let mut tags = Vec::new();
        for (tag, span) in self.t.strings(p, "tags").unwrap_or_default() {
            if tag == "latest" {
                p.error_help(
                    span,
                    format!("{} asks for the tag `latest`", self.what),
                    "hier never tags `latest`: it names nothing stable; pick a tag that says what it is",
                );
            } else if !is_tag(&tag) {
                p.error(
                    span,
                    format!(
                        "invalid tag `{tag}` of {} (letters, digits, `_`, `.`, `-`; at most 128)",
                        self.what
                    ),
                );
            } else if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if let Some((version, span)) = version {
            check_tag_lengths(p, version, span, &tags, &self.what);
        }
        tags
    }

    /// `test`: commands, none empty.
    pub(super) fn test(&mut self, p: &mut Problems) -> Vec<String> {
        let Some(list) = self.t.strings(p, "test") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (cmd, span) in list {
            if cmd.trim().is_empty() {
                p.error(
                    span,
                    format!("an entry of `test` of {} is empty", self.what),
                );
            } else {
                out.push(cmd);
            }
        }
        out
    }
}
