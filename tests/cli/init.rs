//! `hier init`: a new repository that validates, renders and lints clean at once, with valid
//! workflows; a folder that is not empty is refused with nothing written.

use super::common;

fn hier(dir: &std::path::Path, args: &[&str]) -> common::Run {
    common::hier_in(dir, args)
}

#[test]
fn a_new_repository_validates_renders_and_lints_clean_with_valid_workflows() {
    let parent = tempfile::tempdir().unwrap();
    for (folder, base) in [("My Images", "debian"), ("tiny", "busybox")] {
        let run = hier(parent.path(), &["init", folder, "--base", base]);
        assert_eq!(run.code, 0, "{base}: {}", run.stderr);
        let dir = parent.path().join(folder);
        assert_eq!(hier(&dir, &["validate", "-q"]).code, 0, "{base}");
        assert_eq!(hier(&dir, &["render", "--check", "-q"]).code, 0, "{base}");
        let lint = hier(&dir, &["lint"]);
        assert_eq!(
            (lint.code, lint.stdout.as_str()),
            (0, "no findings\n"),
            "{base}: {}",
            lint.stderr
        );
        assert!(
            std::fs::read_to_string(dir.join(".gitignore"))
                .unwrap()
                .contains(".hier/")
        );
        let workflows = [
            dir.join(".github/workflows/ci.yml"),
            dir.join(".github/workflows/nightly.yml"),
        ];
        let checked = std::process::Command::new("python3")
            .args([
                "-m",
                "check_jsonschema",
                "--builtin-schema",
                "vendor.github-workflows",
            ])
            .args(&workflows)
            .output()
            .expect("python3 runs");
        assert!(
            checked.status.success(),
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
    }
    let catalog = std::fs::read_to_string(parent.path().join("My Images/catalog.toml")).unwrap();
    assert!(catalog.contains("name = \"my-images\"\n"), "{catalog}");
    assert!(
        catalog.contains("from = \"debian:bookworm-slim\"\n"),
        "{catalog}"
    );
}

#[test]
fn a_folder_that_is_not_empty_is_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine\n").unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let before = common::snapshot(dir.path());
    let run = hier(dir.path(), &["init"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: . is not empty (it has notes.txt)"),
        "{}",
        run.stderr
    );
    assert_eq!(common::snapshot(dir.path()), before);
    // An empty folder but for `.git` is fine.
    std::fs::remove_file(dir.path().join("notes.txt")).unwrap();
    assert_eq!(hier(dir.path(), &["init", "--base", "busybox"]).code, 0);
}

#[test]
fn a_bad_from_or_a_file_is_refused_and_nothing_is_left() {
    let parent = tempfile::tempdir().unwrap();
    for from in [
        "debian:12\"\nregistry = \"evil",
        "debian:latest oops",
        "{base_extra}",
    ] {
        let run = hier(parent.path(), &["init", "repo", "--from", from]);
        assert_eq!(run.code, 2, "{from}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: --from `"), "{}", run.stderr);
        assert!(!parent.path().join("repo").exists(), "{from}");
    }
    std::fs::write(parent.path().join("file"), "x").unwrap();
    let run = hier(parent.path(), &["init", "file"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: file is not a folder\n")
    );
}
