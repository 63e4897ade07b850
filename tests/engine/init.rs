//! End to end: a repository made by `hier init` builds at once on a Debian base (the default)
//! and on busybox, every image passing its tests.

use super::common;
use super::common::engine::{pairs, remove_images, statuses};

#[test]
fn a_new_repository_builds_at_once() {
    let parent = tempfile::tempdir().unwrap();
    for (base, from) in [("debian", None), ("busybox", Some("hier-test/busybox:1"))] {
        let folder = format!("init-{base}-{}", std::process::id());
        let mut args = vec!["init", folder.as_str(), "--base", base];
        if let Some(from) = from {
            args.extend(["--from", from]);
        }
        let run = common::hier_in(parent.path(), &args);
        assert_eq!(run.code, 0, "{base}: {}", run.stderr);
        let dir = parent.path().join(&folder);
        let run = common::hier_in(&dir, &["rebuild", "--format", "json"]);
        remove_images(&format!("registry.example.com/{folder}/"));
        assert_eq!(run.code, 0, "{base}: {}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            statuses(&report),
            pairs(&[("base", "built"), ("tools", "built"), ("hello", "built")]),
            "{base}"
        );
    }
}
