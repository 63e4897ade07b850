//! The lint rules: stable ids, severity, a one-line summary and an explanation
//! (`hier lint --explain ID`).

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
    /// The hadolint rule covering the same practice, if any.
    pub hadolint: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "H100",
        severity: Severity::Error,
        summary: "a Dockerfile the engine would refuse (or whose final stage is not on the parent)",
        explanation: "The Dockerfile is parsed as BuildKit's Dockerfile frontend parses it: an unknown instruction, an instruction before the first FROM, `ENV`/`LABEL` without `key=value`, an unknown flag or a flag's bad value, a heredoc never ended, a file that is not UTF-8 text would fail the build (or, for the last, hier's reading of it). A hand-written Dockerfile must also build its final stage `FROM ${HIER_PARENT}` (after `ARG HIER_PARENT`; a base may name its `from`), or the image would not sit on its parent. `hier validate`, `plan` and `rebuild` refuse such a file (exit 2), whatever `lint_ignore` says.",
        hadolint: "DL1000 (parse error)",
    },
    Rule {
        id: "H101",
        severity: Severity::Error,
        summary: "FROM without a pinned tag or digest (untagged or `latest`)",
        explanation: "An untagged or `:latest` parent changes under you: the same Dockerfile builds different images from one day to the next, and a rebuild cannot be reproduced. Name an explicit tag or digest in every stage. hier's own references (`FROM {{parent.ref}}`, `FROM ${HIER_PARENT}`, `${HIER_USES_*}`) are exact by construction and never flagged; neither is `scratch` or an earlier stage.",
        hadolint: "DL3006, DL3007",
    },
    Rule {
        id: "H102",
        severity: Severity::Error,
        summary: "`apt-get update` in a RUN that installs nothing",
        explanation: "The package lists fetched by an `apt-get update` in its own layer are cached by the builder: a later `apt-get install` in another RUN then installs from stale lists (or fails once the archive moved). Update and install in the same RUN.",
        hadolint: "",
    },
    Rule {
        id: "H103",
        severity: Severity::Warning,
        summary: "`apt-get install` without `--no-install-recommends`",
        explanation: "Recommended packages are not needed to run what you install and often double the image: pass `--no-install-recommends` and list what you need.",
        hadolint: "DL3015",
    },
    Rule {
        id: "H104",
        severity: Severity::Warning,
        summary: "apt lists not removed in the RUN that fetched them",
        explanation: "`apt-get update` leaves tens of megabytes in /var/lib/apt/lists; removing them in a later RUN does not shrink the image. End the same RUN with `rm -rf /var/lib/apt/lists/*` (or keep them in a cache mount: `RUN --mount=type=cache,target=/var/lib/apt`).",
        hadolint: "DL3009",
    },
    Rule {
        id: "H105",
        severity: Severity::Warning,
        summary: "`apk add` without `--no-cache`",
        explanation: "Without `--no-cache`, apk keeps its index in the layer. `apk add --no-cache` fetches the index, installs, and keeps nothing. (A cache mount, `RUN --mount=type=cache,target=/var/cache/apk`, keeps it out of the layer too.)",
        hadolint: "DL3019",
    },
    Rule {
        id: "H106",
        severity: Severity::Warning,
        summary: "`pip install` without `--no-cache-dir`",
        explanation: "pip's download cache ends up in the layer. Pass `--no-cache-dir` (or set `ENV PIP_NO_CACHE_DIR=1` earlier in the stage, or mount a cache over it: `RUN --mount=type=cache,target=/root/.cache/pip`).",
        hadolint: "DL3042",
    },
    Rule {
        id: "H107",
        severity: Severity::Warning,
        summary: "multi-line package list not sorted, or with duplicates",
        explanation: "A package list written one per line is read, reviewed and merged line by line: keep it sorted so a diff shows exactly what was added or removed, and free of duplicates (a duplicate is an error). A comment line inside the list starts a group sorted on its own. The `lines` template helper writes such lists.",
        hadolint: "",
    },
    Rule {
        id: "H108",
        severity: Severity::Error,
        summary: "an app image runs as root",
        explanation: "An app image's effective user is its own last USER, else the last USER of its parents down from the base. Bases and intermediates may stay root (they install things); an app must switch to an unprivileged user.",
        hadolint: "DL3002 (last USER only, not through parents)",
    },
    Rule {
        id: "H109",
        severity: Severity::Error,
        summary: "a base without an init as ENTRYPOINT",
        explanation: "Process 1 in a container must reap zombies and forward signals. A base sets a small init (dumb-init or tini) as ENTRYPOINT so every image built on it does.",
        hadolint: "",
    },
    Rule {
        id: "H110",
        severity: Severity::Warning,
        summary: "ENTRYPOINT or CMD in shell form",
        explanation: "In shell form the command runs under `/bin/sh -c` and does not receive signals: `docker stop` waits and kills it. Use the exec form, a JSON array.",
        hadolint: "DL3025",
    },
    Rule {
        id: "H111",
        severity: Severity::Warning,
        summary: "ADD of local files: use COPY",
        explanation: "ADD also fetches URLs and unpacks archives; for plain local files that magic only surprises. COPY does exactly the copy. (Local archives that ADD unpacks on purpose are not flagged.)",
        hadolint: "DL3020",
    },
    Rule {
        id: "H112",
        severity: Severity::Warning,
        summary: "a secret-looking ENV or ARG",
        explanation: "ENV values are stored in the image and ARG values in its history, both readable by anyone who can pull it. Names ending in _PASSWORD, _TOKEN, _SECRET or _KEY (but not _GPG_KEY(S) or _KEY_ID) look like secrets: pass secrets at run time instead.",
        hadolint: "",
    },
    Rule {
        id: "H113",
        severity: Severity::Warning,
        summary: "a build context without .dockerignore",
        explanation: "Without a .dockerignore every file of the context is sent to the engine and can end up in the image (`COPY .`): editor files, logs, secrets. Add one listing what the image does not need.",
        hadolint: "",
    },
    Rule {
        id: "H114",
        severity: Severity::Warning,
        summary: "a RUN with a pipe, under a shell without pipefail",
        explanation: "A pipeline's status is its last command's: in `curl -fsSL $URL | tar -x`, a failed download with a `tar` that ends cleanly lets the build go on without the files. `set -o pipefail` makes any failed command fail the pipeline. Turn it on for the stage (`SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`, inherited by the images built on it) or in the RUN before the pipe (`set -o pipefail && …`; Debian's /bin/sh, dash, has it from trixie on, busybox's ash has it). A non-POSIX SHELL (PowerShell, cmd) is not checked; an ONBUILD trigger is taken to run under /bin/sh.",
        hadolint: "DL4006",
    },
    Rule {
        id: "H115",
        severity: Severity::Warning,
        summary: "consecutive single-command RUNs that could be one layer",
        explanation: "Each RUN makes a layer, and a file a later layer deletes still weighs in the earlier one. Join consecutive RUNs of a stage with `&&` (or a heredoc script). A RUN that already chains commands is taken as apart on purpose, as are RUNs with different flags (`--mount`, `--network`) and heredoc scripts.",
        hadolint: "DL3059",
    },
    Rule {
        id: "H116",
        severity: Severity::Warning,
        summary: "COPY or ADD to a relative destination with no WORKDIR",
        explanation: "A relative destination is relative to the working directory, which nothing in sight sets: not the stage, not a stage it is built on, not the image's parents in the catalog (an image from outside is taken to set none). Set `WORKDIR` first, or copy to an absolute path, so where the files land does not change with the base image.",
        hadolint: "DL3045",
    },
    Rule {
        id: "H117",
        severity: Severity::Warning,
        summary: "a test_spec inside the build context, not left out by .dockerignore",
        explanation: "An image's structure-test file is a test, not an input: a changed one should test the recorded image again, building nothing. Inside the build context it is part of what the build is sent, so editing it changes the context and rebuilds the image (and the file could be copied into it). List it in the context's .dockerignore, or keep it outside the context.",
        hadolint: "",
    },
];

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}
