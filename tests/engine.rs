//! `hier rebuild` against the real Docker Engine (started by `scripts/engine-up`, shared by the
//! whole suite), on the tiny busybox base `hier-test/busybox:1`. Each test tags its images
//! under a registry prefix of its own and removes them when it ends.

mod common;

#[path = "engine/budget.rs"]
mod budget;
#[path = "engine/diff.rs"]
mod diff;
#[path = "engine/docs.rs"]
mod docs;
#[path = "engine/init.rs"]
mod init;
#[path = "engine/new_image.rs"]
mod new_image;
#[path = "engine/non_utf8_names.rs"]
mod non_utf8_names;
#[path = "engine/plan_reasons.rs"]
mod plan_reasons;
#[path = "engine/sbom.rs"]
mod sbom;
#[path = "engine/size.rs"]
mod size;
#[path = "engine/structure.rs"]
mod structure;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::builder;
use common::engine::{docker, pairs, statuses};
use common::hierarchy::{BASE, Hierarchy};
use serde_json::Value;

const THREE_LEVELS: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.2.0"
template = "layer.hbs"
tags = ["stable"]
test = ["test -f /etc/base"]

[images.mid]
parent = "base@^1"
version = "2.0.1"
template = "layer.hbs"
test = ["test -f /etc/mid", "test -f /etc/base"]

[images.other]
parent = "base"
version = "0.1.0"
template = "copy.hbs"

[images.app]
parent = "mid"
uses = ["other"]
version = "3.0.0-rc.1"
kind = "app"
dockerfile = "images/app/Dockerfile"
test = ["cat /app.txt", "test -d /from-other"]
"#;

const APP_DOCKERFILE: &str = "ARG HIER_PARENT\nARG HIER_USES_OTHER\nFROM ${HIER_USES_OTHER} AS other\nFROM ${HIER_PARENT}\nCOPY --from=other /ctx/other /from-other\nCOPY app.txt /app.txt\n";

fn three_levels(test: &str) -> Hierarchy {
    let h = Hierarchy::new(test, THREE_LEVELS);
    h.repo.write("images/app/Dockerfile", APP_DOCKERFILE);
    h.repo.write("images/app/app.txt", "hello\n");
    h.repo.write("images/other/data.txt", "data\n");
    h.repo.write("images/other/.dockerignore", "*.log\n");
    h.repo.write("images/other/debug.log", "ignored\n");
    h.commit();
    h
}

