//! `hier refresh` against the real engine and registries, on Debian, with package versions made
//! deterministic: two small packages built here with `dpkg-deb` in several versions and served
//! to the containers from an apt repository over HTTP on the docker bridge. The upstream image
//! of the base is built here too and published to the local registry (127.0.0.1:5000).

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::Repo;
use common::engine::{docker, pairs, registry_digest, remove_images, statuses};
use serde_json::Value;

const REGISTRY: &str = "127.0.0.1:5000";

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An apt repository (flat, `Packages` at the root) served over HTTP to the containers; the
/// server's log of the requests it answered is kept apart.
struct AptRepo {
    dir: tempfile::TempDir,
    server: Child,
    url: String,
    log: tempfile::NamedTempFile,
}

impl Drop for AptRepo {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn bridge_address() -> String {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "docker0"])
        .output()
        .ok();
    out.and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let field = text
            .split_whitespace()
            .skip_while(|w| *w != "inet")
            .nth(1)?;
        Some(field.split('/').next()?.to_string())
    })
    .unwrap_or_else(|| "172.17.0.1".into())
}

impl AptRepo {
    fn start() -> AptRepo {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("0.0.0.0:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let server = Command::new("python3")
            .args(["-m", "http.server", "--bind", "0.0.0.0", &port.to_string()])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("python3 serves the apt repository");
        let repo = AptRepo {
            dir,
            server,
            url: format!("http://{}:{port}/", bridge_address()),
            log,
        };
        repo.index();
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        repo
    }

    /// Builds `name_version_all.deb` (one file: /usr/share/<name>/version) and re-indexes.
    fn publish(&self, name: &str, version: &str) {
        let build = tempfile::tempdir().unwrap();
        let root = build.path().join("pkg");
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        std::fs::create_dir_all(root.join(format!("usr/share/{name}"))).unwrap();
        std::fs::write(
            root.join("DEBIAN/control"),
            format!(
                "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: hier tests <t@example.com>\nDescription: a package of the refresh tests\n"
            ),
        )
        .unwrap();
        std::fs::write(root.join(format!("usr/share/{name}/version")), version).unwrap();
        let deb = self.dir.path().join(format!("{name}_{version}_all.deb"));
        sh(Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&root)
            .arg(&deb));
        self.index();
    }

    /// Writes `Packages` for every .deb.
    fn index(&self) {
        let mut packages = String::new();
        let mut debs: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "deb"))
            .collect();
        debs.sort();
        for deb in debs {
            let control = sh(Command::new("dpkg-deb").args(["-f"]).arg(&deb));
            let bytes = std::fs::read(&deb).unwrap();
            packages.push_str(&control);
            packages.push_str(&format!(
                "\nFilename: ./{}\nSize: {}\nSHA256: {}\n\n",
                deb.file_name().unwrap().to_string_lossy(),
                bytes.len(),
                hier::hash::digest(&bytes).trim_start_matches("sha256:")
            ));
        }
        std::fs::write(self.dir.path().join("Packages"), packages).unwrap();
    }

    /// How many times the indexes were downloaded since `since` lines of the log: every
    /// `apt-get update` asks for `InRelease` first, once.
    fn index_downloads(&self, since: usize) -> usize {
        self.requests()
            .iter()
            .skip(since)
            .filter(|l| l.contains("InRelease"))
            .count()
    }

    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.log.path())
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"GET "))
            .map(str::to_string)
            .collect()
    }

    /// The apt source line, for images that use only this repository.
    fn source(&self) -> String {
        format!("deb [trusted=yes allow-insecure=yes] {} ./", self.url)
    }
}

struct Setup {
    repo: Repo,
    apt: AptRepo,
    prefix: String,
    upstream_dir: tempfile::TempDir,
}

impl Drop for Setup {
    fn drop(&mut self) {
        remove_images(&self.prefix);
    }
}

impl Setup {
    fn upstream_ref(&self) -> String {
        format!("{REGISTRY}/{}/upstream:bookworm", self.prefix)
    }

