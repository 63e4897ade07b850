//! `hier new`: an image added to the catalog with every comment, blank line and the order of
//! the rest kept, its folder scaffolded, and a result that validates and lints clean; refused
//! (exit 2, nothing written) for a name taken, an unknown parent, an app as parent, or a
//! template that does not render.

use super::common::Repo;

const CATALOG: &str = r#"# The platform team's hierarchy.
[catalog]
name = "t"
registry = "registry.test/t"

# The base everyone builds on.
[images.base]
from = "busybox:1.36"   # pinned
version = "1.0.0"
template = "base.hbs"

[images.shop]
parent = "base"
version = "1.0.0"
kind = "app"
template = "plain.hbs"
"#;

fn repo() -> Repo {
    Repo::with(&[
        ("catalog.toml", CATALOG),
        (
            "templates/base.hbs",
            "FROM {{parent.ref}}\nRUN echo base > /etc/base\nENTRYPOINT [\"/usr/bin/dumb-init\", \"--\"]\n",
        ),
        (
            "templates/plain.hbs",
            "FROM {{parent.ref}}\nWORKDIR /app\nCOPY . /app/\nUSER 65534\n",
        ),
    ])
}

#[test]
fn new_adds_only_lines_and_the_result_validates_and_lints_clean() {
    let repo = repo();
    let run = repo.hier_offline(&["new", "billing", "--parent", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "added [images.billing] to catalog.toml\nwrote images/billing/.dockerignore\nwrote images/billing/Dockerfile\nnext: put the image's files in images/billing/, then `hier rebuild billing`\n"
    );
    // Every line of the file stays as it was; the new table comes after them.
    let after = repo.read("catalog.toml");
    assert_eq!(
        after,
        format!(
            "{CATALOG}\n[images.billing]\nparent = \"base\"\nversion = \"0.1.0\"\nkind = \"app\"\ndockerfile = \"images/billing/Dockerfile\"\ntest = [\"test -d /app\"]\n"
        )
    );
    assert!(
        repo.read("images/billing/Dockerfile")
            .contains("FROM ${HIER_PARENT}")
    );
    assert!(
        repo.read("images/billing/.dockerignore")
            .contains("Dockerfile")
    );
    assert_eq!(repo.hier_offline(&["validate", "-q"]).code, 0);
    let lint = repo.hier_offline(&["lint", "billing"]);
    assert_eq!(
        (lint.code, lint.stdout.as_str()),
        (0, "no findings\n"),
        "{}",
        lint.stderr
    );
    // With a template, the rendering is written.
    let run = repo.hier_offline(&["new", "web", "--parent", "base", "--template", "plain.hbs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        repo.read("images/web/Dockerfile")
            .contains("\nFROM registry.test/t/base:1.0.0\n")
    );
    assert_eq!(repo.hier_offline(&["render", "--check", "web"]).code, 0);
}

#[test]
fn new_refuses_what_cannot_be_added_and_writes_nothing() {
    let repo = repo();
    repo.write(
        "templates/needs.hbs",
        "FROM {{parent.ref}}\nWORKDIR {{vars.dir}}\n",
    );
    let before = repo.snapshot();
    for (args, message) in [
        (
            &["new", "shop", "--parent", "base"][..],
            "error: the catalog has an image `shop` already",
        ),
        (
            &["new", "x", "--parent", "shop"],
            "error: `shop` is an app, and nothing builds on an app",
        ),
        (
            &["new", "x", "--parent", "bsae"],
            "error: no image `bsae` in the catalog",
        ),
        (
            &["new", "Bad_Name", "--parent", "base"],
            "error: `Bad_Name` cannot be an image name",
        ),
        (
            &["new", "x", "--parent", "base", "--template", "none.hbs"],
            "error: no template `none.hbs`",
        ),
        (
            &["new", "x", "--parent", "base", "--template", "needs.hbs"],
            "error: cannot render image `x`",
        ),
    ] {
        let run = repo.hier_offline(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with(message), "{args:?}: {}", run.stderr);
        repo.assert_unchanged(&before, &format!("{args:?}"));
    }
}

#[test]
fn new_edits_a_catalog_as_it_is_written() {
    // CRLF line ends and an inline `images` table stay what they are.
    let inline = "images = { base = { from = \"busybox:1.36\", version = \"1.0.0\", template = \"base.hbs\" } }\r\n\r\n# The catalog.\r\n[catalog]\r\nname = \"t\"\r\nregistry = \"registry.test/t\"\r\n";
    let repo = Repo::with(&[
        ("catalog.toml", inline),
        (
            "templates/base.hbs",
            "FROM {{parent.ref}}\nENTRYPOINT [\"/usr/bin/dumb-init\", \"--\"]\n",
        ),
    ]);
    let run = repo.hier_offline(&["new", "web", "--parent", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = repo.read("catalog.toml");
    let (first, rest) = after.split_once("\r\n").unwrap();
    assert!(first.contains("web = {"), "{after:?}");
    assert_eq!(rest, inline.split_once("\r\n").unwrap().1, "{after:?}");
    assert_eq!(repo.hier_offline(&["validate", "-q"]).code, 0);
    // A catalog that is a symlink is edited where it leads, and stays a symlink.
    let repo = repo_with_link();
    let run = repo.hier_offline(&["new", "api", "--parent", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let link = repo.path().join("catalog.toml");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(repo.read("real.toml").contains("[images.api]"));
}

fn repo_with_link() -> Repo {
    let repo = repo();
    std::fs::rename(
        repo.path().join("catalog.toml"),
        repo.path().join("real.toml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("real.toml", repo.path().join("catalog.toml")).unwrap();
    repo
}

#[test]
fn a_templated_app_that_would_run_as_root_is_refused() {
    let repo = repo();
    repo.write("templates/root.hbs", "FROM {{parent.ref}}\nRUN true\n");
    let before = repo.snapshot();
    let run = repo.hier_offline(&["new", "x", "--parent", "base", "--template", "root.hbs"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: `x` would not pass the lint:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("H108"), "{}", run.stderr);
    repo.assert_unchanged(&before, "root app");
}
