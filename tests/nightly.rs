//! `scripts/nightly` (what the nightly workflow runs) on a small busybox hierarchy pushed to
//! the local registry: it logs in, refreshes, writes the report, and never shows the password.

mod common;

use std::process::Command;

use common::Repo;
use common::engine::remove_images;

#[test]
fn the_nightly_script_refreshes_reports_and_keeps_the_password_secret() {
    let prefix = format!("hier-test-nightly-{}", std::process::id());
    let catalog = format!(
        r#"[catalog]
name = "nightly"
registry = "127.0.0.1:5000/{prefix}"

[catalog.labels]
"org.example.test" = "{prefix}"

[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "t.hbs"

[images.app]
parent = "base"
version = "1.0.0"
kind = "app"
owner = "team-a"
template = "t.hbs"
"#
    );
    let repo = Repo::with(&[
        ("catalog.toml", &catalog),
        (
            "templates/t.hbs",
            "FROM {{parent.ref}}\nRUN echo {{image.name}} > /etc/{{image.name}}\n",
        ),
    ]);
    let run = repo.hier(&["rebuild", "--push"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docker_config = tempfile::tempdir().unwrap();
    let report = repo.path().join("nightly.md");
    let secret = "n1ghtly-pa55word";
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/nightly"))
        .env("HIER_BIN", env!("CARGO_BIN_EXE_hier"))
        .env("HIER_CATALOG", repo.path().join("catalog.toml"))
        .env("HIER_REPORT", &report)
        .env("REGISTRY_HOST", "127.0.0.1:5000")
        .env("REGISTRY_USER", "bot")
        .env("REGISTRY_PASSWORD", secret)
        .env("DOCKER_CONFIG", docker_config.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(secret), "{all}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.starts_with("# Refresh of nightly"), "{text}");
    // Nothing new (busybox has no package manager to ask): nothing rebuilt, each image listed.
    assert!(
        text.contains("| base | no | not checked: no dpkg or apk database |"),
        "{text}"
    );
    assert!(text.contains("| app | no |"), "{text}");
    assert!(!text.contains(secret));
    for entry in std::fs::read_dir(repo.path().join(".hier/reports")).unwrap() {
        let body = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!body.contains(secret));
    }
    remove_images(&prefix);
}
