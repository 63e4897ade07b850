//! The long help of each command (`hier <command> --help`): what it does in a few more words,
//! and examples. `-h` shows the one-line summaries only.

/// `(long about, examples)` of a command.
pub struct Help {
    pub about: &'static str,
    pub examples: &'static str,
}

pub const VALIDATE: Help = Help {
    about: "Check the catalog, the graph, the versions and every template; report all problems.\n\n\
Parses catalog.toml, checks that the images form a DAG with valid versions and kinds, renders \
every template in memory, parses every Dockerfile as the engine would, and lints. Every problem \
is reported with its file:line:column; the exit code is 2 when there is one.",
    examples: "Examples:\n  hier validate\n  hier validate --format json    # every problem, for CI annotations",
};

pub const RENDER: Help = Help {
    about: "Write images/<name>/Dockerfile for templated images.\n\n\
Renders each templated image's Dockerfile from its template, so the files in the repository are \
what gets built. --check writes nothing and fails (exit 1) naming the stale files.",
    examples: "Examples:\n  hier render\n  hier render python nginx\n  hier render --check          # in CI: are the committed renders current?",
};

pub const LIST: Help = Help {
    about: "List the images: name, kind, version, parent, description.",
    examples: "Examples:\n  hier list\n  hier list --kind runtime\n  hier list --format json",
};

pub const TREE: Help = Help {
    about: "Draw the hierarchy (parent edges) as a tree.",
    examples: "Examples:\n  hier tree\n  hier tree python           # python and what builds on it",
};

pub const SHOW: Help = Help {
    about: "Everything about one image: its chain from the base, variables, tags, pull reference, \
provides, children and the last build the lock records.",
    examples: "Examples:\n  hier show python\n  hier show python --format json",
};

pub const GRAPH: Help = Help {
    about: "The DAG with both kinds of edge (parent and uses), as text, JSON, Graphviz dot or \
Mermaid.",
    examples: "Examples:\n  hier graph --format dot | dot -Tsvg > hierarchy.svg\n  hier graph --format mermaid",
};

pub const PARENTS: Help = Help {
    about: "The ancestors of an image along `parent`, from its base down.",
    examples: "Examples:\n  hier parents python-nginx",
};

pub const CHILDREN: Help = Help {
    about: "The images built directly on an image; with --all, every descendant in build order.",
    examples: "Examples:\n  hier children base\n  hier children base --all",
};

pub const IMPACT: Help = Help {
    about: "Everything that would rebuild if these images changed, in build order.",
    examples: "Examples:\n  hier impact base\n  hier impact python nginx --format json",
};

pub const PICK: Help = Help {
    about: "Images that provide every need, best fit first (fewest extras, then the shallowest). \
A need is a name (`python`), a version (`python=3.12` takes 3.12.x) or a comparison \
(`python>=3.10`, `>`, `<=`, `<`). Apps are never offered: nothing builds on an app. Without \
needs, every need the catalog provides and the images that provide it; a need nothing meets \
names the images that provide it in another version, or the closest name.",
    examples: "Examples:\n  hier pick\n  hier pick python\n  hier pick python=3.12 nginx\n  hier pick 'python>=3.10'",
};

pub const PLAN: Help = Help {
    about: "The build plan: waves in order, why each image is in it (what changed), and what must \
be fetched or only tested.\n\n\
Needs no engine. Without a selector it plans what changed since the lock (--changed): new \
images, changed inputs, a parent rebuilt, changed tests (action `test`). -v lists every changed \
path and the inputs digests.",
    examples: "Examples:\n  hier plan\n  hier plan --all\n  hier plan python            # python and its dependents\n  hier plan --since origin/main\n  hier plan --format json",
};

pub const LINT: Help = Help {
    about: "Check every Dockerfile against the practices of the field (pinned bases, cleaned \
package caches, a non-root app user, exec-form entrypoints, …). Silence a rule for one image \
with `lint_ignore = [\"H104\"]` in its catalog entry.",
    examples: "Examples:\n  hier lint\n  hier lint app --format json\n  hier lint --explain H104",
};

pub const PUSH: Help = Help {
    about: "Push the recorded images (every tag) to the registry and every mirror; record each \
pushed digest in the lock. A registry that does not answer is exit 3; one that refuses fails \
that image (exit 1).",
    examples: "Examples:\n  hier push\n  hier push python",
};

pub const TEST: Help = Help {
    about: "Run the tests of the recorded images again on exactly the images the lock records, \
building nothing; record the tests each image passed. An image the engine lacks is fetched by \
its pushed digest first. With --builders FILE, each image is tested on a builder that holds it.",
    examples: "Examples:\n  hier test\n  hier test python nginx\n  hier test --format json\n  hier test --builders builders.toml",
};

pub const GC: Help = Help {
    about: "Remove the images hier built for this catalog that the lock no longer records (failed \
and superseded builds), and all but the last N runs' logs and reports under .hier/. An image \
that also carries a tag outside the catalog's registry keeps that tag and stays.",
    examples: "Examples:\n  hier gc --dry-run\n  hier gc --keep 20",
};

pub const REFRESH: Help = Help {
    about: "The nightly job: find what is new upstream (a base's `from` moved) and in OS packages \
(updates pending), rebuild those images without cache, cascade to everything built on them, test \
each before its children build, and push. The report says what changed, down to package \
versions.",
    examples: "Examples:\n  hier refresh --dry-run\n  hier refresh --push --report refresh.md\n  hier refresh --schedule nightly --atomic --push",
};

