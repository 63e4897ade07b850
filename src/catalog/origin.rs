//! Where an image comes from and how it is built: exactly one of `parent` / `from` (with
//! `refresh` for a base only), exactly one of `template` / `dockerfile`, and the `test_spec`
//! file beside them.

use super::fields::{check_from, parse_dependency, relative_path};
use super::image::EntryReader;
use super::value::Problems;
use super::{Origin, Recipe, Refresh, Span, TestSpec};

impl EntryReader<'_, '_> {
    /// Exactly one of `parent` / `from`; `refresh` only with `from`.
    pub(super) fn origin(&mut self, p: &mut Problems) -> Option<Origin> {
        let from = self.t.string(p, "from");
        let parent = self.t.string(p, "parent");
        let refresh = self.t.string(p, "refresh");
        let what = &self.what;
        match (from, parent) {
            (Some(_), Some((_, span))) => {
                p.error_help(
                    span,
                    format!("{what} has both `from` and `parent`"),
                    "a base has `from` (an external image); any other image has `parent`",
                );
                None
            }
            (None, None) => {
                if !self.t.contains("from") && !self.t.contains("parent") {
                    p.error_help(
                        self.span.clone(),
                        format!("{what} has neither `parent` nor `from`"),
                        "add `parent = \"<image>\"`, or `from = \"<repo>:<tag>\"` for a base",
                    );
                }
                None
            }
            (Some((from, span)), None) => self.base(p, from, span, refresh),
            (None, Some((parent, span))) => self.parent(p, parent, span, refresh),
        }
    }

    fn base(
        &self,
        p: &mut Problems,
        from: String,
        span: Span,
        refresh: Option<(String, Span)>,
    ) -> Option<Origin> {
        let refresh = match refresh {
            None => Some(Refresh::Nightly),
            Some((r, span)) => self.refresh(p, &r, span),
        };
        match check_from(&from) {
            Ok(()) => refresh.map(|refresh| Origin::Base {
                from,
                from_span: span,
                refresh,
            }),
            Err((message, help)) => {
                p.error_help(span, format!("`from` of {}: {message}", self.what), help);
                None
            }
        }
    }

    fn refresh(&self, p: &mut Problems, refresh: &str, span: Span) -> Option<Refresh> {
        match refresh {
            "nightly" => Some(Refresh::Nightly),
            "weekly" => Some(Refresh::Weekly),
            "manual" => Some(Refresh::Manual),
            _ => {
                p.error_help(
                    span,
                    format!("invalid `refresh` `{refresh}` of {}", self.what),
                    "use `nightly`, `weekly` or `manual`",
                );
                None
            }
        }
    }

    fn parent(
        &self,
        p: &mut Problems,
        parent: String,
        span: Span,
        refresh: Option<(String, Span)>,
    ) -> Option<Origin> {
        if let Some((_, rspan)) = refresh {
            p.error_help(
                rspan,
                format!(
                    "`refresh` applies to bases only, and {} is not one",
                    self.what
                ),
                "remove it: images below a base are refreshed when their base is",
            );
        }
        match parse_dependency(&parent, span.clone()) {
            Ok(dep) => Some(Origin::Parent(dep)),
            Err(e) => {
                p.error(span, format!("`parent` of {}: {e}", self.what));
                None
            }
        }
    }

    /// Exactly one of `template` / `dockerfile`.
    pub(super) fn recipe(&mut self, p: &mut Problems) -> Option<Recipe> {
        let template = self.t.string(p, "template");
        let dockerfile = self.t.string(p, "dockerfile");
        let what = &self.what;
        match (template, dockerfile) {
            (Some(_), Some((_, span))) => {
                p.error_help(
                    span,
                    format!("{what} has both `template` and `dockerfile`"),
                    "keep one: a template hier renders, or a hand-written Dockerfile",
                );
                None
            }
            (None, None) => {
                if !self.t.contains("template") && !self.t.contains("dockerfile") {
                    p.error_help(
                        self.span.clone(),
                        format!("{what} has neither `template` nor `dockerfile`"),
                        "add `template = \"<file>.hbs\"` or `dockerfile = \"<path>\"`",
                    );
                }
                None
            }
            (Some((name, span)), None) => {
                let name = self.recipe_path(p, "template", &name, &span)?;
                Some(Recipe::Template { name, span })
            }
            (None, Some((path, span))) => {
                let path = self.recipe_path(p, "dockerfile", &path, &span)?;
                Some(Recipe::Dockerfile { path, span })
            }
        }
    }

    /// `test_spec`: a structure-test file, relative, inside the repository (read by the
    /// repository, which fills in [`TestSpec::spec`]).
    pub(super) fn test_spec(&mut self, p: &mut Problems) -> Option<TestSpec> {
        let (path, span) = self.t.string(p, "test_spec")?;
        let path = self.recipe_path(p, "test_spec", &path, &span)?;
        Some(TestSpec {
            path,
            span,
            spec: None,
        })
    }

    /// A template name or Dockerfile path: relative, inside the repository, not empty.
    fn recipe_path(&self, p: &mut Problems, key: &str, path: &str, span: &Span) -> Option<String> {
        match relative_path(path) {
            Ok(path) if !path.is_empty() => Some(path),
            Ok(_) => {
                p.error(span.clone(), format!("`{key}` of {} is empty", self.what));
                None
            }
            Err(e) => {
                p.error(span.clone(), format!("`{key}` of {}: {e}", self.what));
                None
            }
        }
    }
}
