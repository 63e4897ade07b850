//! Reading an image as the engine saves it (`docker save`: the classic layout with
//! `<id>/layer.tar`, or the OCI layout with `blobs/sha256/…`), in one pass over the stream:
//! each layer's entries (path, bytes, kind; never their contents), the image's history from its
//! config, and the order of its layers from `manifest.json`. Memory grows with the number of
//! files, never with their size: an image of several GB is read in a few MB.

use std::collections::BTreeMap;
use std::io::{self, Read};

use serde_json::Value;

/// What an entry of a layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A symlink or a hard link (no bytes of its own).
    Link,
    /// `.wh.<name>`: `<name>` (and all below it) is removed from the layers under this one.
    Whiteout,
    /// `.wh..wh..opq`: the folder hides everything the layers under this one put in it.
    Opaque,
}

/// One entry of a layer: its absolute path (for a whiteout, the path it removes; for an opaque
/// marker, its folder), its bytes and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub kind: Kind,
}

/// One entry of the image's history: the command recorded, and whether it made a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub created_by: String,
    pub empty_layer: bool,
}

/// A saved image: its layers, bottom first, and its history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    pub layers: Vec<Vec<Entry>>,
    pub history: Vec<Step>,
}

/// Small files of the archive that may be its manifest, index or config (JSON), kept whole.
const SMALL: u64 = 4 << 20;

