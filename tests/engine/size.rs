//! `hier size` against the real engine: each layer's bytes with the Dockerfile line that made
//! it, the bytes wasted in paths more than one layer holds (equal to what dive reports), and a
//! package cache left in the image, named with its files.

use super::common::hierarchy::Hierarchy;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.heavy]
parent = "base"
version = "1.0.0"
dockerfile = "images/heavy/Dockerfile"
"#;

/// A file written, then written again bigger, a folder of two files removed, and a cache left.
const DOCKERFILE: &str = "ARG HIER_PARENT
FROM ${HIER_PARENT}
RUN head -c 100000 /dev/zero > /data && mkdir -p /tmp/junk && head -c 30000 /dev/zero > /tmp/junk/a && head -c 20000 /dev/zero > /tmp/junk/b
RUN head -c 150000 /dev/zero > /data
RUN rm -rf /tmp/junk && mkdir -p /var/cache/apk && head -c 7000 /dev/zero > /var/cache/apk/APKINDEX.tar.gz
RUN head -c 10 /dev/zero > \"/var/cache/apk/$(printf '\\033')[2J\"
";

#[test]
fn size_names_each_layer_and_counts_wasted_bytes_as_dive_does() {
    let h = Hierarchy::new("size", IMAGES);
    h.repo.write("images/heavy/Dockerfile", DOCKERFILE);
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = h.hier(&["size", "heavy", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let size: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let own: Vec<(&str, u64)> = size["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["own"] == true)
        .map(|l| (l["made_by"].as_str().unwrap(), l["bytes"].as_u64().unwrap()))
        .collect();
    assert_eq!(own.len(), 4, "{own:?}");
    assert!(
        own[0]
            .0
            .starts_with("images/heavy/Dockerfile:3 RUN head -c 100000"),
        "{own:?}"
    );
    assert_eq!(own[0].1, 150_000);
    assert!(
        own[1]
            .0
            .starts_with("images/heavy/Dockerfile:4 RUN head -c 150000"),
        "{own:?}"
    );
    assert_eq!(own[1].1, 150_000);
    assert!(
        own[2]
            .0
            .starts_with("images/heavy/Dockerfile:5 RUN rm -rf /tmp/junk"),
        "{own:?}"
    );
    // `/data` twice (100 000 + 150 000 bytes); `/tmp/junk` removed counts its files once
    // more in dive's way, and the files themselves were written once.
    let wasted = size["wasted"]["bytes"].as_u64().unwrap();
    let data = size["wasted"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "/data")
        .unwrap();
    assert_eq!(
        (data["bytes"].as_u64(), data["layers"].as_u64()),
        (Some(250_000), Some(2))
    );
    let id = h.entry("heavy")["image_id"].as_str().unwrap().to_string();
    assert_eq!(wasted, super::common::dive::wasted(&id));
    let caches = &size["caches"];
    assert_eq!(caches[0]["kind"], "apk cache");
    assert_eq!(
        caches[0]["files"][0]["path"],
        "/var/cache/apk/APKINDEX.tar.gz"
    );
    assert_eq!(caches[0]["bytes"], 7010);
    // The text names the same things.
    let text = h.hier(&["size", "heavy"]).stdout;
    assert!(
        text.contains("images/heavy/Dockerfile:4 RUN head -c 150000 /dev/zero > /data"),
        "{text}"
    );
    assert!(
        text.contains("apk cache left in the image: 7.0 kB in 2 files"),
        "{text}"
    );
    // A name the image chose is shown escaped, never as a terminal's escape sequence.
    assert!(text.contains("/var/cache/apk/\\u{1b}[2J"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");

    // A Dockerfile changed since the build no longer names the layers it did not make.
    h.repo.write(
        "images/heavy/Dockerfile",
        &format!("# moved down a line\n{DOCKERFILE}"),
    );
    let run = h.hier(&["size", "heavy", "--format", "json"]);
    let size: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let made_by: Vec<&str> = size["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["own"] == true)
        .map(|l| l["made_by"].as_str().unwrap())
        .collect();
    assert!(
        made_by[1].contains("/bin/sh -c head -c 150000"),
        "{made_by:?}"
    );
    assert!(
        made_by.iter().all(|m| !m.contains("Dockerfile:")),
        "{made_by:?}"
    );
}
