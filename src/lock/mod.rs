//! `hier.lock`: what was built and pushed. TOML with a format `version`, sorted, written
//! atomically (temp file + rename) so that a crash leaves either the old or the new lock, and
//! checked value by value when read (`check`).

mod check;
mod place;

pub use check::is_digest;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// The lock format this hier reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// A context of more entries than this records none of them (`context_files`): the lock stays
/// small, and a plan then says `context` without naming files.
pub const MAX_CONTEXT_FILES: usize = 1000;

pub const LOCK_FILE: &str = "hier.lock";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    pub version: u32,
    #[serde(default)]
    pub images: BTreeMap<String, LockEntry>,
}

impl Default for Lock {
    fn default() -> Self {
        Lock {
            version: LOCK_VERSION,
            images: BTreeMap::new(),
        }
    }
}

/// One image's last successful build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockEntry {
    /// Digest of the image's inputs.
    pub inputs: String,
    /// Digest of the inputs plus the exact images it was built on.
    pub fingerprint: String,
    pub image_id: String,
    /// The exact image it was built on (for a base, the local image of `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_image_id: Option<String>,
    /// Identity of `from` (bases): its manifest digest, or its local image id when it was never
    /// pulled from a registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_digest: Option<String>,
    /// Digest of the OS package inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<String>,
    /// The build this one replaced (its immutable tag stays in the engine, for `hier diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_image_id: Option<String>,
    /// The image's size in bytes, and what it adds over its parent, as the engine reported
    /// them after the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<u64>,
    pub built_at: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// A base's `from` as written when it was built, so a plan can say what it moved from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Digest of what a templated image's rendering was made of besides its variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Per-component digests of the inputs, so a plan can say what changed.
    #[serde(default)]
    pub components: BTreeMap<String, String>,
    /// Each variable's digest (templated images), so a plan can name the ones that changed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// Each context entry's digest by path (for a context of at most [`MAX_CONTEXT_FILES`]
    /// entries), so a plan can name the files that changed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context_files: BTreeMap<String, String>,
    /// The exact `uses` images it was built on, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub uses_image_ids: BTreeMap<String, String>,
    /// Digest of the test commands this image passed ([`crate::catalog::Image::tests_digest`]):
    /// when the catalog's tests differ, the plan's action is `test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<String>,
    /// Repository (`<registry>/<name>`) → pushed manifest digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pushed: BTreeMap<String, String>,
}

impl Lock {
    /// Parses a lock file; problems are diagnostics with the file's line and column.
    pub fn parse(source: &SourceFile) -> Result<Lock, Diagnostic> {
        let lock: Lock = toml::from_str(&source.text).map_err(|e| {
            let d = Diagnostic::error(format!("invalid lock file: {}", e.message().trim_end()))
                .help("hier writes this file; restore it from version control, or delete it to rebuild everything");
            match e.span() {
                Some(span) => d.at(source.locate(span)),
                None => d.at_file(source.display.clone()),
            }
        })?;
        if lock.version != LOCK_VERSION {
            return Err(Diagnostic::error(format!(
                "{} has format version {}, and this hier reads version {LOCK_VERSION}",
                source.display.display(),
                lock.version
            ))
            .at_file(source.display.clone())
            .help(if lock.version > LOCK_VERSION {
                "a newer hier wrote it: upgrade hier"
            } else {
                "delete it and rebuild, or use the hier that wrote it"
            }));
        }
        check::check(&lock, source)?;
        Ok(lock)
    }

    /// The text written to disk: a comment line, then sorted TOML.
    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).expect("the lock serialises to TOML");
        format!(
            "# Written by hier after every image it builds or pushes. Commit it; do not edit it.\n{body}"
        )
    }

    /// Writes the lock atomically: a temporary file in the same folder, synced, then renamed.
    pub fn write_atomic(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, self.to_text().as_bytes())
    }
}

/// Writes a file atomically (temporary file in the same folder, fsync, rename, fsync folder).
/// The file keeps the mode it had; a new one gets the mode the umask gives (as any file a
/// program creates), not the temporary file's private one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o666 & !umask(),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".hier-tmp-")
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The process's umask, as the kernel reports it (`022` when it cannot be read).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8) -> LockEntry {
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        LockEntry {
            inputs: digest(char::from(b'0' + n)),
            fingerprint: digest('f'),
            image_id: digest('a'),
            parent_image_id: Some(digest('b')),
            built_at: "2026-11-23T00:00:00Z".into(),
            tags: vec!["1.0.0".into()],
            components: [("context".to_string(), digest('c'))].into(),
            uses_image_ids: [("nginx".to_string(), digest('e'))].into(),
            pushed: [("r/x".to_string(), digest('d'))].into(),
            ..Default::default()
        }
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let mut lock = Lock::default();
        lock.images.insert("zeta".into(), entry(1));
        lock.images.insert("alpha".into(), entry(2));
        let text = lock.to_text();
        assert!(text.find("[images.alpha]").unwrap() < text.find("[images.zeta]").unwrap());
        let back = Lock::parse(&SourceFile::new("hier.lock".into(), text.clone())).unwrap();
        assert_eq!(back, lock);
        assert_eq!(back.to_text(), text);
    }

    #[test]
    fn rejects_other_versions_and_bad_toml_with_a_place() {
        let d =
            Lock::parse(&SourceFile::new("hier.lock".into(), "version = 9\n".into())).unwrap_err();
        assert!(d.message.contains("format version 9"), "{}", d.message);
        let d = Lock::parse(&SourceFile::new(
            "hier.lock".into(),
            "version = 1\n[images.a]\ninputs = 3\n".into(),
        ))
        .unwrap_err();
        assert_eq!(d.place().unwrap(), "hier.lock:3:10");
    }

    #[test]
    fn an_atomic_write_keeps_the_mode_and_a_new_file_follows_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hier.lock");
        write_atomic(&path, b"one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o666 & !umask());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(mode(&path), 0o640);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hier.lock");
        std::fs::write(&path, "old").unwrap();
        Lock::default().write_atomic(&path).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("version = 1")
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
