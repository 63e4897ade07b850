//! `hier lint`: a Dockerfile per rule with the violation at a known line, clean Dockerfiles
//! (multi-stage builds, long RUN chains) with no findings, `lint_ignore`, the output formats.

mod common;
#[path = "lint/real_world.rs"]
mod real_world;

use common::Repo;
use serde_json::Value;

const CLEAN_BASE: &str = "FROM debian:bookworm-slim\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends \\\n    ca-certificates \\\n    curl \\\n    dumb-init \\\n && rm -rf /var/lib/apt/lists/*\nENTRYPOINT [\"/usr/bin/dumb-init\", \"--\"]\n";

/// A repository with a clean base and `x` (of `kind`) on it, hand-written `dockerfile`.
fn repo_with(kind: &str, dockerfile: &str, extra: &str) -> Repo {
    let catalog = format!(
        r#"[catalog]
name = "t"
registry = "registry.example/t"

[images.base]
from = "debian:bookworm-slim"
version = "1.0.0"
dockerfile = "images/base/Dockerfile"

[images.x]
parent = "base"
version = "1.0.0"
kind = "{kind}"
dockerfile = "images/x/Dockerfile"
{extra}
"#
    );
    Repo::with(&[
        ("catalog.toml", &catalog),
        ("images/base/Dockerfile", CLEAN_BASE),
        ("images/base/.dockerignore", "*.md\n"),
        ("images/x/Dockerfile", dockerfile),
        ("images/x/.dockerignore", "*.md\n"),
        ("images/x/app.py", "print('hi')\n"),
    ])
}

