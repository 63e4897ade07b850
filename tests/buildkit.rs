//! What BuildKit adds, against the real engine (whatever builder the rest of the suite uses):
//! the Dockerfiles teams write today (`RUN --mount` of a cache, a bind, a tmpfs; `COPY
//! --chmod`), independent stages built side by side, failures named without protocol noise,
//! and build secrets that reach `RUN --mount=type=secret` and nothing else.

mod common;

use std::io::{Read, Write};
use std::process::Command;

use common::engine::{docker, statuses};
use common::hierarchy::Hierarchy;
use serde_json::Value;

const BUILDKIT: &str = "builder = \"buildkit\"\n";

fn run_in(h: &Hierarchy, image: &str, command: &str) -> String {
    docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "",
        &h.reference(image, "1.0.0"),
        "sh",
        "-c",
        command,
    ])
}

const MODERN: &str = r#"
[images.modern]
from = "hier-test/busybox:1"
version = "1.0.0"
dockerfile = "images/modern/Dockerfile"
test = ["test -x /usr/local/bin/tool", "test \"$(cat /from-bind)\" = data"]
"#;

const MODERN_DOCKERFILE: &str = r#"ARG HIER_PARENT
FROM ${HIER_PARENT}
RUN --mount=type=cache,target=/cache n=$(cat /cache/n 2>/dev/null || echo 0); echo $((n + 1)) > /cache/n; cat /cache/n > /seen
RUN --mount=type=bind,source=data.txt,target=/mnt/data.txt cat /mnt/data.txt > /from-bind
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && test -f /scratch/x && test ! -e /scratch/y
COPY --chmod=755 tool.sh /usr/local/bin/tool
"#;

#[test]
fn mounts_and_copy_chmod_build_and_cache_mounts_persist() {
    let h = Hierarchy::with("modern", BUILDKIT, MODERN);
    h.repo.write("images/modern/Dockerfile", MODERN_DOCKERFILE);
    h.repo.write("images/modern/data.txt", "data");
    h.repo
        .write("images/modern/tool.sh", "#!/bin/sh\necho tool\n");
    h.repo.write("images/modern/.dockerignore", "Dockerfile\n");
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        [("modern".to_string(), "built".to_string())]
    );
    assert_eq!(run_in(&h, "modern", "cat /seen"), "1");
    assert_eq!(
        run_in(&h, "modern", "ls -l /usr/local/bin/tool")
            .split_whitespace()
            .next(),
        Some("-rwxr-xr-x")
    );
    // What was mounted stayed out of the image.
    assert_eq!(
        run_in(
            &h,
            "modern",
            "test -e /mnt/data.txt || test -e /scratch/x || echo clean"
        ),
        "clean"
    );
    // Built again from the cache step on: the cache mount still holds what the first build
    // left there.
    h.repo.write(
        "images/modern/Dockerfile",
        &MODERN_DOCKERFILE.replace(
            "FROM ${HIER_PARENT}\n",
            "FROM ${HIER_PARENT}\nENV STAMP=2\n",
        ),
    );
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run_in(&h, "modern", "cat /seen"), "2");
}

#[test]
fn independent_stages_build_side_by_side() {
    let h = Hierarchy::with(
        "stages",
        BUILDKIT,
        r#"
[images.stages]
from = "hier-test/busybox:1"
version = "1.0.0"
dockerfile = "images/stages/Dockerfile"
test = ["test -f /a && test -f /b"]
"#,
    );
    // (The run's own prefix in each step: the engine's cache cannot answer for them.)
    let p = &h.prefix;
    h.repo.write(
        "images/stages/Dockerfile",
        &format!("ARG HIER_PARENT\nFROM ${{HIER_PARENT}} AS a\nRUN sleep 2 && echo {p} > /a\nFROM ${{HIER_PARENT}} AS b\nRUN sleep 2 && echo {p} > /b\nFROM ${{HIER_PARENT}}\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"),
    );
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = h.repo.read(report["images"][0]["log"].as_str().unwrap());
    // Each stage's step starts before the other one's ends.
    let line_of = |needle: &str| {
        log.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"))
    };
    let step = |stage: &str| {
        let start = log
            .lines()
            .find(|l| l.contains(&format!("[{stage} 2/2] RUN sleep 2")))
            .unwrap_or_else(|| panic!("no step of {stage}:\n{log}"));
        let number = start.split_whitespace().next().unwrap().to_string();
        (line_of(start), line_of(&format!("{number} DONE")))
    };
    let (a_start, a_done) = step("a");
    let (b_start, b_done) = step("b");
    assert!(a_start < b_done && b_start < a_done, "{log}");
}

