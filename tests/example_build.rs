//! End to end: the Debian-based example hierarchy at the repository root, built for real on the
//! engine `scripts/engine-up` starts (with the example's base imported as debian:bookworm-slim).
//! The copy's images go under a registry prefix of the test's own and are removed afterwards.

mod common;

use std::path::Path;

use common::engine::{docker, docker_succeeds, remove_images};
use common::{copy_tree, hier_in};
use serde_json::Value;

/// Removes the test's images when it ends, however it ends.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_images(&format!("{}/", self.0));
    }
}

#[test]
fn the_debian_example_builds_and_its_apps_run_as_the_app_user() {
    let ok = docker_succeeds(&["image", "inspect", "debian:bookworm-slim"]);
    assert!(
        ok,
        "the example needs debian:bookworm-slim: run scripts/engine-up first"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root.join("templates"), &work.path().join("templates"));
    copy_tree(&root.join("images"), &work.path().join("images"));
    let prefix = format!("hier-test-example-{}", std::process::id());
    let catalog = std::fs::read_to_string(root.join("catalog.toml")).unwrap();
    let registry_line = catalog
        .lines()
        .find(|l| l.starts_with("registry"))
        .expect("a registry line");
    std::fs::write(
        work.path().join("catalog.toml"),
        catalog.replace(registry_line, &format!("registry = \"{prefix}\"")),
    )
    .unwrap();
    let _cleanup = Cleanup(prefix.clone());

    let run = hier_in(
        work.path(),
        &["rebuild", "--all", "-j", "2", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses.len(), 10, "{statuses:?}");
    assert!(statuses.iter().all(|(_, s)| *s == "built"), "{statuses:?}");
    assert_eq!(statuses[0].0, "base");

    // The base's init is the entrypoint; apps run as the unprivileged user.
    let entrypoint = docker(&[
        "image",
        "inspect",
        &format!("{prefix}/base:1"),
        "--format",
        "{{json .Config.Entrypoint}}",
    ]);
    assert!(entrypoint.contains("dumb-init"), "{entrypoint}");
    for app in ["billing-api", "storefront"] {
        let user = docker(&[
            "image",
            "inspect",
            &format!("{prefix}/{app}:{}", version_tag(work.path(), app)),
            "--format",
            "{{.Config.User}}",
        ]);
        assert_eq!(user, "app", "{app}");
    }
    // The HTML catalog: every image's contents read from the engine; the base's packages are
    // those dpkg reports inside it.
    let run = hier_in(work.path(), &["docs", "--out", "site", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(docs["contents_known"], 10, "{docs}");
    let base_page = std::fs::read_to_string(work.path().join("site/images/base.html")).unwrap();
    let base_ref = format!("{prefix}/base:1");
    let listed = docker(&[
        "run",
        "--rm",
        &base_ref,
        "dpkg-query",
        "-W",
        "-f",
        "${Package} ${Version}\\n",
    ]);
    let listed: Vec<&str> = listed.lines().collect();
    assert!(listed.len() > 50, "{listed:?}");
    assert!(
        base_page.contains(&format!("<p>{} packages.</p>", listed.len())),
        "{base_page}"
    );
    for line in listed {
        let (name, version) = line.split_once(' ').unwrap();
        let row = format!("<tr><td>{name}</td><td>{version}</td></tr>");
        assert!(base_page.contains(&row), "{row}");
    }
    // The base's bill of materials lists exactly the packages syft finds in it, and is valid
    // SPDX 2.3 and CycloneDX 1.5; every build wrote both under .hier/sbom/.
    let run = hier_in(work.path(), &["sbom", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let spdx: Value = serde_json::from_str(&run.stdout).unwrap();
    let ours = common::sbom::spdx_packages(&spdx);
    assert_eq!(ours, common::sbom::syft_packages(&base_ref));
    let document = work.path().join("base.spdx.json");
    std::fs::write(&document, &run.stdout).unwrap();
    common::sbom::assert_valid(&document, "spdx");
    let run = hier_in(work.path(), &["sbom", "base", "--format", "cyclonedx-json"]);
    let document = work.path().join("base.cdx.json");
    std::fs::write(&document, &run.stdout).unwrap();
    common::sbom::assert_valid(&document, "cyclonedx");
    for image in ["base", "python", "billing-api"] {
        let written = std::fs::read_dir(work.path().join(".hier/sbom").join(image))
            .unwrap()
            .count();
        assert_eq!(written, 2, "{image}");
    }
    // `hier size` counts the wasted bytes as dive does (within 1 %; they are equal here).
    for image in ["base", "python", "python-nginx", "billing-api"] {
        let run = hier_in(work.path(), &["size", image, "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let size: Value = serde_json::from_str(&run.stdout).unwrap();
        let ours = size["wasted"]["bytes"].as_u64().unwrap();
        let id = size["image_id"].as_str().unwrap();
        let dive = common::dive::wasted(id);
        let apart = ours.abs_diff(dive) as f64 / dive.max(1) as f64;
        assert!(apart <= 0.01, "{image}: hier {ours}, dive {dive}");
    }
    // The billing team's structure tests pass, with the reference tool's results.
    let billing = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "billing-api")
        .unwrap();
    let log = std::fs::read_to_string(work.path().join(billing["log"].as_str().unwrap())).unwrap();
    let ours = common::structure::hier_results(&log);
    assert_eq!(ours.len(), 9, "{ours:?}");
    assert!(ours.values().all(|(passed, _)| *passed), "{ours:?}");
    let spec = work.path().join("images/billing-api/structure.yaml");
    let tagged = format!("{prefix}/billing-api:2.3.1");
    assert_eq!(ours, common::structure::reference_results(&tagged, &spec));
    // Nothing left to do.
    let again = hier_in(work.path(), &["plan", "--format", "json"]);
    let plan: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(plan["images"].as_array().unwrap().len(), 0);
}

/// The image's version tag, from the lock.
fn version_tag(dir: &Path, image: &str) -> String {
    let lock: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("hier.lock")).unwrap()).unwrap();
    lock["images"][image]["tags"][0]
        .as_str()
        .unwrap()
        .to_string()
}
