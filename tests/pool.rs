//! A pool of engines, for real: the engine and the second engine `scripts/engine-up` starts
//! (`unix:///var/run/docker2.sock`, which has none of the bases), the local registry between
//! them (`crossing`: a copy gone from it, a registry that does not answer), an engine behind
//! ssh, an engine a test starts over TLS (`tls`), and (`faults`) engines a test starts over TLS
//! and kills in the middle of a run. Also the builders file's errors and `hier builders`.

mod common;
#[path = "pool/crossing.rs"]
mod crossing;
#[path = "pool/faults.rs"]
mod faults;
#[path = "pool/tls.rs"]
mod tls;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use common::Repo;
use common::engine::remove_images;
use common::sshd::Sshd;
use serde_json::Value;

const REGISTRY: &str = "127.0.0.1:5000";
const SECOND: &str = "unix:///var/run/docker2.sock";

/// A catalog of a busybox base and `children` images on it, each with a file of its own made
/// by `run` (`{c}` stands for the child's name) and a test of it.
fn catalog(prefix: &str, builder: &str, children: usize, run: &str) -> Vec<(String, String)> {
    let mut catalog = format!(
        "[catalog]\nname = \"t\"\nregistry = \"{REGISTRY}/{prefix}\"\nbuilder = \"{builder}\"\n\n\
         [images.base]\nfrom = \"hier-test/busybox:1\"\nversion = \"1.0.0\"\n\
         dockerfile = \"images/base/Dockerfile\"\ntest = [\"test -f /base\"]\n"
    );
    let mut files = vec![(
        "images/base/Dockerfile".to_string(),
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN echo base > /base\n".to_string(),
    )];
    for c in 0..children {
        let name = format!("c{c}");
        catalog.push_str(&format!(
            "\n[images.{name}]\nparent = \"base\"\nversion = \"1.0.0\"\n\
             dockerfile = \"images/{name}/Dockerfile\"\ntest = [\"test -f /base && test -f /{name}\"]\n"
        ));
        files.push((
            format!("images/{name}/Dockerfile"),
            format!(
                "ARG HIER_PARENT\nFROM ${{HIER_PARENT}}\nRUN {}\n",
                run.replace("{c}", &name)
            ),
        ));
    }
    files.push(("catalog.toml".to_string(), catalog));
    files
}

fn repo_of(files: &[(String, String)]) -> Repo {
    let listed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    Repo::with(&listed)
}

