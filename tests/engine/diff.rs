//! `hier diff` against the real engine: after a rebuild, the build it replaced is remembered
//! (and kept by `hier gc`), and the two are compared: packages changed and added, size, labels,
//! layers; either side may be named by its immutable tag.

use super::common::engine::dpkg_status;
use super::common::hierarchy::Hierarchy;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.pkgs]
parent = "base"
version = "1.0.0"
dockerfile = "images/pkgs/Dockerfile"
"#;

#[test]
fn diff_compares_a_build_with_the_one_it_replaced() {
    let h = Hierarchy::new("diff", IMAGES);
    h.repo.write(
        "images/pkgs/status",
        &dpkg_status(&[("dpkg", "1.21.22"), ("hello", "2.10-3")]),
    );
    h.repo.write(
        "images/pkgs/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCOPY status /var/lib/dpkg/status\n",
    );
    h.commit();
    assert_eq!(h.rebuild(&[]).0.code, 0);
    let first = h.entry("pkgs")["image_id"].as_str().unwrap().to_string();
    let run = h.hier(&["diff", "pkgs"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hier.lock records no build of `pkgs` before the current one")
    );

    h.repo.write(
        "images/pkgs/status",
        &dpkg_status(&[("dpkg", "1.21.22"), ("hello", "2.10-4"), ("world", "1.0-1")]),
    );
    h.commit();
    assert_eq!(h.rebuild(&[]).0.code, 0);
    let second = h.entry("pkgs")["image_id"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(
        h.entry("pkgs")["previous_image_id"].as_str(),
        Some(first.as_str())
    );

    let run = h.hier(&["diff", "pkgs", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let diff: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diff["old"]["image_id"], first.as_str());
    assert_eq!(diff["new"]["image_id"], second.as_str());
    assert_eq!(
        diff["packages"]["changed"],
        serde_json::json!([{"name": "hello", "old": "2.10-3", "new": "2.10-4"}])
    );
    assert_eq!(
        diff["packages"]["added"],
        serde_json::json!([{"name": "world", "version": "1.0-1"}])
    );
    assert_eq!(diff["layers"]["added"].as_array().unwrap().len(), 1);
    assert_eq!(diff["layers"]["removed"].as_array().unwrap().len(), 1);
    let size_change = diff["size_change"].as_i64().unwrap();
    assert!(size_change > 0, "{size_change}");
    let keys: Vec<&str> = diff["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"io.hier.fingerprint"), "{keys:?}");

    // Named by immutable tags, the other way round; and in text.
    let tag = |id: &str| format!("1.0.0-{}", &id["sha256:".len().."sha256:".len() + 12]);
    let run = h.hier(&["diff", "pkgs", &tag(&second), &tag(&first)]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(
        run.stdout.contains("  hello 2.10-4 -> 2.10-3\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  - world 1.0-1\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("layers: 1 added, 1 removed\n"),
        "{}",
        run.stdout
    );
    // hier gc keeps the build the recorded one replaced.
    let run = h.hier(&["gc", "--dry-run", "--format", "json"]);
    assert!(!run.stdout.contains(&first), "{}", run.stdout);
    // An id of another image is compared, with a note.
    let base = h.entry("base")["image_id"].as_str().unwrap().to_string();
    let run = h.hier(&["diff", "pkgs", &base]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a build of `pkgs`"),
        "{}",
        run.stderr
    );
    let run = h.hier(&["diff", "pkgs", "not a tag"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