#[test]
fn a_hierarchy_builds_in_order_on_exact_parents_with_tags_labels_and_lock() {
    let h = three_levels("build");
    let (run, report) = h.rebuild(&["-j", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("base", "built"),
            ("mid", "built"),
            ("other", "built"),
            ("app", "built")
        ])
    );
    let lock = h.lock();
    assert_eq!(lock["version"].as_integer(), Some(1));
    let id = |name: &str| h.entry(name)["image_id"].as_str().unwrap().to_string();

    // Tags: version, minor, major, extra, immutable; a pre-release only version + immutable.
    let base_id = id("base");
    let short = &base_id["sha256:".len().."sha256:".len() + 12];
    for tag in ["1.2.0", "1.2", "1", "stable", &format!("1.2.0-{short}")] {
        assert_eq!(
            h.inspect(&h.reference("base", tag), "{{.Id}}"),
            base_id,
            "{tag}"
        );
    }
    let app_tags: Vec<String> = h.entry("app")["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert_eq!(app_tags.len(), 2, "{app_tags:?}");
    assert_eq!(app_tags[0], "3.0.0-rc.1");
    let latest = Command::new("docker")
        .args(["image", "inspect", &h.reference("base", "latest")])
        .output()
        .unwrap();
    assert!(!latest.status.success(), "never `latest`");

    // Exact parents: the parent's layers are a prefix of the child's, and the labels say so.
    for (child, parent) in [("mid", "base"), ("app", "mid"), ("other", "base")] {
        let child_ref = h.reference(child, h.entry(child)["tags"][0].as_str().unwrap());
        let parent_ref = h.reference(parent, h.entry(parent)["tags"][0].as_str().unwrap());
        let child_layers = h.inspect(&child_ref, "{{json .RootFS.Layers}}");
        let parent_layers = h.inspect(&parent_ref, "{{json .RootFS.Layers}}");
        let c: Vec<String> = serde_json::from_str(&child_layers).unwrap();
        let p: Vec<String> = serde_json::from_str(&parent_layers).unwrap();
        assert!(
            c.len() > p.len() && c[..p.len()] == p[..],
            "{child} on {parent}"
        );
        assert_eq!(
            h.inspect(&child_ref, "{{index .Config.Labels \"io.hier.parent.id\"}}"),
            id(parent)
        );
        assert_eq!(
            h.entry(child)["parent_image_id"].as_str().unwrap(),
            id(parent)
        );
    }
    let app_ref = h.reference("app", "3.0.0-rc.1");
    let labels: BTreeMap<String, String> =
        serde_json::from_str(&h.inspect(&app_ref, "{{json .Config.Labels}}")).unwrap();
    assert_eq!(labels["org.opencontainers.image.title"], "app");
    assert_eq!(labels["org.opencontainers.image.version"], "3.0.0-rc.1");
    assert_eq!(
        labels["org.opencontainers.image.base.name"],
        format!("{}/mid:2.0.1", h.prefix)
    );
    assert_eq!(
        labels["io.hier.fingerprint"],
        h.entry("app")["fingerprint"].as_str().unwrap()
    );
    assert!(labels.contains_key("org.opencontainers.image.revision"));
    assert!(labels.contains_key("org.opencontainers.image.created"));
    assert_eq!(
        h.entry("app")["uses_image_ids"]["other"].as_str().unwrap(),
        id("other")
    );
    // The base records the identity of `from` (a local image: its id).
    let from_id = docker(&["image", "inspect", BASE, "--format", "{{.Id}}"]);
    assert_eq!(
        h.entry("base")["upstream_digest"].as_str().unwrap(),
        from_id
    );
    assert_eq!(
        h.entry("base")["parent_image_id"].as_str().unwrap(),
        from_id
    );
    // The ignored file never reached the image; the context did.
    let listing = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "",
        &h.reference("other", "0.1.0"),
        "ls",
        "/ctx/other",
    ]);
    // The legacy builder reads the Dockerfile from the context, so the build's rendering is
    // sent at the rendered file's place; BuildKit gets it apart, and the context holds only
    // what is on disk (the rendering is not committed here), as with the docker CLI.
    let expected: &[&str] = match builder() {
        "legacy" => &["Dockerfile", "data.txt"],
        _ => &["data.txt"],
    };
    assert_eq!(listing.split_whitespace().collect::<Vec<_>>(), expected);

    // The report is on disk too; the logs exist.
    let reports = std::fs::read_dir(h.repo.path().join(".hier/reports"))
        .unwrap()
        .count();
    assert_eq!(reports, 1);
    let log = report["images"][0]["log"].as_str().unwrap();
    let step = match builder() {
        "legacy" => "Step 2/3 : RUN echo base one > /etc/base",
        _ => "[2/2] RUN echo base one > /etc/base",
    };
    assert!(h.repo.read(log).contains(step), "{log}");

    // Nothing changed: nothing planned, nothing built.
    let (again, report) = h.rebuild(&[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(statuses(&report), vec![]);
    // No containers left behind by the tests.
    h.assert_no_test_containers();
}

#[test]
fn each_kind_of_change_selects_exactly_the_right_images() {
    let h = three_levels("changes");
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(h.planned(), Vec::<String>::new());

    // An ignored file: nothing.
    h.repo.write("images/other/more.log", "x");
    assert_eq!(h.planned(), Vec::<String>::new());
    // A context file: that image and its dependents.
    h.repo.write("images/other/data.txt", "changed\n");
    assert_eq!(h.planned(), ["other", "app"]);
    h.repo.write("images/other/data.txt", "data\n");
    assert_eq!(h.planned(), Vec::<String>::new());
    // A template: every image rendered from it, and their dependents.
    let template = h.repo.read("templates/layer.hbs");
    h.repo
        .write("templates/layer.hbs", &format!("{template}# note\n"));
    assert_eq!(h.planned(), ["base", "mid", "other", "app"]);
    h.repo.write("templates/layer.hbs", &template);
    // A var of one image.
    let catalog = h.repo.read("catalog.toml");
    h.repo.write(
        "catalog.toml",
        &catalog.replace(
            "version = \"2.0.1\"",
            "version = \"2.0.1\"\nvars = { mark = \"two\" }",
        ),
    );
    assert_eq!(h.planned(), ["mid", "app"]);
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[("mid", "built"), ("app", "built")])
    );
    let content = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "",
        &h.reference("mid", "2.0.1"),
        "cat",
        "/etc/mid",
    ]);
    assert_eq!(content, "mid two");
}

