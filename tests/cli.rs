//! The real binary on temporary repositories: exact output and exit codes of the query and
//! planning commands.

mod common;

#[path = "cli/completions.rs"]
mod completions;
#[path = "cli/docs.rs"]
mod docs;
#[path = "cli/init.rs"]
mod init;
#[path = "cli/lock_values.rs"]
mod lock_values;
#[path = "cli/new.rs"]
mod new;
#[path = "cli/non_utf8_names.rs"]
mod non_utf8_names;
#[path = "cli/nothing_written.rs"]
mod nothing_written;
#[path = "cli/plan_reasons.rs"]
mod plan_reasons;
#[path = "cli/subfolder.rs"]
mod subfolder;
#[path = "cli/test_spec.rs"]
mod test_spec;

use std::collections::BTreeMap;

use common::{Repo, Run};
use hier::lock::{Lock, LockEntry};

const CATALOG: &str = r#"[catalog]
name = "test"
registry = "registry.test/platform"

[catalog.vars]
greeting = "hello"

[catalog.labels]
"org.opencontainers.image.vendor" = "Test"

[images.base]
from = "busybox:1.36"
version = "1.0.0"
kind = "base"
template = "base.hbs"
description = "Busybox base"
provides = ["os=busybox", "sh"]
vars = { packages = ["curl", "bash", "curl"] }
lint_ignore = ["H109"]

[images.py]
parent = "base@^1"
version = "3.12.1"
kind = "runtime"
template = "runtime.hbs"
description = "Python"
provides = ["python=3.12.1"]
tags = ["py"]
vars = { packages = ["python3", "python3-pip"] }

[images.web]
parent = "base"
version = "1.25.0"
kind = "webserver"
template = "runtime.hbs"
description = "nginx"
provides = ["nginx=1.25"]
vars = { packages = ["nginx"] }

[images.combo]
parent = "py@^3"
uses = ["web"]
version = "1.0.0"
kind = "combo"
template = "combo.hbs"
description = "Python and nginx"
provides = ["nginx=1.25"]

[images.app]
parent = "combo@^1"
version = "0.1.0"
kind = "app"
dockerfile = "images/app/Dockerfile"
owner = "team-a"
build_args = { MODE = "prod" }
"#;

fn repo() -> Repo {
    Repo::with(&[
        ("catalog.toml", CATALOG),
        (
            "templates/base.hbs",
            "FROM {{parent.ref}}\n{{> install packages=vars.packages}}\nLABEL greeting=\"{{vars.greeting}}\"\n",
        ),
        (
            "templates/runtime.hbs",
            "FROM {{parent.ref}}\n{{> install packages=vars.packages}}\n",
        ),
        (
            "templates/combo.hbs",
            "FROM {{parent.ref}}\nCOPY --from={{uses.web.ref}} /etc/nginx /etc/nginx\nENV TAGS=\"{{join image.tags \",\"}}\"\n",
        ),
        (
            "templates/partials/install.hbs",
            "RUN apk add --no-cache \\\n{{lines packages}}\n",
        ),
        (
            "images/app/Dockerfile",
            "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCOPY app.sh /app.sh\nUSER nobody\n",
        ),
        ("images/app/app.sh", "echo app\n"),
        ("images/app/.dockerignore", "*.log\n"),
    ])
}

fn ok(run: &Run) -> &str {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    &run.stdout
}

/// A plan (or a dry run) with nothing in it: stdout empty, one line for people on stderr, the
/// same line `hier rebuild` says.
fn nothing_to_build(run: &Run) {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "nothing to build: every image matches hier.lock\n"
    );
}

/// Records a finished build of every image in the lock, as `hier rebuild` would.
fn lock_everything(repo: &Repo) {
    let r = hier::repo::Repository::open(&repo.path().join("catalog.toml")).unwrap();
    let inputs = r.inputs().unwrap();
    let mut lock = Lock::default();
    for name in r.hierarchy.order() {
        let image = r.catalog.image(name);
        let id = |n: &str| format!("sha256:{:0>64}", n.len());
        let uses: BTreeMap<String, String> = image
            .uses
            .iter()
            .map(|d| (d.name.to_string(), id(d.name.as_str())))
            .collect();
        let mut entry = LockEntry {
            inputs: inputs[name].digest.clone(),
            components: inputs[name].components.clone(),
            fingerprint: format!("sha256:{}", "f".repeat(64)),
            image_id: id(name.as_str()),
            parent_image_id: image.parent().map(|p| id(p.name.as_str())),
            uses_image_ids: uses,
            built_at: "2026-11-23T00:00:00Z".into(),
            ..Default::default()
        };
        hier::rebuild::record::record_detail(&mut entry, &inputs[name].detail);
        lock.images.insert(name.to_string(), entry);
    }
    lock.write_atomic(&repo.path().join("hier.lock")).unwrap();
}

