//! The inputs of an image — everything known before building that determines its content —
//! as per-component digests and one digest over them all. Equal inputs on equal parents give
//! equal images, so the lock can tell what changed and why.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::{Catalog, Image, Origin};
use crate::context::{Entry, EntryKind, FileDigests};
use crate::hash::{self, Hasher};
use crate::lock::LockEntry;

/// Bumped whenever the way inputs are hashed changes, so old lock entries stop matching.
pub const INPUTS_FORMAT: &str = "hier-inputs/1";

/// The components, in the order a plan reports them.
pub const COMPONENTS: &[&str] = &[
    "dockerfile",
    "context",
    "build_args",
    "labels",
    "version",
    "platform",
    "from",
    "secrets",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub digest: String,
    pub components: BTreeMap<String, String>,
}

impl Inputs {
    /// The components whose digests differ from `recorded` (in report order).
    pub fn changed_components(&self, recorded: &BTreeMap<String, String>) -> Vec<&'static str> {
        COMPONENTS
            .iter()
            .copied()
            .filter(|c| self.components.get(*c) != recorded.get(*c))
            .collect()
    }
}

/// The digest of a context's entries: paths, types, the executable bit, contents and symlink
/// targets. `skip` leaves out the committed rendering of a templated image's Dockerfile.
pub fn context_digest(
    root: &Path,
    entries: &[Entry],
    files: &FileDigests,
    skip: Option<&str>,
) -> std::io::Result<String> {
    context_digest_with(entries, skip, |entry| {
        files.digest(&root.join(&entry.path), entry)
    })
}

/// [`context_digest`] with the files' digests from `digest_of` (e.g. as they were streamed).
pub fn context_digest_with(
    entries: &[Entry],
    skip: Option<&str>,
    mut digest_of: impl FnMut(&Entry) -> std::io::Result<String>,
) -> std::io::Result<String> {
    let mut h = Hasher::new();
    h.field(INPUTS_FORMAT);
    for entry in entries {
        if skip.is_some_and(|s| entry.path == *s) {
            continue;
        }
        match &entry.kind {
            EntryKind::Dir => h.field("dir").field(&entry.path),
            EntryKind::File => {
                let digest = digest_of(entry)?;
                h.field("file")
                    .field(&entry.path)
                    .field(if entry.executable() { "x" } else { "-" })
                    .field(digest)
            }
            EntryKind::Symlink(target) => h.field("symlink").field(&entry.path).field(target),
            EntryKind::Fifo => h.field("fifo").field(&entry.path),
            EntryKind::CharDevice => h
                .field("char")
                .field(&entry.path)
                .field(entry.rdev.to_string()),
            EntryKind::BlockDevice => h
                .field("block")
                .field(&entry.path)
                .field(entry.rdev.to_string()),
        };
    }
    Ok(h.finish())
}

/// The inputs of one image, given its Dockerfile (stable rendering or hand-written file) and
/// its context digest. For a base, the identity of `from` recorded in `locked` is an input; for
/// an image that lists build secrets, their names (never their values).
pub fn compute(
    catalog: &Catalog,
    image: &Image,
    dockerfile: &[u8],
    context: String,
    locked: Option<&LockEntry>,
) -> Inputs {
    let mut components = BTreeMap::new();
    components.insert("dockerfile".to_string(), hash::digest(dockerfile));
    components.insert("context".to_string(), context);
    let mut args = Hasher::new();
    for (k, v) in &image.build_args {
        args.field(k).field(v);
    }
    components.insert("build_args".to_string(), args.finish());
    let mut labels = Hasher::new();
    let mut declared = catalog.labels.clone();
    declared.extend(image.labels.clone());
    for (k, v) in &declared {
        labels.field(k).field(v);
    }
    components.insert("labels".to_string(), labels.finish());
    components.insert(
        "version".to_string(),
        hash::digest(image.version.to_string()),
    );
    components.insert("platform".to_string(), hash::digest(&catalog.platform));
    if let Origin::Base { from, .. } = &image.origin {
        let mut h = Hasher::new();
        h.field(from);
        h.field(
            locked
                .and_then(|l| l.upstream_digest.as_deref())
                .unwrap_or(""),
        );
        components.insert("from".to_string(), h.finish());
    }
    // Only when there are some, so that the inputs of every image without secrets stay as they
    // were before secrets existed.
    if !image.secrets.is_empty() {
        components.insert("secrets".to_string(), secret_names(&image.secrets));
    }
    Inputs {
        digest: total(&components),
        components,
    }
}

/// The digest of the secret ids a build may mount, in any order: their names, never values.
fn secret_names(ids: &[String]) -> String {
    let sorted: std::collections::BTreeSet<&String> = ids.iter().collect();
    let mut h = Hasher::new();
    for id in sorted {
        h.field(id);
    }
    h.finish()
}

/// The inputs of a base once the identity of its `from` is known (a base built for the first
/// time has none recorded yet).
pub fn with_upstream(inputs: &Inputs, from: &str, upstream: &str) -> Inputs {
    let mut components = inputs.components.clone();
    let mut h = Hasher::new();
    h.field(from).field(upstream);
    components.insert("from".to_string(), h.finish());
    Inputs {
        digest: total(&components),
        components,
    }
}

fn total(components: &BTreeMap<String, String>) -> String {
    let mut all = Hasher::new();
    all.field(INPUTS_FORMAT);
    for (name, digest) in components {
        all.field(name).field(digest);
    }
    all.finish()
}

/// The fingerprint of a build: its inputs plus the exact images it was built on.
pub fn fingerprint(
    inputs: &Inputs,
    parent_image_id: Option<&str>,
    uses: &BTreeMap<String, String>,
) -> String {
    let mut h = Hasher::new();
    h.field(INPUTS_FORMAT).field(&inputs.digest);
    h.field(parent_image_id.unwrap_or(""));
    for (name, id) in uses {
        h.field(name).field(id);
    }
    h.finish()
}