    /// Builds the upstream image (Debian with `hier-demo` from the repository, at whatever
    /// version the repository has now) and publishes it.
    fn publish_upstream(&self) {
        let dockerfile = format!(
            "FROM debian:bookworm-slim\nRUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* \\\n && echo '{}' > /etc/apt/sources.list.d/hier.list \\\n && apt-get update && apt-get install -y --no-install-recommends hier-demo && rm -rf /var/lib/apt/lists/*\n",
            self.apt.source()
        );
        std::fs::write(self.upstream_dir.path().join("Dockerfile"), dockerfile).unwrap();
        let reference = self.upstream_ref();
        sh(Command::new("docker")
            .args(["build", "-q", "--no-cache", "-t", &reference, "."])
            .current_dir(self.upstream_dir.path())
            .env("DOCKER_BUILDKIT", "0"));
        docker(&["push", &reference]);
    }

    fn refresh(&self, args: &[&str]) -> (common::Run, Value) {
        let mut all = vec!["refresh", "--format", "json"];
        all.extend_from_slice(args);
        let run = self.repo.hier(&all);
        let report: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
        (run, report)
    }

    fn lock(&self) -> toml::Table {
        toml::from_str(&self.repo.read("hier.lock")).unwrap()
    }

    fn registry_digest(&self, image: &str, tag: &str) -> Option<String> {
        registry_digest(REGISTRY, &format!("{}/{image}", self.prefix), tag)
    }
}

/// Each image checked: (name, rebuild, reason).
fn checked(report: &Value) -> Vec<(String, String, String)> {
    report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap().to_string();
            (text("name"), text("rebuild"), text("reason"))
        })
        .collect()
}