#[test]
fn a_refused_dockerfile_is_named_without_protocol_noise() {
    let h = Hierarchy::with(
        "noise",
        BUILDKIT,
        r#"
[images.broken]
from = "hier-test/busybox:1"
version = "1.0.0"
dockerfile = "images/broken/Dockerfile"
"#,
    );
    h.repo.write(
        "images/broken/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN echo partial output && exit 3\n",
    );
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error = report["images"][0]["error"].as_str().unwrap();
    assert_eq!(
        error,
        "step [2/2] RUN echo partial output && exit 3 returned a non-zero code: 3"
    );
    assert!(run.stderr.contains("partial output"), "{}", run.stderr);
    // What hier says (not the log's tail, which is BuildKit's own) has no protocol noise.
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("    "))
        .collect();
    for noise in ["rpc error", "failed to solve", "executor failed", "desc ="] {
        assert!(!said.iter().any(|l| l.contains(noise)), "{noise}: {said:?}");
    }
    // A Dockerfile the frontend refuses: its own words, the line included.
    h.repo.write(
        "images/broken/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nFOO bar\n",
    );
    // hier parses it as the frontend does and refuses it before the engine is asked.
    let run = h.hier(&["rebuild"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "error: image `broken`: unknown instruction `FOO`\n --> images/broken/Dockerfile:3:1\n"
        ),
        "{}",
        run.stderr
    );
}

/// A secret as an environment variable and one as a file outside the repository.
fn secrets_hierarchy(file: &std::path::Path) -> Hierarchy {
    let lines = format!(
        "{BUILDKIT}\n[catalog.secrets]\ntoken = {{ env = \"HIER_TEST_TOKEN\" }}\nconf = {{ file = \"{}\" }}\n",
        file.display()
    );
    Hierarchy::with(
        "secrets",
        &lines,
        r#"
[images.secretive]
from = "hier-test/busybox:1"
version = "1.0.0"
dockerfile = "images/secretive/Dockerfile"
secrets = ["token", "conf"]
test = ["test ! -e /run/secrets/token", "test -f /proof"]
"#,
    )
}

const TOKEN: &str = "tok-5c9b2e71d4a8f3b6";
const CONF: &str = "conf-a1f0e9d8c7b6";

