//! What makes each structure test pass or fail, given what was observed of the image: a
//! command's output and exit code, a path's archive entry or a file's content, the image's
//! configuration. Pure functions; each returns the test's errors (none: it passed), in the
//! reference tool's order and words.

use std::collections::BTreeMap;

use super::spec::{CommandTest, EnvVar, FileContentTest, FileExistenceTest, MetadataTest};
use crate::engine::{ImageConfig, PathEntry, PathKind};

/// A command's output against its test.
pub fn command(test: &CommandTest, stdout: &str, stderr: &str, exit_code: i64) -> Vec<String> {
    let mut errors = Vec::new();
    for p in &test.expected_error {
        if !p.is_match(stderr) {
            errors.push(format!("expected `{}` not found in stderr", p.text));
        }
    }
    for p in &test.excluded_error {
        if p.is_match(stderr) {
            errors.push(format!("excluded `{}` found in stderr", p.text));
        }
    }
    for p in &test.expected_output {
        if !p.is_match(stdout) {
            errors.push(format!("expected `{}` not found in stdout", p.text));
        }
    }
    for p in &test.excluded_output {
        if p.is_match(stdout) {
            errors.push(format!("excluded `{}` found in stdout", p.text));
        }
    }
    if exit_code != test.exit_code {
        errors.push(format!(
            "exited with {exit_code}, expected {}",
            test.exit_code
        ));
    }
    errors
}

/// A path's entry (`None`: it does not exist, or is not a file, folder or link) against its
/// test; `path` is the path as expanded.
pub fn existence(test: &FileExistenceTest, path: &str, entry: Option<&PathEntry>) -> Vec<String> {
    let Some(entry) = entry else {
        return if test.should_exist {
            vec![format!("{path} does not exist")]
        } else {
            Vec::new()
        };
    };
    if !test.should_exist {
        return vec![format!("{path} should not exist but does")];
    }
    let mut errors = Vec::new();
    let mode = mode_string(entry);
    if let Some(want) = &test.permissions
        && *want != mode
    {
        errors.push(format!("{path} has permissions {mode}, expected {want}"));
    }
    if let Some(by) = test.executable_by
        && entry.mode & by.bits() == 0
    {
        errors.push(format!(
            "{path} is not executable by {} ({mode})",
            by.as_str()
        ));
    }
    if let Some(uid) = test.uid
        && i64::try_from(entry.uid).ok() != Some(uid)
    {
        errors.push(format!(
            "{path} is owned by user {}, expected {uid}",
            entry.uid
        ));
    }
    if let Some(gid) = test.gid
        && i64::try_from(entry.gid).ok() != Some(gid)
    {
        errors.push(format!(
            "{path} is owned by group {}, expected {gid}",
            entry.gid
        ));
    }
    errors
}

/// A file's content against its test.
pub fn content(test: &FileContentTest, content: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(content);
    let mut errors = Vec::new();
    for p in &test.expected {
        if !p.is_match(&text) {
            errors.push(format!("expected `{}` not found in {}", p.text, test.path));
        }
    }
    for p in &test.excluded {
        if p.is_match(&text) {
            errors.push(format!("excluded `{}` found in {}", p.text, test.path));
        }
    }
    errors
}