#[test]
fn list_is_an_aligned_table_in_build_order() {
    let repo = repo();
    assert_eq!(
        ok(&repo.hier_offline(&["list"])),
        "\
NAME   KIND       VERSION  PARENT          OWNER   PROVIDES        DESCRIPTION
base   base       1.0.0    (busybox:1.36)          os=busybox, sh  Busybox base
py     runtime    3.12.1   base                    python=3.12.1   Python
web    webserver  1.25.0   base                    nginx=1.25      nginx
combo  combo      1.0.0    py                      nginx=1.25      Python and nginx
app    app        0.1.0    combo           team-a
"
    );
    assert_eq!(
        ok(&repo.hier_offline(&["list", "--kind", "runtime"])),
        "NAME  KIND     VERSION  PARENT  OWNER  PROVIDES       DESCRIPTION\npy    runtime  3.12.1   base           python=3.12.1  Python\n"
    );
    let bad = repo.hier_offline(&["list", "--kind", "runtim"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "error: no image of kind `runtim` in the catalog\n  = help: the kinds are: app, base, combo, runtime, webserver\n"
    );
}

#[test]
fn list_json_has_parent_from_and_inherited_provides() {
    let repo = repo();
    let v: serde_json::Value =
        serde_json::from_str(ok(&repo.hier_offline(&["list", "--format", "json"]))).unwrap();
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 5);
    assert_eq!(
        images[0],
        serde_json::json!({"name": "base", "kind": "base", "version": "1.0.0", "parent": null,
            "from": "busybox:1.36", "description": "Busybox base", "owner": null,
            "provides": ["os=busybox", "sh"]})
    );
    assert_eq!(images[4]["owner"], "team-a");
    assert_eq!(images[3]["parent"], "py");
    assert_eq!(images[3]["from"], serde_json::Value::Null);
    assert_eq!(
        images[3]["provides"],
        serde_json::json!(["os=busybox", "sh", "python=3.12.1", "nginx=1.25"])
    );
}

#[test]
fn tree_follows_parent_edges_only() {
    let repo = repo();
    assert_eq!(
        ok(&repo.hier_offline(&["tree"])),
        "\
base 1.0.0 (base, from busybox:1.36)
├── py 3.12.1 (runtime)
│   └── combo 1.0.0 (combo)
│       └── app 0.1.0 (app)
└── web 1.25.0 (webserver)
"
    );
    assert_eq!(
        ok(&repo.hier_offline(&["tree", "py"])),
        "py 3.12.1 (runtime)\n└── combo 1.0.0 (combo)\n    └── app 0.1.0 (app)\n"
    );
}

#[test]
fn show_gives_chain_tags_reference_provides_and_vars() {
    let repo = repo();
    assert_eq!(
        ok(&repo.hier_offline(&["show", "combo"])),
        "\
combo 1.0.0 (combo)
  Python and nginx

chain:      busybox:1.36 -> base 1.0.0 -> py 3.12.1 -> combo 1.0.0
reference:  registry.test/platform/combo:1.0.0
build on:   FROM registry.test/platform/combo:1.0.0
pinned:     not built yet
tags:       1.0.0, 1.0, 1
provides:   os=busybox, sh, python=3.12.1, nginx=1.25
uses:       web
children:   app
template:   templates/combo.hbs
context:    images/combo
test:       -
last build: never built (not in hier.lock)
vars:
  greeting = \"hello\"
  packages = [\"python3\",\"python3-pip\"]
"
    );
    let v: serde_json::Value =
        serde_json::from_str(ok(&repo.hier_offline(&["show", "py", "--format", "json"]))).unwrap();
    assert_eq!(v["chain"], serde_json::json!(["base", "py"]));
    assert_eq!(v["tags"], serde_json::json!(["3.12.1", "3.12", "3", "py"]));
    assert_eq!(v["reference"], "registry.test/platform/py:3.12.1");
    assert_eq!(v["children"], serde_json::json!(["combo"]));
}

#[test]
fn graph_in_dot_mermaid_and_json_has_both_kinds_of_edge() {
    let repo = repo();
    assert_eq!(
        ok(&repo.hier_offline(&["graph", "--format", "dot"])),
        r#"digraph "test" {
    rankdir=TB;
    node [shape=box];
    "base" [label="base\n1.0.0 (base)"];
    "py" [label="py\n3.12.1 (runtime)"];
    "web" [label="web\n1.25.0 (webserver)"];
    "combo" [label="combo\n1.0.0 (combo)"];
    "app" [label="app\n0.1.0 (app)"];
    "base" -> "py";
    "base" -> "web";
    "combo" -> "app";
    "py" -> "combo";
    "web" -> "combo" [style=dashed, label="uses"];
}
"#
    );
    let mermaid = repo.hier_offline(&["graph", "--format", "mermaid"]);
    assert!(ok(&mermaid).starts_with("flowchart TD\n    n0[\"base 1.0.0<br/><i>base</i>\"]\n"));
    assert!(mermaid.stdout.contains("    n2 -. uses .-> n3\n"));
    let v: serde_json::Value =
        serde_json::from_str(ok(&repo.hier_offline(&["graph", "--format", "json"]))).unwrap();
    assert_eq!(v["edges"].as_array().unwrap().len(), 5);
    assert!(
        v["edges"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"from": "web", "to": "combo", "kind": "uses"}))
    );
}

