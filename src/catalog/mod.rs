//! The catalog: `catalog.toml` turned into checked values. `parse` reads the TOML (with spans, so
//! every problem can name its line and column): the `[catalog]` table (`settings`), each image
//! entry (`image`, `origin`, `lists`), build secrets (`secrets`), with the field readers they
//! share (`fields`, `value`); `check` validates what needs every entry (edges, version
//! requirements). Nothing here touches the filesystem, nor reads any secret's value.

mod check;
mod fields;
mod image;
mod lists;
mod origin;
mod parse;
mod secrets;
mod settings;
pub(crate) mod value;

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde_json::Map;

pub use parse::parse;

use crate::name::ImageName;
use crate::source::SourceFile;

/// Byte range in `catalog.toml`.
pub type Span = Range<usize>;

#[derive(Debug, Clone)]
pub struct Catalog {
    pub source: SourceFile,
    pub name: String,
    pub registry: String,
    pub mirrors: Vec<String>,
    /// Folder of templates, relative to the repository root.
    pub templates: String,
    /// Where `templates` is set in `[catalog]`, if it is.
    pub templates_span: Option<Span>,
    /// Folder holding `<name>/` build contexts and rendered Dockerfiles.
    pub images_dir: String,
    /// Where `images` is set in `[catalog]`, if it is.
    pub images_span: Option<Span>,
    pub platform: String,
    /// How images are built (`[catalog] builder`); not an input of any image.
    pub builder: Builder,
    /// The kinds an image may have (`[catalog] kinds`, [`DEFAULT_KINDS`] by default).
    pub kinds: Vec<String>,
    pub vars: Map<String, serde_json::Value>,
    pub labels: BTreeMap<String, String>,
    /// Build secrets by id (`[catalog.secrets]`): where each value comes from at build time.
    pub secrets: BTreeMap<String, Secret>,
    /// Images in the order the file declares them.
    pub images: Vec<Image>,
    /// Index into `images` by name.
    pub index: BTreeMap<ImageName, usize>,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Option<&Image> {
        self.index.get(name).map(|&i| &self.images[i])
    }

    /// The image a name refers to; the caller checked the name exists.
    pub fn image(&self, name: &ImageName) -> &Image {
        &self.images[self.index[name]]
    }

    /// `<registry>/<name>`, the repository every tag of this image lives in.
    pub fn repository(&self, name: &ImageName) -> String {
        format!("{}/{}", self.registry, name)
    }

    /// The stable pull reference `<registry>/<name>:<version>`.
    pub fn stable_ref(&self, image: &Image) -> String {
        format!("{}:{}", self.repository(&image.name), image.version)
    }
}

/// One `[images.<name>]` entry.
#[derive(Debug, Clone)]
pub struct Image {
    pub name: ImageName,
    pub span: Span,
    pub origin: Origin,
    pub uses: Vec<Dependency>,
    pub version: semver::Version,
    pub kind: String,
    pub recipe: Recipe,
    pub description: String,
    pub provides: Vec<String>,
    pub tags: Vec<String>,
    pub test: Vec<String>,
    pub test_timeout: Duration,
    /// `test_spec`: structure tests run after `test`.
    pub test_spec: Option<TestSpec>,
    pub build_timeout: Duration,
    /// `max_size` and `max_added`.
    pub budget: crate::budget::Budget,
    pub vars: Map<String, serde_json::Value>,
    pub owner: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Build context, relative to the repository root, normalised (`images/<name>` by default).
    pub context: String,
    pub context_span: Option<Span>,
    pub lint_ignore: Vec<String>,
    /// Ids of the build secrets its build may mount, each declared in `[catalog.secrets]`.
    pub secrets: Vec<String>,
}