#[test]
fn failures_skip_only_dependents_and_keep_old_tags() {
    let h = three_levels("fail");
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let old_mid = h.entry("mid")["image_id"].as_str().unwrap().to_string();
    let old_other = h.entry("other")["image_id"].as_str().unwrap().to_string();

    // A change in `mid` whose test fails: `app` is skipped, `other` still builds, and `mid`'s
    // tags and lock entry stay on the old image.
    let catalog = h.repo.read("catalog.toml");
    h.repo.write(
        "catalog.toml",
        &catalog.replace(
            "test = [\"test -f /etc/mid\", \"test -f /etc/base\"]",
            "vars = { mark = \"two\" }\ntest = [\"test -f /etc/missing\"]",
        ),
    );
    h.repo.write("images/other/data.txt", "v2\n");
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[("mid", "failed"), ("other", "built"), ("app", "skipped")])
    );
    assert!(
        run.stderr
            .contains("test `test -f /etc/missing` exited with 1"),
        "{}",
        run.stderr
    );
    assert_eq!(
        h.inspect(&h.reference("mid", "2.0.1"), "{{.Id}}"),
        old_mid,
        "old tag kept"
    );
    assert_eq!(h.entry("mid")["image_id"].as_str().unwrap(), old_mid);
    assert_ne!(h.entry("other")["image_id"].as_str().unwrap(), old_other);

    // A failing build step: the engine's message, the log's tail.
    h.repo.write("catalog.toml", &catalog);
    h.repo.write(
        "images/app/Dockerfile",
        &format!("{APP_DOCKERFILE}RUN echo about to fail && exit 7\n"),
    );
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(statuses(&report), pairs(&[("app", "failed")]));
    assert!(
        run.stderr.contains("returned a non-zero code: 7"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("about to fail"),
        "the log's tail: {}",
        run.stderr
    );
    // Nothing left half-done: the rerun plans exactly the failed image.
    assert_eq!(h.planned(), ["app"]);
    h.assert_no_test_containers();
}

#[test]
fn a_failed_image_keeps_its_id_and_says_how_to_run_it() {
    let h = Hierarchy::new(
        "failedid",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
test = ["echo checking; echo the reason >&2; exit 4"]
"#,
    );
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let image = &report["images"][0];
    let id = image["image_id"].as_str().expect("the failed image's id");
    assert_eq!(h.inspect(id, "{{.Id}}"), id, "the engine still has it");
    let next = image["next"].as_str().unwrap();
    assert!(
        next.contains(&format!("docker run --rm -it {id} sh")),
        "{next}"
    );
    let output = image["output"].as_array().unwrap();
    assert!(output.iter().any(|l| l == "the reason"), "{output:?}");
    assert!(run.stderr.contains(&format!(
        "next: examine it with `docker run --rm -it {id} sh`"
    )));
    // No tag on it, nothing recorded.
    assert!(!common::engine::docker_succeeds(&[
        "image",
        "inspect",
        &h.reference("base", "1.0.0")
    ]));
    assert!(!h.repo.path().join("hier.lock").exists());
}

