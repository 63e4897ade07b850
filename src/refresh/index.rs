//! One download of the package indexes for a set of package sources, and what it says: the
//! script run (as root, once per set) in a container of one image with those sources, which
//! updates the indexes and prints the candidate version of every package the set's images
//! have installed (`apt-cache policy`, `apk policy`); reading that answer; and whether a
//! candidate is newer than what an image has (Debian's version order, or apk's).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::sources::Manager;

/// The line the script prints once the indexes are in, before the candidates.
const READY: &str = "HIER_INDEX ready";
const FAILED: &str = "HIER_INDEX failed";

/// The script that downloads the indexes and prints the candidates of `names`. Only names a
/// package manager could have (`[a-z0-9][a-z0-9.+_-]*`, an apt architecture after `:`) are
/// asked about; they are the only text of an image that goes into the script.
pub fn script(manager: Manager, names: &BTreeSet<String>) -> String {
    let names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| is_package_name(n))
        .collect();
    let (update, policy) = match manager {
        Manager::Apt => ("apt-get update -qq", "apt-cache policy --"),
        Manager::Apk => ("apk update -q", "apk policy"),
    };
    // apt-get update exits 0 when a source could not be fetched (`W: Failed to fetch …`):
    // that, like any `E:` line, is a failed download, not an answer.
    format!(
        "export LC_ALL=C; out=$({update} 2>&1); s=$?; \
         if [ $s -ne 0 ] || printf '%s\\n' \"$out\" | grep -Eq '^(E:|W: Failed to fetch|W: Some index files failed|ERROR:)'; \
         then echo '{FAILED}'; printf '%s\\n' \"$out\" | grep -E '^(E|W|ERROR):' | tail -n 3; exit 0; fi; \
         echo '{READY}'; {policy} {} 2>/dev/null; exit 0",
        names.join(" ")
    )
}

pub(super) fn is_package_name(name: &str) -> bool {
    let (name, arch) = name.split_once(':').unwrap_or((name, "x"));
    // A letter or digit first, then those and `.+_-`.
    let word = |w: &str| {
        !w.is_empty()
            && w.chars().enumerate().all(|(i, c)| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || (i > 0 && ".+_-".contains(c))
            })
    };
    word(name) && word(arch)
}

/// Whether the script ran to an answer (the indexes, or why they could not be had).
pub fn answered(output: &str) -> bool {
    output.contains(&format!("{READY}\n")) || output.contains(&format!("{FAILED}\n"))
}

/// The candidates the script printed, by package name; why there are none otherwise.
pub fn candidates(manager: Manager, output: &str) -> Result<BTreeMap<String, String>, String> {
    let Some((_, answer)) = output.split_once(&format!("{READY}\n")) else {
        let why = output
            .split_once(&format!("{FAILED}\n"))
            .map_or(output, |(_, rest)| rest)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(match why.as_str() {
            "" => "the package indexes could not be downloaded".to_string(),
            why => format!("the package indexes could not be downloaded: {why}"),
        });
    };
    let mut found = match manager {
        Manager::Apt => apt_candidates(answer),
        Manager::Apk => apk_candidates(answer),
    };
    // A version that is not one (it could come from any repository) is no candidate.
    found.retain(|_, v| is_version(v));
    Ok(found)
}

/// Whether `version` is made of what dpkg and apk versions are made of (ASCII letters and
/// digits, `.+~:_-`); anything else is not compared.
pub fn is_version(version: &str) -> bool {
    !version.is_empty()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~:_-".contains(&b))
}

/// `apt-cache policy`: `name:` then `  Candidate: version` (`(none)` when there is none).
fn apt_candidates(answer: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current = None;
    for line in answer.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            current = Some(line.trim_end_matches(':').to_string());
        } else if let (Some(name), Some(v)) = (&current, line.trim().strip_prefix("Candidate: "))
            && v != "(none)"
        {
            out.insert(name.clone(), v.to_string());
        }
    }
    out
}