#[test]
fn parents_children_and_impact_follow_the_right_edges() {
    let repo = repo();
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(ok(&repo.hier_offline(&all))).unwrap();
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&["parents", "app"]), ["base", "py", "combo"]);
    assert_eq!(names(&["parents", "base"]), Vec::<String>::new());
    assert_eq!(names(&["children", "web"]), ["combo"]);
    assert_eq!(names(&["children", "base"]), ["py", "web"]);
    assert_eq!(names(&["children", "web", "--all"]), ["combo", "app"]);
    assert_eq!(names(&["impact", "web"]), ["web", "combo", "app"]);
    assert_eq!(names(&["impact", "app", "py"]), ["py", "combo", "app"]);
    assert_eq!(
        ok(&repo.hier_offline(&["impact", "web"])),
        "WAVE  NAME   KIND       VERSION\n0     web    webserver  1.25.0\n1     combo  combo      1.0.0\n2     app    app        0.1.0\n3 images would rebuild in 3 waves\n"
    );
}

#[test]
fn pick_prefers_the_closest_fit_and_never_an_app() {
    let repo = repo();
    let picks = |needs: &[&str]| -> Vec<String> {
        let mut all = vec!["pick"];
        all.extend(needs);
        all.extend(["--format", "json"]);
        let run = repo.hier_offline(&all);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(picks(&["sh"]), ["base", "py", "web", "combo"]);
    assert_eq!(picks(&["python=3.12"]), ["py", "combo"]);
    assert_eq!(picks(&["python=3"]), ["py", "combo"]);
    assert_eq!(picks(&["python", "nginx"]), ["combo"]);
    assert!(picks(&["python=3.1"]).is_empty());
    let none = repo.hier_offline(&["pick", "ruby"]);
    assert_eq!(none.code, 1);
    assert_eq!(
        none.stderr,
        "no image provides all of: ruby\n  `ruby`: no image provides `ruby`; `hier pick` lists every need the catalog provides\n"
    );
    // Comparisons, and what a need nothing meets is closest to.
    assert_eq!(picks(&["python>=3.10"]), ["py", "combo"]);
    assert!(picks(&["python<3.12"]).is_empty());
    let near = repo.hier_offline(&["pick", "python=3.11", "nginx"]);
    assert_eq!(near.code, 1);
    assert_eq!(
        near.stderr,
        "no image provides all of: python=3.11, nginx\n  `python=3.11`: nothing meets it; py 3.12.1 provides python=3.12.1; combo 1.0.0 provides python=3.12.1\n"
    );
    let typo = repo.hier_offline(&["pick", "pyhton"]);
    assert!(
        typo.stderr.ends_with("did you mean `python`?\n"),
        "{}",
        typo.stderr
    );
    // Without needs: every need there is, and who provides it.
    assert_eq!(
        ok(&repo.hier_offline(&["pick"])),
        "NEED           PROVIDED BY\nnginx=1.25     web, combo\nos=busybox     base, py, web, combo\npython=3.12.1  py, combo\nsh             base, py, web, combo\n"
    );
}

#[test]
fn render_writes_then_check_finds_nothing_stale() {
    let repo = repo();
    let run = repo.hier_offline(&["render"]);
    assert_eq!(
        ok(&run),
        "wrote images/base/Dockerfile\nwrote images/py/Dockerfile\nwrote images/web/Dockerfile\nwrote images/combo/Dockerfile\n4 written, 0 already up to date\n"
    );
    assert_eq!(
        repo.read("images/base/Dockerfile"),
        "# Generated by hier from templates/base.hbs. Do not edit: change the template or catalog.toml, then run `hier render`.\nFROM busybox:1.36\nRUN apk add --no-cache \\\n    bash \\\n    curl\nLABEL greeting=\"hello\"\n"
    );
    assert_eq!(
        repo.read("images/combo/Dockerfile"),
        "# Generated by hier from templates/combo.hbs. Do not edit: change the template or catalog.toml, then run `hier render`.\nFROM registry.test/platform/py:3.12.1\nCOPY --from=registry.test/platform/web:1.25.0 /etc/nginx /etc/nginx\nENV TAGS=\"1.0.0,1.0,1\"\n"
    );
    assert_eq!(
        ok(&repo.hier_offline(&["render", "--check"])),
        "4 rendered Dockerfiles are up to date\n"
    );
    assert_eq!(
        ok(&repo.hier_offline(&["render"])),
        "0 written, 4 already up to date\n"
    );
}

#[test]
fn render_check_lists_stale_files_and_writes_nothing() {
    let repo = repo();
    ok(&repo.hier_offline(&["render"]));
    repo.write(
        "templates/runtime.hbs",
        "FROM {{parent.ref}}\n{{> install packages=vars.packages}}\nUSER 1000\n",
    );
    let before = repo.snapshot();
    let run = repo.hier_offline(&["render", "--check"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "stale: images/py/Dockerfile\nstale: images/web/Dockerfile\n"
    );
    assert_eq!(
        run.stderr,
        "error: 2 rendered Dockerfiles are out of date; run `hier render` and commit the result\n"
    );
    assert_eq!(repo.snapshot(), before);
    assert_eq!(
        ok(&repo.hier_offline(&["render", "web"])),
        "wrote images/web/Dockerfile\n1 written, 0 already up to date\n"
    );
    let hand = repo.hier_offline(&["render", "app"]);
    assert_eq!(hand.code, 0);
    assert_eq!(
        hand.stderr,
        "note: `app` has a hand-written Dockerfile (images/app/Dockerfile); nothing to render\n"
    );
}

#[test]
fn plan_of_a_new_hierarchy_builds_everything_in_waves() {
    let repo = repo();
    assert_eq!(
        ok(&repo.hier_offline(&["plan"])),
        "\
WAVE  IMAGE  ACTION  REASON
0     base   build   new
1     py     build   new
1     web    build   new
2     combo  build   new
3     app    build   new
5 images to build in 4 waves
"
    );
    let v: serde_json::Value =
        serde_json::from_str(ok(&repo.hier_offline(&["plan", "--format", "json"]))).unwrap();
    let first = &v["images"][0];
    assert_eq!(first["name"], "base");
    assert_eq!(first["wave"], 0);
    assert_eq!(first["reason"], "new");
    assert_eq!(first["action"], "build");
    assert!(first["inputs"].as_str().unwrap().starts_with("sha256:"));
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "wave", "reason", "inputs", "action"]);
}

