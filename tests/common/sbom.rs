//! Helpers for the bills of materials' tests: the official SPDX 2.3 and CycloneDX 1.5 JSON
//! schemas (as lib4sbom carries them, installed by `scripts/tools-up`) checked with
//! check-jsonschema, and the packages syft finds in an image.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder of lib4sbom's schemas.
fn schemas() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import lib4sbom, os; print(os.path.dirname(lib4sbom.__file__))",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "lib4sbom is missing: run scripts/tools-up first"
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("schemas")
}

/// Fails unless `document` is valid against the official schema of its format (`spdx` or
/// `cyclonedx`).
pub fn assert_valid(document: &Path, format: &str) {
    let schema = match format {
        "spdx" => schemas().join("spdx/2.3-schema.json"),
        _ => schemas().join("cyclonedx/bom-1.5.schema.json"),
    };
    let out = Command::new("python3")
        .args(["-m", "check_jsonschema", "--schemafile"])
        .arg(&schema)
        .arg(document)
        .output()
        .expect("check-jsonschema runs");
    assert!(
        out.status.success(),
        "{} is not valid {format}:\n{}{}",
        document.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The (name, version) of every package syft finds in the image the engine holds.
pub fn syft_packages(image: &str) -> BTreeSet<(String, String)> {
    let out = Command::new("syft")
        .args([&format!("docker:{image}"), "-o", "json", "-q"])
        .output()
        .unwrap_or_else(|e| panic!("syft cannot run ({e}): run scripts/tools-up first"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The (name, version) of every package an SPDX document lists, the image itself left out.
pub fn spdx_packages(document: &serde_json::Value) -> BTreeSet<(String, String)> {
    document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["SPDXID"] != "SPDXRef-Image")
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["versionInfo"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
