//! A plan's reason names what changed: a context's first changed paths
//! (every one with `-v`, and in JSON), the variables of a rendering, a base's `from`, the id a
//! parent moved from and to. The lock records what it takes (per-file and per-variable digests).

use super::common::Repo;
use super::{CATALOG, lock_everything, ok, repo};

/// The plan as a table, with `-v` (without the INPUTS column), and each JSON reason.
fn reasons(repo: &Repo, args: &[&str]) -> (String, String, Vec<(String, String)>) {
    let text = ok(&repo.hier_offline(args)).to_string();
    let mut verbose_args = args.to_vec();
    verbose_args.push("-v");
    let verbose: String = ok(&repo.hier_offline(&verbose_args))
        .lines()
        .map(|l| l[..l.rfind("  ").unwrap_or(l.len())].trim_end().to_string() + "\n")
        .collect();
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(ok(&repo.hier_offline(&json_args))).unwrap();
    let pairs = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let field = |k: &str| i[k].as_str().unwrap().to_string();
            (field("name"), field("reason"))
        })
        .collect();
    (text, verbose, pairs)
}

fn pair(name: &str, reason: &str) -> (String, String) {
    (name.to_string(), reason.to_string())
}

#[test]
fn a_changed_context_names_its_first_paths_and_v_names_them_all() {
    let repo = repo();
    for file in ["api", "cli", "db", "main", "util"] {
        repo.write(&format!("images/app/src/{file}.py"), "v1\n");
    }
    lock_everything(&repo);
    repo.write("images/app/src/main.py", "v2\n");
    repo.write("images/app/src/util.py", "v2\n");
    repo.write("images/app/src/db.py", "v2\n");
    repo.write("images/app/src/new.py", "v1\n");
    std::fs::remove_file(repo.path().join("images/app/src/cli.py")).unwrap();
    let (text, verbose, json) = reasons(&repo, &["plan"]);
    assert_eq!(
        text,
        "\
WAVE  IMAGE  ACTION  REASON
0     app    build   changed: context (src/cli.py, src/db.py and 3 more)
1 image to build in 1 wave
"
    );
    // -v adds the INPUTS column after the reason; cut off above.
    assert_eq!(
        verbose,
        "\
WAVE  IMAGE  ACTION  REASON
0     app    build   changed: context (src/cli.py, src/db.py, src/main.py, src/new.py, src/util.py)
1 image to build in 1 wave
"
    );
    assert_eq!(
        json,
        [pair(
            "app",
            "changed: context (src/cli.py, src/db.py, src/main.py, src/new.py, src/util.py)"
        )]
    );
}

#[test]
fn a_changed_variable_is_named_alone_or_after_a_changed_template() {
    let repo = repo();
    lock_everything(&repo);
    repo.write(
        "catalog.toml",
        &CATALOG.replace("[\"nginx\"]", "[\"nginx\", \"openssl\"]"),
    );
    let (text, verbose, json) = reasons(&repo, &["plan"]);
    let expected = "\
WAVE  IMAGE  ACTION  REASON
0     web    build   changed: vars (packages)
1     combo  build   parent rebuilt: web
2     app    build   parent rebuilt: combo
3 images to build in 3 waves
";
    assert_eq!((text.as_str(), verbose.as_str()), (expected, expected));
    assert_eq!(
        json,
        [
            pair("web", "changed: vars (packages)"),
            pair("combo", "parent rebuilt: web"),
            pair("app", "parent rebuilt: combo")
        ]
    );
    // The template changed too: the Dockerfile first, then the variables; py only has the
    // template's change.
    repo.write(
        "templates/runtime.hbs",
        "FROM {{parent.ref}}\n{{> install packages=vars.packages}}\nUSER nobody\n",
    );
    let (_, _, json) = reasons(&repo, &["plan"]);
    assert_eq!(
        json[..2],
        [
            pair("py", "changed: dockerfile"),
            pair("web", "changed: dockerfile, vars (packages)"),
        ]
    );
}

#[test]
fn a_base_says_what_its_from_was() {
    let repo = repo();
    lock_everything(&repo);
    repo.write(
        "catalog.toml",
        &CATALOG.replace("busybox:1.36", "busybox:1.37"),
    );
    let (text, _, _) = reasons(&repo, &["plan"]);
    assert_eq!(
        text.lines().nth(1).unwrap(),
        "0     base   build   changed: dockerfile, from (busybox:1.36 -> busybox:1.37)"
    );
}

#[test]
fn a_lock_without_the_detail_says_only_the_component() {
    let repo = repo();
    lock_everything(&repo);
    // As a lock written before the detail was recorded.
    let text = repo.read("hier.lock");
    let old: String = text
        .split("\n\n")
        .filter(|t| !t.contains(".context_files]") && !t.contains(".vars]"))
        .collect::<Vec<_>>()
        .join("\n\n");
    repo.write("hier.lock", &old);
    repo.write("images/app/app.sh", "echo app v2\n");
    repo.write(
        "catalog.toml",
        &CATALOG.replace("[\"nginx\"]", "[\"nginx\", \"openssl\"]"),
    );
    let (_, _, json) = reasons(&repo, &["plan"]);
    assert_eq!(
        json,
        [
            pair("web", "changed: dockerfile"),
            pair("combo", "parent rebuilt: web"),
            pair("app", "changed: context")
        ]
    );
}

#[test]
fn since_a_revision_names_paths_and_variables_too() {
    let repo = repo();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "one"]);
    repo.write("images/app/app.sh", "echo app v2\n");
    repo.write(
        "catalog.toml",
        &CATALOG.replace("[\"nginx\"]", "[\"nginx\", \"openssl\"]"),
    );
    let (_, _, json) = reasons(&repo, &["plan", "--since", "HEAD"]);
    assert_eq!(
        json,
        [
            pair("web", "changed: vars (packages)"),
            pair("combo", "parent rebuilt: web"),
            pair("app", "changed: context (app.sh)")
        ]
    );
}