#[test]
fn plan_changed_selects_exactly_what_changed_and_its_dependents() {
    let repo = repo();
    lock_everything(&repo);
    nothing_to_build(&repo.hier_offline(&["plan"]));

    // An ignored file changes nothing.
    repo.write("images/app/debug.log", "noise");
    nothing_to_build(&repo.hier_offline(&["plan", "--changed"]));

    // A context file selects its image.
    repo.write("images/app/app.sh", "echo app v2\n");
    assert_eq!(
        ok(&repo.hier_offline(&["plan"])),
        "WAVE  IMAGE  ACTION  REASON\n0     app    build   changed: context (app.sh)\n1 image to build in 1 wave\n"
    );
    repo.write("images/app/app.sh", "echo app\n");

    // A variable of web changes web's rendering; combo uses web, app descends from combo.
    let catalog = CATALOG.replace(
        "vars = { packages = [\"nginx\"] }",
        "vars = { packages = [\"nginx\", \"openssl\"] }",
    );
    repo.write("catalog.toml", &catalog);
    assert_eq!(
        ok(&repo.hier_offline(&["plan"])),
        "\
WAVE  IMAGE  ACTION  REASON
0     web    build   changed: vars (packages)
1     combo  build   parent rebuilt: web
2     app    build   parent rebuilt: combo
3 images to build in 3 waves
"
    );
    repo.write("catalog.toml", CATALOG);

    // A catalog variable reaches every templated image that inherits it: only base uses it.
    repo.write(
        "catalog.toml",
        &CATALOG.replace("greeting = \"hello\"", "greeting = \"hi\""),
    );
    let v: serde_json::Value =
        serde_json::from_str(ok(&repo.hier_offline(&["plan", "--format", "json"]))).unwrap();
    let reasons: Vec<(String, String)> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("base".to_string(), "changed: vars (greeting)".to_string()),
            ("py".to_string(), "parent rebuilt: base".to_string()),
            ("web".to_string(), "parent rebuilt: base".to_string()),
            ("combo".to_string(), "parent rebuilt: py".to_string()),
            ("app".to_string(), "parent rebuilt: combo".to_string()),
        ]
    );
    repo.write("catalog.toml", CATALOG);

    // A build argument and a version are inputs too.
    repo.write(
        "catalog.toml",
        &CATALOG.replace("MODE = \"prod\"", "MODE = \"dev\""),
    );
    assert!(
        ok(&repo.hier_offline(&["plan"])).contains("0     app    build   changed: build_args\n")
    );
    repo.write(
        "catalog.toml",
        &CATALOG.replace("version = \"0.1.0\"", "version = \"0.1.1\""),
    );
    assert!(ok(&repo.hier_offline(&["plan"])).contains("0     app    build   changed: version\n"));
    repo.write("catalog.toml", CATALOG);
    nothing_to_build(&repo.hier_offline(&["plan"]));
}

