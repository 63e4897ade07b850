//! The catalog is found from any folder of the repository, as cargo finds
//! `Cargo.toml`, and hier then behaves and prints exactly as it does from the root.

use std::path::Path;

use super::common::{self, Repo, Run};
use super::{CATALOG, lock_everything, nothing_to_build, repo};

/// Runs hier in `dir` (relative to the repository) with no engine to be found.
fn hier_at(repo: &Repo, dir: &str, args: &[&str]) -> Run {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(args)
        .current_dir(repo.path().join(dir))
        .env_remove("HIER_CATALOG")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .env("DOCKER_HOST", "unix:///nonexistent/hier-test.sock")
        .output()
        .unwrap();
    Run {
        code: run.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
    }
}

fn same(root: &Run, nested: &Run, what: &str) {
    assert_eq!(
        (nested.code, &nested.stdout, &nested.stderr),
        (root.code, &root.stdout, &root.stderr),
        "{what}"
    );
}

#[test]
fn render_plan_and_validate_from_a_subfolder_behave_as_from_the_root() {
    let repo = repo();
    std::fs::create_dir_all(repo.path().join("images/app/deep/er")).unwrap();
    // render: the files go to the repository's images/, named as from the root.
    let from_root = hier_at(&repo, ".", &["render"]);
    assert_eq!(
        from_root.stdout,
        "wrote images/base/Dockerfile\nwrote images/py/Dockerfile\nwrote images/web/Dockerfile\nwrote images/combo/Dockerfile\n4 written, 0 already up to date\n"
    );
    let rendered = repo.snapshot();
    for file in ["base", "py", "web", "combo"] {
        std::fs::remove_file(repo.path().join(format!("images/{file}/Dockerfile"))).unwrap();
    }
    same(
        &from_root,
        &hier_at(&repo, "images/app/deep/er", &["render"]),
        "render",
    );
    assert_eq!(
        repo.snapshot(),
        rendered,
        "the same files, in the same places"
    );
    for args in [
        &["render", "--check"][..],
        &["plan"],
        &["plan", "--format", "json"],
        &["validate"],
        &["validate", "--format", "json"],
        &["list"],
    ] {
        let root = hier_at(&repo, ".", args);
        assert_eq!(root.code, 0, "{args:?}: {}", root.stderr);
        same(
            &root,
            &hier_at(&repo, "images/base", args),
            &format!("{args:?}"),
        );
    }
    // The lock is the repository's.
    lock_everything(&repo);
    nothing_to_build(&hier_at(&repo, "images/base", &["plan"]));
}

#[test]
fn problems_found_from_a_subfolder_are_placed_as_from_the_root() {
    let repo = repo();
    std::fs::create_dir_all(repo.path().join("images/base")).unwrap();
    repo.write(
        "catalog.toml",
        &CATALOG.replace("parent = \"base\"\n", "parent = \"bsae\"\n"),
    );
    repo.write("images/app/.dockerignore", "[\n");
    for args in [&["validate"][..], &["plan"], &["rebuild"]] {
        let root = hier_at(&repo, ".", args);
        assert_eq!(root.code, 2, "{args:?}");
        assert!(
            root.stderr.contains(" --> catalog.toml:"),
            "{}",
            root.stderr
        );
        same(
            &root,
            &hier_at(&repo, "images/base", args),
            &format!("{args:?}"),
        );
    }
    repo.write("catalog.toml", CATALOG);
    let root = hier_at(&repo, ".", &["plan"]);
    assert!(
        root.stderr.contains(" --> images/app/.dockerignore:1:1"),
        "{}",
        root.stderr
    );
    same(&root, &hier_at(&repo, "images/app", &["plan"]), "plan");
    assert!(!repo.path().join(".hier").exists());
}

#[test]
fn a_run_from_a_subfolder_keeps_its_state_at_the_root() {
    let repo = repo();
    std::fs::create_dir_all(repo.path().join("images/base")).unwrap();
    let run = hier_at(&repo, "images/base", &["rebuild"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(repo.path().join(".hier/run.lock").is_file());
    assert!(!repo.path().join("images/base/.hier").exists());
}

#[test]
fn no_catalog_here_or_above_is_exit_2_naming_where_it_looked() {
    let elsewhere = tempfile::tempdir().unwrap();
    let nested = elsewhere.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let cwd = std::fs::canonicalize(&nested).unwrap();
    let run = common::hier_in(&nested, &["plan"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(
        run.stderr,
        format!(
            "error: no catalog.toml in {} nor in any folder above it\n  = help: run hier inside the hierarchy's repository, or pass --catalog PATH, or set HIER_CATALOG\n",
            cwd.display()
        )
    );
    // Something else named catalog.toml on the way up is named, not skipped.
    std::fs::create_dir(elsewhere.path().join("a/catalog.toml")).unwrap();
    let run = common::hier_in(&nested, &["plan"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!(
            "error: the catalog {} is a folder, not a file\n  = help: remove or rename it, or pass --catalog PATH\n",
            Path::new(&std::fs::canonicalize(elsewhere.path()).unwrap())
                .join("a/catalog.toml")
                .display()
        )
    );
}

#[test]
fn a_dangling_catalog_link_on_the_way_up_is_named_not_skipped() {
    let elsewhere = tempfile::tempdir().unwrap();
    let nested = elsewhere.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let link = std::fs::canonicalize(elsewhere.path())
        .unwrap()
        .join("a/catalog.toml");
    std::os::unix::fs::symlink("missing.toml", &link).unwrap();
    let run = common::hier_in(&nested, &["plan"]);
    assert_eq!(
        (run.code, run.stderr),
        (
            2,
            format!(
                "error: the catalog {} is a symlink to nothing hier can read, not a file\n  = help: remove or rename it, or pass --catalog PATH\n",
                link.display()
            )
        )
    );
}

#[test]
fn a_catalog_above_that_another_user_owns_is_refused() {
    // A shared folder (like /tmp) where someone else left a catalog.toml.
    use std::os::unix::fs::PermissionsExt;
    let shared = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(shared.path()).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let planted = root.join("catalog.toml");
    std::fs::write(
        &planted,
        "[catalog]\nname = \"t\"\nregistry = \"registry.test/t\"\n\n[images.base]\nfrom = \"busybox:1.36\"\nversion = \"1.0.0\"\ntemplate = \"base.hbs\"\n",
    )
    .unwrap();
    std::fs::create_dir(root.join("templates")).unwrap();
    std::fs::write(root.join("templates/base.hbs"), "FROM {{parent.ref}}\n").unwrap();
    let mine = root.join("mine");
    std::fs::create_dir(&mine).unwrap();
    if let Err(e) = std::os::unix::fs::chown(&planted, Some(65534), Some(65534)) {
        // Only root can give a file away; CI runs the tests as root.
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        eprintln!("not root: cannot plant another user's catalog");
        return;
    }
    let run = common::hier_in(&mine, &["list"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr),
        (
            2,
            "",
            format!(
                "error: the catalog {0} above the current folder belongs to another user (uid 65534)\n  = help: pass --catalog {0} to use it anyway, or run hier in your own repository\n",
                planted.display()
            )
        )
    );
    // Named explicitly, it is used.
    let run = common::hier_in(&mine, &["--catalog", planted.to_str().unwrap(), "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
