//! Recording finished images in `hier.lock`: each one at once (the lock is written atomically
//! after every image, so a crash never loses a finished image nor records an unfinished one),
//! or held until the end of a run that promotes everything or nothing (`refresh --atomic`).

use std::path::PathBuf;
use std::time::SystemTime;

use super::exact::Exact;
use super::outcome::Built;
use crate::catalog::Catalog;
use crate::error::Error;
use crate::inputs::{Detail, Inputs};
use crate::lock::{Lock, LockEntry, MAX_CONTEXT_FILES};
use crate::name::ImageName;

pub struct Recorder {
    lock: Lock,
    path: PathBuf,
    hold: bool,
    held: Vec<(ImageName, LockEntry)>,
    /// What each image recorded in this run replaced (an image built again in the same run,
    /// after the builder holding it was lost, still replaces the build from before the run).
    replaced: std::collections::HashMap<ImageName, Option<Option<String>>>,
}

impl Recorder {
    pub fn new(lock: Lock, path: PathBuf, hold: bool) -> Self {
        Recorder {
            lock,
            path,
            hold,
            held: Vec::new(),
            replaced: std::collections::HashMap::new(),
        }
    }

    /// The lock as written so far.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Whether entries wait for the end of the run.
    pub fn holds(&self) -> bool {
        self.hold
    }

    /// Records an image: now, or at the end when the run holds. A new build remembers the one
    /// it replaces.
    pub fn record(&mut self, name: &ImageName, mut entry: LockEntry) -> Result<(), Error> {
        let before = self.lock.images.get(name.as_str());
        let replaced = self.replaced.entry(name.clone()).or_insert_with(|| {
            before.map(|old| match old.image_id == entry.image_id {
                true => old.previous_image_id.clone(),
                false => Some(old.image_id.clone()),
            })
        });
        if let Some(previous) = replaced {
            entry.previous_image_id = previous.clone();
        }
        if self.hold {
            // Built again in this run: the new build is the one to promote.
            self.held.retain(|(held, _)| held != name);
            self.held.push((name.clone(), entry));
            Ok(())
        } else {
            self.write(name, entry)
        }
    }

    /// Writes an entry to the lock now.
    pub fn write(&mut self, name: &ImageName, entry: LockEntry) -> Result<(), Error> {
        self.lock.images.insert(name.to_string(), entry);
        self.lock
            .write_atomic(&self.path)
            .map_err(|e| Error::io("write", self.path.display(), e))
    }

    /// The entries held so far, in the order they finished.
    pub fn take_held(&mut self) -> Vec<(ImageName, LockEntry)> {
        std::mem::take(&mut self.held)
    }
}

/// The lock entry of an image built on the exact images of this run.
pub fn entry(
    catalog: &Catalog,
    exact: &Exact,
    name: &ImageName,
    inputs: &Inputs,
    fingerprint: &str,
    built: &Built,
) -> LockEntry {
    let image = catalog.image(name);
    let mut entry = LockEntry {
        inputs: inputs.digest.clone(),
        fingerprint: fingerprint.to_string(),
        image_id: built.image_id.clone(),
        parent_image_id: Some(exact.parent_id(image).to_string()),
        upstream_digest: exact.upstreams.get(name).map(|u| u.recorded.clone()),
        packages: built.packages.as_ref().and_then(|p| p.digest.clone()),
        built_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        tags: built.tags.clone(),
        components: inputs.components.clone(),
        uses_image_ids: exact.uses_ids(image),
        pushed: built.pushed.clone(),
        tests: Some(image.tests_digest()),
        size: built.sizes.map(|s| s.size),
        added: built.sizes.and_then(|s| s.added),
        ..LockEntry::default()
    };
    record_detail(&mut entry, &inputs.detail);
    entry
}

/// Records what a later plan names changes with: a base's `from`, a rendering's variables and
/// the digest of the rest of it, and the context's files (none past [`MAX_CONTEXT_FILES`]).
pub fn record_detail(entry: &mut LockEntry, detail: &Detail) {
    entry.from = detail.from.clone();
    entry.template = detail.template.clone();
    entry.vars = detail.vars.clone();
    entry.context_files = match detail.files.len() {
        0..=MAX_CONTEXT_FILES => detail.files.clone(),
        _ => Default::default(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_past_the_bound_records_no_files() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let files = |n: usize| (0..n).map(|i| (format!("f{i}"), digest.clone())).collect();
        let mut entry = LockEntry::default();
        let detail = Detail {
            files: files(MAX_CONTEXT_FILES),
            from: Some("busybox:1.36".into()),
            ..Detail::default()
        };
        record_detail(&mut entry, &detail);
        assert_eq!(entry.context_files.len(), MAX_CONTEXT_FILES);
        assert_eq!(entry.from.as_deref(), Some("busybox:1.36"));
        let detail = Detail {
            files: files(MAX_CONTEXT_FILES + 1),
            ..Detail::default()
        };
        record_detail(&mut entry, &detail);
        assert!(entry.context_files.is_empty());
    }
}