/// `apk policy`: `name policy:`, each version at two spaces (`  1.2-r3:`), then the
/// repositories that have it at four; a version only the installed database has is no
/// candidate. The candidate is the newest of the others.
fn apk_candidates(answer: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let (mut name, mut version): (Option<String>, Option<String>) = (None, None);
    for line in answer.lines() {
        if let Some(n) = line
            .strip_suffix(" policy:")
            .filter(|_| !line.starts_with(' '))
        {
            (name, version) = (Some(n.to_string()), None);
        } else if line.starts_with("    ") {
            let repository = line.trim();
            // A tagged repository (`@edge …`) gives a package only to who asks for the tag.
            if let (Some(n), Some(v)) = (&name, &version)
                && repository != "lib/apk/db/installed"
                && !repository.starts_with('@')
                && out.get(n).is_none_or(|best| newer(Manager::Apk, v, best))
            {
                out.insert(n.clone(), v.clone());
            }
        } else if line.starts_with("  ") && line.ends_with(':') {
            version = Some(line.trim().trim_end_matches(':').to_string());
        }
    }
    out
}

/// Whether `candidate` is newer than `installed`.
pub fn newer(manager: Manager, candidate: &str, installed: &str) -> bool {
    match manager {
        Manager::Apt => deb_version::compare_versions(candidate, installed) == Ordering::Greater,
        Manager::Apk => apk_order(candidate, installed) == Ordering::Greater,
    }
}

/// apk's version order: dot-separated numbers, an optional letter, suffixes (`_alpha` <
/// `_beta` < `_pre` < `_rc` < none < `_p`, each with an optional number), then `-r<N>`.
fn apk_order(a: &str, b: &str) -> Ordering {
    apk_key(a).cmp(&apk_key(b))
}

type ApkKey = (Vec<u64>, u8, Vec<(i8, u64)>, u64);