fn sha256(text: &str) -> String {
    use std::process::Stdio;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

#[test]
fn a_secret_reaches_its_mount_and_nothing_else() {
    let outside = tempfile::tempdir().unwrap();
    let conf = outside.path().join("pip.conf");
    std::fs::write(&conf, CONF).unwrap();
    let h = secrets_hierarchy(&conf);
    // The build proves it saw both values (by their digests, which are not secret), and prints
    // one of them, which hier blanks out of the log. (The first step, the run's own, keeps the
    // engine's cache from answering for the rest.)
    let dockerfile = format!(
        "ARG HIER_PARENT\nFROM ${{HIER_PARENT}}\nRUN echo {} > /run-id\n\
         RUN --mount=type=secret,id=token,required=true test \"$(busybox sha256sum < /run/secrets/token | busybox cut -c1-64)\" = {}\n\
         RUN --mount=type=secret,id=conf,required=true test \"$(busybox sha256sum < /run/secrets/conf | busybox cut -c1-64)\" = {} && touch /proof\n\
         RUN --mount=type=secret,id=token cat /run/secrets/token\n",
        h.prefix,
        sha256(TOKEN),
        sha256(CONF)
    );
    h.repo.write("images/secretive/Dockerfile", &dockerfile);
    h.commit();
    let run = h.repo.hier_env(
        &["rebuild", "--format", "json", "-v"],
        &[("HIER_TEST_TOKEN", TOKEN)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["images"][0]["status"], "built");
    let log = h.repo.read(report["images"][0]["log"].as_str().unwrap());
    assert!(
        log.contains("***"),
        "the printed secret is blanked out: {log}"
    );

    // Nowhere: the saved image (every layer, the config, the history), the labels, the logs,
    // the reports, the lock, the output.
    let reference = h.reference("secretive", "1.0.0");
    let saved = Command::new("docker")
        .args(["save", &reference])
        .output()
        .unwrap();
    assert!(saved.status.success());
    let mut everything = vec![("the saved image", tar_contents(&saved.stdout))];
    everything.push((
        "the image config",
        docker(&["image", "inspect", &reference]).into_bytes(),
    ));
    everything.push((
        "the history",
        docker(&["history", "--no-trunc", &reference]).into_bytes(),
    ));
    everything.push(("stdout", run.stdout.into_bytes()));
    everything.push(("stderr", run.stderr.into_bytes()));
    for file in files_under(&h.repo.path().join(".hier")) {
        everything.push(("a file under .hier", std::fs::read(file).unwrap()));
    }
    everything.push(("the lock", h.repo.read("hier.lock").into_bytes()));
    for (what, bytes) in everything {
        for secret in [TOKEN, CONF] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} is in {what}"
            );
        }
    }
    // The names are inputs; the values are not: a new value rebuilds nothing.
    let lock = h.lock();
    assert!(
        lock["images"]["secretive"]["components"]
            .as_table()
            .unwrap()
            .contains_key("secrets")
    );
    std::fs::write(&conf, "another value").unwrap();
    assert_eq!(h.planned(), Vec::<String>::new());
}

/// Every byte of every file in a tar, and of the layers inside it.
fn tar_contents(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if content.starts_with(b"ustar") || content.len() > 262 && &content[257..262] == b"ustar" {
            out.extend(tar_contents(&content));
        }
        out.extend(content);
    }
    out
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_missing_secret_source_stops_the_run_before_anything_builds() {
    let outside = tempfile::tempdir().unwrap();
    let h = secrets_hierarchy(&outside.path().join("missing.conf"));
    h.repo.write(
        "images/secretive/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\n",
    );
    h.commit();
    let run = h.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "secret `token` (needed by `secretive`): the environment variable HIER_TEST_TOKEN is not set"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("secret `conf` (needed by `secretive`): cannot read the file"),
        "{}",
        run.stderr
    );
    assert!(!h.repo.path().join("hier.lock").exists());
    assert!(!h.repo.path().join(".hier/logs").exists());
}

#[test]
fn secrets_under_the_legacy_builder_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let h = secrets_hierarchy(&outside.path().join("x.conf"));
    h.repo.write(
        "images/secretive/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\n",
    );
    h.commit();
    let run = h.repo.hier(&["rebuild", "--builder", "legacy"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`secretive` declares build secrets, which only BuildKit can mount"),
        "{}",
        run.stderr
    );
}

/// An engine too old for BuildKit (it speaks API 1.38): it answers `/version` and nothing else.
fn old_engine() -> (tempfile::TempDir, String) {
    common::stub::engine(
        r#"{"Version":"18.06.0","ApiVersion":"1.38","Os":"linux","Arch":"amd64"}"#,
        common::stub::Otherwise::NotFound,
    )
}

#[test]
fn an_engine_without_buildkit_is_named_with_the_option_to_use() {
    let h = Hierarchy::with(
        "old",
        BUILDKIT,
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
"#,
    );
    let (_dir, endpoint) = old_engine();
    let run = h.repo.hier_env(&["rebuild"], &[("DOCKER_HOST", &endpoint)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the Docker Engine at {endpoint} cannot build with BuildKit (it speaks API 1.38, and BuildKit needs 1.39)"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`builder = \"legacy\"` in [catalog], or `--builder legacy`"),
        "{}",
        run.stderr
    );
    assert!(!h.repo.path().join("hier.lock").exists());
}