/// Reads a saved image from `stream`.
pub fn read(stream: impl Read) -> io::Result<Saved> {
    let mut layers: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    let mut small: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // The engine saves a layer that repeats an earlier one as a symlink to it.
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    let mut outer = tar::Archive::new(stream);
    for entry in outer.entries()? {
        let mut entry = entry?;
        let name = shown(&entry.path_bytes());
        if entry.header().entry_type().is_symlink() {
            if let Some(target) = entry.link_name_bytes() {
                links.insert(name.clone(), beside(&name, &shown(&target)));
            }
            continue;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.header().size()?;
        let mut head = [0u8; 512];
        let got = read_up_to(&mut entry, &mut head)?;
        let rest = io::Cursor::new(head[..got].to_vec()).chain(&mut entry);
        if got >= 2 && head[0] == 0x1f && head[1] == 0x8b {
            layers.insert(name, entries(flate2::read::GzDecoder::new(rest))?);
        } else if got == 512 && &head[257..262] == b"ustar" {
            layers.insert(name, entries(rest)?);
        } else if size <= SMALL {
            let mut bytes = Vec::new();
            io::copy(&mut rest.take(SMALL), &mut bytes)?;
            small.insert(name, bytes);
        }
    }
    for (link, target) in links {
        if let Some(entries) = layers.get(&target).cloned() {
            layers.insert(link, entries);
        }
    }
    order(layers, &small)
}

/// `target` of a symlink at `link`, as a path of the archive (`../a/layer.tar` from `b/layer.tar`
/// is `a/layer.tar`).
fn beside(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// A name from the archive as text: UTF-8 as it is, any other byte as `\xNN` (so two names
/// that differ only there stay two names).
fn shown(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// The entries of one layer's tar.
fn entries(layer: impl Read) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in tar::Archive::new(layer).entries()? {
        let entry = entry?;
        let path = absolute(&shown(&entry.path_bytes()));
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", &path));
        let kind = entry.header().entry_type();
        let item = if name == ".wh..wh..opq" {
            Entry {
                path: nonempty(folder),
                size: 0,
                kind: Kind::Opaque,
            }
        } else if let Some(hidden) = name.strip_prefix(".wh.") {
            Entry {
                path: format!("{folder}/{hidden}"),
                size: 0,
                kind: Kind::Whiteout,
            }
        } else if kind.is_dir() {
            Entry {
                path,
                size: 0,
                kind: Kind::Dir,
            }
        } else if kind.is_file() {
            Entry {
                path,
                size: entry.header().size()?,
                kind: Kind::File,
            }
        } else {
            Entry {
                path,
                size: 0,
                kind: Kind::Link,
            }
        };
        out.push(item);
    }
    Ok(out)
}

/// `./etc/passwd`, `etc/` → `/etc/passwd`, `/etc`.
fn absolute(raw: &str) -> String {
    let trimmed = raw.trim_start_matches("./").trim_matches('/');
    format!("/{trimmed}")
}

fn nonempty(folder: &str) -> String {
    if folder.is_empty() {
        "/".into()
    } else {
        folder.to_string()
    }
}

/// The layers in the manifest's order, and the config's history.
fn order(
    layers: BTreeMap<String, Vec<Entry>>,
    small: &BTreeMap<String, Vec<u8>>,
) -> io::Result<Saved> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let manifest: Value = small
        .get("manifest.json")
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| bad("the saved image has no manifest.json"))?;
    let first = &manifest[0];
    let config: Value = first["Config"]
        .as_str()
        .and_then(|c| small.get(c))
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| bad("the saved image has no config"))?;
    let mut saved = Saved::default();
    for path in first["Layers"].as_array().into_iter().flatten() {
        let path = path.as_str().unwrap_or_default();
        // An empty layer (`WORKDIR` of a folder that exists) is a tar of zeros.
        saved
            .layers
            .push(layers.get(path).cloned().unwrap_or_default());
    }
    for step in config["history"].as_array().into_iter().flatten() {
        saved.history.push(Step {
            created_by: step["created_by"].as_str().unwrap_or_default().to_string(),
            empty_layer: step["empty_layer"].as_bool().unwrap_or(false),
        });
    }
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, content) in files {
            if let Some(target) = path.strip_prefix("link:") {
                let (link, target) = target.split_once("->").unwrap();
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, link, target).unwrap();
                continue;
            }
            let mut header = tar::Header::new_gnu();
            if path.ends_with('/') {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
            } else {
                header.set_size(content.len() as u64);
            }
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *content).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn a_saved_image_gives_its_layers_in_order_and_its_history() {
        let bottom = tar_of(&[
            ("etc/", b""),
            ("etc/a", b"12345"),
            ("tmp/big", &[0u8; 3000]),
        ]);
        let top = tar_of(&[
            ("tmp/.wh.big", b""),
            ("etc/.wh..wh..opq", b""),
            ("etc/b", b"xy"),
        ]);
        let config = br#"{"history":[{"created_by":"ADD rootfs"},{"created_by":"ENV A=b","empty_layer":true},{"created_by":"RUN rm /tmp/big"}]}"#;
        let manifest =
            br#"[{"Config":"cfg.json","Layers":["l2/layer.tar","l1/layer.tar","l3/layer.tar"]}]"#;
        let saved = tar_of(&[
            ("l1/layer.tar", &top),
            ("l2/layer.tar", &bottom),
            ("link:l3/layer.tar->../l1/layer.tar", b""),
            ("cfg.json", config),
            ("manifest.json", manifest),
        ]);
        let image = read(&saved[..]).unwrap();
        assert_eq!(image.layers.len(), 3);
        assert_eq!(
            image.layers[2], image.layers[1],
            "a repeated layer is saved as a link"
        );
        assert_eq!(
            image.layers[0],
            [
                Entry {
                    path: "/etc".into(),
                    size: 0,
                    kind: Kind::Dir
                },
                Entry {
                    path: "/etc/a".into(),
                    size: 5,
                    kind: Kind::File
                },
                Entry {
                    path: "/tmp/big".into(),
                    size: 3000,
                    kind: Kind::File
                },
            ]
        );
        assert_eq!(
            image.layers[1],
            [
                Entry {
                    path: "/tmp/big".into(),
                    size: 0,
                    kind: Kind::Whiteout
                },
                Entry {
                    path: "/etc".into(),
                    size: 0,
                    kind: Kind::Opaque
                },
                Entry {
                    path: "/etc/b".into(),
                    size: 2,
                    kind: Kind::File
                },
            ]
        );
        assert_eq!(image.history.len(), 3);
        assert!(image.history[1].empty_layer);
    }
}