impl Image {
    /// The digest of its test commands, in order, its budgets and its structure-test file's
    /// text: what the lock records once they passed. Changing the tests changes no input
    /// (nothing rebuilds), only this.
    pub fn tests_digest(&self) -> String {
        let mut hasher = crate::hash::Hasher::new();
        hasher.field("hier tests 1");
        for command in &self.test {
            hasher.field(command);
        }
        self.budget.hash_into(&mut hasher);
        if let Some(spec) = &self.test_spec {
            hasher.field("test_spec");
            hasher.field(&spec.path);
            hasher.field(spec.spec.as_ref().map_or("", |s| s.digest.as_str()));
        }
        hasher.finish()
    }

    /// Whether it has tests of any kind to pass (commands, structure tests).
    pub fn has_tests(&self) -> bool {
        !self.test.is_empty() || self.test_spec.is_some()
    }

    pub fn is_base(&self) -> bool {
        matches!(self.origin, Origin::Base { .. })
    }

    pub fn parent(&self) -> Option<&Dependency> {
        match &self.origin {
            Origin::Parent(dep) => Some(dep),
            Origin::Base { .. } => None,
        }
    }

    /// Every image this one builds on: its parent first, then `uses`.
    pub fn dependencies(&self) -> impl Iterator<Item = &Dependency> {
        self.parent().into_iter().chain(self.uses.iter())
    }
}

/// An image's structure-test file.
#[derive(Debug, Clone)]
pub struct TestSpec {
    /// Relative to the repository root.
    pub path: String,
    pub span: Span,
    /// The file read and checked (by the repository, which reads files).
    pub spec: Option<std::sync::Arc<crate::structure::Spec>>,
}

/// Where an image's final stage comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// `from = "repo:tag"`: an external image; this makes the image a base.
    Base {
        from: String,
        from_span: Span,
        refresh: Refresh,
    },
    /// `parent = "name@req"`.
    Parent(Dependency),
}

/// A reference to another catalog image, with an optional semver requirement.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: ImageName,
    pub requirement: Option<semver::VersionReq>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipe {
    /// A template file name, relative to the templates folder.
    Template { name: String, span: Span },
    /// A hand-written Dockerfile, relative to the repository root.
    Dockerfile { path: String, span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refresh {
    Nightly,
    Weekly,
    Manual,
}

impl Refresh {
    pub fn as_str(self) -> &'static str {
        match self {
            Refresh::Nightly => "nightly",
            Refresh::Weekly => "weekly",
            Refresh::Manual => "manual",
        }
    }
}

/// `[catalog] builder`: how the engine builds images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Builder {
    #[default]
    BuildKit,
    Legacy,
}

impl Builder {
    pub const ALL: [Builder; 2] = [Builder::BuildKit, Builder::Legacy];

    pub fn as_str(self) -> &'static str {
        match self {
            Builder::BuildKit => "buildkit",
            Builder::Legacy => "legacy",
        }
    }

    /// The builder a catalog names (`buildkit`, `legacy`).
    pub fn parse(name: &str) -> Option<Builder> {
        Builder::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

/// A build secret declared in `[catalog.secrets]`. Only where its value comes from is known
/// here: the value itself is read when a build needs it, never by the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub source: SecretSource,
    /// The span of the source's value (the variable's name, or the path).
    pub span: Span,
}

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `env = "VAR"`: an environment variable of the process running hier.
    Env(String),
    /// `file = "PATH"`: a file, as written (a leading `~/` means the home folder; a relative
    /// path is in the catalog's folder).
    File(String),
}

impl SecretSource {
    /// The source in words, for messages: "environment variable NPM_TOKEN",
    /// "file ~/.config/pip/pip.conf".
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Env(var) => format!("environment variable {var}"),
            SecretSource::File(path) => format!("file {path}"),
        }
    }
}

/// The kinds of a catalog that does not list its own.
pub const DEFAULT_KINDS: &[&str] = &["base", "runtime", "webserver", "combo", "app"];

/// The kind nothing may build on: the top of a chain.
pub const APP: &str = "app";

pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(120);
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);