fn apk_key(version: &str) -> ApkKey {
    let (main, revision) = match version.rsplit_once("-r") {
        Some((m, r)) if r.chars().all(|c| c.is_ascii_digit()) => (m, r.parse().unwrap_or(0)),
        _ => (version, 0),
    };
    let mut parts = main.split('_');
    let numbers_part = parts.next().unwrap_or_default();
    let letter = numbers_part
        .chars()
        .last()
        .filter(char::is_ascii_lowercase)
        .map_or(0, |c| c as u8);
    let numbers = numbers_part
        .trim_end_matches(|c: char| c.is_ascii_lowercase())
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    let mut suffixes: Vec<(i8, u64)> = parts
        .map(|s| {
            let digits = s.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let rank = match &s[..s.len() - digits.len()] {
                "alpha" => -4,
                "beta" => -3,
                "pre" => -2,
                "rc" => -1,
                "p" => 1,
                _ => 0,
            };
            (rank, digits.parse().unwrap_or(0))
        })
        .collect();
    // No suffix sorts between the pre-releases and `_p`.
    suffixes.push((0, 0));
    (numbers, letter, suffixes, revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_asks_only_about_names_a_package_can_have() {
        let names: BTreeSet<String> = ["curl", "libc6:amd64", "g++-12", "x;rm -rf /", "$(id)"]
            .iter()
            .map(|n| n.to_string())
            .collect();
        let s = script(Manager::Apt, &names);
        assert!(
            s.ends_with("apt-cache policy -- curl g++-12 libc6:amd64 2>/dev/null; exit 0"),
            "{s}"
        );
        assert!(!s.contains("rm -rf") && !s.contains("$(id)"));
    }

    #[test]
    fn apt_candidates_are_read_and_compared_in_debian_order() {
        let out = "noise\nHIER_INDEX ready\ncurl:\n  Installed: 7.88.1-10\n  Candidate: 7.88.1-10+deb12u8\n  Version table:\n     7.88.1-10+deb12u8 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\nlocal:\n  Installed: 1.0\n  Candidate: (none)\n";
        let c = candidates(Manager::Apt, out).unwrap();
        assert_eq!(
            c,
            BTreeMap::from([("curl".into(), "7.88.1-10+deb12u8".into())])
        );
        assert!(newer(Manager::Apt, "7.88.1-10+deb12u8", "7.88.1-10"));
        assert!(!newer(Manager::Apt, "1.0", "1.0"));
        assert!(!newer(Manager::Apt, "1.0", "1:0.9"));
        assert!(newer(Manager::Apt, "1.0", "1.0~rc1"));
    }

    #[test]
    fn apk_candidates_are_the_newest_a_repository_has() {
        let out = "HIER_INDEX ready\nbusybox policy:\n  1.36.1-r5:\n    lib/apk/db/installed\n  1.36.1-r7:\n    https://mirror/main\n  1.36.1-r6:\n    https://mirror/main\nlocal policy:\n  2.0-r0:\n    lib/apk/db/installed\n";
        let c = candidates(Manager::Apk, out).unwrap();
        assert_eq!(c, BTreeMap::from([("busybox".into(), "1.36.1-r7".into())]));
        assert!(newer(Manager::Apk, "1.36.1-r7", "1.36.1-r5"));
        assert!(newer(Manager::Apk, "1.10.0-r0", "1.9.9-r3"));
        assert!(newer(Manager::Apk, "3.1.0-r0", "3.1.0_rc2-r0"));
        assert!(newer(Manager::Apk, "3.1.0_p1-r0", "3.1.0-r0"));
        assert!(newer(Manager::Apk, "1.2b-r0", "1.2a-r0"));
        assert!(!newer(Manager::Apk, "1.2-r0", "1.2-r0"));
    }

    /// Runs the script with `apt-get` and `apt-cache` stand-ins that print what they are told.
    fn run_with(update_prints: &str, update_exit: i32) -> String {
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        let tool = |name: &str, body: &str| {
            let path = bin.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        tool(
            "apt-get",
            &format!("printf '{update_prints}'; exit {update_exit}"),
        );
        tool("apt-cache", "printf 'curl:\\n  Candidate: 2.0\\n'");
        let names = BTreeSet::from(["curl".to_string()]);
        let out = std::process::Command::new("sh")
            .args(["-c", &script(Manager::Apt, &names)])
            .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn a_source_that_could_not_be_fetched_is_a_failed_download_not_an_answer() {
        let ok = run_with("W: some harmless warning\\n", 0);
        assert_eq!(
            candidates(Manager::Apt, &ok),
            Ok(BTreeMap::from([("curl".into(), "2.0".into())]))
        );
        let partial = run_with(
            "W: Failed to fetch http://x/InRelease  Could not connect\\n",
            0,
        );
        assert_eq!(
            candidates(Manager::Apt, &partial),
            Err("the package indexes could not be downloaded: W: Failed to fetch http://x/InRelease  Could not connect".into())
        );
        let failed = run_with("E: Some index files failed to download\\n", 100);
        assert!(candidates(Manager::Apt, &failed).is_err(), "{failed}");
    }

    #[test]
    fn odd_versions_and_tagged_repositories_give_no_candidate() {
        let out = "HIER_INDEX ready\nx:\n  Candidate: 1.0\u{e9}1\ny:\n  Candidate: 2.0\n";
        assert_eq!(
            candidates(Manager::Apt, out),
            Ok(BTreeMap::from([("y".into(), "2.0".into())]))
        );
        let apk = "HIER_INDEX ready\nbusybox policy:\n  1.0-r0:\n    lib/apk/db/installed\n  9.9-r0:\n    @edge https://mirror/edge\n";
        assert_eq!(candidates(Manager::Apk, apk), Ok(BTreeMap::new()));
    }

    #[test]
    fn a_failed_download_says_why() {
        let e = candidates(
            Manager::Apt,
            "HIER_INDEX failed\nE: Failed to fetch http://x/InRelease\n",
        )
        .unwrap_err();
        assert_eq!(
            e,
            "the package indexes could not be downloaded: E: Failed to fetch http://x/InRelease"
        );
    }
}
