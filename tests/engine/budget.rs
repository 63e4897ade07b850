//! Sizes and budgets against the real engine: a build records the size the engine reports and
//! what it adds over its parent (lock, report, `show`); an image over its budget fails like a
//! failed test, naming its largest layers by the Dockerfile lines that made them, gets no tag,
//! and its dependents are skipped.

use super::common::engine::{docker, docker_succeeds, pairs, statuses};
use super::common::hierarchy::Hierarchy;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.big]
parent = "base"
version = "1.0.0"
dockerfile = "images/big/Dockerfile"
max_added = "1MB"

[images.below]
parent = "big"
version = "1.0.0"
template = "layer.hbs"

[images.small]
parent = "base"
version = "1.0.0"
dockerfile = "images/small/Dockerfile"
max_size = "10MB"
max_added = "1MiB"
"#;

#[test]
fn sizes_are_recorded_and_an_image_over_budget_fails_naming_its_largest_layers() {
    let h = Hierarchy::new("budget", IMAGES);
    h.repo.write(
        "images/big/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN head -c 300000 /dev/zero > /a\nRUN head -c 2000000 /dev/zero > /blob\nENV X=1\n",
    );
    h.repo.write(
        "images/small/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN head -c 200000 /dev/zero > /small\n",
    );
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("base", "built"),
            ("big", "failed"),
            ("small", "built"),
            ("below", "skipped")
        ])
    );
    let big = &report["images"][1];
    let error = big["error"].as_str().unwrap();
    assert!(
        error.starts_with("over budget: it adds 2.")
            && error.contains("MB over its parent, over max_added 1.0 MB by 1."),
        "{error}"
    );
    let output: Vec<&str> = big["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(output[0], "its largest new layers:", "{output:?}");
    assert!(
        output[1].ends_with("images/big/Dockerfile:4 RUN head -c 2000000 /dev/zero > /blob"),
        "{output:?}"
    );
    assert!(output[1].trim_start().starts_with("2.0 MB"), "{output:?}");
    assert!(
        output[2].ends_with("images/big/Dockerfile:3 RUN head -c 300000 /dev/zero > /a"),
        "{output:?}"
    );
    assert!(
        run.stderr
            .contains("images/big/Dockerfile:4 RUN head -c 2000000"),
        "{}",
        run.stderr
    );
    // Kept to examine, never tagged nor recorded.
    let failed_id = big["image_id"].as_str().unwrap();
    assert!(docker_succeeds(&["image", "inspect", failed_id]));
    assert!(!docker_succeeds(&[
        "image",
        "inspect",
        &h.reference("big", "1.0.0")
    ]));
    assert!(!h.lock()["images"].as_table().unwrap().contains_key("big"));

    // What fits records the engine's sizes, in the lock, the report and `show`.
    let size = |image: &str| -> u64 {
        let id = h.entry(image)["image_id"].as_str().unwrap().to_string();
        docker(&["image", "inspect", &id, "--format", "{{.Size}}"])
            .parse()
            .unwrap()
    };
    let (base, small) = (size("base"), size("small"));
    let entry = h.entry("small");
    assert_eq!(entry["size"].as_integer(), Some(small as i64));
    assert_eq!(entry["added"].as_integer(), Some((small - base) as i64));
    assert!(small - base >= 200_000, "{}", small - base);
    assert_eq!(report["images"][2]["size"], small);
    assert_eq!(report["images"][2]["added"], small - base);
    let show = h.hier(&["show", "small"]);
    let shown = format!(
        "; {} ({} over its parent)",
        hier::budget::shown(small),
        hier::budget::shown(small - base)
    );
    assert!(show.stdout.contains(&shown), "{}", show.stdout);
}