/// Images of the test on both engines go when it ends.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_images(&self.0);
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker -H {SECOND} images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' | grep -F '{}' | xargs -r docker -H {SECOND} rmi -f",
                self.0
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn second_engine_answers() {
    let ok = Command::new("docker")
        .args(["-H", SECOND, "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "these tests need the second engine: run scripts/engine-up first"
    );
}

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn image<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

/// `hier builders --format json` in `repo`, which must succeed.
fn builders_json(repo: &Repo) -> Value {
    let checked = repo.hier(&[
        "builders",
        "--builders",
        "builders.toml",
        "--format",
        "json",
    ]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    report(&checked.stdout)
}

/// The images of a run report built on `builder`.
fn built_on<'a>(run: &'a Value, builder: &str) -> Vec<&'a Value> {
    run["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["builder"] == builder)
        .collect()
}

/// What crossed to an image's builder (the report leaves an empty list out).
fn moved_to(image: &Value) -> Vec<Value> {
    image["moved"].as_array().cloned().unwrap_or_default()
}

/// The lock with what names a build rather than what it is: ids, fingerprints (made of the
/// parent's id), times and the immutable tag's id part. Also checks each parent id is the
/// parent's recorded id.
fn lock_shape(root: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(root.join("hier.lock")).unwrap();
    let lock: toml::Table = toml::from_str(&text).unwrap();
    let images = lock["images"].as_table().unwrap();
    let mut shape = BTreeMap::new();
    for (name, entry) in images {
        let entry = entry.as_table().unwrap();
        if name != "base" {
            let parent = entry.get("parent_image_id");
            assert_eq!(parent, images["base"].get("image_id"), "{name}");
        }
        let id12 = &entry["image_id"].as_str().unwrap()["sha256:".len()..][..12];
        let mut fields = BTreeMap::new();
        for (key, value) in entry {
            if ["image_id", "parent_image_id", "fingerprint", "built_at"].contains(&key.as_str()) {
                continue;
            }
            fields.insert(key.clone(), value.to_string().replace(id12, "<id12>"));
        }
        shape.insert(name.clone(), fields);
    }
    shape
}

#[test]
fn two_engines_share_a_run_and_record_what_one_engine_records() {
    second_engine_answers();
    let prefix = format!("hier-pool-share-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    let files = catalog(&prefix, "buildkit", 4, "echo {c} > /{c}");
    let one = repo_of(&files);
    let single = one.hier(&["rebuild", "--format", "json"]);
    assert_eq!(single.code, 0, "{}", single.stderr);

    let pool = repo_of(&files);
    pool.write(
        "builders.toml",
        &format!(
            "[[builder]]\nname = \"first\"\nhost = \"unix:///var/run/docker.sock\"\njobs = 1\n\n\
             [[builder]]\nname = \"second\"\nhost = \"{SECOND}\"\njobs = 2\n"
        ),
    );
    let checked = builders_json(&pool);
    for builder in checked["builders"].as_array().unwrap() {
        assert_eq!(builder["reachable"], true, "{builder}");
        assert_eq!(builder["buildkit"], true, "{builder}");
        assert!(builder["version"].as_str().unwrap().starts_with("20.10"));
    }

    let run = pool.hier_env(
        &["rebuild", "--format", "json"],
        &[("HIER_BUILDERS", "builders.toml")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = report(&run.stdout);
    // The base's `from` is only on the first engine: the base is built there.
    assert_eq!(image(&run, "base")["builder"], "first");
    let on_second = built_on(&run, "second");
    assert!(!on_second.is_empty(), "{run}");
    let base_id = image(&run, "base")["image_id"]
        .as_str()
        .unwrap()
        .to_string();
    for child in &on_second {
        // The base crossed through the registry, verified as the same image.
        assert!(moved_to(child).len() <= 1, "{child}");
        // The child was built and tested on the second engine, on exactly the base.
        let id = child["image_id"].as_str().unwrap();
        let inspect = Command::new("docker")
            .args([
                "-H",
                SECOND,
                "image",
                "inspect",
                "--format",
                "{{index .Config.Labels \"io.hier.parent.id\"}}",
                id,
            ])
            .output()
            .unwrap();
        assert!(
            inspect.status.success(),
            "{}",
            String::from_utf8_lossy(&inspect.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&inspect.stdout).trim(), base_id);
    }
    let moved: usize = on_second.iter().map(|c| moved_to(c).len()).sum();
    assert_eq!(
        moved, 1,
        "the base crossed once to the second engine: {run}"
    );
    let crossing = &on_second.iter().find(|c| !moved_to(c).is_empty()).unwrap()["moved"][0];
    assert_eq!(crossing["image"], "base");
    assert_eq!(crossing["from"], "first");
    assert_eq!(crossing["image_id"], base_id.as_str());

    // The lock records the same images, inputs, tests and tags as the single engine's run.
    assert_eq!(lock_shape(pool.path()), lock_shape(one.path()));

    // `hier docs` reads what is inside each image where it is: without the builders file, the
    // images only the second engine holds are not known; with it, all are, and none moved.
    let summary = |run: &common::Run| {
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
            .split("); ")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    let docs = pool.hier(&["docs", "--out", "site"]);
    assert_eq!(
        summary(&docs),
        format!(
            "contents read for {}, not known for {}, 0 not built\n",
            5 - on_second.len(),
            on_second.len()
        )
    );
    let docs = pool.hier(&["docs", "--out", "site", "--builders", "builders.toml"]);
    assert_eq!(
        summary(&docs),
        "contents read for 5, not known for 0, 0 not built\n"
    );
    assert!(docs.stderr.is_empty(), "{}", docs.stderr);

    // A refresh over the pool: the children built on the second engine cross to the first,
    // where the refresh reads them.
    let lock = pool.read("hier.lock");
    let refresh = pool.hier_env(
        &["refresh", "--format", "json"],
        &[("HIER_BUILDERS", "builders.toml")],
    );
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    assert!(
        refresh
            .stderr
            .contains("crossed from builder `second` to `first`"),
        "{}",
        refresh.stderr
    );
    // Every image was read there (none has a package database), nothing moved upstream, so
    // nothing is rebuilt and the lock stays.
    let refreshed = report(&refresh.stdout);
    assert_eq!(refreshed["images"], serde_json::json!([]), "{refreshed}");
    assert_eq!(
        refreshed["checked"].as_array().unwrap().len(),
        5,
        "{refreshed}"
    );
    assert_eq!(pool.read("hier.lock"), lock);
}

#[test]
fn a_builder_over_ssh_builds_through_a_forwarded_socket() {
    second_engine_answers();
    let prefix = format!("hier-pool-ssh-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    let sshd = Sshd::start();
    let repo = repo_of(&catalog(&prefix, "buildkit", 3, "echo {c} > /{c}"));
    repo.write(
        "builders.toml",
        &format!(
            "[[builder]]\nname = \"first\"\nhost = \"unix:///var/run/docker.sock\"\njobs = 1\n\n\
             [[builder]]\nname = \"far\"\nhost = \"ssh://root@127.0.0.1:{}\"\n\
             socket = \"/var/run/docker2.sock\"\nssh_config = \"{}\"\njobs = 2\n",
            sshd.port,
            sshd.client_config().display()
        ),
    );
    let checked = builders_json(&repo);
    let far = &checked["builders"][1];
    assert_eq!(far["reachable"], true, "{far}");
    assert_eq!(far["buildkit"], true, "{far}");

    let run = repo.hier(&["rebuild", "--builders", "builders.toml", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = report(&run.stdout);
    let far_images = built_on(&run, "far");
    assert!(!far_images.is_empty(), "{run}");
    for image in &far_images {
        let id = image["image_id"].as_str().unwrap();
        let held = Command::new("docker")
            .args(["-H", SECOND, "image", "inspect", id])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(held.success(), "{id} is on the engine behind ssh");
    }
    // A command that reads a recorded image finds one built far away through the builders
    // file: the first engine lacks it, and with the file it crosses there.
    let far = far_images[0]["name"].as_str().unwrap();
    let lacking = repo.hier(&["sbom", far]);
    assert_eq!(lacking.code, 1, "{}", lacking.stderr);
    assert!(
        lacking.stderr.contains("does not hold the recorded build"),
        "{}",
        lacking.stderr
    );
    let sbom = repo.hier(&["sbom", far, "--builders", "builders.toml"]);
    assert_eq!(sbom.code, 0, "{}", sbom.stderr);
    assert!(
        sbom.stderr
            .contains(&format!("{far} crossed from builder `far` to `first`")),
        "{}",
        sbom.stderr
    );
    let document: Value = serde_json::from_str(&sbom.stdout).unwrap();
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    assert!(
        sbom.stdout.contains(
            far_images[0]["image_id"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:")
        ),
        "{}",
        sbom.stdout
    );
    // The forwarding ended with the run.
    let left = Command::new("pgrep")
        .args(["-f", &format!("-p {} -L ", sshd.port)])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "ssh still runs: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn a_builders_file_s_problems_name_the_file_the_line_and_the_builder() {
    let repo = Repo::new();
    repo.write(
        "builders.toml",
        "[[builder]]\nname = \"a\"\nhost = \"unix:///var/run/docker.sock\"\njobs = 0\n\n\
         [[builder]]\nname = \"a\"\nhost = \"unix:///var/run/docker2.sock\"\n\n\
         [[builder]]\nname = \"c\"\nhost = \"ssh://-oProxyCommand=x\"\n\n\
         [[builder]]\nname = \"b\"\nhost = \"tcp://10.0.0.5:2376\"\ntls = { ca = \"ca.pem\", cert = \"cert.pem\", key = \"key.pem\" }\nslots = 2\n",
    );
    let run = repo.hier(&["builders", "--builders", "builders.toml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for (message, place) in [
        (
            "`jobs` of builder `a` must be between 1 and 64",
            "builders.toml:4:8",
        ),
        ("builder `a` is declared twice", "builders.toml:6:1"),
        (
            "host `ssh://-oProxyCommand=x` of builder `c`: an ssh host is `ssh://[USER@]HOST[:PORT]`",
            "builders.toml:12:8",
        ),
        ("builder `b`: cannot read ca.pem", "builders.toml:17:14"),
        ("unknown key `slots` in a builder", "builders.toml:18:1"),
    ] {
        let at = run
            .stderr
            .find(message)
            .unwrap_or_else(|| panic!("{message}\n{}", run.stderr));
        let next = &run.stderr[at..];
        assert!(
            next.lines().nth(1).unwrap().contains(place),
            "{place}\n{next}"
        );
    }
    let none = repo.hier(&["builders"]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("--builders FILE"), "{}", none.stderr);
}
