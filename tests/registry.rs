//! Pushes and fetches against real registries (two distribution registries on 127.0.0.1:5000
//! and :5001, started by `scripts/engine-up`) and the real engine, on the busybox base.

mod common;

use std::process::{Command, Stdio};

use common::Repo;
use common::engine::{docker, pairs, registry_digest, remove_images, statuses};
use serde_json::Value;

const REGISTRY: &str = "127.0.0.1:5000";
const MIRROR: &str = "127.0.0.1:5001";

struct Setup {
    repo: Repo,
    /// `<test prefix>`: images are `REGISTRY/<prefix>/<name>`.
    prefix: String,
}

impl Drop for Setup {
    fn drop(&mut self) {
        remove_images(&format!("/{}/", self.prefix));
    }
}

fn setup(test: &str, registry: &str) -> Setup {
    let ok = Command::new("curl")
        .args(["-fsS", &format!("http://{REGISTRY}/v2/")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "these tests need the registries: run scripts/engine-up first"
    );
    let prefix = format!("hier-test-{test}-{}", std::process::id());
    let catalog = format!(
        r#"[catalog]
name = "t"
registry = "{registry}/{prefix}"
mirrors = ["{MIRROR}/{prefix}"]
{builder}
[catalog.labels]
"org.example.test" = "{prefix}"

[catalog.vars]
test = "{prefix}"

[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "t.hbs"
test = ["test -f /etc/base"]

[images.child]
parent = "base"
version = "2.0.0"
template = "t.hbs"

[images.leaf]
parent = "child"
version = "3.1.0"
template = "t.hbs"
"#,
        builder = common::builder_line()
    );
    let repo = Repo::with(&[
        ("catalog.toml", &catalog),
        (
            "templates/t.hbs",
            // Each test's steps are its own: the classic builder's cache would otherwise hand
            // one test an intermediate image another test's cleanup is removing.
            "FROM {{parent.ref}}\nRUN echo {{image.name}} {{vars.test}} > /etc/{{image.name}}\n",
        ),
    ]);
    Setup { repo, prefix }
}

/// A fresh runner: every image of the setup is gone from the engine (every tag, pins included).
fn forget_images(s: &Setup) {
    let listed = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mine: Vec<&str> = listed
        .lines()
        .filter(|l| l.contains(&format!("/{}/", s.prefix)))
        .collect();
    let mut args = vec!["rmi", "-f"];
    args.extend(mine.iter().copied());
    docker(&args);
}

fn lock(s: &Setup) -> toml::Table {
    toml::from_str(&s.repo.read("hier.lock")).unwrap()
}

#[test]
fn rebuild_push_records_the_digests_the_registries_serve() {
    let s = setup("push", REGISTRY);
    let run = s.repo.hier(&["rebuild", "--push", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    for image in report["images"].as_array().unwrap() {
        assert_eq!(image["status"], "pushed", "{image}");
    }
    let lock = lock(&s);
    for (name, tags) in [
        ("base", &["1.0.0", "1.0", "1"][..]),
        ("child", &["2.0.0", "2.0", "2"][..]),
        ("leaf", &["3.1.0", "3.1", "3"][..]),
    ] {
        let entry = &lock["images"][name];
        for (registry, key) in [
            (REGISTRY, format!("{REGISTRY}/{}/{name}", s.prefix)),
            (MIRROR, format!("{MIRROR}/{}/{name}", s.prefix)),
        ] {
            let recorded = entry["pushed"][&key]
                .as_str()
                .unwrap_or_else(|| panic!("{key}"));
            for tag in tags {
                let served = registry_digest(registry, &format!("{}/{name}", s.prefix), tag);
                assert_eq!(served.as_deref(), Some(recorded), "{registry} {name}:{tag}");
            }
        }
    }
    // The child's label names the parent's pushed digest.
    let base_digest = lock["images"]["base"]["pushed"][&format!("{REGISTRY}/{}/base", s.prefix)]
        .as_str()
        .unwrap();
    let label = docker(&[
        "image",
        "inspect",
        &format!("{REGISTRY}/{}/child:2.0.0", s.prefix),
        "--format",
        "{{index .Config.Labels \"org.opencontainers.image.base.digest\"}}",
    ]);
    assert_eq!(label, base_digest);
    // `show` gives the FROM line to copy: the immutable tag with the pushed digest.
    let id = lock["images"]["base"]["image_id"].as_str().unwrap();
    let show = s.repo.hier(&["show", "base"]);
    let pinned = format!(
        "pinned:     FROM {REGISTRY}/{}/base:1.0.0-{}@{base_digest}\n",
        s.prefix,
        &id["sha256:".len().."sha256:".len() + 12]
    );
    assert!(show.stdout.contains(&pinned), "{}", show.stdout);
}

#[test]
fn a_fresh_engine_fetches_recorded_parents_by_digest_and_builds_only_what_changed() {
    let s = setup("fresh", REGISTRY);
    let run = s.repo.hier(&["rebuild", "--push"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = lock(&s);
    // A fresh runner: the catalog's images are gone from the engine.
    forget_images(&s);
    // `leaf` changes; `child` (and `base`) must come from the registry, not be rebuilt.
    s.repo.write(
        "catalog.toml",
        &s.repo
            .read("catalog.toml")
            .replace("version = \"3.1.0\"", "version = \"3.1.1\""),
    );
    // The plan says what will be fetched.
    let plan = s.repo.hier(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let actions: Vec<(&str, &str)> = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["action"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("child", "fetch"), ("leaf", "build")]);
    let run = s.repo.hier(&["rebuild", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        statuses(&report),
        vec![
            ("child".to_string(), "fetched".to_string()),
            ("leaf".to_string(), "built".to_string())
        ]
    );
    let after = lock(&s);
    assert_eq!(
        after["images"]["child"]["image_id"], before["images"]["child"]["image_id"],
        "child is the recorded image"
    );
    assert_eq!(
        after["images"]["leaf"]["parent_image_id"],
        before["images"]["child"]["image_id"]
    );
}

#[test]
fn a_refresh_on_a_fresh_engine_fetches_the_recorded_images_first() {
    let s = setup("freshrefresh", REGISTRY);
    let run = s.repo.hier(&["rebuild", "--push"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = lock(&s);
    forget_images(&s);
    // Refreshing `leaf` asks every recorded image about updates and builds on `child`: all are
    // fetched by digest first (and the images the run does not rebuild get their tags back),
    // then `leaf` is rebuilt (no package database in busybox, so it is kept as it was).
    let run = s.repo.hier(&["refresh", "leaf", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("base", "unchanged"),
            ("child", "unchanged"),
            ("base", "fetched"),
            ("child", "fetched"),
            ("leaf", "fetched"),
            ("leaf", "unchanged"),
        ])
    );
    assert_eq!(
        report["images"][0]["reason"],
        "retagged: 1.0.0, 1.0, 1, 1.0.0-".to_string()
            + &before["images"]["base"]["image_id"].as_str().unwrap()[7..19]
    );
    assert_eq!(lock(&s)["images"], before["images"]);
}

#[test]
fn images_recorded_but_not_pushed_are_pushed_by_the_next_push_run() {
    let s = setup("catchup", REGISTRY);
    let run = s.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Nothing to build; everything to push.
    let run = s.repo.hier(&["rebuild", "--push", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        statuses(&report),
        pairs(&[("base", "pushed"), ("child", "pushed"), ("leaf", "pushed")])
    );
    assert!(
        run.stderr
            .contains("0 built, 3 pushed, 0 failed, 0 skipped"),
        "{}",
        run.stderr
    );
    let lock = lock(&s);
    let recorded = lock["images"]["leaf"]["pushed"][&format!("{REGISTRY}/{}/leaf", s.prefix)]
        .as_str()
        .unwrap();
    let served = registry_digest(REGISTRY, &format!("{}/leaf", s.prefix), "3.1.0");
    assert_eq!(served.as_deref(), Some(recorded));
    // Now everything is everywhere: a no-op.
    let run = s.repo.hier(&["rebuild", "--push", "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(statuses(&report), vec![]);
}

#[test]
fn tags_come_from_the_catalog_never_from_the_lock() {
    let s = setup("locktags", REGISTRY);
    let run = s.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = s.repo.read("hier.lock");
    let tampered = text.replacen(
        "tags = [\"1.0.0\", \"1.0\", \"1\"",
        "tags = [\"latest\", \"owned\", \"1\"",
        1,
    );
    assert_ne!(tampered, text);
    s.repo.write("hier.lock", &tampered);
    let run = s.repo.hier(&["push", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let repository = format!("{}/base", s.prefix);
    for tag in ["latest", "owned"] {
        assert_eq!(registry_digest(REGISTRY, &repository, tag), None, "{tag}");
    }
    for tag in ["1.0.0", "1.0", "1"] {
        assert!(
            registry_digest(REGISTRY, &repository, tag).is_some(),
            "{tag}"
        );
    }
}

#[test]
fn a_never_pushed_parent_on_a_fresh_engine_names_the_rebuild() {
    let s = setup("neverpushed", REGISTRY);
    let run = s.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for tag in ["3.1.0", "3.1", "3", "2.0.0", "2.0", "2"] {
        let image = if tag.starts_with('3') {
            "leaf"
        } else {
            "child"
        };
        let _ = Command::new("docker")
            .args(["rmi", &format!("{REGISTRY}/{}/{image}:{tag}", s.prefix)])
            .output();
    }
    for image in ["leaf", "child"] {
        let id = lock(&s)["images"][image]["image_id"]
            .as_str()
            .unwrap()
            .to_string();
        let _ = Command::new("docker").args(["rmi", "-f", &id]).output();
    }
    s.repo.write(
        "catalog.toml",
        &s.repo
            .read("catalog.toml")
            .replace("version = \"3.1.0\"", "version = \"3.1.1\""),
    );
    let run = s.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("was never pushed; run `hier rebuild child`"),
        "{}",
        run.stderr
    );
}

#[test]
fn hier_push_pushes_recorded_images_and_an_unreachable_registry_is_exit_3() {
    let s = setup("pushcmd", REGISTRY);
    let run = s.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.repo.hier(&["push", "child", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entry = &lock(&s)["images"]["child"];
    let digest = entry["pushed"][&format!("{REGISTRY}/{}/child", s.prefix)]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        registry_digest(REGISTRY, &format!("{}/child", s.prefix), "2.0.0").as_deref(),
        Some(digest.as_str())
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["images"][0]["digest"], digest.as_str(), "{report}");
    assert!(
        lock(&s)["images"]["base"].get("pushed").is_none(),
        "only child"
    );

    // A registry that does not answer: exit 3 naming it, the lock untouched.
    let down = setup("down", "127.0.0.1:5999");
    let run = down.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = down.repo.read("hier.lock");
    let run = down.repo.hier(&["push"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("127.0.0.1:5999"), "{}", run.stderr);
    assert_eq!(down.repo.read("hier.lock"), before);
}

#[test]
fn registry_credentials_never_appear_in_output_logs_or_reports() {
    let s = setup("secret", "127.0.0.1:5999");
    let secret = "hunter2-s3cret-value";
    let config_dir = tempfile::tempdir().unwrap();
    let auth = base64_encode(&format!("bot:{secret}"));
    std::fs::write(
        config_dir.path().join("config.json"),
        format!(r#"{{"auths": {{"127.0.0.1:5999": {{"auth": "{auth}"}}, "{MIRROR}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild", "--push", "-v"])
        .current_dir(s.repo.path())
        .env("DOCKER_CONFIG", config_dir.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(!all.contains(secret), "{all}");
    for entry in walk(&s.repo.path().join(".hier")) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(!text.contains(secret), "{}", entry.display());
    }
    let lock = std::fs::read_to_string(s.repo.path().join("hier.lock")).unwrap_or_default();
    assert!(!lock.contains(secret));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A registry that answers and refuses every push (read-only mode), on a port of its own.
struct ReadOnlyRegistry {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for ReadOnlyRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_only_registry() -> ReadOnlyRegistry {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n  maintenance:\n    readonly:\n      enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry runs (scripts/engine-up installs it)");
    for _ in 0..100 {
        let up = Command::new("curl")
            .args(["-fsS", &format!("http://127.0.0.1:{port}/v2/")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if up {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    ReadOnlyRegistry {
        child,
        port,
        _dir: dir,
    }
}

#[test]
fn a_refused_push_fails_the_image_and_keeps_the_lock_entries() {
    let registry = read_only_registry();
    let s = setup("refused", &format!("127.0.0.1:{}", registry.port));
    let run = s.repo.hier(&["rebuild", "--push", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    // The base failed its push: nothing is built (and pushed) on a parent the registry lacks.
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("base", "failed"),
            ("child", "skipped"),
            ("leaf", "skipped")
        ])
    );
    assert!(
        report["images"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("built and tagged, but the push failed"),
        "{report}"
    );
    // The base was built, tested and recorded; it is not recorded as pushed.
    let lock = lock(&s);
    let entry = lock["images"]["base"].as_table().unwrap();
    assert!(entry.contains_key("image_id"));
    assert!(!entry.contains_key("pushed"));
    assert!(!lock["images"].as_table().unwrap().contains_key("child"));
}