/// `[catalog] builder` and `[catalog.secrets]` with an image naming secrets: valid, and only
/// the names an image lists are an input (never a value, nor the builder).
#[test]
fn builder_and_secrets_validate_and_secret_names_are_an_input() {
    let repo = repo();
    lock_everything(&repo);
    let declared = CATALOG.replace(
        "[catalog.vars]",
        "builder = \"legacy\"\n\n[catalog.secrets]\nnpm_token = { env = \"NPM_TOKEN\" }\npip_conf = { file = \"~/.config/pip/pip.conf\" }\n\n[catalog.vars]",
    );
    let with_secrets = |list: &str| {
        declared.replace(
            "owner = \"team-a\"",
            &format!("owner = \"team-a\"\nsecrets = {list}"),
        )
    };
    repo.write("catalog.toml", &with_secrets("[\"npm_token\"]"));
    assert_eq!(
        ok(&repo.hier_offline(&["validate"])),
        "catalog.toml: 5 images (1 base, 4 rendered from templates, 1 hand-written) in 4 waves; no problems found\n"
    );
    let opened = hier::repo::Repository::open(&repo.path().join("catalog.toml")).unwrap();
    let inputs = opened.inputs().unwrap();
    assert!(
        !inputs[&opened.catalog.images[0].name]
            .components
            .contains_key("secrets")
    );
    assert_eq!(
        ok(&repo.hier_offline(&["plan"])),
        "WAVE  IMAGE  ACTION  REASON\n0     app    build   changed: secrets\n1 image to build in 1 wave\n"
    );

    // The declarations and the builder alone change nothing.
    repo.write("catalog.toml", &declared);
    nothing_to_build(&repo.hier_offline(&["plan"]));

    // Recorded with its secrets: their order and the builder change nothing, a new name does.
    repo.write(
        "catalog.toml",
        &with_secrets("[\"npm_token\", \"pip_conf\"]"),
    );
    lock_everything(&repo);
    repo.write(
        "catalog.toml",
        &with_secrets("[\"pip_conf\", \"npm_token\"]").replace("\"legacy\"", "\"buildkit\""),
    );
    nothing_to_build(&repo.hier_offline(&["plan"]));
    repo.write("catalog.toml", &with_secrets("[\"pip_conf\"]"));
    assert!(ok(&repo.hier_offline(&["plan"])).contains("0     app    build   changed: secrets\n"));
}

#[test]
fn plan_resumes_a_cascade_that_stopped_half_way() {
    let repo = repo();
    lock_everything(&repo);
    // web was rebuilt (new image id) but combo, built on the old web, was not.
    let mut lock = Lock::parse(&hier::source::SourceFile::new(
        "hier.lock".into(),
        repo.read("hier.lock"),
    ))
    .unwrap();
    lock.images.get_mut("web").unwrap().image_id = format!("sha256:{}", "e".repeat(64));
    lock.write_atomic(&repo.path().join("hier.lock")).unwrap();
    assert_eq!(
        ok(&repo.hier_offline(&["plan"])),
        "\
WAVE  IMAGE  ACTION  REASON
0     combo  build   parent rebuilt: web (sha256:000000000000 -> sha256:eeeeeeeeeeee)
1     app    build   parent rebuilt: combo
2 images to build in 2 waves
"
    );
}

#[test]
fn plan_all_and_named_images() {
    let repo = repo();
    lock_everything(&repo);
    let all = ok(&repo.hier_offline(&["plan", "--all", "-q"])).to_string();
    assert_eq!(all.lines().count(), 6);
    assert!(all.contains("0     base   build   selected\n"));
    assert_eq!(
        ok(&repo.hier_offline(&["plan", "py"])),
        "WAVE  IMAGE  ACTION  REASON\n0     py     build   selected\n1     combo  build   parent rebuilt: py\n2     app    build   parent rebuilt: combo\n3 images to build in 3 waves\n"
    );
    let conflict = repo.hier_offline(&["plan", "--all", "py"]);
    assert_eq!(conflict.code, 2);
    let unknown = repo.hier_offline(&["plan", "pyy"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(
        unknown.stderr,
        "error: no image `pyy` in the catalog\n  = help: did you mean `py`?\n"
    );
}

#[test]
fn plan_since_a_git_revision() {
    let repo = repo();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "one"]);
    nothing_to_build(&repo.hier_offline(&["plan", "--since", "HEAD"]));
    repo.write("templates/combo.hbs", "FROM {{parent.ref}}\n");
    assert_eq!(
        ok(&repo.hier_offline(&["plan", "--since", "HEAD"])),
        "WAVE  IMAGE  ACTION  REASON\n0     combo  build   changed: dockerfile\n1     app    build   parent rebuilt: combo\n2 images to build in 2 waves\n"
    );
    let bad = repo.hier_offline(&["plan", "--since", "no-such-rev"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "error: unknown git revision `no-such-rev`\n  = help: name a commit, branch or tag (`git log --oneline` lists them)\n"
    );
}

#[test]
fn validate_reports_success_in_text_and_json() {
    let repo = repo();
    assert_eq!(
        ok(&repo.hier_offline(&["validate"])),
        "catalog.toml: 5 images (1 base, 4 rendered from templates, 1 hand-written) in 4 waves; no problems found\n"
    );
    let v: serde_json::Value =
        serde_json::from_str(ok(&repo.hier_offline(&["validate", "--format", "json"]))).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["images"], 5);
}

