//! Helpers for the tests against the real engine and registries (`scripts/engine-up`): the
//! docker CLI, removing a test's images, a run report's statuses, what a registry serves.

use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs the docker CLI; fails the test when it fails. Its standard output, trimmed.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether a docker CLI command succeeds (its output discarded).
pub fn docker_succeeds(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Removes every image tagged `repository:tag` where that reference contains `marker` (a
/// test's own registry prefix). Never fails: it runs from `Drop`.
pub fn remove_images(marker: &str) {
    let Ok(listed) = Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
    else {
        return;
    };
    let mine: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.contains(marker))
        .map(str::to_string)
        .collect();
    if !mine.is_empty() {
        let _ = Command::new("docker")
            .arg("rmi")
            .arg("-f")
            .args(&mine)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// (name, status) of each image of a run report, in its order.
pub fn statuses(report: &Value) -> Vec<(String, String)> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The manifest digest a registry serves for `repository:tag` (registry HTTP API, asking for
/// a v2 or OCI manifest), or `None` when it serves none.
pub fn registry_digest(registry: &str, repository: &str, tag: &str) -> Option<String> {
    let out = Command::new("curl")
        .args([
            "-fsSI",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.v2+json",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            &format!("http://{registry}/v2/{repository}/manifests/{tag}"),
        ])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("docker-content-digest")
            .then(|| v.trim().to_string())
    })
}

/// A dpkg status database with these packages (name, version) installed for amd64, and one
/// more, `removed`, removed with its configuration kept (dpkg still lists it; it is not
/// installed).
pub fn dpkg_status(installed: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, version) in installed {
        out.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n"
        ));
    }
    out.push_str(
        "Package: removed\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n",
    );
    out
}
