//! The inputs of an image — everything known before building that determines its content —
//! as per-component digests and one digest over them all. Equal inputs on equal parents give
//! equal images, so the lock can tell what changed and why; beside the digests, the finer
//! [`Detail`] a plan names what changed with (which files, which variables).

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
    /// What explains a change of the components; never part of the digests.
    pub detail: Detail,
}

/// Finer digests of some components, so a plan can say what in them changed. Each is short
/// ([`crate::hash::short`]: `sha256:` and 12 hex digits), enough to tell a change apart, and
/// keeps the lock that records them small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// Each context entry's digest (its kind, executable bit, content or target) by path, as
    /// people read it ([`crate::context::RawPath::shown`]).
    pub files: BTreeMap<String, String>,
    /// Each variable a templated image is rendered with, by top-level key.
    pub vars: BTreeMap<String, String>,
    /// What else a templated image's rendering is made of: the templates and partials, and
    /// the data besides the variables.
    pub template: Option<String>,
    /// A base's `from`, as written.
    pub from: Option<String>,
}

/// The digest of a context's entries: paths, types, the executable bit, contents and symlink
/// targets; and each entry's own digest by path ([`Detail::files`]). `skip` leaves out the
/// committed rendering of a templated image's Dockerfile.
pub fn context_digest(
    root: &Path,
    entries: &[Entry],
    files: &FileDigests,
    skip: Option<&str>,
) -> std::io::Result<(String, BTreeMap<String, String>)> {
    let mut each = BTreeMap::new();
    let digest = context_digest_with(entries, skip, |entry| {
        let content = files.digest(&root.join(&entry.path), entry)?;
        add_entry(&mut each, entry, &content);
        Ok(content)
    })?;
    for entry in entries.iter().filter(|e| e.kind != EntryKind::File) {
        if skip.is_none_or(|s| entry.path != *s) {
            add_entry(&mut each, entry, "");
        }
    }
    Ok((digest, each))
}

/// One entry's digest, by the path people read (two names shown alike share one digest).
fn add_entry(each: &mut BTreeMap<String, String>, entry: &Entry, content: &str) {
    let mut h = Hasher::new();
    match &entry.kind {
        EntryKind::Dir => h.field("dir"),
        EntryKind::File => h
            .field("file")
            .field(if entry.executable() { "x" } else { "-" })
            .field(content),
        EntryKind::Symlink(target) => h.field("symlink").field(target),
        EntryKind::Fifo => h.field("fifo"),
        EntryKind::CharDevice => h.field("char").field(entry.rdev.to_string()),
        EntryKind::BlockDevice => h.field("block").field(entry.rdev.to_string()),
    };
    let shown = entry.path.shown();
    if let Some(other) = each.get(&shown) {
        h.field(other);
    }
    each.insert(shown, hash::short(&h.finish()));
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
        detail: Detail::default(),
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
        detail: inputs.detail.clone(),
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