#[test]
fn the_catalog_is_found_by_flag_environment_or_working_folder() {
    let repo = repo();
    let elsewhere = tempfile::tempdir().unwrap();
    let missing = common::hier_in(elsewhere.path(), &["list"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.starts_with("error: no catalog.toml in "),
        "{}",
        missing.stderr
    );
    let path = repo.path().join("catalog.toml");
    let by_flag = common::hier_in(
        elsewhere.path(),
        &[
            "--catalog",
            path.to_str().unwrap(),
            "list",
            "--format",
            "json",
        ],
    );
    assert_eq!(by_flag.code, 0, "{}", by_flag.stderr);
    let by_folder = common::hier_in(
        elsewhere.path(),
        &["list", "--catalog", repo.path().to_str().unwrap(), "-q"],
    );
    assert_eq!(by_folder.code, 0, "{}", by_folder.stderr);
    let by_env = std::process::Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["list", "--format", "json"])
        .current_dir(elsewhere.path())
        .env("HIER_CATALOG", &path)
        .output()
        .unwrap();
    assert!(by_env.status.success());
    assert_eq!(String::from_utf8_lossy(&by_env.stdout), by_flag.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let repo = repo();
    let run = repo.hier_offline(&["show", "nope"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: no image `nope` in the catalog\n  = help: `hier list` shows the images\n"
    );
    let run = repo.hier_offline(&["list", "--format", "dot"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: --format dot and --format mermaid apply to `hier graph` only\n  = help: use --format text or --format json\n"
    );
    assert_eq!(repo.hier_offline(&["frobnicate"]).code, 2);
    assert_eq!(repo.hier_offline(&["pick", "python="]).code, 2);
    assert_eq!(repo.hier_offline(&["--help"]).code, 0);
}

#[test]
fn the_example_hierarchy_is_valid_and_its_committed_renders_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("catalog.toml"), work.path().join("catalog.toml")).unwrap();
    common::copy_tree(&root.join("templates"), &work.path().join("templates"));
    common::copy_tree(&root.join("images"), &work.path().join("images"));
    let check = common::hier_in(work.path(), &["render", "--check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let validate = common::hier_in(work.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
}

/// A secret file inside a build context would be sent with the context: refused before the
/// engine is reached (exit 2, not 3), at the secret's declaration.
#[test]
fn a_secret_file_inside_a_build_context_is_refused() {
    let repo = repo();
    repo.write("images/app/.npmrc", "//registry/:_authToken=abc\n");
    repo.write(
        "catalog.toml",
        &CATALOG
            .replace(
                "[catalog.vars]",
                "[catalog.secrets]\nnpmrc = { file = \"images/app/.npmrc\" }\n\n[catalog.vars]",
            )
            .replace(
                "owner = \"team-a\"",
                "owner = \"team-a\"\nsecrets = [\"npmrc\"]",
            ),
    );
    let run = repo.hier_offline(&["rebuild", "app"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "secret `npmrc` (needed by `app`): the file images/app/.npmrc is inside the build context of `app` (images/app)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("catalog.toml:"), "{}", run.stderr);
    assert!(!run.stderr.contains("abc"), "{}", run.stderr);
}

/// `.hier` is hier's own: a symlink there (committed by someone) is refused, nothing written
/// through it.
#[test]
fn a_symlinked_state_folder_is_refused() {
    let repo = repo();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join(".hier")).unwrap();
    let run = repo.hier_offline(&["rebuild"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(".hier is a symlink"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

/// An engine that does not answer: the endpoint, the reason in plain words (no client-library
/// internals), and what to do.
#[test]
fn an_unreachable_engine_says_where_why_and_what_to_do() {
    let repo = repo();
    let run = repo.hier_offline(&["rebuild", "--all"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: cannot reach the Docker Engine at unix:///nonexistent/hier-test.sock: there is no socket at /nonexistent/hier-test.sock\n  = help: start the Docker Engine, or point DOCKER_HOST at one (`unix:///path/to/docker.sock`, `tcp://host:2375`)\n"
    );
}

/// Files hier writes follow the umask like any program's, and keep the mode they had.
#[test]
fn written_files_follow_the_umask_and_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let repo = repo();
    let run = repo.hier_offline(&["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mode = |p: &str| {
        std::fs::metadata(repo.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
        .unwrap();
    assert_eq!(mode("images/base/Dockerfile"), 0o666 & !umask);
    std::fs::set_permissions(
        repo.path().join("images/base/Dockerfile"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    repo.write("catalog.toml", &CATALOG.replace("hello", "hello again"));
    let run = repo.hier_offline(&["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode("images/base/Dockerfile"), 0o640);
}

/// An app is the top of its chain: `pick` never offers one, even when it alone provides the
/// need, and a kind is one of the catalog's `kinds`.
#[test]
fn pick_never_offers_an_app_even_when_only_an_app_provides_the_need() {
    let repo = repo();
    let catalog = CATALOG.replace(
        "owner = \"team-a\"",
        "owner = \"team-a\"\nprovides = [\"billing\"]",
    );
    repo.write("catalog.toml", &catalog);
    let run = repo.hier_offline(&["pick", "billing"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert_eq!(
        run.stderr,
        "no image provides all of: billing\n  `billing`: only app provides it, and nothing builds on an app\n"
    );
    let run = repo.hier_offline(&["pick", "sh", "-q"]);
    assert_eq!(
        run.stdout,
        "NAME   KIND       VERSION  PROVIDES\nbase   base       1.0.0    os=busybox, sh\npy     runtime    3.12.1   os=busybox, sh, python=3.12.1\nweb    webserver  1.25.0   os=busybox, sh, nginx=1.25\ncombo  combo      1.0.0    os=busybox, sh, python=3.12.1, nginx=1.25\n"
    );
}

/// `validate` said "no problems found" and then listed lint errors, and counted "1 images" in
/// "1 waves". It says "no problems found" only when there are none, in the right number.
#[test]
fn validate_never_says_no_problems_before_a_problem_and_counts_in_the_singular() {
    let repo = Repo::with(&[
        (
            "catalog.toml",
            "[catalog]\nname = \"t\"\nregistry = \"registry.test/t\"\n\n[images.base]\nfrom = \"debian:bookworm-slim\"\nversion = \"1.0.0\"\ntemplate = \"base.hbs\"\n",
        ),
        (
            "templates/base.hbs",
            "FROM {{parent.ref}}\nRUN apt-get update\nENTRYPOINT [\"tini\", \"--\"]\n",
        ),
    ]);
    let run = repo.hier_offline(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "catalog.toml: 1 image (1 base, 1 rendered from templates, 0 hand-written) in 1 wave\n\nbase\n  images/base/Dockerfile:3: error[H102]: `apt-get update` in a RUN that installs nothing: update and install in the same RUN (rendered from templates/base.hbs)\n\n1 lint error, 0 warnings (hier lint --explain ID tells why)\n"
    );
    repo.write(
        "templates/base.hbs",
        "FROM {{parent.ref}}\nENTRYPOINT [\"tini\", \"--\"]\n",
    );
    assert_eq!(
        ok(&repo.hier_offline(&["validate"])),
        "catalog.toml: 1 image (1 base, 1 rendered from templates, 0 hand-written) in 1 wave; no problems found\n"
    );
    let explain = repo.hier_offline(&["lint", "--explain", "H102"]);
    assert!(
        ok(&explain).ends_with(
            "\nTo silence it for an image, add `lint_ignore = [\"H102\"]` to the image's entry in the catalog ([images.<name>]).\n"
        ),
        "{}",
        explain.stdout
    );
}

/// `validate --format json` printed `"problems": []` always, and nothing at all for a catalog
/// with errors. Every problem is in the document now, with its place, and the exit is 2.
#[test]
fn validate_json_lists_every_problem_with_its_place_and_exits_2() {
    let repo = repo();
    let catalog = CATALOG
        .replace("parent = \"py@^3\"", "parent = \"pyy@^3\"")
        .replace(
            "kind = \"webserver\"",
            "kind = \"webserver\"\ncolour = \"blue\"",
        );
    repo.write("catalog.toml", &catalog);
    let run = repo.hier_offline(&["validate", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "valid": false, "images": null, "bases": null, "templated": null, "findings": [],
            "problems": [
                {"file": "catalog.toml", "line": 35, "column": 1, "severity": "error",
                 "message": "unknown key `colour` in image `web`",
                 "help": "the keys of image `web` are: from, parent, uses, version, kind, template, dockerfile, refresh, description, provides, tags, test, test_timeout, test_spec, build_timeout, max_size, max_added, vars, owner, build_args, labels, context, lint_ignore, secrets"},
                {"file": "catalog.toml", "line": 42, "column": 10, "severity": "error",
                 "message": "`parent` of image `combo` names `pyy`, which is not in the catalog",
                 "help": "did you mean `py`?"},
            ]
        })
    );
    assert!(
        run.stderr
            .ends_with("error: 2 problems found; nothing was written\n"),
        "{}",
        run.stderr
    );
    // A problem found after the catalog (a template) is listed too, with the counts known.
    let repo = self::repo();
    repo.write(
        "templates/runtime.hbs",
        "FROM {{parent.ref}}\nRUN {{vars.nope}}\n",
    );
    let run = repo.hier_offline(&["validate", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (v["valid"].clone(), v["images"].clone()),
        (false.into(), 5.into())
    );
    assert_eq!(v["problems"][0]["file"], "templates/runtime.hbs");
    assert_eq!(
        (
            v["problems"][0]["line"].clone(),
            v["problems"][0]["column"].clone()
        ),
        (2.into(), 5.into())
    );
}

/// A partial that was a symlink was followed: `ln -s /proc/self/environ` put the environment
/// into a label. Templates and partials get the contexts' rule: nothing outside the repository
/// is read through a symlink, and the templates folder itself may not lead outside either.
#[test]
fn templates_and_partials_symlinked_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("env"), "SECRET=hunter2\n").unwrap();
    let repo = repo();
    repo.write(
        "templates/base.hbs",
        "FROM {{parent.ref}}\nLABEL env=\"{{> env}}\"\n",
    );
    std::os::unix::fs::symlink(
        outside.path().join("env"),
        repo.path().join("templates/partials/env.hbs"),
    )
    .unwrap();
    let before = repo.snapshot();
    let run = repo.hier_offline(&["render"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: partial templates/partials/env.hbs leads outside the repository through a symlink\n --> templates/partials/env.hbs\n  = help: copy it into the repository: hier reads nothing outside it through a symlink\n\nerror: 1 problem found; nothing was written\n"
    );
    assert!(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"));
    assert_eq!(repo.snapshot(), before);

    // A template that is such a symlink, and a templates folder that is one.
    std::fs::remove_file(repo.path().join("templates/partials/env.hbs")).unwrap();
    std::fs::remove_file(repo.path().join("templates/base.hbs")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("env"),
        repo.path().join("templates/base.hbs"),
    )
    .unwrap();
    let run = repo.hier_offline(&["validate"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: template `base.hbs` of image `base` (templates/base.hbs) leads outside the repository through a symlink\n  --> catalog.toml:15:12\n   |\n15 | template = \"base.hbs\"\n   |            ^^^^^^^^^^\n   = help: copy it into the repository: hier reads nothing outside it through a symlink\n\nerror: 1 problem found; nothing was written\n"
    );
    std::fs::rename(
        repo.path().join("templates"),
        outside.path().join("templates"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("templates"),
        repo.path().join("templates"),
    )
    .unwrap();
    let run = repo.hier_offline(&["validate"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: the templates folder templates leads outside the repository through a symlink\n --> templates\n  = help: make it a real folder of the repository: hier reads and writes nothing outside it\n\nerror: 1 problem found; nothing was written\n"
    );
}

/// `images/` as a symlink to a folder outside the repository made `render` write there.
#[test]
fn an_images_folder_symlinked_outside_the_repository_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let repo = repo();
    std::fs::rename(repo.path().join("images"), outside.path().join("images")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("images"), repo.path().join("images")).unwrap();
    let before = common::snapshot(outside.path());
    let run = repo.hier_offline(&["render"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: the images folder images leads outside the repository through a symlink\n --> images\n  = help: make it a real folder of the repository: hier reads and writes nothing outside it\n\nerror: 1 problem found; nothing was written\n"
    );
    assert_eq!(common::snapshot(outside.path()), before);
    // A rendered Dockerfile's own folder that is such a symlink is refused too.
    std::fs::remove_file(repo.path().join("images")).unwrap();
    std::fs::create_dir(repo.path().join("images")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("images"), repo.path().join("images/py"))
        .unwrap();
    let catalog = CATALOG.replace(
        "template = \"runtime.hbs\"\ndescription = \"Python\"",
        "template = \"runtime.hbs\"\ncontext = \"ctx/py\"\ndescription = \"Python\"",
    );
    repo.write("catalog.toml", &catalog);
    let run = repo.hier_offline(&["render"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: the rendered Dockerfile of image `py` (images/py/Dockerfile) leads outside the repository through a symlink\n"),
        "{}",
        run.stderr
    );
    assert_eq!(common::snapshot(outside.path()), before);
}

/// `--catalog /dev/zero` or a FIFO said "does not exist": it says what the path is.
#[test]
fn a_catalog_that_is_a_device_or_a_fifo_says_what_it_is() {
    let repo = repo();
    let run = repo.hier_offline(&["--catalog", "/dev/zero", "validate"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: the catalog /dev/zero (from --catalog) is a character device, not a file\n  = help: point --catalog (or HIER_CATALOG) at the catalog.toml file, or at its folder\n"
    );
    let fifo = repo.path().join("fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let run = repo.hier_offline(&["--catalog", "fifo.toml", "list"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: the catalog fifo.toml (from --catalog) is a fifo, not a file\n  = help: point --catalog (or HIER_CATALOG) at the catalog.toml file, or at its folder\n"
    );
}

/// `-h` is short; `--help` is long and ends with examples, for every command.
#[test]
fn short_help_is_short_and_long_help_has_examples() {
    let repo = common::Repo::new();
    let commands = [
        "validate",
        "render",
        "list",
        "tree",
        "show",
        "graph",
        "parents",
        "children",
        "impact",
        "pick",
        "plan",
        "lint",
        "push",
        "test",
        "gc",
        "refresh",
        "rebuild",
        "completions",
        "man",
    ];
    for command in commands {
        let short = repo.hier_offline(&[command, "-h"]);
        let long = repo.hier_offline(&[command, "--help"]);
        assert_eq!((short.code, long.code), (0, 0), "{command}");
        assert!(
            long.stdout
                .contains(&format!("\nExamples:\n  hier {command}")),
            "{command}: {}",
            long.stdout
        );
        assert!(!short.stdout.contains("Examples:"), "{command}");
        assert!(short.stdout.len() < long.stdout.len(), "{command}");
    }
}
