//! A builder reached over TLS, for real: an engine the test starts on `tcp://127.0.0.1:PORT`
//! with its own authority. Its certificate must chain to the authority the builders file names
//! and to nothing else, and hier's BuildKit session reaches it over TLS too.

use super::common::own_engine::OwnEngine;
use super::{Cleanup, builders_json, built_on, catalog, repo_of, report};

/// A builders file: the suite's engine (`first`, one job) and the TLS engine (`far`, two jobs),
/// checked against `ca`.
fn builders(far: &OwnEngine, ca: &std::path::Path) -> String {
    let tls = far.tls_dir();
    format!(
        "[[builder]]\nname = \"first\"\nhost = \"unix:///var/run/docker.sock\"\njobs = 1\n\n\
         [[builder]]\nname = \"far\"\nhost = \"{}\"\njobs = 2\n\
         tls = {{ ca = \"{}\", cert = \"{}\", key = \"{}\" }}\n",
        far.host,
        ca.display(),
        tls.join("cert.pem").display(),
        tls.join("key.pem").display()
    )
}

#[test]
fn a_tls_builder_trusts_its_authority_alone_and_builds_with_buildkit() {
    let prefix = format!("hier-pool-tls-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    let far = OwnEngine::start("hier-br5", "10.99.5.1/24");
    let repo = repo_of(&catalog(&prefix, "buildkit", 3, "echo {c} > /{c}"));
    let real_ca = far.tls_dir().join("ca.pem");

    // Another authority named in the file: refused, even though the system's roots
    // (`SSL_CERT_FILE`) hold the one that signed the engine's certificate.
    repo.write("stranger.toml", &builders(&far, &far.other_authority()));
    let system_ca = real_ca.display().to_string();
    let refused = repo.hier_env(
        &[
            "builders",
            "--builders",
            "stranger.toml",
            "--format",
            "json",
        ],
        &[("SSL_CERT_FILE", &system_ca)],
    );
    assert_eq!(refused.code, 0, "{}", refused.stderr);
    let checked = report(&refused.stdout);
    let stranger = &checked["builders"][1];
    assert_eq!(stranger["reachable"], false, "{stranger}");
    assert!(
        stranger["problem"]
            .as_str()
            .is_some_and(|p| p.contains("UnknownIssuer")),
        "{stranger}"
    );

    // Its own authority: it answers, and hier can build there with BuildKit.
    repo.write("builders.toml", &builders(&far, &real_ca));
    let checked = builders_json(&repo);
    let far_checked = &checked["builders"][1];
    assert_eq!(far_checked["reachable"], true, "{far_checked}");
    assert_eq!(far_checked["tls"], true, "{far_checked}");
    assert_eq!(far_checked["buildkit"], true, "{far_checked}");

    // A BuildKit run over both: what is built on the TLS engine is there.
    let run = repo.hier(&["rebuild", "--builders", "builders.toml", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = report(&run.stdout);
    let on_far = built_on(&run, "far");
    assert!(!on_far.is_empty(), "{run}");
    for image in on_far {
        let id = image["image_id"].as_str().unwrap();
        let (held, _) = far.docker(&["image", "inspect", id]);
        assert!(held, "{id} is on the TLS engine");
        let log = repo.read(image["log"].as_str().unwrap());
        assert!(log.contains("[2/2] RUN echo"), "a BuildKit log: {log}");
    }
}
