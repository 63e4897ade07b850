//! OS package inventories: the dpkg status database or the apk installed database read from an
//! image's filesystem through the engine (no shell needed), their digest, and the difference
//! between two of them (what a refresh report shows).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::{Engine, EngineError};
use crate::hash::Hasher;

/// Package name → version.
pub type Inventory = BTreeMap<String, String>;

/// Where each package manager keeps its database, and how to read it.
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
pub const APK_INSTALLED: &str = "/lib/apk/db/installed";

/// An image's OS packages (dpkg, else apk), read from its filesystem; `None` without either.
pub async fn inventory(
    engine: &dyn Engine,
    owner: &str,
    image_id: &str,
) -> Result<Option<Inventory>, EngineError> {
    if let Some(bytes) = engine.read_file(owner, image_id, DPKG_STATUS).await? {
        return Ok(Some(parse_dpkg(&String::from_utf8_lossy(&bytes))));
    }
    if let Some(bytes) = engine.read_file(owner, image_id, APK_INSTALLED).await? {
        return Ok(Some(parse_apk(&String::from_utf8_lossy(&bytes))));
    }
    Ok(None)
}

/// The installed packages of a dpkg status file (stanzas whose `Status` ends in `installed`).
/// A package of a foreign architecture is `name:arch`, as apt names it; the native one (the
/// architecture of `dpkg` itself) and `all` are the bare name.
pub fn parse_dpkg(text: &str) -> Inventory {
    let stanzas = dpkg_stanzas(text);
    let native = stanzas
        .iter()
        .find(|s| s.name == "dpkg")
        .and_then(|s| s.arch);
    let mut out = Inventory::new();
    for s in stanzas.iter().filter(|s| s.installed) {
        let key = match s.arch {
            Some(a) if a != "all" && native.is_some_and(|n| n != a) => format!("{}:{a}", s.name),
            // Without dpkg's own entry, the second of a name is told apart by its architecture.
            Some(a) if native.is_none() && out.contains_key(s.name) && a != "all" => {
                format!("{}:{a}", s.name)
            }
            _ => s.name.to_string(),
        };
        out.insert(key, s.version.to_string());
    }
    out
}

/// The packages a dpkg status file marks held (`Status: hold …`): apt never upgrades them.
pub fn held_dpkg(text: &str) -> std::collections::BTreeSet<String> {
    dpkg_stanzas(text)
        .into_iter()
        .filter(|s| s.held)
        .map(|s| s.name.to_string())
        .collect()
}

struct Stanza<'a> {
    name: &'a str,
    version: &'a str,
    arch: Option<&'a str>,
    installed: bool,
    held: bool,
}

fn dpkg_stanzas(text: &str) -> Vec<Stanza<'_>> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut name, mut version, mut status, mut arch) = (None, None, "", None);
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package: ") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version: ") {
                version = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Status: ") {
                status = v.trim();
            } else if let Some(v) = line.strip_prefix("Architecture: ") {
                arch = Some(v.trim());
            }
        }
        if let (Some(name), Some(version)) = (name, version) {
            out.push(Stanza {
                name,
                version,
                arch,
                installed: status.ends_with(" installed"),
                held: status.starts_with("hold "),
            });
        }
    }
    out
}

/// The installed packages of an apk database (`P:` name, `V:` version, blank-line separated).
pub fn parse_apk(text: &str) -> Inventory {
    let mut out = Inventory::new();
    for stanza in text.split("\n\n") {
        let (mut name, mut version) = (None, None);
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("P:") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("V:") {
                version = Some(v.trim());
            }
        }
        if let (Some(n), Some(v)) = (name, version) {
            out.insert(n.to_string(), v.to_string());
        }
    }
    out
}

/// A digest of an inventory (what the lock's `packages` records).
pub fn digest(inventory: &Inventory) -> String {
    let mut h = Hasher::new();
    h.field("hier-packages/1");
    for (name, version) in inventory {
        h.field(name).field(version);
    }
    h.finish()
}

/// What changed between two inventories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// (name, old version, new version)
    pub changed: Vec<(String, String, String)>,
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }

    /// One line per change: `openssl 3.0.20-1 -> 3.0.22-1`, `+ curl 7.88`, `- wget 1.21`.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .changed
            .iter()
            .map(|(n, a, b)| format!("{n} {a} -> {b}"))
            .collect();
        out.extend(self.added.iter().map(|(n, v)| format!("+ {n} {v}")));
        out.extend(self.removed.iter().map(|(n, v)| format!("- {n} {v}")));
        out
    }
}

pub fn diff(old: &Inventory, new: &Inventory) -> Changes {
    let mut changes = Changes::default();
    for (name, version) in new {
        match old.get(name) {
            None => changes.added.push((name.clone(), version.clone())),
            Some(before) if before != version => {
                changes
                    .changed
                    .push((name.clone(), before.clone(), version.clone()))
            }
            Some(_) => {}
        }
    }
    for (name, version) in old {
        if !new.contains_key(name) {
            changes.removed.push((name.clone(), version.clone()));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    const DPKG: &str = "Package: openssl\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 3.0.20-1\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10\nDescription: a tool\n multi-line\n";

    #[test]
    fn dpkg_lists_installed_packages_only() {
        let inv = parse_dpkg(DPKG);
        assert_eq!(
            inv,
            Inventory::from([
                ("curl".into(), "7.88.1-10".into()),
                ("openssl".into(), "3.0.20-1".into()),
            ])
        );
    }

    #[test]
    fn a_foreign_architecture_is_named_as_apt_names_it_and_holds_are_known() {
        let status = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\nPackage: dpkg\nStatus: install ok installed\nArchitecture: arm64\nVersion: 1.21\n\nPackage: libc6\nStatus: hold ok installed\nArchitecture: arm64\nVersion: 2.36-8\n";
        let inv = parse_dpkg(status);
        assert_eq!(inv["libc6"], "2.36-8");
        assert_eq!(inv["libc6:amd64"], "2.36-9");
        assert_eq!(held_dpkg(status), ["libc6".to_string()].into());
    }

    #[test]
    fn apk_database() {
        let inv = parse_apk("C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\n");
        assert_eq!(inv["musl"], "1.2.4-r2");
        assert_eq!(inv["busybox"], "1.36.1-r5");
    }

    #[test]
    fn differences_read_like_a_changelog() {
        let old = Inventory::from([
            ("openssl".into(), "3.0.20-1".into()),
            ("wget".into(), "1.21".into()),
        ]);
        let new = Inventory::from([
            ("openssl".into(), "3.0.22-1".into()),
            ("curl".into(), "7.88".into()),
        ]);
        let d = diff(&old, &new);
        assert_eq!(
            d.lines(),
            vec!["openssl 3.0.20-1 -> 3.0.22-1", "+ curl 7.88", "- wget 1.21"]
        );
        assert!(diff(&new, &new).is_empty());
        assert_ne!(digest(&old), digest(&new));
    }
}
