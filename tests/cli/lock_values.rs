//! A value of `hier.lock` that does not have its shape is refused at
//! its place (exit 2), by every command that reads the lock, and never makes hier panic.

use super::common::Repo;

const ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A one-image repository whose lock has `line` among the base's values.
fn repo_with_lock_line(line: &str) -> Repo {
    Repo::with(&[
        (
            "catalog.toml",
            "[catalog]\nname = \"t\"\nregistry = \"registry.test/t\"\n\n[images.base]\nfrom = \"busybox:1.36\"\nversion = \"1.0.0\"\ntemplate = \"base.hbs\"\n",
        ),
        ("templates/base.hbs", "FROM {{parent.ref}}\n"),
        (
            "hier.lock",
            &format!(
                "version = 1\n\n[images.base]\ninputs = \"{ID}\"\nfingerprint = \"{ID}\"\n{line}\nbuilt_at = \"2026-11-23T00:00:00Z\"\n"
            ),
        ),
    ])
}

const HELP: &str = "  = help: hier writes this file; restore it from version control, or delete it to rebuild everything\n\nerror: 1 problem found; nothing was written\n";

#[test]
fn an_image_id_that_is_a_reference_is_refused_at_its_place() {
    let repo = repo_with_lock_line("image_id = \"debian:bookworm-slim\"");
    let before = repo.snapshot();
    let expected = format!(
        "error: invalid lock file: image `base`: `image_id` is `debian:bookworm-slim`, not a digest (`sha256:` and 64 hex digits)\n --> hier.lock:6:12\n  |\n6 | image_id = \"debian:bookworm-slim\"\n  |            ^^^^^^^^^^^^^^^^^^^^^^\n{HELP}"
    );
    for args in [&["plan"][..], &["rebuild"], &["rebuild", "--all"]] {
        let run = repo.hier_offline(args);
        assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{args:?}");
        assert_eq!(run.stderr, expected, "{args:?}");
        repo.assert_unchanged(&before, &format!("{args:?}"));
    }
}

#[test]
fn a_non_ascii_upstream_digest_is_refused_at_its_line_and_never_panics() {
    // 64 bytes after `sha256:`, the 12th and 13th of them one character: a digest cut at 12
    // bytes for display would split it.
    let value = format!("sha256:0123456789aé{}", "0".repeat(51));
    let repo = repo_with_lock_line(&format!(
        "image_id = \"{ID}\"\nupstream_digest = \"{value}\""
    ));
    let before = repo.snapshot();
    let expected = format!(
        "error: invalid lock file: image `base`: `upstream_digest` is `{value}`, not a digest (`sha256:` and 64 hex digits)\n --> hier.lock:7:19\n  |\n7 | upstream_digest = \"{value}\"\n  |                   {}\n{HELP}",
        "^".repeat(value.chars().count() + 2)
    );
    for args in [
        &["plan"][..],
        &["rebuild"],
        &["refresh", "--dry-run"],
        &["show", "base"],
    ] {
        let run = repo.hier_offline(args);
        assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{args:?}");
        assert_eq!(run.stderr, expected, "{args:?}");
        assert!(!run.stderr.contains("panicked"), "{args:?}");
        repo.assert_unchanged(&before, &format!("{args:?}"));
    }
}

#[test]
fn a_lock_that_is_a_fifo_or_a_symlink_is_refused_by_name() {
    let repo = repo_with_lock_line(&format!("image_id = \"{ID}\""));
    let lock = repo.path().join("hier.lock");
    std::fs::remove_file(&lock).unwrap();
    // A fifo would block the read forever.
    let made = std::process::Command::new("mkfifo")
        .arg(&lock)
        .status()
        .unwrap();
    assert!(made.success());
    let run = repo.hier_offline(&["plan"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: hier.lock is a fifo, not a file\n")
    );
    // A symlink could lead out of the repository: its target is never read (nor shown).
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &lock).unwrap();
    let run = repo.hier_offline(&["plan"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            2,
            "error: hier.lock is a symlink, not a file\n  = help: hier writes hier.lock itself; replace the link with the file\n"
        )
    );
}

#[test]
fn a_symlinked_catalog_reads_the_lock_beside_the_file_it_leads_to() {
    let repo = repo_with_lock_line("image_id = \"debian:bookworm-slim\"");
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        repo.path().join("catalog.toml"),
        elsewhere.path().join("catalog.toml"),
    )
    .unwrap();
    // The lock of the repository (the link's target's folder) is the one read, by every command,
    // and refused before anything is written anywhere.
    for args in [&["plan"][..], &["rebuild"]] {
        let run = super::common::hier_in(elsewhere.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("`image_id` is `debian:bookworm-slim`"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!elsewhere.path().join(".hier").exists());
        assert!(!repo.path().join(".hier").exists());
    }
}
