//! What a saved image's layers say about its size (pure): the bytes each layer adds and the
//! history entry that made it; the bytes of every path more than one layer holds (written again,
//! changed or removed later: dive's "inefficient bytes", counted the way dive counts them, so the
//! two agree); and the package-manager caches left in the final filesystem.

use std::collections::BTreeMap;

use super::archive::{Entry, Kind, Saved};

/// One layer: its position (1 is the bottom), its bytes and the command the history records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub index: usize,
    pub bytes: u64,
    pub created_by: String,
}

/// A path more than one layer holds: its bytes in all of them, and how many hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated {
    pub path: String,
    pub bytes: u64,
    pub layers: usize,
}

/// A package-manager cache left in the image: what it is, and its files with their bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    pub kind: &'static str,
    pub bytes: u64,
    pub files: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub layers: Vec<Layer>,
    /// Largest first.
    pub repeated: Vec<Repeated>,
    pub wasted: u64,
    pub caches: Vec<Cache>,
}

pub fn analyse(saved: &Saved) -> Analysis {
    let commands: Vec<&str> = saved
        .history
        .iter()
        .filter(|s| !s.empty_layer)
        .map(|s| s.created_by.as_str())
        .collect();
    let layers = saved
        .layers
        .iter()
        .enumerate()
        .map(|(i, entries)| Layer {
            index: i + 1,
            bytes: entries.iter().map(|e| e.size).sum(),
            created_by: commands.get(i).copied().unwrap_or_default().to_string(),
        })
        .collect();
    let mut seen: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    let mut fs: BTreeMap<String, u64> = BTreeMap::new();
    for entries in &saved.layers {
        for entry in leaves(entries) {
            let bytes = match entry.kind {
                // dive counts a removed folder by the files it held, a removed file as 0.
                Kind::Whiteout => under(&fs, &entry.path)
                    .filter(|(k, _)| **k != entry.path)
                    .map(|(_, b)| b)
                    .sum(),
                _ => entry.size,
            };
            let slot = seen.entry(entry.path.clone()).or_default();
            *slot = (slot.0 + bytes, slot.1 + 1);
        }
        apply(&mut fs, entries);
    }
    let mut repeated: Vec<Repeated> = seen
        .into_iter()
        .filter(|(_, (_, n))| *n > 1)
        .map(|(path, (bytes, layers))| Repeated {
            path,
            bytes,
            layers,
        })
        .collect();
    repeated.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    Analysis {
        layers,
        wasted: repeated.iter().map(|r| r.bytes).sum(),
        repeated,
        caches: caches(&fs),
    }
}

/// The entries of a layer that have no other entry below them in the same layer (what dive
/// visits: a folder holding files is not itself counted).
fn leaves(entries: &[Entry]) -> impl Iterator<Item = &Entry> {
    let mut paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    entries.iter().filter(move |e| {
        if e.kind == Kind::Opaque {
            return false;
        }
        let prefix = format!("{}/", e.path.trim_end_matches('/'));
        let at = paths.partition_point(|p| *p < prefix.as_str());
        !paths.get(at).is_some_and(|p| p.starts_with(&prefix))
    })
}

/// The files at and below `path`, with their bytes.
fn under<'a>(fs: &'a BTreeMap<String, u64>, path: &str) -> impl Iterator<Item = (&'a String, u64)> {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let own = fs.get_key_value(path).map(|(k, v)| (k, *v));
    own.into_iter().chain(
        fs.range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k, *v)),
    )
}

/// The filesystem after a layer: its opaque folders and whiteouts remove what lies under, then
/// its entries are added.
fn apply(fs: &mut BTreeMap<String, u64>, entries: &[Entry]) {
    for entry in entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::Opaque | Kind::Whiteout))
    {
        let gone: Vec<String> = under(fs, &entry.path)
            .map(|(k, _)| k.clone())
            .filter(|k| entry.kind == Kind::Whiteout || *k != entry.path)
            .collect();
        for path in gone {
            fs.remove(&path);
        }
    }
    for entry in entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::File | Kind::Dir | Kind::Link))
    {
        fs.insert(entry.path.clone(), entry.size);
    }
}

/// Whether a path of the final filesystem belongs to a cache.
type Holds = fn(&str) -> bool;

