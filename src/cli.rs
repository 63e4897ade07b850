//! The command line as clap parses it. Nothing past `run` sees these types: it turns them into
//! the settings each command takes.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::help;

#[derive(Debug, Parser)]
#[command(
    name = "hier",
    version,
    about = "Build, test and refresh a layered hierarchy of container images",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The catalog (a file, or a folder holding catalog.toml) [default: $HIER_CATALOG, else catalog.toml here or in the nearest folder above]
    #[arg(long, global = true, value_name = "PATH")]
    pub catalog: Option<PathBuf>,

    /// Output format (`graph` also takes dot and mermaid; `sbom` spdx-json and cyclonedx-json)
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Say more (repeat for more detail)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Say only what went wrong
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to colour the output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Dot,
    Mermaid,
    SpdxJson,
    CyclonedxJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaseArg {
    Busybox,
    Debian,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the catalog, the graph, the versions and every template; report all problems
    #[command(long_about = help::VALIDATE.about, after_long_help = help::VALIDATE.examples)]
    Validate,
    /// Write images/<name>/Dockerfile for templated images
    #[command(long_about = help::RENDER.about, after_long_help = help::RENDER.examples)]
    Render {
        /// Images to render [default: all]
        images: Vec<String>,
        /// Write nothing; fail listing the files that are stale
        #[arg(long)]
        check: bool,
    },
    /// List the images: name, kind, version, parent, description
    #[command(long_about = help::LIST.about, after_long_help = help::LIST.examples)]
    List {
        /// Only images of this kind
        #[arg(long)]
        kind: Option<String>,
    },
    /// Draw the hierarchy (parent edges) as a tree
    #[command(long_about = help::TREE.about, after_long_help = help::TREE.examples)]
    Tree {
        /// Only this image and what descends from it
        image: Option<String>,
    },
    /// Everything about one image: chain, variables, tags, reference, provides, last build
    #[command(long_about = help::SHOW.about, after_long_help = help::SHOW.examples)]
    Show { image: String },
    /// The DAG with both kinds of edge (--format dot, mermaid or json)
    #[command(long_about = help::GRAPH.about, after_long_help = help::GRAPH.examples)]
    Graph,
    /// The ancestors of an image along `parent`, from its base down
    #[command(long_about = help::PARENTS.about, after_long_help = help::PARENTS.examples)]
    Parents { image: String },
    /// The images built directly on an image (with --all, every descendant)
    #[command(long_about = help::CHILDREN.about, after_long_help = help::CHILDREN.examples)]
    Children {
        image: String,
        /// Every descendant, in build order
        #[arg(long)]
        all: bool,
    },
    /// Everything that would rebuild if these images changed, in build order
    #[command(long_about = help::IMPACT.about, after_long_help = help::IMPACT.examples)]
    Impact {
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Images (never apps) that provide every need, best fit first
    #[command(long_about = help::PICK.about, after_long_help = help::PICK.examples)]
    Pick {
        /// Needs such as `python`, `python=3.12` or `python>=3.10` [default: list every need]
        needs: Vec<String>,
    },
    /// The build plan: waves in order and why each image is in it
    #[command(long_about = help::PLAN.about, after_long_help = help::PLAN.examples)]
    Plan(Selection),
    /// Check every Dockerfile against the practices of the field
    #[command(long_about = help::LINT.about, after_long_help = help::LINT.examples)]
    Lint {
        /// Images to check [default: all]
        images: Vec<String>,
        /// Explain a rule (e.g. H104) and exit
        #[arg(long, value_name = "ID")]
        explain: Option<String>,
    },
    /// Push the built images (every tag) to the registry and every mirror; record the digests
    #[command(long_about = help::PUSH.about, after_long_help = help::PUSH.examples)]
    Push {
        /// Images to push [default: every image the lock records]
        images: Vec<String>,
        #[command(flatten)]
        at: Holders,
    },
    /// Run the tests of the recorded images again, building nothing; record the tests they pass
    #[command(long_about = help::TEST.about, after_long_help = help::TEST.examples)]
    Test {
        /// Images to test [default: every image the lock records]
        images: Vec<String>,
        /// Images tested at once
        #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 2,
              value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
        #[command(flatten)]
        at: Holders,
    },
    /// Remove the images hier built that the lock no longer records, and old runs' logs and reports
    #[command(long_about = help::GC.about, after_long_help = help::GC.examples)]
    Gc {
        /// Runs whose logs and reports stay
        #[arg(long, value_name = "N", default_value_t = 10)]
        keep: usize,
        /// Say what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// The nightly job: rebuild due bases and images with OS updates pending, cascade what changed
    #[command(long_about = help::REFRESH.about, after_long_help = help::REFRESH.examples)]
    Refresh(RefreshArgs),
    /// Build the plan against the Docker Engine: test, tag and record each image
    #[command(long_about = help::REBUILD.about, after_long_help = help::REBUILD.examples)]
    Rebuild(RebuildArgs),
    /// Check each builder of the builders file: reachable, engine, platform, BuildKit, jobs
    #[command(long_about = help::BUILDERS.about, after_long_help = help::BUILDERS.examples)]
    Builders {
        /// The builders file [default: $HIER_BUILDERS]
        #[arg(
            long,
            value_name = "FILE",
            env = "HIER_BUILDERS",
            hide_env_values = true
        )]
        builders: Option<PathBuf>,
    },
    /// Add an image to the catalog on a parent, and scaffold its folder
    #[command(long_about = help::NEW.about, after_long_help = help::NEW.examples)]
    New {
        /// The new image's name
        name: String,
        /// The image it builds on (never an app)
        #[arg(long, value_name = "IMG")]
        parent: String,
        /// Render its Dockerfile from this template (in the templates folder) instead of
        /// writing one to edit
        #[arg(long, value_name = "T")]
        template: Option<String>,
    },
    /// Start a new hierarchy repository that validates, lints clean and builds at once
    #[command(long_about = help::INIT.about, after_long_help = help::INIT.examples)]
    Init {
        /// The folder (new, or empty) [default: the current folder]
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The base image to start from
        #[arg(long, value_enum, default_value_t = BaseArg::Debian)]
        base: BaseArg,
        /// The base's `from` [default: busybox:1.36 or debian:bookworm-slim]
        #[arg(long, value_name = "REF")]
        from: Option<String>,
    },
    /// Write the HTML catalog: a picture of the hierarchy, a search, and a page per image
    #[command(long_about = help::DOCS.about, after_long_help = help::DOCS.examples)]
    Docs {
        /// The folder to write it in (new, empty, or written by hier docs before)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Do not ask the engine what is inside the built images (sizes, packages)
        #[arg(long)]
        no_engine: bool,
        #[command(flatten)]
        at: Holders,
    },
    /// What changed between two builds of an image: packages, size, labels, layers
    #[command(long_about = help::DIFF.about, after_long_help = help::DIFF.examples)]
    Diff {
        /// The image
        image: String,
        /// The older build: an immutable tag or an image id [default: the build the recorded one replaced]
        old: Option<String>,
        /// The newer build [default: the recorded build]
        new: Option<String>,
        #[command(flatten)]
        at: Holders,
    },
    /// What each layer of an image's recorded build adds, the bytes wasted, the caches left
    #[command(long_about = help::SIZE.about, after_long_help = help::SIZE.examples)]
    Size {
        /// The image
        image: String,
        #[command(flatten)]
        at: Holders,
    },
    /// Print the bill of materials of an image's recorded build (SPDX 2.3 or CycloneDX 1.5 JSON)
    #[command(long_about = help::SBOM.about, after_long_help = help::SBOM.examples)]
    Sbom {
        /// The image
        image: String,
        #[command(flatten)]
        at: Holders,
    },
    /// Print the shell completions of hier (bash, zsh, fish, elvish, powershell)
    #[command(long_about = help::COMPLETIONS.about, after_long_help = help::COMPLETIONS.examples)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write hier's man pages (hier.1 and one per command) into a folder
    #[command(long_about = help::MAN.about, after_long_help = help::MAN.examples)]
    Man {
        /// The folder to write them in (made if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// The engines a command builds on or finds recorded images on.
#[derive(Debug, Args)]
pub struct Holders {
    /// A builders file: work on the engines it names, and find recorded images there [default: $HIER_BUILDERS, else the one engine of DOCKER_HOST]
    #[arg(
        long,
        value_name = "FILE",
        env = "HIER_BUILDERS",
        hide_env_values = true
    )]
    pub builders: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Images to refresh [default: the bases due, see --schedule]
    pub images: Vec<String>,
    /// Refresh the bases whose `refresh` is this [default: every base]
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleArg>,
    /// Push everything rebuilt to the registry and every mirror
    #[arg(long)]
    pub push: bool,
    /// Tag and push nothing unless the whole cascade built and passed its tests
    #[arg(long)]
    pub atomic: bool,
    /// Write a report: Markdown (.md) or JSON (.json)
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Resolve upstreams and pending updates, print what would be rebuilt, build nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Rebuild every due base with no cache, even when nothing new is found for it
    #[arg(long)]
    pub force: bool,
    /// Builds at once
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// The engine's builder [default: the catalog's `builder`, else buildkit]
    #[arg(long, value_enum)]
    pub builder: Option<BuilderArg>,
    #[command(flatten)]
    pub at: Holders,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Builds at once
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Start nothing more after the first failure
    #[arg(long)]
    pub fail_fast: bool,
    /// Push every tag of each built image to the registry and every mirror
    #[arg(long)]
    pub push: bool,
    /// Build without the engine's layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Print the plan and build nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The engine's builder [default: the catalog's `builder`, else buildkit]
    #[arg(long, value_enum)]
    pub builder: Option<BuilderArg>,
    #[command(flatten)]
    pub at: Holders,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleArg {
    Nightly,
    Weekly,
}

/// Which images a plan (or a rebuild) covers. Without a selector: `--changed`.
#[derive(Debug, Args, Clone, Default)]
#[group(multiple = false)]
pub struct Selection {
    /// Images whose inputs changed since the lock, and their dependents [default]
    #[arg(long)]
    pub changed: bool,
    /// Every image
    #[arg(long)]
    pub all: bool,
    /// Images whose inputs differ from git revision REV, and their dependents
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// These images and their dependents
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuilderArg {
    Buildkit,
    Legacy,
}