fn setup(test: &str) -> Setup {
    for (what, ok) in [
        (
            "debian:bookworm-slim",
            Command::new("docker")
                .args(["image", "inspect", "debian:bookworm-slim"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false),
        ),
        (
            "the registry",
            Command::new("curl")
                .args(["-fsS", &format!("http://{REGISTRY}/v2/")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false),
        ),
    ] {
        assert!(ok, "these tests need {what}: run scripts/engine-up first");
    }
    let prefix = format!("hier-test-refresh-{test}-{}", std::process::id());
    let apt = AptRepo::start();
    apt.publish("hier-demo", "1.0");
    apt.publish("hier-extra", "1.0");
    let catalog = format!(
        r#"[catalog]
name = "acme"
registry = "{REGISTRY}/{prefix}"
{builder}
[catalog.vars]
source = "{source}"

[images.base]
from = "{REGISTRY}/{prefix}/upstream:bookworm"
version = "1.0.0"
template = "base.hbs"
test = ["test -f /usr/share/hier-demo/version"]

[images.runtime]
parent = "base"
version = "2.0.0"
template = "runtime.hbs"
test = ["test -f /usr/share/hier-extra/version"]

[images.app]
parent = "runtime"
version = "0.1.0"
kind = "app"
owner = "billing-team"
template = "app.hbs"
test = ["test ! -f /etc/hier-fail"]
"#,
        source = apt.source(),
        builder = common::builder_line()
    );
    let repo = Repo::with(&[
        ("catalog.toml", &catalog),
        (
            "templates/base.hbs",
            "FROM {{parent.ref}}\nRUN echo base > /etc/hier-base\n",
        ),
        (
            "templates/runtime.hbs",
            "FROM {{parent.ref}}\nRUN apt-get update && apt-get install -y --no-install-recommends hier-extra && rm -rf /var/lib/apt/lists/*\n",
        ),
        (
            "templates/app.hbs",
            "FROM {{parent.ref}}\nRUN if [ \"$(cat /usr/share/hier-demo/version)\" = 9.9 ]; then touch /etc/hier-fail; fi\n",
        ),
    ]);
    let s = Setup {
        repo,
        apt,
        prefix,
        upstream_dir: tempfile::tempdir().unwrap(),
    };
    s.publish_upstream();
    let run = s.repo.hier(&["rebuild", "--push"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    s
}

#[test]
fn refresh_keeps_what_did_not_change_and_cascades_what_did() {
    let s = setup("cascade");
    let first = s.lock();

    // Nothing new: nothing is rebuilt; every image was checked and found so.
    let (run, report) = s.refresh(&["--push"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(statuses(&report), pairs(&[]));
    assert_eq!(
        checked(&report),
        [
            (
                "base".to_string(),
                "no".to_string(),
                "nothing new".to_string()
            ),
            (
                "runtime".to_string(),
                "no".to_string(),
                "nothing new".to_string()
            ),
            (
                "app".to_string(),
                "no".to_string(),
                "nothing new".to_string()
            ),
        ]
    );
    assert_eq!(
        s.lock()["images"],
        first["images"],
        "a no-op keeps the lock"
    );

    // An update pending in the runtime only (not in the base): the runtime is rebuilt and
    // promoted, the app cascades, the base stays.
    s.apt.publish("hier-extra", "1.1");
    let (run, report) = s.refresh(&["--push"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[("runtime", "pushed"), ("app", "pushed")])
    );
    let runtime = &report["images"][0];
    assert_eq!(runtime["reason"], "1 OS package update pending");
    assert_eq!(
        runtime["packages"],
        serde_json::json!(["hier-extra 1.0 -> 1.1"])
    );
    let lock = s.lock();
    assert_eq!(lock["images"]["base"], first["images"]["base"]);
    assert_ne!(
        lock["images"]["runtime"]["image_id"],
        first["images"]["runtime"]["image_id"]
    );
    assert_eq!(
        lock["images"]["app"]["parent_image_id"],
        lock["images"]["runtime"]["image_id"]
    );
    assert_eq!(
        s.registry_digest("runtime", "2.0.0").as_deref(),
        lock["images"]["runtime"]["pushed"][&format!("{REGISTRY}/{}/runtime", s.prefix)].as_str()
    );

    // The upstream moves (a new hier-demo in it): the base is rebuilt and promoted, with both
    // digests and the package change in the report, and everything below cascades.
    s.apt.publish("hier-demo", "1.1");
    s.publish_upstream();
    let old_upstream = lock["images"]["base"]["upstream_digest"]
        .as_str()
        .unwrap()
        .to_string();
    let md = s.repo.path().join("refresh.md");
    let (run, report) = s.refresh(&["--push", "--report", md.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<(String, String)> = statuses(&report);
    assert_eq!(names[0], ("base".to_string(), "pushed".to_string()));
    assert!(
        names.contains(&("app".to_string(), "pushed".to_string())),
        "{names:?}"
    );
    let base = &report["images"][0];
    assert_eq!(base["upstream_old"], old_upstream.as_str());
    let new_upstream = s.lock()["images"]["base"]["upstream_digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_upstream, old_upstream);
    assert_eq!(base["upstream_new"], new_upstream.as_str());
    assert!(
        base["packages"]
            .as_array()
            .unwrap()
            .contains(&Value::from("hier-demo 1.0 -> 1.1")),
        "{base}"
    );
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("- `hier-demo 1.0 -> 1.1`"), "{text}");
    assert!(text.contains("- **billing-team**: app"), "{text}");
    let short = |d: &str| format!("`sha256:{}`", &d["sha256:".len().."sha256:".len() + 12]);
    assert!(
        text.contains(&format!(
            "{} → {}",
            short(&old_upstream),
            short(&new_upstream)
        )),
        "{text}"
    );
}

#[test]
fn an_atomic_refresh_with_a_failing_dependent_publishes_nothing() {
    let s = setup("atomic");
    let before = s.lock();
    let registry_before = s.registry_digest("base", "1.0.0");
    let tag_before = docker(&[
        "image",
        "inspect",
        &format!("{REGISTRY}/{}/base:1.0.0", s.prefix),
        "--format",
        "{{.Id}}",
    ]);
    // An upstream whose hier-demo makes the app's test fail.
    s.apt.publish("hier-demo", "9.9");
    s.publish_upstream();
    let (run, report) = s.refresh(&["--push", "--atomic"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let statuses = statuses(&report);
    assert!(
        statuses.contains(&("app".to_string(), "failed".to_string())),
        "{statuses:?}"
    );
    assert!(
        run.stderr.contains("`app` blocked the refresh"),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.lock()["images"],
        before["images"],
        "the lock is unchanged"
    );
    assert_eq!(
        s.registry_digest("base", "1.0.0"),
        registry_before,
        "nothing pushed"
    );
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            &format!("{REGISTRY}/{}/base:1.0.0", s.prefix),
            "--format",
            "{{.Id}}",
        ]),
        tag_before,
        "nothing tagged"
    );
}

#[test]
fn dry_run_says_what_would_be_rebuilt_and_builds_nothing() {
    let s = setup("dryrun");
    s.apt.publish("hier-extra", "1.1");
    let before = s.repo.read("hier.lock");
    let run = s.repo.hier(&["refresh", "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let runtime = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "runtime")
        .expect("runtime is in the plan");
    assert_eq!(runtime["rebuild"], "yes");
    assert_eq!(runtime["reason"], "1 OS package update pending");
    assert_eq!(
        runtime["pending"],
        serde_json::json!(["hier-extra 1.0 -> 1.1"])
    );
    let base = &plan["images"][0];
    assert_eq!(
        (&base["name"], &base["rebuild"]),
        (&Value::from("base"), &Value::from("no"))
    );
    assert_eq!(base["upstream_old"], base["upstream_new"]);
    // The app has the runtime's package, and so the same update pending.
    let app = &plan["images"][2];
    assert_eq!(
        (&app["rebuild"], &app["pending"]),
        (&runtime["rebuild"], &runtime["pending"])
    );
    assert_eq!(plan["downloads"], 1);
    // --force rebuilds the due base although nothing is new for it.
    let run = s
        .repo
        .hier(&["refresh", "--dry-run", "--force", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let forced: Value = serde_json::from_str(&run.stdout).unwrap();
    let base = &forced["images"][0];
    assert_eq!(base["rebuild"], "yes");
    assert!(
        base["reason"].as_str().unwrap().starts_with("--force: "),
        "{base}"
    );
    assert_eq!(s.repo.read("hier.lock"), before);
}

#[test]
fn a_no_op_refresh_downloads_the_indexes_once_for_images_with_the_same_sources() {
    let s = setup("once");
    // Six images on the same sources (three more than the setup's).
    let catalog = s.repo.read("catalog.toml");
    s.repo.write(
        "catalog.toml",
        &format!(
            "{catalog}\n[images.tools]\nparent = \"base\"\nversion = \"1.0.0\"\ntemplate = \"base.hbs\"\n\n[images.worker]\nparent = \"runtime\"\nversion = \"1.0.0\"\ntemplate = \"base.hbs\"\n\n[images.api]\nparent = \"runtime\"\nversion = \"1.0.0\"\nkind = \"app\"\ntemplate = \"app.hbs\"\n"
        ),
    );
    let run = s.repo.hier(&["rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let since = s.apt.requests().len();
    let (run, report) = s.refresh(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(statuses(&report), pairs(&[]));
    assert_eq!(report["checked"].as_array().unwrap().len(), 6);
    assert_eq!(s.apt.index_downloads(since), 1, "{:?}", s.apt.requests());
    // Each step is said as it happens (standard error is not a terminal here).
    assert!(
        run.stderr
            .contains("base: downloading the package indexes of apt sha256:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("for 6 images"), "{}", run.stderr);
    assert!(
        run.stderr.contains("api: nothing pending"),
        "{}",
        run.stderr
    );
    // The next night reads none of the images again (their ids name their content), and
    // downloads the indexes once more.
    let since = s.apt.requests().len();
    let (run, report) = s.refresh(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(statuses(&report), pairs(&[]));
    assert!(
        !run.stderr.contains("reading its packages"),
        "{}",
        run.stderr
    );
    assert_eq!(s.apt.index_downloads(since), 1, "{:?}", s.apt.requests());
}

#[test]
fn an_unreachable_upstream_registry_is_exit_3_with_a_clean_lock() {
    let s = setup("down");
    let before = s.repo.read("hier.lock");
    // Point the base at a registry nobody serves (as a stopped registry looks).
    let catalog = s.repo.read("catalog.toml");
    s.repo.write(
        "catalog.toml",
        &catalog.replace(&format!("from = \"{REGISTRY}/"), "from = \"127.0.0.1:5999/"),
    );
    let run = s.repo.hier(&["refresh", "base"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("127.0.0.1:5999"), "{}", run.stderr);
    assert_eq!(s.repo.read("hier.lock"), before);
}
