//! `hier docs` against the real engine: each built image's page shows the size the engine
//! reports, the bytes it adds over its parent, and its OS packages read from the image; an
//! image whose recorded build the engine no longer holds shows the size its build recorded
//! and says its packages are not known; one never built says so.

use super::common::engine::{docker, dpkg_status};
use super::common::hierarchy::Hierarchy;
use super::common::site::assert_valid_html;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.pkgs]
parent = "base"
version = "1.0.0"
dockerfile = "images/pkgs/Dockerfile"

[images.gone]
parent = "base"
version = "1.0.0"
template = "layer.hbs"
"#;

#[test]
fn pages_show_sizes_and_packages_the_engine_reports() {
    let h = Hierarchy::new("docs", IMAGES);
    h.repo.write(
        "images/pkgs/status",
        &dpkg_status(&[("dpkg", "1.21.22"), ("hello", "2.10-3")]),
    );
    h.repo.write(
        "images/pkgs/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCOPY status /var/lib/dpkg/status\nRUN head -c 300000 /dev/zero > /blob\n",
    );
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // `gone`'s recorded build leaves the engine; `late` is added and never built.
    let gone = h.entry("gone")["image_id"].as_str().unwrap().to_string();
    docker(&["image", "rm", "-f", &gone]);
    let catalog = h.repo.read("catalog.toml");
    h.repo.write(
        "catalog.toml",
        &format!("{catalog}\n[images.late]\nparent = \"base\"\nversion = \"1.0.0\"\ntemplate = \"layer.hbs\"\n"),
    );

    let run = h.hier(&["docs", "--out", "site", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            &report["contents_known"],
            &report["contents_unknown"],
            &report["not_built"]
        ),
        (&2.into(), &1.into(), &1.into())
    );
    let out = h.repo.path().join("site");
    assert_valid_html(&out);
    let read =
        |name: &str| std::fs::read_to_string(out.join(format!("images/{name}.html"))).unwrap();

    let size = |image: &str| -> u64 {
        let id = h.entry(image)["image_id"].as_str().unwrap().to_string();
        docker(&["image", "inspect", &id, "--format", "{{.Size}}"])
            .parse()
            .unwrap()
    };
    let (base_size, pkgs_size) = (size("base"), size("pkgs"));
    let pkgs = read("pkgs");
    assert!(pkgs.contains(&format!("({pkgs_size} bytes)")), "{pkgs}");
    let added = pkgs_size - base_size;
    assert!(added >= 300_000, "{added}");
    let shown = format!(
        "<dt>Added over its parent</dt><dd>{}</dd>",
        hier::budget::shown(added)
    );
    assert!(pkgs.contains(&shown), "{shown}\n{pkgs}");
    assert!(pkgs.contains("<p>2 packages.</p>"), "{pkgs}");
    assert!(
        pkgs.contains("<tr><td>hello</td><td>2.10-3</td></tr>"),
        "{pkgs}"
    );
    assert!(!pkgs.contains("removed"), "{pkgs}");

    let base = read("base");
    assert!(base.contains(&format!("({base_size} bytes)")), "{base}");
    assert!(
        base.contains("The image has no dpkg or apk package database."),
        "{base}"
    );
    let gone_page = read("gone");
    assert!(
        gone_page.contains(&format!(
            "Not known: the engine does not hold the recorded build {} (built elsewhere, or removed).",
            hier::hash::short(&gone)
        )),
        "{gone_page}"
    );
    // Its size is the one recorded at its build.
    let recorded = h.entry("gone")["size"].as_integer().unwrap() as u64;
    assert!(
        gone_page.contains(&format!(
            "<p>As recorded at its build:</p>\n<dl>\n<dt>Size</dt><dd>{} ({recorded} bytes)</dd>",
            hier::budget::shown(recorded)
        )),
        "{gone_page}"
    );
    assert!(read("late").contains("Not built: hier.lock records no build of it."));
}
