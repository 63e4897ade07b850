//! What the registry between builders does to a run, for real: a copy the lock records that the
//! registry no longer has (pushed again from a builder holding the image; then `hier test`
//! tests an image only the second engine holds where it is), and a registry that does not answer (the
//! run stops, exit 3, naming it).

use std::process::Command;

use serde_json::Value;

use super::{Cleanup, REGISTRY, SECOND, built_on, catalog, image, moved_to, repo_of, report};

/// The suite's engine with one job (so the second child of a base goes elsewhere) and the
/// second engine, which has none of the bases.
fn builders() -> String {
    format!(
        "[[builder]]\nname = \"first\"\nhost = \"unix:///var/run/docker.sock\"\njobs = 1\n\n\
         [[builder]]\nname = \"second\"\nhost = \"{SECOND}\"\njobs = 2\n"
    )
}

#[test]
fn a_recorded_copy_gone_from_the_registry_is_pushed_again_for_the_other_builder() {
    super::second_engine_answers();
    let prefix = format!("hier-pool-stale-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    let files = catalog(&prefix, "buildkit", 2, "echo {c} > /{c}");
    let repo = repo_of(&files);
    let pushed = repo.hier(&["rebuild", "--push", "--format", "json"]);
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    let base = image(&report(&pushed.stdout), "base").clone();
    let base_id = base["image_id"].as_str().unwrap().to_string();

    // The registry loses the base's manifest that the lock records.
    let lock: toml::Table = toml::from_str(&repo.read("hier.lock")).unwrap();
    let repository = format!("{REGISTRY}/{prefix}/base");
    let digest = lock["images"]["base"]["pushed"][&repository]
        .as_str()
        .unwrap()
        .to_string();
    let deleted = Command::new("curl")
        .args(["-fsS", "-X", "DELETE"])
        .arg(format!(
            "http://{REGISTRY}/v2/{prefix}/base/manifests/{digest}"
        ))
        .status()
        .unwrap();
    assert!(deleted.success(), "the registry deletes {digest}");

    // Both children change; one is built on the second engine, on the recorded base.
    for c in ["c0", "c1"] {
        repo.write(
            &format!("images/{c}/Dockerfile"),
            &format!("ARG HIER_PARENT\nFROM ${{HIER_PARENT}}\nRUN echo {c} again > /{c}\n"),
        );
    }
    repo.write("builders.toml", &builders());
    let run = repo.hier(&["rebuild", "--builders", "builders.toml", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = report(&run.stdout);
    let on_second = built_on(&run, "second");
    assert_eq!(on_second.len(), 1, "{run}");
    let crossing = moved_to(on_second[0]);
    assert_eq!(crossing.len(), 1, "{run}");
    // Pushed afresh from the first engine, not pulled from the recorded copy.
    assert_eq!(crossing[0]["image"], "base");
    assert_eq!(crossing[0]["from"], "first");
    assert_eq!(crossing[0]["image_id"], base_id.as_str());
    let lock: toml::Table = toml::from_str(&repo.read("hier.lock")).unwrap();
    for c in ["c0", "c1"] {
        assert_eq!(
            lock["images"][c]["parent_image_id"].as_str(),
            Some(base_id.as_str())
        );
    }

    // The first engine lacks the child built on the second, which was never pushed: without
    // the builders file, `hier test` cannot test it; with it, it is tested where it is.
    let far = on_second[0]["name"].as_str().unwrap();
    let lacking = repo.hier(&["test", far]);
    assert_eq!(lacking.code, 1, "{}", lacking.stderr);
    assert!(
        lacking.stderr.contains("never pushed"),
        "{}",
        lacking.stderr
    );
    let tested = repo.hier(&["test", "--builders", "builders.toml", "--format", "json"]);
    assert_eq!(tested.code, 0, "{}", tested.stderr);
    let tested = report(&tested.stdout);
    assert_eq!(tested["images"].as_array().unwrap().len(), 3, "{tested}");
    for image in tested["images"].as_array().unwrap() {
        assert_eq!(image["status"], "tested", "{image}");
    }
    let far_tested = image(&tested, far);
    assert_eq!(far_tested["builder"], "second", "{far_tested}");
    assert!(moved_to(far_tested).is_empty(), "{far_tested}");
}

#[test]
fn a_registry_that_does_not_answer_stops_a_run_that_must_cross_it() {
    super::second_engine_answers();
    let prefix = format!("hier-pool-noreg-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    // A loopback port nothing listens on: a registry that does not answer.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let files: Vec<(String, String)> = catalog(&prefix, "buildkit", 2, "echo {c} > /{c}")
        .into_iter()
        .map(|(path, text)| (path, text.replace(REGISTRY, &format!("127.0.0.1:{port}"))))
        .collect();
    let repo = repo_of(&files);
    repo.write("builders.toml", &builders());
    let run = repo.hier(&["rebuild", "--builders", "builders.toml", "--format", "json"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("127.0.0.1:{port}/{prefix}/base")),
        "{}",
        run.stderr
    );
    // What needed no crossing was built and recorded; the image that needed one failed on the
    // builder it went to, naming the registry.
    let report = report(&run.stdout);
    let failed: Vec<&Value> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["builder"], "second");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains(&format!("cannot reach the registry 127.0.0.1:{port}")),
        "{report}"
    );
    let lock: toml::Table = toml::from_str(&repo.read("hier.lock")).unwrap();
    for built in built_on(&report, "first") {
        let name = built["name"].as_str().unwrap();
        assert_eq!(
            lock["images"][name]["image_id"],
            built["image_id"].as_str().unwrap().into()
        );
    }
}