/// The image's configuration against the metadata test.
pub fn metadata(
    test: &MetadataTest,
    config: &ImageConfig,
    labels: &BTreeMap<String, String>,
) -> Vec<String> {
    let env = super::expand::env_of(&config.env);
    let mut errors = Vec::new();
    pairs(&mut errors, "env var", &test.env, &env);
    for key in &test.unbound_env {
        if env.contains_key(key) {
            errors.push(format!("env var {key} should not be set"));
        }
    }
    pairs(&mut errors, "label", &test.labels, labels);
    argv(&mut errors, "cmd", test.cmd.as_deref(), &config.cmd);
    argv(
        &mut errors,
        "entrypoint",
        test.entrypoint.as_deref(),
        &config.entrypoint,
    );
    if let Some(want) = &test.workdir
        && *want != config.workdir
    {
        errors.push(format!(
            "workdir is {:?}, expected {want:?}",
            config.workdir
        ));
    }
    if let Some(want) = &test.user
        && *want != config.user
    {
        errors.push(format!("user is {:?}, expected {want:?}", config.user));
    }
    // Ports are compared by number, as the reference tool compares them (`8080`, not
    // `8080/tcp`).
    let ports: Vec<&str> = config
        .exposed_ports
        .iter()
        .map(|p| p.split_once('/').map_or(p.as_str(), |(n, _)| n))
        .collect();
    for port in &test.exposed_ports {
        if !ports.contains(&port.as_str()) {
            errors.push(format!("port {port} is not exposed"));
        }
    }
    for port in &test.unexposed_ports {
        if ports.contains(&port.as_str()) {
            errors.push(format!("port {port} should not be exposed"));
        }
    }
    for volume in &test.volumes {
        if !config.volumes.contains(volume) {
            errors.push(format!("volume {volume} is not declared"));
        }
    }
    for volume in &test.unmounted_volumes {
        if config.volumes.contains(volume) {
            errors.push(format!("volume {volume} should not be declared"));
        }
    }
    errors
}

fn pairs(errors: &mut Vec<String>, what: &str, want: &[EnvVar], have: &BTreeMap<String, String>) {
    for pair in want {
        let Some(value) = have.get(&pair.key) else {
            errors.push(format!("{what} {} is not set", pair.key));
            continue;
        };
        let matched = match &pair.pattern {
            Some(p) => p.is_match(value),
            None => *value == pair.value,
        };
        if !matched {
            errors.push(format!(
                "{what} {} is {value:?}, expected {:?}",
                pair.key, pair.value
            ));
        }
    }
}

fn argv(errors: &mut Vec<String>, what: &str, want: Option<&[String]>, have: &[String]) {
    if let Some(want) = want
        && want != have
    {
        errors.push(format!("{what} is {have:?}, expected {want:?}"));
    }
}

/// A path's mode in Go's notation, which the reference tool's `permissions` are written in:
/// `d`, `L` for the kind, `u`, `g`, `t` for setuid, setgid and sticky, then `rwx` three times
/// (`-` when no letter comes first).
pub fn mode_string(entry: &PathEntry) -> String {
    let mut out = String::new();
    if entry.kind == PathKind::Directory {
        out.push('d');
    }
    if entry.kind == PathKind::Symlink {
        out.push('L');
    }
    for (bit, letter) in [(0o4000, 'u'), (0o2000, 'g'), (0o1000, 't')] {
        if entry.mode & bit != 0 {
            out.push(letter);
        }
    }
    if out.is_empty() {
        out.push('-');
    }
    for (i, letter) in "rwxrwxrwx".chars().enumerate() {
        let bit = 1 << (8 - i);
        out.push(if entry.mode & bit != 0 { letter } else { '-' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: PathKind, mode: u32) -> PathEntry {
        PathEntry {
            kind,
            mode,
            uid: 0,
            gid: 0,
            link: None,
            content: None,
        }
    }

    #[test]
    fn modes_in_go_notation() {
        // Each as the reference tool showed it for the same file.
        assert_eq!(mode_string(&entry(PathKind::File, 0o640)), "-rw-r-----");
        assert_eq!(mode_string(&entry(PathKind::File, 0o4755)), "urwxr-xr-x");
        assert_eq!(
            mode_string(&entry(PathKind::Directory, 0o1777)),
            "dtrwxrwxrwx"
        );
        assert_eq!(mode_string(&entry(PathKind::Symlink, 0o777)), "Lrwxrwxrwx");
        assert_eq!(mode_string(&entry(PathKind::File, 0o2711)), "grwx--x--x");
        assert_eq!(mode_string(&entry(PathKind::HardLink, 0o644)), "-rw-r--r--");
    }
}