/// (rule, line, severity) of every finding, in order.
fn findings(repo: &Repo) -> Vec<(String, u64, String)> {
    let run = repo.hier_offline(&["lint", "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn check(kind: &str, dockerfile: &str, expected: &[(&str, u64, &str)]) {
    let repo = repo_with(kind, dockerfile, "");
    let got = findings(&repo);
    let want: Vec<(String, u64, String)> = expected
        .iter()
        .map(|(r, l, s)| (r.to_string(), *l, s.to_string()))
        .collect();
    assert_eq!(got, want, "for:\n{dockerfile}");
}

const PARENT: &str = "ARG HIER_PARENT\nFROM ${HIER_PARENT}\n";

#[test]
fn h101_unpinned_from_in_any_stage() {
    check(
        "runtime",
        "ARG HIER_PARENT\nFROM golang AS build\nRUN go version\nFROM alpine:latest AS tools\nFROM ${HIER_PARENT}\nCOPY --from=build /go /go\n",
        &[("H101", 2, "error"), ("H101", 4, "error")],
    );
}

#[test]
fn h102_update_without_install() {
    check(
        "runtime",
        &format!(
            "{PARENT}RUN apt-get update\nRUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n"
        ),
        &[("H102", 3, "error")],
    );
}

#[test]
fn h103_and_h104_recommends_and_lists() {
    check(
        "runtime",
        &format!("{PARENT}RUN apt-get update \\\n && apt-get install -y curl\n"),
        &[("H104", 3, "warning"), ("H103", 4, "warning")],
    );
}

#[test]
fn h105_apk_cache() {
    check(
        "runtime",
        &format!("{PARENT}RUN apk add curl\n"),
        &[("H105", 3, "warning")],
    );
}

#[test]
fn h106_pip_cache_unless_the_environment_says_so() {
    check(
        "runtime",
        &format!(
            "{PARENT}RUN python3 -m pip install flask\nENV A=1\nRUN pip3 install --no-cache-dir requests\n"
        ),
        &[("H106", 3, "warning")],
    );
    check(
        "runtime",
        &format!("{PARENT}ENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n"),
        &[],
    );
}

#[test]
fn h107_multi_line_lists_sorted_and_unique() {
    check(
        "runtime",
        &format!(
            "{PARENT}RUN apt-get update \\\n && apt-get install -y --no-install-recommends \\\n    curl \\\n    bash \\\n    curl \\\n && rm -rf /var/lib/apt/lists/*\n"
        ),
        &[("H107", 6, "warning"), ("H107", 7, "error")],
    );
    // One line: not a list anyone reviews line by line.
    check(
        "runtime",
        &format!("{PARENT}RUN apk add --no-cache zlib bash\n"),
        &[],
    );
}

#[test]
fn h108_app_user_through_the_chain() {
    // Neither the app nor its parents set a USER.
    check(
        "app",
        &format!("{PARENT}COPY app.py /app.py\n"),
        &[("H108", 2, "error")],
    );
    // Explicitly root.
    check(
        "app",
        &format!("{PARENT}USER app\nCOPY app.py /app.py\nUSER root\n"),
        &[("H108", 5, "error")],
    );
    check("app", &format!("{PARENT}USER 1000:1000\n"), &[]);
    // A parent's USER is inherited.
    let repo = Repo::with(&[
        (
            "catalog.toml",
            "[catalog]\nname = \"t\"\nregistry = \"r.example/t\"\n\n[images.base]\nfrom = \"debian:bookworm-slim\"\nversion = \"1.0.0\"\ndockerfile = \"images/base/Dockerfile\"\n\n[images.runtime]\nparent = \"base\"\nversion = \"1.0.0\"\ndockerfile = \"images/runtime/Dockerfile\"\n\n[images.app]\nparent = \"runtime\"\nversion = \"1.0.0\"\nkind = \"app\"\ndockerfile = \"images/app/Dockerfile\"\n",
        ),
        ("images/base/Dockerfile", CLEAN_BASE),
        (
            "images/runtime/Dockerfile",
            "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nUSER app\n",
        ),
        (
            "images/app/Dockerfile",
            "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCMD [\"/app\"]\n",
        ),
    ]);
    assert_eq!(findings(&repo), vec![]);
}

#[test]
fn h109_base_without_init() {
    let repo = Repo::with(&[
        (
            "catalog.toml",
            "[catalog]\nname = \"t\"\nregistry = \"r.example/t\"\n\n[images.base]\nfrom = \"debian:bookworm-slim\"\nversion = \"1.0.0\"\ndockerfile = \"images/base/Dockerfile\"\n",
        ),
        (
            "images/base/Dockerfile",
            "FROM debian:bookworm-slim\nRUN true\nENTRYPOINT [\"/bin/bash\"]\n",
        ),
    ]);
    assert_eq!(
        findings(&repo),
        vec![("H109".to_string(), 3, "error".to_string())]
    );
}

#[test]
fn h110_shell_form_entrypoint_and_cmd() {
    check(
        "runtime",
        &format!("{PARENT}ENTRYPOINT /usr/bin/server --port 80\nCMD serve\n"),
        &[("H110", 3, "warning"), ("H110", 4, "warning")],
    );
}

#[test]
fn h111_add_of_local_files() {
    check(
        "runtime",
        &format!(
            "{PARENT}ADD app.py /app.py\nADD https://example.com/x.tgz /opt/\nADD vendor.tar.gz /opt/\nADD --chown=1:1 [\"a b\", \"/c/\"]\n"
        ),
        &[("H111", 3, "warning"), ("H111", 6, "warning")],
    );
}

#[test]
fn h112_secret_looking_names_with_exemptions() {
    check(
        "runtime",
        &format!(
            "{PARENT}ENV DB_PASSWORD=x \\\n    NODE_VERSION=20\nARG GITHUB_TOKEN\nENV PYTHON_GPG_KEY=abc RELEASE_KEY_ID=1 NPM_GPG_KEYS=1 GPG_KEY=2\nARG HIER_USES_TOKEN\nENV API_KEY secret\n"
        ),
        &[
            ("H112", 3, "warning"),
            ("H112", 5, "warning"),
            ("H112", 8, "warning"),
        ],
    );
}

#[test]
fn h113_context_without_dockerignore() {
    let repo = repo_with("runtime", &format!("{PARENT}COPY app.py /app.py\n"), "");
    std::fs::remove_file(repo.path().join("images/x/.dockerignore")).unwrap();
    let run = repo.hier_offline(&["lint", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["findings"],
        serde_json::json!([{
            "image": "x", "rule": "H113", "severity": "warning", "file": "images/x",
            "line": 0,
            "message": "the context images/x has no .dockerignore: every file in it is sent to the engine"
        }])
    );
    assert_eq!(run.code, 0, "warnings only");
}

#[test]
fn h117_a_test_spec_the_context_would_send() {
    let spec = "schemaVersion: \"2.0.0\"\nmetadataTest:\n  user: app\n";
    let repo = repo_with(
        "runtime",
        &format!("{PARENT}COPY app.py /app.py\n"),
        "test_spec = \"images/x/tests/spec.yaml\"",
    );
    repo.write("images/x/tests/spec.yaml", spec);
    let run = repo.hier_offline(&["lint", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["findings"],
        serde_json::json!([{
            "image": "x", "rule": "H117", "severity": "warning",
            "file": "images/x/tests/spec.yaml", "line": 0,
            "message": "the test_spec images/x/tests/spec.yaml is in the build context and .dockerignore does not leave it out: editing the tests rebuilds the image; add `tests/spec.yaml` to its .dockerignore"
        }])
    );
    // Left out by a pattern of its folder, or kept outside the context: nothing to say.
    repo.write("images/x/.dockerignore", "*.md\ntests\n");
    assert_eq!(findings(&repo), []);
    let catalog = repo
        .read("catalog.toml")
        .replace("images/x/tests/spec.yaml", "specs/x.yaml");
    repo.write("catalog.toml", &catalog);
    repo.write("specs/x.yaml", spec);
    repo.write("images/x/.dockerignore", "*.md\n");
    assert_eq!(findings(&repo), []);
}

#[test]
fn lint_ignore_silences_rules_per_image() {
    let repo = repo_with(
        "runtime",
        &format!("{PARENT}RUN apk add curl\nCMD serve\n"),
        "lint_ignore = [\"H105\"]",
    );
    assert_eq!(
        findings(&repo),
        vec![("H110".to_string(), 4, "warning".to_string())]
    );
}

/// Dockerfiles written the way the practices say, including the shapes that trip naive linters:
/// multi-stage builds, long RUN chains with comments and quoted operators, exec forms.
const CLEAN: &[&str] = &[
    // A Go service built in one stage and copied into the final one.
    "# syntax=docker/dockerfile:1\nARG HIER_PARENT\nFROM golang:1.22-bookworm AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/server ./cmd/server\n\nFROM ${HIER_PARENT}\nCOPY --from=build /out/server /usr/local/bin/server\nUSER app\nENTRYPOINT [\"/usr/local/bin/server\"]\nCMD [\"--port\", \"8080\"]\n",
    // A long RUN chain with comments inside the continuation, sorted lists, cleanup.
    "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nENV LANG=C.UTF-8 \\\n    PATH=/opt/venv/bin:$PATH\nRUN set -eux; \\\n    apt-get update; \\\n    # build tools, removed below\n    apt-get install -y --no-install-recommends \\\n        build-essential \\\n        libpq-dev \\\n        python3-venv \\\n    ; \\\n    python3 -m venv /opt/venv; \\\n    pip install --no-cache-dir 'psycopg[c]==3.1.18' \"uvicorn>=0.29\"; \\\n    apt-get purge -y --auto-remove build-essential; \\\n    rm -rf /var/lib/apt/lists/*; \\\n    echo 'a && b; c | d' > /etc/motd\nCOPY --chown=app:app app.py /srv/app.py\nUSER app\nCMD [\"python3\", \"/srv/app.py\"]\n",
    // Alpine with apk, a virtual build package, and an ADD of a URL.
    "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN apk add --no-cache --virtual .build-deps \\\n        gcc \\\n        musl-dev \\\n    && apk add --no-cache libffi \\\n    && apk del .build-deps\nADD https://example.com/tool.tar.gz /opt/\nUSER nobody\nHEALTHCHECK CMD [\"/opt/tool\", \"health\"]\n",
    // Stage names used as parents, uses-images, digests, `scratch`.
    "ARG HIER_PARENT\nARG HIER_USES_NGINX\nFROM ${HIER_USES_NGINX} AS nginx\nFROM debian@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS pinned\nFROM scratch AS empty\nFROM ${HIER_PARENT} AS runtime\nCOPY --from=nginx /etc/nginx /etc/nginx\nFROM runtime\nUSER 10001\n",
];

#[test]
fn clean_dockerfiles_have_no_findings() {
    for dockerfile in CLEAN {
        check("app", dockerfile, &[]);
    }
}

#[test]
fn the_example_lints_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = common::hier_in(root, &["lint", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
}

#[test]
fn text_output_groups_by_image_and_errors_fail() {
    let repo = repo_with(
        "runtime",
        &format!("{PARENT}RUN apt-get update\nCMD serve\n"),
        "",
    );
    let run = repo.hier_offline(&["lint"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "x\n  images/x/Dockerfile:3: error[H102]: `apt-get update` in a RUN that installs nothing: update and install in the same RUN\n  images/x/Dockerfile:4: warning[H110]: CMD in shell form does not receive signals: use the exec form [\"…\"]\n\n1 error, 1 warning\n"
    );
    // `validate` runs the lint too.
    let validate = repo.hier_offline(&["validate"]);
    assert_eq!(validate.code, 1);
    assert!(
        validate.stdout.contains("error[H102]"),
        "{}",
        validate.stdout
    );
    let unknown = repo.hier_offline(&["lint", "--explain", "H999"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("there is no lint rule `H999`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn templated_images_say_which_template_rendered_them() {
    let repo = Repo::with(&[
        (
            "catalog.toml",
            "[catalog]\nname = \"t\"\nregistry = \"r.example/t\"\n\n[images.base]\nfrom = \"debian:bookworm-slim\"\nversion = \"1.0.0\"\ntemplate = \"base.hbs\"\n",
        ),
        (
            "templates/base.hbs",
            "FROM {{parent.ref}}\nRUN apt-get update\nENTRYPOINT [\"tini\", \"--\"]\n",
        ),
    ]);
    let run = repo.hier_offline(&["lint", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["file"], "images/base/Dockerfile");
    assert_eq!(f["line"], 3, "the rendered file's line (after the header)");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .ends_with("(rendered from templates/base.hbs)"),
        "{f}"
    );
}

// Modern Dockerfile syntax: heredocs and flags are read as BuildKit reads them, and no rule
// fires on them falsely. A finding after each construct pins the line numbers that follow it.

#[test]
fn a_run_heredoc_is_its_script() {
    // Update, install and cleanup in one heredoc script: clean. The later CMD keeps its line.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN <<EOT\nset -eux\n# apt-get update needs the install below\napt-get update\napt-get install -y --no-install-recommends \\\n    ca-certificates \\\n    curl\nrm -rf /var/lib/apt/lists/*\nEOT\nCMD serve\n"
        ),
        &[("H110", 12, "warning")],
    );
    // `<<-` strips tabs; a missing `--no-install-recommends` is found at its line in the body.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN <<-EOT\n\tapt-get update\n\tapt-get install -y curl\n\trm -rf /var/lib/apt/lists/*\n\tEOT\nRUN apk add curl\n"
        ),
        &[("H103", 5, "warning"), ("H105", 8, "warning")],
    );
    // An update alone in the script, a list unsorted in it, a quoted delimiter.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN <<'EOT'\napt-get update\nEOT\nRUN <<\"EOT\"\napk add --no-cache \\\n    zlib \\\n    bash\nEOT\n"
        ),
        &[("H102", 3, "error"), ("H107", 9, "warning")],
    );
}

#[test]
fn heredoc_bodies_are_data_not_instructions() {
    check(
        "app",
        &format!(
            "{PARENT}COPY <<EOF /etc/sample/Dockerfile\nFROM ubuntu\nCMD foo\nRUN apt-get update\nUSER root\nENV DB_PASSWORD=x\nEOF\nRUN cat <<'EOF' > /usr/local/bin/start && chmod +x /usr/local/bin/start\n#!/bin/sh\napt-get update\nexec \"$@\"\nEOF\nRUN python3 <<PY\nimport subprocess\nsubprocess.run(['pip', 'install', 'x'])\nPY\nRUN <<EOT\n#!/usr/bin/env python3\nprint('apt-get update')\nEOT\nUSER app\nENTRYPOINT /start\n"
        ),
        &[("H110", 24, "warning")],
    );
    // Several heredocs in one instruction; ADD of a heredoc is not a local file.
    check(
        "runtime",
        &format!(
            "{PARENT}COPY <<a <<b /dst/\nFROM x\na\nRUN y\nb\nADD <<EOF /etc/motd\nhello\nEOF\nADD app.py /app.py\n"
        ),
        &[("H111", 11, "warning")],
    );
    // A heredoc fed to a shell is its script.
    check(
        "runtime",
        &format!("{PARENT}RUN bash -e <<EOF\napk add curl\nEOF\nCMD x\n"),
        &[("H105", 4, "warning"), ("H110", 6, "warning")],
    );
}

#[test]
fn heredocs_after_flags() {
    check(
        "runtime",
        &format!(
            "{PARENT}RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    --mount=type=cache,target=/var/lib/apt,sharing=locked <<EOT\nset -e\napt-get update\napt-get install -y --no-install-recommends curl\nEOT\nRUN --mount=type=secret,id=npm_token <<EOT\napk add curl\nEOT\n"
        ),
        &[("H105", 10, "warning")],
    );
}

#[test]
fn flags_are_not_commands_nor_sources() {
    check(
        "runtime",
        &format!(
            "{PARENT}RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n    apt-get update && apt-get install -y --no-install-recommends curl\nRUN --mount=type=secret,id=npm_token --network=host --security=insecure apk add curl\nRUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt pip install --no-cache-dir -r /tmp/r.txt\nRUN --network=none apt-get update && apt-get install -y curl\nCOPY --chmod=755 --chown=app:app --link app.py /app.py\nCOPY --from=build --chmod=644 /out /out\nADD --chmod=755 https://example.com/tool.tar.gz /opt/\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x.tgz /opt/\nADD --chmod=755 --link app.py /app.py\n"
        ),
        &[
            ("H105", 6, "warning"),
            ("H103", 8, "warning"),
            ("H104", 8, "warning"),
            ("H111", 13, "warning"),
        ],
    );
}

#[test]
fn cache_mounts_keep_caches_out_of_the_layer() {
    check(
        "runtime",
        &format!(
            "{PARENT}RUN --mount=type=cache,target=/root/.cache/pip pip install flask\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends curl\nRUN --mount=type=bind,target=/var/cache/apk apk add curl\n"
        ),
        &[("H105", 6, "warning")],
    );
}

#[test]
fn validate_accepts_modern_syntax() {
    let repo = repo_with(
        "app",
        &format!(
            "# syntax=docker/dockerfile:1.7\n{PARENT}RUN --mount=type=cache,target=/var/cache/apk <<EOT\napk add curl\nEOT\nCOPY --chmod=755 <<EOF /usr/local/bin/start\n#!/bin/sh\nexec \"$@\"\nEOF\nUSER app\nENTRYPOINT [\"/usr/local/bin/start\"]\n"
        ),
        "",
    );
    assert_eq!(findings(&repo), vec![]);
    let run = repo.hier_offline(&["validate"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Placing each word of a `RUN` on its physical line used to scan the instruction's lines from
/// the start, so the time grew with the square of the continuation lines (7 s for 200 000).
/// With 100 000 lines a quadratic lint would run for minutes in a debug build; this one takes
/// about a second. No time is measured: the finding's line pins that every word was placed.
#[test]
fn lint_time_does_not_grow_with_the_square_of_continuation_lines() {
    const LINES: usize = 100_000;
    let mut dockerfile = format!("{PARENT}RUN apk add --no-cache \\\n");
    for i in 0..LINES {
        dockerfile.push_str(&format!("    pkg{i:06} \\\n"));
    }
    dockerfile.push_str("    aaa\n");
    check(
        "runtime",
        &dockerfile,
        &[("H107", 3 + LINES as u64 + 1, "warning")],
    );
}

/// One byte that is not UTF-8 in one hand-written Dockerfile made `lint` fail for every image.
/// It is one finding of that image's file now, at its line, and every other image is linted.
#[test]
fn a_dockerfile_that_is_not_utf8_is_one_finding_and_the_others_are_linted() {
    let repo = repo_with("runtime", &format!("{PARENT}RUN apk add curl\n"), "");
    let mut base = CLEAN_BASE
        .replace("ENTRYPOINT", "# caf\u{e9}\nENTRYPOINT")
        .into_bytes();
    let at = base.iter().position(|&b| b == 0xc3).unwrap();
    base[at] = 0xe9; // Latin-1 é
    base.remove(at + 1);
    std::fs::write(repo.path().join("images/base/Dockerfile"), base).unwrap();
    let run = repo.hier_offline(&["lint"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "base\n  images/base/Dockerfile:8: error[H100]: this Dockerfile is not UTF-8 text: save it as UTF-8\n\nx\n  images/x/Dockerfile:3: warning[H105]: `apk add` without `--no-cache`\n\n1 error, 1 warning\n"
    );
    let validate = repo.hier_offline(&["validate"]);
    assert_eq!(validate.code, 2);
    assert_eq!(
        validate.stderr,
        "error: the Dockerfile of image `base` is not UTF-8 text\n --> images/base/Dockerfile:8:6\n  |\n8 | # caf\u{fffd}\n  |      ^\n  = help: save it as UTF-8: hier reads Dockerfiles as text\n\nerror: 1 problem found; nothing was written\n"
    );
}

/// The Dockerfiles the engine refuses are findings of lint too (H100), at their lines.
#[test]
fn h100_a_dockerfile_the_engine_would_refuse() {
    check(
        "runtime",
        &format!("{PARENT}LABEL a=\"0\"RUN echo\nFROM python:3.12\n"),
        &[("H100", 3, "error"), ("H100", 4, "error")],
    );
}
