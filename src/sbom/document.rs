//! The two documents a bill of materials is written as: SPDX 2.3 JSON and CycloneDX 1.5 JSON.
//! Each names the image (its name, version, id and repository, as a package URL) and every OS
//! package in it, with the image containing each; both are made from the same values, so they
//! list the same packages.

use serde_json::{Value, json};

use super::contents::Component;

/// The image a bill of materials is about.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub version: String,
    /// `sha256:…`
    pub image_id: String,
    /// `<registry>/<name>`
    pub repository: String,
    /// When the document was made (RFC 3339, UTC, seconds).
    pub created: String,
    /// The distribution, for the packages' URLs (`debian`, `12`).
    pub distro: Option<(String, Option<String>)>,
}

impl Identity {
    fn hex(&self) -> &str {
        self.image_id
            .strip_prefix("sha256:")
            .unwrap_or(&self.image_id)
    }

    /// `pkg:oci/<name>@sha256:<id>?repository_url=<repository>`.
    fn purl(&self) -> String {
        format!(
            "pkg:oci/{}@sha256%3A{}?repository_url={}",
            self.name,
            self.hex(),
            encode(&self.repository)
        )
    }
}

/// A package's URL: `pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12`.
fn purl(c: &Component, identity: &Identity) -> String {
    // The distribution is the namespace (`pkg:deb/debian/…`); without one there is none.
    let namespace = identity
        .distro
        .as_ref()
        .map_or(String::new(), |(id, _)| format!("{}/", encode(id)));
    let mut qualifiers = Vec::new();
    if let Some(arch) = &c.arch {
        qualifiers.push(format!("arch={}", encode(arch)));
    }
    if let Some((id, Some(version))) = &identity.distro {
        qualifiers.push(format!("distro={}", encode(&format!("{id}-{version}"))));
    }
    let mut url = format!(
        "pkg:{}/{namespace}{}@{}",
        c.kind,
        encode(&c.name),
        encode(&c.version)
    );
    if !qualifiers.is_empty() {
        url.push('?');
        url.push_str(&qualifiers.join("&"));
    }
    url
}

/// Percent-encodes what a package URL component may not hold as it is.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' | b'+' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An SPDX element id from free text (`SPDXRef-` then letters, digits, `.` and `-`).
fn spdx_id(prefix: &str, index: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-{prefix}-{index}-{clean}")
}

