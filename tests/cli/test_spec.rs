//! `test_spec` files are read only when they are regular files of the repository: one that is
//! a symlink leading outside it, a fifo or too large is refused at the catalog's line (exit 2)
//! without being read, and nothing is written.

use super::{CATALOG, repo};

fn with_spec(path: &str) -> String {
    CATALOG.replace(
        "lint_ignore = [\"H109\"]",
        &format!("lint_ignore = [\"H109\"]\ntest_spec = \"{path}\""),
    )
}

#[test]
fn spec_files_outside_the_repository_or_not_regular_are_refused() {
    let repo = repo();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("spec.yaml"),
        "schemaVersion: \"2.0.0\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.path().join("specs")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("spec.yaml"),
        repo.path().join("specs/link.yaml"),
    )
    .unwrap();
    std::fs::write(repo.path().join("specs/big.yaml"), "#".repeat(2 << 20)).unwrap();
    // A snapshot would wait on the fifo: it is taken before it exists and after it is gone.
    let before = repo.snapshot();
    let fifo = repo.path().join("specs/fifo.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    for (path, why) in [
        (
            "specs/link.yaml",
            "leads outside the repository through a symlink",
        ),
        ("specs/fifo.yaml", "is not a file"),
        ("specs/big.yaml", "is larger than 1024 KiB"),
        ("specs", "is not a file"),
    ] {
        repo.write("catalog.toml", &with_spec(path));
        let run = repo.hier_offline(&["validate"]);
        assert_eq!(run.code, 2, "{path}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!(
                "error: the test_spec of image `base` ({path}) {why}\n  --> catalog.toml:"
            )),
            "{path}: {}",
            run.stderr
        );
    }
    repo.write("catalog.toml", CATALOG);
    std::fs::remove_file(&fifo).unwrap();
    repo.assert_unchanged(&before, "refused spec files");
    // A spec file inside the repository, through a symlink too, is read.
    std::fs::write(
        repo.path().join("specs/real.yaml"),
        "schemaVersion: \"2.0.0\"\nmetadataTest:\n  user: root\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("real.yaml", repo.path().join("specs/inside.yaml")).unwrap();
    repo.write("catalog.toml", &with_spec("specs/inside.yaml"));
    let run = repo.hier_offline(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
