//! What a bill of materials lists, read from an image's own files: its OS packages from the
//! dpkg status database or the apk installed database (name, version, architecture, source
//! package, and the licence the package declares: a Debian machine-readable `copyright` file's
//! `License:` fields, or apk's `L:`), and the distribution from `os-release`.

use std::collections::BTreeMap;

/// One installed OS package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// `deb` or `apk`.
    pub kind: &'static str,
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    /// The source package it was built from, when it names one (`glibc`, `gcc-12 12.2.0-14`).
    pub source: Option<String>,
    /// The licences it declares, as its package manager writes them (`GPL-2+`, `MIT`).
    pub licenses: Vec<String>,
}

/// The packages of a dpkg status file that are installed, in name order.
pub fn dpkg(status: &str) -> Vec<Component> {
    let mut out: Vec<Component> = status
        .split("\n\n")
        .filter_map(|stanza| {
            let fields = fields(stanza);
            let installed = fields
                .get("Status")
                .is_some_and(|s| s.ends_with(" installed"));
            let name = fields.get("Package")?;
            let version = fields.get("Version")?;
            installed.then(|| Component {
                kind: "deb",
                name: name.to_string(),
                version: version.to_string(),
                arch: fields.get("Architecture").map(|a| a.to_string()),
                source: fields.get("Source").map(|s| source_of(s)),
                licenses: Vec::new(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    out
}

/// `Source: gcc-12 (12.2.0-14)` → `gcc-12 12.2.0-14`; `Source: glibc` (same version) → `glibc`.
fn source_of(field: &str) -> String {
    let field = field.trim();
    match field.split_once(" (") {
        Some((name, version)) => format!("{name} {}", version.trim_end_matches(')')),
        None => field.to_string(),
    }
}

/// A stanza's single-line fields (continuation lines are left out).
fn fields(stanza: &str) -> BTreeMap<&str, &str> {
    stanza
        .lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k, v.trim()))
        .collect()
}

/// The packages of an apk installed database, in name order.
pub fn apk(installed: &str) -> Vec<Component> {
    let mut out: Vec<Component> = installed
        .split("\n\n")
        .filter_map(|stanza| {
            let field = |key: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .map(|v| v.trim().to_string())
            };
            Some(Component {
                kind: "apk",
                name: field("P:")?,
                version: field("V:")?,
                arch: field("A:"),
                source: field("o:"),
                licenses: field("L:").into_iter().filter(|l| !l.is_empty()).collect(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The licences a Debian machine-readable copyright file declares (the first word of each
/// `License:` field, in order, without repeats); none for a file in free form.
pub fn debian_licenses(copyright: &str) -> Vec<String> {
    if !copyright.starts_with("Format:") {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for line in copyright.lines() {
        let Some(value) = line.strip_prefix("License:") else {
            continue;
        };
        for license in value.split(" or ").flat_map(|v| v.split(" and ")) {
            let license = license.trim().trim_end_matches(',');
            if !license.is_empty() && !out.iter().any(|l| l == license) {
                out.push(license.to_string());
            }
        }
    }
    out
}

/// `ID` and `VERSION_ID` of an os-release file (`debian`, `12`).
pub fn os_release(text: &str) -> Option<(String, Option<String>)> {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    Some((value("ID=")?, value("VERSION_ID=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n shared libraries\n\nPackage: libgcc-s1\nStatus: install ok installed\nArchitecture: amd64\nSource: gcc-12 (12.2.0-14)\nVersion: 12.2.0-14\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n";

    #[test]
    fn installed_dpkg_packages_with_their_source() {
        let list = dpkg(STATUS);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "libc6");
        assert_eq!(list[0].source.as_deref(), Some("glibc"));
        assert_eq!(list[1].source.as_deref(), Some("gcc-12 12.2.0-14"));
        assert_eq!(list[1].arch.as_deref(), Some("amd64"));
    }

    #[test]
    fn apk_packages_with_origin_and_licence() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\no:busybox\n";
        let list = apk(db);
        assert_eq!(list[0].name, "busybox");
        assert_eq!(list[1].licenses, ["MIT"]);
        assert_eq!(list[1].source.as_deref(), Some("musl"));
    }

    #[test]
    fn licences_of_a_machine_readable_copyright_file() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+ or BSD-3-clause\n\nLicense: GPL-2+\n This program is free software\n";
        assert_eq!(
            debian_licenses(text),
            ["GPL-2+", "LGPL-2.1+", "BSD-3-clause"]
        );
        assert!(debian_licenses("This is free software.\nLicense: whatever\n").is_empty());
    }

    #[test]
    fn the_distribution_of_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n";
        assert_eq!(os_release(text), Some(("debian".into(), Some("12".into()))));
    }
}
