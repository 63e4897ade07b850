//! Structure tests (`test_spec`) against the real engine, beside the reference tool: the shared
//! spec files of `tests/structure/` (one whose tests all pass, one whose tests nearly all fail)
//! give the same result, test by test, under hier and under container-structure-test on the
//! same image; a failing structure test fails the image like a failed test (no tag, dependents
//! skipped, exit 1); a changed spec file tests the recorded image again and builds nothing.

use std::path::Path;

use super::common::engine::{docker, docker_succeeds, pairs, statuses};
use super::common::hierarchy::Hierarchy;
use super::common::structure::{hier_results, reference_results};
use serde_json::Value;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.probe]
parent = "base"
version = "1.0.0"
dockerfile = "images/probe/Dockerfile"
test_spec = "specs/passing.yaml"

[images.failing]
parent = "probe"
version = "1.0.0"
dockerfile = "images/failing/Dockerfile"
test_spec = "specs/failing.yaml"

[images.below]
parent = "failing"
version = "1.0.0"
dockerfile = "images/failing/Dockerfile"
"#;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/structure")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn log_of(h: &Hierarchy, report: &Value, image: &str) -> String {
    let entry = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == image)
        .unwrap();
    h.repo.read(entry["log"].as_str().unwrap())
}

#[test]
fn structure_tests_agree_with_the_reference_tool_and_fail_an_image_like_a_test() {
    let h = Hierarchy::new("structure", IMAGES);
    h.repo
        .write("images/probe/Dockerfile", &fixture("Dockerfile"));
    h.repo
        .write("images/probe/conf.toml", &fixture("conf.toml"));
    h.repo.write(
        "images/failing/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nLABEL org.example.step=failing\n",
    );
    h.repo.write("specs/passing.yaml", &fixture("passing.yaml"));
    h.repo.write("specs/failing.yaml", &fixture("failing.yaml"));
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("base", "built"),
            ("probe", "built"),
            ("failing", "failed"),
            ("below", "skipped")
        ])
    );
    let failing = &report["images"][2];
    assert_eq!(
        failing["error"],
        "23 of 24 structure tests failed, first `Command Test: fails: expected output missing`"
    );
    let output = failing["output"].as_array().unwrap();
    assert!(
        output
            .iter()
            .any(|l| l == "Metadata Test: user is \"1000\", expected \"root\""),
        "{output:?}"
    );
    let failing_id = failing["image_id"].as_str().unwrap();
    assert!(!docker_succeeds(&[
        "image",
        "inspect",
        &h.reference("failing", "1.0.0")
    ]));

    // Test by test, hier and the reference tool agree, on both files.
    let probe_id = h.entry("probe")["image_id"].as_str().unwrap().to_string();
    let specs = h.repo.path().join("specs");
    let passing = hier_results(&log_of(&h, &report, "probe"));
    assert_eq!(passing.len(), 24, "{passing:?}");
    assert!(passing.values().all(|(passed, _)| *passed), "{passing:?}");
    assert_eq!(
        passing,
        reference_results(&probe_id, &specs.join("passing.yaml"))
    );
    let failed = hier_results(&log_of(&h, &report, "failing"));
    assert_eq!(failed.len(), 24, "{failed:?}");
    // The reference tool removes an untagged image it tests (with the images its tests
    // commit): it gets a tag of its own.
    let tagged = h.reference("failing", "reference-tool");
    docker(&["tag", failing_id, &tagged]);
    assert_eq!(
        failed,
        reference_results(&tagged, &specs.join("failing.yaml"))
    );
    assert_eq!(failed["Metadata Test"], (false, 13));
    h.assert_no_test_containers();

    // A changed spec file tests the recorded image again; nothing is built.
    let more = fixture("passing.yaml").replace(
        "fileExistenceTests:\n",
        "fileExistenceTests:\n  - name: added\n    path: /opt/app/hard\n",
    );
    h.repo.write("specs/passing.yaml", &more);
    h.repo.write(
        "specs/failing.yaml",
        "schemaVersion: \"2.0.0\"\nmetadataTest:\n  workdir: /opt/app\n",
    );
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("probe", "tested"),
            ("failing", "built"),
            ("below", "built")
        ])
    );
    assert_eq!(
        h.entry("probe")["image_id"].as_str(),
        Some(probe_id.as_str())
    );
    assert!(log_of(&h, &report, "probe").contains("hier: passed: File Existence Test: added"));
}
