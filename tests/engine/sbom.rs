//! Bills of materials against the real engine: every build writes SPDX and CycloneDX documents
//! under `.hier/sbom/`, valid against the official schemas, listing the packages of the image's
//! dpkg database with their architecture, source package and licences; `hier sbom` prints them
//! for the recorded build; an image never built is refused.

use super::common::engine::dpkg_status;
use super::common::hierarchy::Hierarchy;
use super::common::sbom::{assert_valid, spdx_packages};

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.pkgs]
parent = "base"
version = "2.1.0"
dockerfile = "images/pkgs/Dockerfile"
"#;

const COPYRIGHT: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n";

#[test]
fn every_build_writes_valid_bills_of_materials_and_sbom_prints_them() {
    let h = Hierarchy::new("sbom", IMAGES);
    // `hello` names the source package it was built from.
    let status = dpkg_status(&[("dpkg", "1.21.22"), ("hello", "2.10-3")]);
    let status = status.replace(
        "Package: hello\n",
        "Package: hello\nSource: hello-src (2.10-2)\n",
    );
    h.repo.write("images/pkgs/status", &status);
    h.repo.write("images/pkgs/copyright", COPYRIGHT);
    h.repo.write(
        "images/pkgs/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCOPY status /var/lib/dpkg/status\nCOPY copyright /usr/share/doc/hello/copyright\n",
    );
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = h.entry("pkgs")["image_id"].as_str().unwrap().to_string();
    let stem = format!("2.1.0-{}", &id["sha256:".len().."sha256:".len() + 12]);
    let dir = h.repo.path().join(".hier/sbom/pkgs");
    let spdx_path = dir.join(format!("{stem}.spdx.json"));
    let cdx_path = dir.join(format!("{stem}.cdx.json"));
    assert_valid(&spdx_path, "spdx");
    assert_valid(&cdx_path, "cyclonedx");
    let spdx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&spdx_path).unwrap()).unwrap();
    let listed: Vec<(String, String)> = spdx_packages(&spdx).into_iter().collect();
    assert_eq!(
        listed,
        [
            ("dpkg".into(), "1.21.22".into()),
            ("hello".into(), "2.10-3".into())
        ]
    );
    let hello = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hello")
        .unwrap();
    assert_eq!(
        hello["sourceInfo"],
        "built from the source package hello-src 2.10-2"
    );
    assert_eq!(hello["licenseComments"], "the package declares: GPL-3+");
    assert_eq!(
        hello["externalRefs"][0]["referenceLocator"],
        "pkg:deb/hello@2.10-3?arch=amd64"
    );
    // The image's identity.
    let image = &spdx["packages"][0];
    assert_eq!(
        (&image["name"], &image["versionInfo"]),
        (&"pkgs".into(), &"2.1.0".into())
    );
    assert_eq!(
        image["checksums"][0]["checksumValue"],
        &id["sha256:".len()..]
    );

    // `hier sbom` prints the same packages for the recorded build, in either format.
    let run = h.hier(&["sbom", "pkgs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(spdx_packages(&printed), spdx_packages(&spdx));
    let run = h.hier(&["sbom", "pkgs", "--format", "cyclonedx-json"]);
    let cdx: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dpkg", "hello"]);
    assert_eq!(cdx["metadata"]["component"]["name"], "pkgs");
    // An image without a package database lists none; one never built is refused.
    let run = h.hier(&["sbom", "base"]);
    let base: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(spdx_packages(&base).is_empty());
    let catalog = h.repo.read("catalog.toml");
    h.repo.write(
        "catalog.toml",
        &format!("{catalog}\n[images.later]\nparent = \"base\"\nversion = \"1.0.0\"\ntemplate = \"layer.hbs\"\n"),
    );
    let run = h.hier(&["sbom", "later"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            2,
            "error: `later` has never been built: hier.lock records no build of it\n  = help: build it with `hier rebuild later`\n"
        )
    );
}
