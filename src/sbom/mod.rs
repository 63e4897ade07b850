//! Bills of materials of built images (`hier sbom`, and one written for every build under
//! `.hier/sbom/`): the OS packages an image holds, read from its own files through the engine
//! without running it ([`contents`]), written as SPDX 2.3 or CycloneDX 1.5 JSON ([`document`]).

pub mod contents;
pub mod document;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::{Engine, EngineError};
use crate::packages::{APK_INSTALLED, DPKG_STATUS};
pub use contents::Component;
pub use document::Identity;

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Spdx,
    CycloneDx,
}

impl Format {
    /// The file name's ending (`.spdx.json`, `.cdx.json`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Spdx => "spdx.json",
            Format::CycloneDx => "cdx.json",
        }
    }

    pub fn document(self, identity: &Identity, components: &[Component]) -> Value {
        match self {
            Format::Spdx => document::spdx(identity, components),
            Format::CycloneDx => document::cyclonedx(identity, components),
        }
    }
}

const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// What a bill of materials lists of an image: its OS packages (with the licences their
/// copyright files declare) and its distribution.
pub async fn read(
    engine: &dyn Engine,
    owner: &str,
    image_id: &str,
) -> Result<(Vec<Component>, Option<(String, Option<String>)>), EngineError> {
    let mut paths = vec![DPKG_STATUS, APK_INSTALLED];
    paths.extend(OS_RELEASE);
    let mut files = engine.read_files(owner, image_id, &paths).await?;
    follow_links(engine, owner, image_id, &mut files).await?;
    let text = |path: &str| {
        files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let distro = OS_RELEASE
        .iter()
        .filter_map(|p| text(p))
        .find_map(|t| contents::os_release(&t));
    let mut components = match (text(DPKG_STATUS), text(APK_INSTALLED)) {
        (Some(status), _) => contents::dpkg(&status),
        (None, Some(installed)) => contents::apk(&installed),
        (None, None) => Vec::new(),
    };
    add_debian_licenses(engine, owner, image_id, &mut components).await?;
    Ok((components, distro))
}

/// A package database that is a symlink (`-> target`, as `read_files` gives it) read where
/// it leads; one that leads nowhere is left out.
async fn follow_links(
    engine: &dyn Engine,
    owner: &str,
    image_id: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), EngineError> {
    for path in [DPKG_STATUS, APK_INSTALLED] {
        let Some(target) = files.get(path).and_then(|b| b.strip_prefix(b"-> ")) else {
            continue;
        };
        let target = String::from_utf8_lossy(target).into_owned();
        let folder = path.rsplit_once('/').map_or("", |(d, _)| d);
        let absolute = match target.starts_with('/') {
            true => target,
            false => format!("{folder}/{target}"),
        };
        let read = engine.read_files(owner, image_id, &[&absolute]).await?;
        match read.into_values().next().filter(|b| !b.starts_with(b"-> ")) {
            Some(content) => files.insert(path.to_string(), content),
            None => files.remove(path),
        };
    }
    Ok(())
}

/// Each Debian package's licences, from `/usr/share/doc/<name>/copyright`.
async fn add_debian_licenses(
    engine: &dyn Engine,
    owner: &str,
    image_id: &str,
    components: &mut [Component],
) -> Result<(), EngineError> {
    // A package installed for two architectures shares its copyright file.
    let mut paths: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in components.iter().enumerate() {
        if c.kind == "deb" && is_package_name(&c.name) {
            let path = format!("/usr/share/doc/{}/copyright", c.name);
            paths.entry(path).or_default().push(i);
        }
    }
    if paths.is_empty() {
        return Ok(());
    }
    // The whole documentation folder in one read (a slim image keeps little else there);
    // past the engine's size limit for one read, each copyright file on its own.
    let files = match engine
        .read_files(owner, image_id, &["/usr/share/doc"])
        .await
    {
        Ok(files) => files,
        Err(_) => {
            let wanted: Vec<&str> = paths.keys().map(String::as_str).collect();
            engine.read_files(owner, image_id, &wanted).await?
        }
    };
    for (path, content) in files {
        let licenses = contents::debian_licenses(&String::from_utf8_lossy(&content));
        for &i in paths.get(&path).into_iter().flatten() {
            components[i].licenses = licenses.clone();
        }
    }
    Ok(())
}

/// A Debian package name: lower-case letters, digits, `+`, `-` and `.`.
fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        && !name.starts_with(['.', '-', '+'])
}