/// The SPDX 2.3 JSON document.
pub fn spdx(identity: &Identity, components: &[Component]) -> Value {
    let image_ref = "SPDXRef-Image";
    let mut packages = vec![json!({
        "SPDXID": image_ref,
        "name": identity.name,
        "versionInfo": identity.version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "checksums": [{ "algorithm": "SHA256", "checksumValue": identity.hex() }],
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": identity.purl(),
        }],
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": image_ref,
    })];
    for (i, c) in components.iter().enumerate() {
        let id = spdx_id("Package", i + 1, &c.name);
        packages.push(spdx_package(&id, c, identity));
        relationships.push(json!({
            "spdxElementId": image_ref,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} {}", identity.name, identity.version),
        "documentNamespace": format!("https://spdx.org/spdxdocs/hier/{}/{}", identity.name, identity.hex()),
        "creationInfo": {
            "created": identity.created,
            "creators": [format!("Tool: hier-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// One OS package in SPDX.
fn spdx_package(id: &str, c: &Component, identity: &Identity) -> Value {
    let mut package = json!({
        "SPDXID": id,
        "name": c.name,
        "versionInfo": c.version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "LIBRARY",
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl(c, identity),
        }],
    });
    if let Some(source) = &c.source {
        package["sourceInfo"] = json!(format!("built from the source package {source}"));
    }
    if !c.licenses.is_empty() {
        package["licenseComments"] =
            json!(format!("the package declares: {}", c.licenses.join(", ")));
    }
    package
}

/// The CycloneDX 1.5 JSON document.
pub fn cyclonedx(identity: &Identity, components: &[Component]) -> Value {
    let hex = identity.hex();
    // A serial number of the image's own: the first 128 bits of a digest of its id.
    let digest = crate::hash::digest(&identity.image_id);
    let d = digest.trim_start_matches("sha256:");
    let serial = format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &d[0..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    );
    let list: Vec<Value> = components
        .iter()
        .enumerate()
        .map(|(i, c)| cdx_component(i, c, identity))
        .collect();
    let refs: Vec<Value> = (1..=components.len())
        .map(|i| json!(format!("package-{i}")))
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": identity.created,
            "tools": { "components": [{ "type": "application", "name": "hier", "version": env!("CARGO_PKG_VERSION") }] },
            "component": {
                "type": "container",
                "bom-ref": "image",
                "name": identity.name,
                "version": identity.version,
                "hashes": [{ "alg": "SHA-256", "content": hex }],
                "purl": identity.purl(),
            },
        },
        "components": list,
        "dependencies": [{ "ref": "image", "dependsOn": refs }],
    })
}

/// One OS package in CycloneDX.
fn cdx_component(i: usize, c: &Component, identity: &Identity) -> Value {
    let mut component = json!({
        "type": "library",
        "bom-ref": format!("package-{}", i + 1),
        "name": c.name,
        "version": c.version,
        "purl": purl(c, identity),
    });
    if !c.licenses.is_empty() {
        component["licenses"] = c
            .licenses
            .iter()
            .map(|l| json!({ "license": { "name": l } }))
            .collect();
    }
    let mut properties = Vec::new();
    if let Some(arch) = &c.arch {
        properties.push(json!({ "name": "hier:package:architecture", "value": arch }));
    }
    if let Some(source) = &c.source {
        properties.push(json!({ "name": "hier:package:source", "value": source }));
    }
    if !properties.is_empty() {
        component["properties"] = Value::Array(properties);
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            name: "py".into(),
            version: "3.12.1".into(),
            image_id: format!("sha256:{}", "ab".repeat(32)),
            repository: "registry.test/platform/py".into(),
            created: "2026-12-03T07:39:05Z".into(),
            distro: Some(("debian".into(), Some("12".into()))),
        }
    }

    fn component(name: &str) -> Component {
        Component {
            kind: "deb",
            name: name.into(),
            version: "1:2.3+dfsg-1~b1".into(),
            arch: Some("amd64".into()),
            source: None,
            licenses: vec!["GPL-2+".into()],
        }
    }

    #[test]
    fn package_urls_encode_what_they_must() {
        assert_eq!(
            purl(&component("libstdc++6"), &identity()),
            "pkg:deb/debian/libstdc++6@1%3A2.3+dfsg-1~b1?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            identity().purl(),
            format!(
                "pkg:oci/py@sha256%3A{}?repository_url=registry.test%2Fplatform%2Fpy",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn both_documents_list_the_same_packages_inside_the_image() {
        let list = [component("libc6"), component("g++")];
        let spdx = spdx(&identity(), &list);
        assert_eq!(spdx["packages"].as_array().unwrap().len(), 3);
        assert_eq!(spdx["packages"][2]["SPDXID"], "SPDXRef-Package-2-g--");
        let contains: Vec<&Value> = spdx["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["relationshipType"] == "CONTAINS")
            .collect();
        assert_eq!(contains.len(), 2);
        let cdx = cyclonedx(&identity(), &list);
        assert_eq!(cdx["components"].as_array().unwrap().len(), 2);
        assert_eq!(
            cdx["dependencies"][0]["dependsOn"],
            json!(["package-1", "package-2"])
        );
        assert_eq!(
            cdx["components"][0]["licenses"][0]["license"]["name"],
            "GPL-2+"
        );
        let serial = cdx["serialNumber"].as_str().unwrap();
        assert_eq!(serial.len(), "urn:uuid:".len() + 36, "{serial}");
    }
}
