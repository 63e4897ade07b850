//! dive (installed by `scripts/tools-up`), the reference `hier size` is compared with.

use std::process::Command;

/// The bytes dive reports as the image's inefficient bytes (`image.inefficientBytes`).
pub fn wasted(image: &str) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dive.json");
    let run = Command::new("dive")
        .args(["--ci", image, "--json"])
        .arg(&out)
        .env("CI", "true")
        .output()
        .unwrap_or_else(|e| panic!("dive cannot run ({e}): run scripts/tools-up first"));
    assert!(out.exists(), "{}", String::from_utf8_lossy(&run.stdout));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    report["image"]["inefficientBytes"].as_u64().unwrap()
}