#[test]
fn failure_tails_show_the_failing_step_without_a_label_dump_or_an_unused_argument_warning() {
    let h = Hierarchy::new(
        "tails",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.broken]
parent = "base"
version = "1.0.0"
template = "broken.hbs"
"#,
    );
    h.repo.write(
        "templates/broken.hbs",
        "FROM {{parent.ref}}\nRUN echo first step\nRUN echo the failing step says why && exit 5\n",
    );
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[("base", "built"), ("broken", "failed")])
    );
    let output: Vec<&str> = report["images"][1]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(output, ["the failing step says why"], "{}", run.stderr);
    assert!(
        report["images"][1]["image_id"].is_null(),
        "nothing was built"
    );
    let said: String = run.stderr.lines().filter(|l| !l.starts_with('[')).collect();
    assert!(!said.contains("LABEL"), "{}", run.stderr);
    assert!(!said.contains("first step"), "{}", run.stderr);
    for log in ["base", "broken"] {
        let text = h.repo.read(
            report["images"][if log == "base" { 0 } else { 1 }]["log"]
                .as_str()
                .unwrap(),
        );
        assert!(!text.contains("were not consumed"), "{text}");
    }
}

#[test]
fn the_json_report_starts_with_what_ran_and_how_it_ended() {
    let h = Hierarchy::new(
        "reportfacts",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
"#,
    );
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let keys: Vec<String> = {
        let text = &run.stdout;
        let report: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        report.keys().cloned().collect()
    };
    assert_eq!(
        keys[..5],
        ["command", "hier_version", "revision", "exit_code", "counts"]
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["command"], "rebuild");
    assert_eq!(report["hier_version"], env!("CARGO_PKG_VERSION"));
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(h.repo.path())
        .output()
        .unwrap();
    assert_eq!(
        report["revision"],
        String::from_utf8_lossy(&head.stdout).trim()
    );
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["counts"]["built"], 1);
    assert_eq!(report["counts"]["failed"], 0);
}

#[test]
fn an_unreachable_engine_exits_3_naming_it() {
    let h = three_levels("unreachable");
    let out = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild", "--all"])
        .current_dir(h.repo.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("unix:///nonexistent/docker.sock"),
        "{stderr}"
    );
    assert!(!h.repo.path().join("hier.lock").exists());
}