pub const REBUILD: Help = Help {
    about: "Build the plan against the Docker Engine: build each image on exactly the images it \
builds on, test it, then tag and record it; its dependents start only then. Without a selector \
it rebuilds what changed (--changed).",
    examples: "Examples:\n  hier rebuild\n  hier rebuild -j 4 --push\n  hier rebuild python --no-cache\n  hier rebuild --all --dry-run",
};

pub const BUILDERS: Help = Help {
    about: "Read the builders file (--builders FILE, or $HIER_BUILDERS) and ask each builder what \
it is: whether it answers, its engine version, API version and platform, whether hier can build \
there with BuildKit, and how many jobs it takes. It exits with 3 when no builder answers. A \
rebuild or refresh given the same file spreads its images over the builders that answer.",
    examples: "Examples:\n  hier builders --builders builders.toml\n  HIER_BUILDERS=builders.toml hier builders --format json",
};

pub const COMPLETIONS: Help = Help {
    about: "Print the completion script of hier for a shell on standard output: every command, \
option and value hier knows. Load it in the shell's start-up file, or install it where the shell \
looks for completions.",
    examples: "Examples:\n  hier completions bash > ~/.local/share/bash-completion/completions/hier\n  hier completions zsh > \"${fpath[1]}/_hier\"\n  hier completions fish > ~/.config/fish/completions/hier.fish",
};

pub const DOCS: Help = Help {
    about: "Write the HTML catalog app teams browse: index.html with a picture of the hierarchy \
(parents above children, `uses` edges dashed, each image a link) and a search by name, kind, \
provides and owner; and a page per image with its FROM lines to copy, place in the hierarchy, \
provides, tags, last build and pushed digests, size, OS packages, tests and Dockerfile. Sizes and \
packages are read from the engine when it holds the recorded build (nothing is run), or with \
--builders FILE from a builder of the file that holds it; otherwise the page says they are not known. It opens from the file system, with no network. The folder is \
replaced whole; one that hier docs did not write must be new or empty.",
    examples: "Examples:\n  hier docs --out site && xdg-open site/index.html\n  hier docs --out site --no-engine   # in CI, without an engine",
};

pub const DIFF: Help = Help {
    about: "Show what changed between two builds of an image: OS packages added, removed and \
changed (read from each image's package database without running it), the size, the labels, and \
the layers added and removed. Without OLD and NEW it compares the build the recorded one replaced \
(hier.lock remembers it, and hier gc keeps it) with the recorded one; either may be named by its \
immutable tag or its image id.",
    examples: "Examples:\n  hier diff python\n  hier diff python 3.11.2-0123456789ab 3.11.2-ba9876543210\n  hier diff python --format json",
};

pub const SIZE: Help = Help {
    about: "Show what the layers of an image's recorded build hold, read from the engine as the \
image streams (an image of several GB in a few MB of memory): each layer's bytes and what made it \
(for the image's own layers, the Dockerfile line); the bytes wasted in paths that more than one \
layer holds (a file written again, changed or removed later: every layer's copy counted, as dive \
counts them); and the package-manager caches left in the image (apt lists and archives, apk, pip \
and npm caches) with their files.",
    examples: "Examples:\n  hier size python\n  hier size python --format json | jq .wasted.bytes",
};

pub const SBOM: Help = Help {
    about: "Print the bill of materials of an image's recorded build: SPDX 2.3 JSON (the default), or \
CycloneDX 1.5 JSON with --format cyclonedx-json. It names the image (name, version, id, and a package \
URL with its repository) and every OS package in it, read from its dpkg or apk database without \
running it: name, version, architecture, source package, and the licences its copyright file \
declares. Every build also writes both documents under .hier/sbom/<image>/. With --builders FILE, \
an image built on another builder crosses to the first one to be read.",
    examples: "Examples:\n  hier sbom python > python.spdx.json\n  hier sbom python --format cyclonedx-json > python.cdx.json\n  hier sbom python --builders builders.toml",
};

pub const MAN: Help = Help {
    about: "Write hier's man pages into a folder: hier.1 for the program and hier-<command>.1 for \
each command, made from the same text as --help, examples included.",
    examples: "Examples:\n  hier man --out target/man\n  man -l target/man/hier-rebuild.1",
};

pub const NEW: Help = Help {
    about: "Add an image to the catalog: an [images.NAME] table at the end of catalog.toml (every \
comment and the order of the rest kept), building on --parent, with version 0.1.0 and a test; and \
its folder under images/: a Dockerfile on HIER_PARENT that copies the folder to /app (or, with \
--template, the rendering) and a .dockerignore. The repository is checked as validate checks it; \
when it does not pass, nothing is written.",
    examples: "Examples:\n  hier new billing-api --parent python\n  hier new storefront --parent php-apache --template app.Dockerfile.hbs",
};

pub const INIT: Help = Help {
    about: "Start a new hierarchy repository in a new or empty folder: a catalog of a base, a \
runtime on it and an app on the runtime; templates and a partial that keep the practices hier \
lint checks; the app's Dockerfile; .gitignore, a README, and the CI and nightly GitHub \
workflows. The rendered Dockerfiles are written too. It validates, lints clean and builds at \
once with `hier rebuild`.",
    examples: "Examples:\n  hier init platform-images\n  hier init --base busybox\n  hier init images --base debian --from registry.example.com/mirror/debian:bookworm-slim",
};
