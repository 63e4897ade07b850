//! What an image's OS packages are checked against, read from the image without running it:
//! its package manager (apt when it has a dpkg database, apk when it has an apk one), its
//! installed packages, and its package sources (apt's sources lists, preferences and
//! configuration; apk's repositories; and the distribution's release), digested so that
//! images whose sources are the same share one download of the package indexes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::hash::Hasher;
use crate::packages::{APK_INSTALLED, DPKG_STATUS, Inventory, held_dpkg, parse_apk, parse_dpkg};

/// What [`facts`] is given, read in one go (three archives of the image: `/etc` whole is
/// cheaper to fetch than its few files one by one).
pub const PATHS: &[&str] = &[DPKG_STATUS, APK_INSTALLED, "/etc"];

/// The files of `/etc` that say where packages come from: apt's sources, preferences and
/// configuration, apk's repositories and architecture, and the release.
const SOURCES: &[&str] = &[
    "/etc/apt/sources.list",
    "/etc/apt/preferences",
    "/etc/apt/apt.conf",
    "/etc/debian_version",
    "/etc/os-release",
    "/etc/apk/repositories",
    "/etc/apk/arch",
    "/etc/alpine-release",
];

/// The package manager a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Apt,
    Apk,
}

impl Manager {
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Apt => "apt",
            Manager::Apk => "apk",
        }
    }
}

/// An image's packages and where newer ones would come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub manager: Manager,
    /// What is installed, and can be compared (a version of dpkg's and apk's characters).
    pub installed: Inventory,
    /// Packages held at their version (dpkg `hold`): never pending.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub held: BTreeSet<String>,
    /// `apt sha256:…` (12 hex digits): the same for images with the same sources.
    pub sources: String,
}

/// Whether `sources` has the shape [`facts`] gives it (`apt sha256:` and 12 hex digits).
pub fn is_sources(manager: Manager, sources: &str) -> bool {
    sources
        .strip_prefix(manager.as_str())
        .and_then(|rest| rest.strip_prefix(" sha256:"))
        .is_some_and(|hex| {
            hex.len() == 12
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Why an image has nothing to check, when it has not.
pub const NO_MANAGER: &str = "no dpkg or apk database";
pub const NO_SOURCES: &str = "no package sources";

/// What the files read from an image say ([`PATHS`]); why there is nothing to check otherwise.
pub fn facts(files: &BTreeMap<String, Vec<u8>>) -> Result<Facts, &'static str> {
    let text = |path: &str| files.get(path).map(|b| String::from_utf8_lossy(b));
    let (manager, mut installed, held) = match (text(DPKG_STATUS), text(APK_INSTALLED)) {
        (Some(status), _) => (Manager::Apt, parse_dpkg(&status), held_dpkg(&status)),
        (None, Some(db)) => (Manager::Apk, parse_apk(&db), BTreeSet::new()),
        (None, None) => return Err(NO_MANAGER),
    };
    installed.retain(|_, version| super::index::is_version(version));
    let lists: &[&str] = match manager {
        Manager::Apt => &["/etc/apt/sources.list"],
        Manager::Apk => &["/etc/apk/repositories"],
    };
    let has_sources = files.iter().any(|(path, content)| {
        lists.iter().any(|l| path.starts_with(l))
            && String::from_utf8_lossy(content)
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    if !has_sources {
        return Err(NO_SOURCES);
    }
    let mut h = Hasher::new();
    h.field("hier-sources/1").field(manager.as_str());
    for (path, content) in files {
        if SOURCES.iter().any(|s| path.starts_with(s)) {
            h.field(path).field(content);
        }
    }
    let digest = h.finish();
    let hex = digest.trim_start_matches("sha256:");
    Ok(Facts {
        manager,
        installed,
        held,
        sources: format!("{} sha256:{}", manager.as_str(), &hex[..12]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    const STATUS: &str = "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n";

    #[test]
    fn the_same_sources_are_one_set_whatever_is_installed() {
        let list = (
            "/etc/apt/sources.list.d/debian.sources",
            "Types: deb\nURIs: http://deb.debian.org/debian\n",
        );
        let a = facts(&files(&[
            (DPKG_STATUS, STATUS),
            list,
            ("/etc/debian_version", "12.8\n"),
        ]))
        .unwrap();
        let b = facts(&files(&[
            (DPKG_STATUS, ""),
            list,
            ("/etc/debian_version", "12.8\n"),
        ]))
        .unwrap();
        assert_eq!(a.manager, Manager::Apt);
        assert_eq!(a.installed["curl"], "7.88.1-10");
        assert_eq!(a.sources, b.sources);
        assert!(a.sources.starts_with("apt sha256:"));
        // Another release, or one more source, is another set.
        let c = facts(&files(&[
            (DPKG_STATUS, STATUS),
            list,
            ("/etc/debian_version", "12.9\n"),
        ]))
        .unwrap();
        assert_ne!(a.sources, c.sources);
        let d = facts(&files(&[
            (DPKG_STATUS, STATUS),
            list,
            ("/etc/debian_version", "12.8\n"),
            (
                "/etc/apt/sources.list.d/extra.list",
                "deb http://example/ ./\n",
            ),
        ]))
        .unwrap();
        assert_ne!(a.sources, d.sources);
    }

    #[test]
    fn only_the_files_that_say_where_packages_come_from_count() {
        let list = (
            "/etc/apt/sources.list",
            "deb http://deb.debian.org/debian bookworm main\n",
        );
        let a = facts(&files(&[
            (DPKG_STATUS, STATUS),
            list,
            ("/etc/hostname", "a\n"),
        ]))
        .unwrap();
        let b = facts(&files(&[
            (DPKG_STATUS, STATUS),
            list,
            ("/etc/hostname", "b\n"),
        ]))
        .unwrap();
        assert_eq!(a.sources, b.sources);
        let pinned = facts(&files(&[
            (DPKG_STATUS, STATUS),
            list,
            (
                "/etc/apt/preferences.d/pin",
                "Package: *\nPin: release a=bookworm-backports\n",
            ),
        ]))
        .unwrap();
        assert_ne!(a.sources, pinned.sources);
    }

    #[test]
    fn without_a_database_or_sources_there_is_nothing_to_check() {
        assert_eq!(facts(&files(&[])), Err(NO_MANAGER));
        assert_eq!(
            facts(&files(&[
                (DPKG_STATUS, STATUS),
                ("/etc/apt/sources.list", "# none\n\n")
            ])),
            Err(NO_SOURCES)
        );
        let apk = facts(&files(&[
            (APK_INSTALLED, "P:musl\nV:1.2.4-r2\n"),
            (
                "/etc/apk/repositories",
                "https://dl-cdn.alpinelinux.org/alpine/v3.19/main\n",
            ),
        ]))
        .unwrap();
        assert_eq!(
            (apk.manager, apk.installed["musl"].as_str()),
            (Manager::Apk, "1.2.4-r2")
        );
    }
}