#[test]
fn an_empty_docker_host_is_no_docker_host() {
    let h = Hierarchy::new(
        "emptyhost",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
"#,
    );
    let run = h
        .repo
        .hier_env(&["rebuild", "--format", "json"], &[("DOCKER_HOST", "")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

const SLOW_CHAIN: &str = r#"
[images.s1]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "slow.hbs"

[images.s2]
parent = "s1"
version = "1.0.0"
template = "slow.hbs"

[images.s3]
parent = "s2"
version = "1.0.0"
template = "slow.hbs"

[images.s4]
parent = "s3"
version = "1.0.0"
template = "slow.hbs"
"#;

/// Four images of a second's build each. The step names the test's own prefix, so no layer
/// cache left by an earlier run makes the chain fast.
fn slow_chain(test: &str) -> Hierarchy {
    let h = Hierarchy::new(test, SLOW_CHAIN);
    // The prefix makes each test's (and each run's) layers its own: nothing is cached.
    h.repo.write(
        "templates/slow.hbs",
        &format!(
            "FROM {{{{parent.ref}}}}\nRUN sleep 1 && echo {{{{image.name}}}} {} > /etc/{{{{image.name}}}}\n",
            h.prefix
        ),
    );
    h.commit();
    h
}

#[test]
fn killed_mid_run_the_lock_parses_and_a_rerun_builds_what_is_left() {
    let h = slow_chain("kill");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild"])
        .current_dir(h.repo.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first image is recorded, then kill -9.
    h.wait_for_lock_entry("s1");
    child.kill().unwrap();
    child.wait().unwrap();
    let lock = h.lock();
    let recorded: Vec<String> = lock["images"].as_table().unwrap().keys().cloned().collect();
    assert!(!recorded.is_empty() && recorded.len() < 4, "{recorded:?}");
    let left: Vec<String> = ["s1", "s2", "s3", "s4"]
        .iter()
        .filter(|n| !recorded.contains(&n.to_string()))
        .map(|n| n.to_string())
        .collect();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let built: Vec<String> = statuses(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(built, left);
    assert_eq!(h.lock()["images"].as_table().unwrap().len(), 4);
}

#[test]
fn two_concurrent_runs_build_each_image_once() {
    let h = slow_chain("concurrent");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_hier"))
            .args(["rebuild", "--format", "json"])
            .current_dir(h.repo.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = spawn();
    std::thread::sleep(Duration::from_millis(300));
    let second = spawn();
    let a = first.wait_with_output().unwrap();
    let b = second.wait_with_output().unwrap();
    assert!(a.status.success() && b.status.success());
    let count = |out: &std::process::Output| {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["images"].as_array().unwrap().len()
    };
    assert_eq!(count(&a) + count(&b), 4, "every image built exactly once");
    assert!(
        String::from_utf8_lossy(&b.stderr).contains("waiting for another hier run"),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
}

#[test]
fn sigterm_stops_cleanly_with_exit_130() {
    let h = slow_chain("sigterm");
    let child = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild", "--format", "json"])
        .current_dir(h.repo.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    h.wait_for_lock_entry("s1");
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["images"][0]["status"], "built");
    let reports = std::fs::read_dir(h.repo.path().join(".hier/reports"))
        .unwrap()
        .count();
    assert_eq!(reports, 1, "the report is written when interrupted");
    // The lock parses and holds what finished.
    assert!(h.lock()["images"].as_table().unwrap().contains_key("s1"));
}

#[test]
fn the_same_context_hits_the_docker_clis_layer_cache() {
    let h = Hierarchy::new(
        "cache",
        r#"
[images.ctx]
from = "hier-test/busybox:1"
version = "1.0.0"
dockerfile = "images/ctx/Dockerfile"
"#,
    );
    let dockerfile = "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCOPY . /ctx/\n";
    h.repo.write("images/ctx/Dockerfile", dockerfile);
    h.repo.write("images/ctx/a/b/c.txt", "deep\n");
    h.repo.write("images/ctx/run.sh", "#!/bin/sh\necho hi\n");
    h.repo.write("images/ctx/skip.tmp", "ignored\n");
    // The Dockerfile itself is ignored (good practice): hier sends its build version of it.
    h.repo
        .write("images/ctx/.dockerignore", "*.tmp\n!keep.tmp\nDockerfile\n");
    h.repo.write("images/ctx/keep.tmp", "kept\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        h.repo.path().join("images/ctx/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("run.sh", h.repo.path().join("images/ctx/link")).unwrap();
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = h.entry("ctx")["image_id"].as_str().unwrap().to_string();
    let parent = h.entry("ctx")["parent_image_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The docker CLI (Debian's, which builds with BuildKit itself), same context and
    // Dockerfile, same builder: every step from cache, and the same layers.
    let cli_id = match builder() {
        "legacy" => cli_build_legacy(&h, &parent),
        _ => cli_build_buildkit(&h, &parent),
    };
    let layers = |r: &str| docker(&["image", "inspect", r, "--format", "{{json .RootFS.Layers}}"]);
    assert_eq!(layers(&cli_id), layers(&id));
    let _ = Command::new("docker").args(["rmi", &cli_id]).output();
}

/// `docker build` with the legacy builder; the image id. Its COPY step must come from hier's
/// cache.
fn cli_build_legacy(h: &Hierarchy, parent: &str) -> String {
    let out = Command::new("docker")
        .args([
            "build",
            "--build-arg",
            &format!("HIER_PARENT={parent}"),
            ".",
        ])
        .current_dir(h.repo.path().join("images/ctx"))
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    let output = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        output.contains("COPY . /ctx/\n ---> Using cache"),
        "the COPY step comes from hier's cache: {output}"
    );
    output
        .lines()
        .find_map(|l| l.strip_prefix("Successfully built "))
        .unwrap()
        .to_string()
}

/// `DOCKER_BUILDKIT=1 docker build` with Debian's docker client (BuildKit built in), on the
/// pin hier's build named the parent by; the image id. Its COPY step must come from hier's
/// cache.
fn cli_build_buildkit(h: &Hierarchy, parent: &str) -> String {
    let pin = format!(
        "{}/ctx:from-sha256-{}",
        h.prefix,
        parent.trim_start_matches("sha256:")
    );
    let iid = h.repo.path().join("cli.iid");
    let out = Command::new("/usr/bin/docker")
        .args(["build", "--progress", "plain", "--iidfile"])
        .arg(&iid)
        .args(["--build-arg", &format!("HIER_PARENT={pin}"), "."])
        .current_dir(h.repo.path().join("images/ctx"))
        .env("DOCKER_BUILDKIT", "1")
        .output()
        .unwrap();
    let output = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{output}");
    let copy = output
        .split("\n\n")
        .find(|block| block.contains("] COPY . /ctx/"))
        .unwrap_or_default();
    assert!(
        copy.contains("CACHED"),
        "the COPY step comes from hier's cache: {output}"
    );
    std::fs::read_to_string(iid).unwrap().trim().to_string()
}

#[test]
fn a_recorded_parent_the_engine_lacks_is_an_error_naming_the_rebuild() {
    let h = three_levels("lacks");
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Remove `app`, then `mid` (no child left, so it really goes), with every tag.
    for image in ["app", "mid"] {
        docker(&["rmi", "-f", h.entry(image)["image_id"].as_str().unwrap()]);
    }
    h.repo.write("images/app/app.txt", "changed\n");
    let before = h.repo.read("hier.lock");
    let run = h.hier(&["rebuild"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the engine lacks that image, which was never pushed; run `hier rebuild mid`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(h.repo.read("hier.lock"), before, "nothing rebuilt silently");
}

/// A unix-socket proxy in front of the engine that records the request line of each request.
struct Proxy {
    endpoint: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn proxy() -> Proxy {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let mut upstream = UnixStream::connect("/var/run/docker.sock").unwrap();
            let (mut back_from, mut back_to) =
                (upstream.try_clone().unwrap(), client.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut back_from, &mut back_to);
            });
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    for line in String::from_utf8_lossy(&buf[..n]).lines() {
                        if ["GET ", "POST ", "HEAD ", "DELETE ", "PUT "]
                            .iter()
                            .any(|m| line.starts_with(m))
                        {
                            seen.lock().unwrap().push(line.to_string());
                        }
                    }
                    if upstream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = upstream.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    Proxy {
        endpoint: format!("unix://{}", path.display()),
        requests,
        _dir: dir,
    }
}

#[test]
fn a_no_op_rebuild_makes_no_per_image_engine_calls() {
    let h = three_levels("noop");
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let proxy = proxy();
    let out = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild", "--changed"])
        .current_dir(h.repo.path())
        .env("DOCKER_HOST", &proxy.endpoint)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = proxy.requests.lock().unwrap().clone();
    assert!(!requests.is_empty(), "the run went through the proxy");
    // Only engine-wide calls: version negotiation and one listing of the images.
    for request in &requests {
        let path = request.split_whitespace().nth(1).unwrap_or("");
        let path = path.split('?').next().unwrap();
        let generic = path == "/version"
            || path.ends_with("/version")
            || path.ends_with("/_ping")
            || path.ends_with("/images/json");
        assert!(
            generic,
            "a per-image call in a no-op run: {request} (all: {requests:?})"
        );
    }
}

#[test]
fn an_up_to_date_image_missing_a_tag_is_retagged_not_rebuilt_by_the_next_build() {
    let h = three_levels("retag");
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mid = h.entry("mid")["image_id"].as_str().unwrap().to_string();
    docker(&["rmi", &h.reference("mid", "2")]);
    // A run that builds something (here `other` and its dependent) restores it.
    h.repo.write("images/other/data.txt", "v2\n");
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[("mid", "unchanged"), ("other", "built"), ("app", "built")])
    );
    assert_eq!(report["images"][0]["reason"], "retagged: 2");
    assert_eq!(h.inspect(&h.reference("mid", "2"), "{{.Id}}"), mid);
    assert_eq!(h.entry("mid")["image_id"].as_str().unwrap(), mid);
}

#[test]
fn the_layer_cache_is_reused_unless_no_cache_and_each_step_is_told() {
    let h = Hierarchy::new(
        "layercache",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "two.hbs"
vars = { second = "a" }
"#,
    );
    // The first step is this run's own (it names the test's prefix): no earlier run's cache and
    // no other test's build share it.
    h.repo.write(
        "templates/two.hbs",
        &format!(
            "FROM {{{{parent.ref}}}}\nRUN echo {} > /etc/base\nRUN echo {{{{vars.second}}}} > /etc/second\n",
            h.prefix
        ),
    );
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A changed second step rebuilds the image: the first comes from the cache, and `-v` tells
    // each step as it starts, a cached one too (BuildKit may report both in one update).
    let catalog = h.repo.read("catalog.toml");
    h.repo.write(
        "catalog.toml",
        &catalog.replace("second = \"a\"", "second = \"b\""),
    );
    let (run, report) = h.rebuild(&["-v"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let step = match builder() {
        "legacy" => format!("Step 2/4 : RUN echo {} > /etc/base", h.prefix),
        _ => format!("[2/3] RUN echo {} > /etc/base", h.prefix),
    };
    let step = step.as_str();
    assert!(
        run.stderr.contains(&format!("base: {step}")),
        "{}",
        run.stderr
    );
    // The legacy builder says so on the line after the step; BuildKit on a line of the step's
    // number (`#5 CACHED`).
    let cached = |log: &str| {
        let line = log
            .lines()
            .find(|l| l.contains(step))
            .unwrap_or_else(|| panic!("{log}"));
        match builder() {
            "legacy" => log[log.find(line).unwrap()..]
                .lines()
                .nth(1)
                .is_some_and(|l| l.contains("Using cache")),
            _ => {
                let number = line.split_whitespace().next().unwrap();
                log.lines().any(|l| l == format!("{number} CACHED"))
            }
        }
    };
    let log = h.repo.read(report["images"][0]["log"].as_str().unwrap());
    assert!(cached(&log), "{log}");
    // With --no-cache, the step runs again.
    let (run, report) = h.rebuild(&["--all", "--no-cache"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = h.repo.read(report["images"][0]["log"].as_str().unwrap());
    assert!(!cached(&log), "{log}");
}

#[test]
fn an_allow_list_dockerignore_sends_what_it_lets_back_in() {
    let h = Hierarchy::new(
        "allowlist",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "copy.hbs"
"#,
    );
    h.repo
        .write("images/base/.dockerignore", "*\n!src/deep/app.py\n");
    h.repo.write("images/base/src/deep/app.py", "print(1)\n");
    h.repo.write("images/base/src/other.py", "no\n");
    h.repo.write("images/base/top.txt", "no\n");
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listing = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "",
        &h.reference("base", "1.0.0"),
        "sh",
        "-c",
        "cd /ctx/base && find . -type f | sort",
    ]);
    // Only the file let back in (the build files are excluded too: the legacy builder drops
    // them after reading, BuildKit gets the Dockerfile apart).
    assert_eq!(listing, "./src/deep/app.py");
}

#[test]
fn a_test_over_its_time_limit_fails_the_image() {
    let h = Hierarchy::new(
        "timeout",
        r#"
[images.slow]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
test = ["sleep 30"]
test_timeout = "1s"
"#,
    );
    let start = Instant::now();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        start.elapsed() < Duration::from_secs(25),
        "the test was stopped"
    );
    assert_eq!(statuses(&report), pairs(&[("slow", "failed")]));
    assert!(
        run.stderr.contains("test `sleep 30` took longer than 1s"),
        "{}",
        run.stderr
    );
    h.assert_no_test_containers();
}

#[test]
fn test_output_is_kept_whole_and_in_order_with_its_last_stderr_line() {
    let h = Hierarchy::new(
        "testoutput",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
test = ["i=0; while [ $i -lt 300 ]; do echo out $i; echo err $i >&2; i=$((i+1)); done; printf last-stderr-line >&2; exit 1"]
"#,
    );
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log = report["images"][0]["log"].as_str().unwrap();
    let text = std::fs::read_to_string(h.repo.path().join(log)).unwrap();
    let mut expected: Vec<String> = (0..300)
        .flat_map(|i| [format!("out {i}"), format!("err {i}")])
        .collect();
    expected.push("last-stderr-line".into());
    let start = text.find("hier: test `").expect("the test's line");
    let written: Vec<&str> = text[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("hier: "))
        .collect();
    assert_eq!(written, expected, "{text}");
}

#[test]
fn dry_run_prints_the_plan_and_needs_no_engine() {
    let h = three_levels("dryrun");
    let out = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild", "--dry-run", "--format", "json"])
        .current_dir(h.repo.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["base", "mid", "other", "app"]);
    assert!(!h.repo.path().join("hier.lock").exists());
    assert!(!h.repo.path().join(".hier").exists());
}
