//! The files `hier init` writes, as text: the catalog (with the base the user chose), the
//! templates and partial, the app's hand-written Dockerfile, `.gitignore`, a README and the CI
//! and nightly workflows. `{name}`, `{from}` and `{base_kind}` are filled in by [`super`].

/// The catalog: a base, a runtime on it, and an app on the runtime.
pub const CATALOG: &str = r#"# The images of this repository, built in order by hier: see README.md.
[catalog]
name = "{name}"
# Where the images are pushed: change it to your registry.
registry = "registry.example.com/{name}"

[images.base]
from = "{from}"
version = "1.0.0"
description = "The base every image builds on"
template = "base.Dockerfile.hbs"
{base_extra}
[images.tools]
parent = "base@^1"
version = "1.0.0"
description = "A runtime on the base: what app images build on"
provides = ["tools=1.0"]
template = "runtime.Dockerfile.hbs"
test = ["test -f /etc/tools-release"]

[images.hello]
parent = "tools"
version = "0.1.0"
kind = "app"
description = "An app: a hand-written Dockerfile on the runtime"
dockerfile = "images/hello/Dockerfile"
test = ["test -f /app/index.html"]
"#;

/// `[images.base]`'s own lines for a Debian base.
pub const DEBIAN_BASE: &str = r#"provides = ["debian=12", "curl", "ca-certificates", "dumb-init"]
test = ["dumb-init --version", "curl --version"]
vars = { packages = ["ca-certificates", "curl", "dumb-init"] }
"#;

/// `[images.base]`'s own lines for a busybox base, which has no init to run as `ENTRYPOINT`.
pub const BUSYBOX_BASE: &str = r#"provides = ["busybox", "sh"]
test = ["busybox true"]
# busybox has no dumb-init or tini to run as the entrypoint (H109).
lint_ignore = ["H109"]
"#;

/// A Debian base: security fixes first, packages from the catalog, an init as entrypoint.
pub const DEBIAN_TEMPLATE: &str = r#"FROM {{parent.ref}}

ARG DEBIAN_FRONTEND=noninteractive

# Security fixes first: `hier refresh` rebuilds this layer when updates are pending.
{{> apt-install packages=vars.packages}}

ENTRYPOINT ["/usr/bin/dumb-init", "--"]
CMD ["bash"]
"#;

/// The partial that installs packages the way the lint asks (one `RUN`, no recommends, lists
/// removed, one package a line).
pub const APT_PARTIAL: &str = r#"RUN apt-get update \
 && apt-get upgrade -y \
 && apt-get install -y --no-install-recommends \
{{lines packages}} \
 && rm -rf /var/lib/apt/lists/*
"#;

/// A busybox base.
pub const BUSYBOX_TEMPLATE: &str = r#"FROM {{parent.ref}}

RUN mkdir -p /app

CMD ["sh"]
"#;

/// A runtime on the base.
pub const RUNTIME_TEMPLATE: &str = r#"FROM {{parent.ref}}

# What this runtime adds; its test checks it is there.
RUN echo "{{image.name}} {{image.version}}" > /etc/{{image.name}}-release
"#;

/// The app's Dockerfile: on the exact parent hier passes in, not as root.
pub const APP_DOCKERFILE: &str = r#"ARG HIER_PARENT
FROM ${HIER_PARENT}

WORKDIR /app
COPY index.html /app/

# An app does not run as root: 65534 is `nobody`.
USER 65534
CMD ["cat", "/app/index.html"]
"#;

pub const APP_INDEX: &str = "<p>hello from an image built by hier</p>\n";

pub const APP_DOCKERIGNORE: &str = "Dockerfile\n.dockerignore\n";

pub const GITIGNORE: &str = "# hier's local state: logs, reports, the run lock.\n.hier/\n";

pub const README: &str = r#"# {name}: container images built by hier

The images are declared in `catalog.toml` and built in order, each on the exact image it builds
on, tested before anything builds on it.

- `hier validate` checks the catalog, the templates and the Dockerfiles.
- `hier render` writes the Dockerfiles of templated images (`images/<name>/Dockerfile`); commit
  them, `hier render --check` says when one is stale.
- `hier lint` checks the Dockerfiles against the practices of the field.
- `hier rebuild` builds what changed and everything on it; `--push` pushes it.
- `hier refresh` is the nightly job: what is new upstream and in OS packages, rebuilt and pushed.
- `hier new NAME --parent IMG` adds an image.

Change `registry` in `catalog.toml` to your registry. The workflows in `.github/workflows/` run
the checks and a build on every change (`ci.yml`) and the refresh every night
(`nightly.yml`, with the secrets `REGISTRY_HOST`, `REGISTRY_USER` and `REGISTRY_PASSWORD`).
"#;

pub const CI_WORKFLOW: &str = r#"name: ci

on:
  push:
    branches: [main]
  pull_request:

jobs:
  images:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - name: Install hier
        run: cargo install --locked hier
      - name: Check
        run: |
          hier validate
          hier render --check
          hier lint
      - name: Build and test
        run: hier rebuild --all
"#;

pub const NIGHTLY_WORKFLOW: &str = r#"name: nightly refresh

on:
  schedule:
    - cron: "17 2 * * *"
  workflow_dispatch:

permissions:
  contents: write

jobs:
  refresh:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - name: Install hier
        run: cargo install --locked hier
      - name: Log in to the registry
        env:
          REGISTRY_HOST: ${{ secrets.REGISTRY_HOST }}
          REGISTRY_USER: ${{ secrets.REGISTRY_USER }}
          REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}
        run: echo "$REGISTRY_PASSWORD" | docker login "$REGISTRY_HOST" -u "$REGISTRY_USER" --password-stdin
      - name: Refresh
        run: hier refresh --push --report refresh-report.md
      - name: Report
        if: always()
        run: cat refresh-report.md >> "$GITHUB_STEP_SUMMARY" || true
      - name: Commit the lock
        run: |
          git config user.name "hier nightly"
          git config user.email "hier-nightly@users.noreply.github.com"
          git add hier.lock
          git diff --cached --quiet || git commit -m "Nightly refresh" && git push
"#;
