//! `hier gc` against the real engine: the images hier built that the lock no longer records
//! (superseded and failed builds) go, recorded ones and images someone else tagged stay, and
//! only the last runs' logs and reports are kept.

mod common;

use std::path::Path;

use common::engine::{docker, docker_succeeds};
use common::hierarchy::Hierarchy;
use serde_json::Value;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.child]
parent = "base"
version = "1.0.0"
template = "layer.hbs"
test = ["test -f /etc/child"]
"#;

fn exists(reference: &str) -> bool {
    docker_succeeds(&["image", "inspect", reference])
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn gc_removes_what_the_lock_no_longer_records_and_old_runs() {
    let h = Hierarchy::new("gc", IMAGES);
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let old_base = h.entry("base")["image_id"].as_str().unwrap().to_string();
    let old_child = h.entry("child")["image_id"].as_str().unwrap().to_string();
    // Someone else's tag on the old child keeps that image.
    let foreign = format!("{}-mine:dev", h.prefix);
    docker(&["tag", &old_child, &foreign]);

    // Superseded twice: two new builds of both (the one the recorded build replaced stays,
    // for `hier diff`). Failed: a new image whose test fails.
    let catalog = h
        .repo
        .read("catalog.toml")
        .replace("mark = \"one\"", "mark = \"two\"");
    h.repo.write("catalog.toml", &catalog);
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let middle_base = h.entry("base")["image_id"].as_str().unwrap().to_string();
    let catalog = catalog.replace("mark = \"two\"", "mark = \"three\"");
    h.repo.write("catalog.toml", &catalog);
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        h.entry("base")["previous_image_id"].as_str(),
        Some(middle_base.as_str())
    );
    h.repo.write(
        "catalog.toml",
        &format!("{catalog}\n[images.broken]\nparent = \"base\"\nversion = \"1.0.0\"\ntemplate = \"layer.hbs\"\ntest = [\"false\"]\n"),
    );
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let failed = report["images"][0]["image_id"]
        .as_str()
        .unwrap()
        .to_string();
    let new_base = h.entry("base")["image_id"].as_str().unwrap().to_string();
    let new_child = h.entry("child")["image_id"].as_str().unwrap().to_string();
    let reports = h.repo.path().join(".hier/reports");
    assert_eq!(files(&reports).len(), 4);
    std::fs::write(reports.join("notes.txt"), "mine\n").unwrap();
    // A run folder that is a symlink out of the repository: the link goes, not what it names.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "keep\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path(),
        h.repo.path().join(".hier/logs/20200101T000000Z"),
    )
    .unwrap();

    let dry = h.hier(&["gc", "--keep", "1", "--dry-run", "--format", "json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let planned: Value = serde_json::from_str(&dry.stdout).unwrap();
    let mut ids: Vec<&str> = planned["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![old_base.as_str(), old_child.as_str(), failed.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(planned["runs"].as_array().unwrap().len(), 4, "{planned}");
    assert!(
        exists(&old_base) && exists(&failed),
        "a dry run removes nothing"
    );

    let run = h.hier(&["gc", "--keep", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!exists(&old_base) && !exists(&failed), "{}", run.stdout);
    assert!(exists(&new_base) && exists(&new_child) && exists(&middle_base));
    assert!(exists(&h.reference("base", "1.0.0")) && exists(&h.reference("child", "1.0.0")));
    assert!(
        exists(&foreign),
        "someone else's tag keeps its image: {}",
        run.stdout
    );
    let old_tags = docker(&[
        "image",
        "inspect",
        &old_child,
        "--format",
        "{{json .RepoTags}}",
    ]);
    assert_eq!(old_tags.trim(), format!("[\"{foreign}\"]"));
    assert!(
        run.stdout.contains(&format!(
            "removed the tags of child {}; {foreign} keeps the image\n",
            &old_child[7..19]
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        files(&reports).len(),
        2,
        "the last run's report, and notes.txt"
    );
    assert!(reports.join("notes.txt").exists());
    assert!(outside.path().join("keep.txt").exists());
    assert_eq!(files(&h.repo.path().join(".hier/logs")).len(), 1);

    docker(&["rmi", &foreign]);
    let run = h.hier(&["gc", "--keep", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "nothing to remove: the lock records every image hier built, and at most 1 runs left logs and reports\n"
    );
}
