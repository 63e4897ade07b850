//! What earlier refreshes read of each image (its packages and sources, or that it has none),
//! kept in `.hier/refresh-facts.json` by image id. An image id names the image's content, so
//! what was read of it stays true: a refresh reads only the images it has not read before, and
//! a night with nothing new costs the index downloads alone. The file is local state, never
//! committed; it is checked when read (its format version, image ids, package managers,
//! source sets, package names and versions), and one that does not pass is ignored whole, as if
//! it were not there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::index;
use super::sources::{self, Facts};
use crate::lock::is_digest;

/// What was read of an image: its facts, or why it has nothing to check.
pub type Known = BTreeMap<String, Result<Facts, String>>;

/// The file's format: a file of another is ignored (what is read of an image may change with
/// it).
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    images: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Entry {
    Facts(Facts),
    Nothing(String),
}

fn path(root: &Path) -> PathBuf {
    crate::state::dir(root).join("refresh-facts.json")
}

/// What earlier refreshes read; empty when there is nothing (or nothing valid) to read, or the
/// state folder or the file is a symlink.
pub fn load(root: &Path) -> Known {
    let path = path(root);
    let linked = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if linked(&crate::state::dir(root)) || linked(&path) {
        return Known::new();
    }
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Known::new();
    };
    let Ok(file) = serde_json::from_str::<File>(&text) else {
        return Known::new();
    };
    if file.version != VERSION {
        return Known::new();
    }
    let entries = file.images;
    let mut known = Known::new();
    for (id, entry) in entries {
        let valid = is_digest(&id)
            && match &entry {
                Entry::Facts(f) => {
                    sources::is_sources(f.manager, &f.sources)
                        && f.installed.iter().all(|(name, version)| {
                            index::is_package_name(name) && index::is_version(version)
                        })
                }
                Entry::Nothing(why) => {
                    [sources::NO_MANAGER, sources::NO_SOURCES].contains(&why.as_str())
                }
            };
        if !valid {
            return Known::new();
        }
        known.insert(
            id,
            match entry {
                Entry::Facts(f) => Ok(f),
                Entry::Nothing(why) => Err(why),
            },
        );
    }
    known
}

/// Keeps what is known of the images in `ids` (the recorded ones), for the next refresh. The
/// state folder exists by now (the run holds its lock), and is not a symlink.
pub fn save(root: &Path, known: &Known, ids: &BTreeSet<&str>) -> std::io::Result<()> {
    let images: BTreeMap<String, Entry> = known
        .iter()
        .filter(|(id, _)| ids.contains(id.as_str()))
        .map(|(id, read)| {
            let entry = match read {
                Ok(f) => Entry::Facts(f.clone()),
                Err(why) => Entry::Nothing(why.clone()),
            };
            (id.clone(), entry)
        })
        .collect();
    let file = File {
        version: VERSION,
        images,
    };
    let text = serde_json::to_string(&file).expect("facts serialise");
    crate::lock::write_atomic(&path(root), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::sources::Manager;

    const ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn what_was_read_comes_back_and_a_tampered_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".hier")).unwrap();
        let facts = Facts {
            manager: Manager::Apt,
            installed: BTreeMap::from([("curl".into(), "7.88.1-10".into())]),
            sources: "apt sha256:0123456789ab".into(),
            held: Default::default(),
        };
        let other = ID.replace("0123", "4567");
        let known = Known::from([
            (ID.to_string(), Ok(facts)),
            (other.clone(), Err(sources::NO_SOURCES.to_string())),
        ]);
        save(dir.path(), &known, &BTreeSet::from([ID, other.as_str()])).unwrap();
        assert_eq!(load(dir.path()), known);
        // Only the recorded images are kept.
        save(dir.path(), &known, &BTreeSet::from([ID])).unwrap();
        assert_eq!(load(dir.path()).len(), 1);
        // A value of the wrong shape makes the whole file ignored.
        let file = dir.path().join(".hier/refresh-facts.json");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replace("apt sha256:0123456789ab", "apt; rm -rf /"),
        )
        .unwrap();
        assert!(load(dir.path()).is_empty());
        std::fs::write(&file, text.replace("7.88.1-10", "7.88\u{e9}")).unwrap();
        assert!(load(dir.path()).is_empty());
        std::fs::write(&file, text.replace("\"version\":1", "\"version\":2")).unwrap();
        assert!(load(dir.path()).is_empty());
        std::fs::write(&file, "not json").unwrap();
        assert!(load(dir.path()).is_empty());
    }
}