/// The caches package managers leave, by where they keep them.
const CACHES: [(&str, Holds); 6] = [
    ("apt lists", |p| {
        p.starts_with("/var/lib/apt/lists/") && !p.ends_with("/lock")
    }),
    ("apt archives", |p| {
        p.starts_with("/var/cache/apt/archives/") && p.ends_with(".deb")
    }),
    ("apt package cache", |p| {
        p.starts_with("/var/cache/apt/") && p.ends_with(".bin")
    }),
    ("apk cache", |p| p.starts_with("/var/cache/apk/")),
    ("pip cache", |p| p.contains("/.cache/pip/")),
    ("npm cache", |p| p.contains("/.npm/_cacache/")),
];

fn caches(fs: &BTreeMap<String, u64>) -> Vec<Cache> {
    CACHES
        .iter()
        .filter_map(|(kind, holds)| {
            let mut files: Vec<(String, u64)> = fs
                .iter()
                .filter(|(p, b)| **b > 0 && holds(p))
                .map(|(p, b)| (p.clone(), *b))
                .collect();
            files.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let bytes = files.iter().map(|(_, b)| b).sum();
            (bytes > 0).then_some(Cache { kind, bytes, files })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::archive::Step;
    use super::*;

    fn file(path: &str, size: u64) -> Entry {
        Entry {
            path: path.into(),
            size,
            kind: Kind::File,
        }
    }

    fn entry(path: &str, kind: Kind) -> Entry {
        Entry {
            path: path.into(),
            size: 0,
            kind,
        }
    }

    #[test]
    fn repeated_paths_and_caches_are_counted_as_dive_counts_them() {
        let saved = Saved {
            layers: vec![
                vec![
                    entry("/etc", Kind::Dir),
                    file("/etc/conf", 100),
                    file("/tmp/x/a", 40),
                    file("/tmp/x/b", 60),
                ],
                // Written again (both versions count), a folder removed (its files' bytes
                // count), apt lists left behind.
                vec![
                    file("/etc/conf", 120),
                    entry("/tmp/x", Kind::Whiteout),
                    file("/var/lib/apt/lists/d_InRelease", 5000),
                    file("/var/lib/apt/lists/lock", 0),
                ],
                // A file removed: its earlier version counts, the removal itself is 0 bytes.
                vec![entry("/var/lib/apt/lists/d_InRelease", Kind::Whiteout)],
            ],
            history: vec![
                Step {
                    created_by: "ADD rootfs".into(),
                    empty_layer: false,
                },
                Step {
                    created_by: "ENV A=b".into(),
                    empty_layer: true,
                },
                Step {
                    created_by: "RUN apt-get update".into(),
                    empty_layer: false,
                },
                Step {
                    created_by: "RUN rm".into(),
                    empty_layer: false,
                },
            ],
        };
        let a = analyse(&saved);
        assert_eq!(
            a.layers
                .iter()
                .map(|l| (l.bytes, l.created_by.as_str()))
                .collect::<Vec<_>>(),
            [
                (200, "ADD rootfs"),
                (5120, "RUN apt-get update"),
                (0, "RUN rm")
            ]
        );
        assert_eq!(
            a.repeated,
            [
                Repeated {
                    path: "/var/lib/apt/lists/d_InRelease".into(),
                    bytes: 5000,
                    layers: 2
                },
                Repeated {
                    path: "/etc/conf".into(),
                    bytes: 220,
                    layers: 2
                },
            ]
        );
        // `/tmp/x` was one folder entry-less in the first layer: its files were leaves there.
        assert_eq!(a.wasted, 5220);
        assert!(
            a.caches.is_empty(),
            "the lists were removed: {:?}",
            a.caches
        );
    }

    #[test]
    fn caches_left_in_the_final_filesystem_are_named_with_their_files() {
        let saved = Saved {
            layers: vec![vec![
                file("/var/lib/apt/lists/a_Packages", 900),
                file("/var/lib/apt/lists/lock", 0),
                file("/var/cache/apt/archives/x.deb", 300),
                file("/root/.cache/pip/http/1", 70),
                file("/usr/bin/tool", 5),
            ]],
            history: vec![],
        };
        let kinds: Vec<(&str, u64)> = analyse(&saved)
            .caches
            .iter()
            .map(|c| (c.kind, c.bytes))
            .collect();
        assert_eq!(
            kinds,
            [("apt lists", 900), ("apt archives", 300), ("pip cache", 70)]
        );
    }
}
