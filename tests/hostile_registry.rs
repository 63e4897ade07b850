//! Pushes to hostile registries through the real engine: one echoing the credentials it was
//! sent, one that never answers, one that answers 500 to everything.

mod common;

use std::time::Instant;

use common::Run;
use common::engine::{pairs, statuses};
use common::hierarchy::Hierarchy;
use common::hostile::{HostileRegistry, Hostility};

const USER: &str = "bot";
const PASSWORD: &str = "s3cret-pass-7f3a";

/// A base and a child whose registry is `registry`, and a docker config holding credentials
/// for it; runs `hier rebuild --push` there.
fn push_to(test: &str, registry: &HostileRegistry) -> (Hierarchy, Run, serde_json::Value, f64) {
    let h = Hierarchy::new(
        test,
        "[images.base]\nfrom = \"hier-test/busybox:1\"\nversion = \"1.0.0\"\ntemplate = \"layer.hbs\"\n\n[images.child]\nparent = \"base\"\nversion = \"1.0.0\"\ntemplate = \"layer.hbs\"\n",
    );
    let catalog = h.repo.read("catalog.toml").replace(
        &format!("registry = \"{}\"", h.prefix),
        &format!("registry = \"{}/{}\"", registry.address, h.prefix),
    );
    h.repo.write("catalog.toml", &catalog);
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    h.repo.write(
        ".docker/config.json",
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.address
        ),
    );
    let config = h.repo.path().join(".docker");
    let start = Instant::now();
    let run = h.repo.hier_env(
        &["rebuild", "--push", "--format", "json"],
        &[("DOCKER_CONFIG", config.to_str().unwrap())],
    );
    let seconds = start.elapsed().as_secs_f64();
    eprintln!("{test}: {seconds:.1} s, exit {}\n{}", run.code, run.stderr);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", run.stdout, run.stderr));
    (h, run, report, seconds)
}

/// Everything hier wrote: its output, the report, the logs and the lock.
fn everything_written(h: &Hierarchy, run: &Run) -> String {
    let mut all = format!("{}\n{}\n", run.stdout, run.stderr);
    for (path, bytes) in h.repo.snapshot() {
        if !path.starts_with(".docker") {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

#[test]
fn registry_echoing_credentials_never_gets_them_printed() {
    let registry = HostileRegistry::start(Hostility::EchoCredentials);
    let (h, run, report, _) = push_to("echo-credentials", &registry);
    assert!(
        registry.requests() > 0,
        "the engine never asked the registry"
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let all = everything_written(&h, &run);
    assert!(
        all.contains("bad credentials"),
        "the registry's refusal is passed on: {all}"
    );
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for secret in [PASSWORD, &encoded] {
        assert!(!all.contains(secret), "{secret} was written:\n{all}");
    }
    assert_eq!(
        statuses(&report),
        pairs(&[("base", "failed"), ("child", "skipped")])
    );
}

#[test]
fn registry_that_never_answers_is_unreachable() {
    let registry = HostileRegistry::start(Hostility::Silent);
    let (_h, run, _report, _) = push_to("silent-registry", &registry);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("cannot reach the registry {}", registry.address)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\nhelp: check that the registry is up"),
        "{}",
        run.stderr
    );
}

#[test]
fn registry_answering_500_fails_the_image_and_skips_its_dependents() {
    let registry = HostileRegistry::start(Hostility::ServerError);
    let (_h, run, report, _) = push_to("registry-500", &registry);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The engine retries each upload with backoff; hier does not multiply that by pushing
    // again (each push begins with one `GET /v2/`).
    assert_eq!(
        registry.pings(),
        1,
        "{} pings, {} requests",
        registry.pings(),
        registry.requests()
    );
    assert_eq!(
        statuses(&report),
        pairs(&[("base", "failed"), ("child", "skipped")])
    );
}
