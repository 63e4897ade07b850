//! `hier docs`: the HTML catalog is valid HTML with a page per image; catalog values are shown
//! as text, never markup; unknown contents say why; the folder is written whole, replaces only
//! a catalog hier wrote, and refuses a file, a symlink or someone else's folder (exit 2).

use std::fs;
use std::path::Path;

use super::common::Repo;
use super::common::site::{assert_valid_html, wide_catalog};

const CATALOG: &str = r#"[catalog]
name = "shop <platform>"
registry = "registry.test/shop"

[images.base]
from = "busybox:1.36"
version = "1.0.0"
kind = "base"
template = "t.hbs"
provides = ["os=busybox"]
description = "</td><script>alert('description')</script>"
owner = "\"><img src=x onerror=alert(1)>"
test = ["test -f /etc/base && echo '<ok>'"]

[images.python]
parent = "base"
version = "3.12.1"
kind = "runtime"
template = "t.hbs"
provides = ["python=3.12", "<b>pip</b>"]
owner = "lang team"

[images.tools]
parent = "base"
version = "1.0.0"
kind = "runtime"
template = "t.hbs"

[images.api]
parent = "python"
uses = ["tools"]
version = "0.1.0"
kind = "app"
dockerfile = "images/api/Dockerfile"
"#;

fn repo() -> Repo {
    Repo::with(&[
        ("catalog.toml", CATALOG),
        (
            "templates/t.hbs",
            "FROM {{parent.ref}}\nRUN echo {{image.name}} > /etc/{{image.name}}\n",
        ),
        (
            "images/api/Dockerfile",
            "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nCOPY --from=tools /etc/tools /etc/tools\nUSER 65534\n",
        ),
    ])
}

fn page(out: &Path, path: &str) -> String {
    fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_catalog_is_valid_html_with_a_page_per_image_and_values_as_text() {
    let repo = repo();
    let run = repo.hier_offline(&["docs", "--out", "site", "--no-engine"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "wrote the catalog of 4 images to site (open site/index.html); contents read for 0, not known for 0, 4 not built\n"
    );
    let out = repo.path().join("site");
    for file in [
        "index.html",
        "style.css",
        "index.js",
        "images/base.html",
        "images/python.html",
        "images/tools.html",
        "images/api.html",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert_valid_html(&out);

    let index = page(&out, "index.html");
    let base = page(&out, "images/base.html");
    for html in [&index, &base] {
        // The only script is the search; no value opened an element.
        assert_eq!(
            html.matches("<script").count(),
            usize::from(html == &index),
            "{html}"
        );
        assert!(!html.contains("<img") && !html.contains("<b>pip"), "{html}");
    }
    assert!(index.contains("<title>shop &lt;platform&gt;</title>"));
    assert!(base.contains("&lt;/td&gt;&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt;"));
    assert!(base.contains("Owner: &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(index.contains("data-provides=\"os=busybox python=3.12 &lt;b&gt;pip&lt;/b&gt;\""));
    // The picture: one link per image, the `uses` edge dashed, the parent edges solid.
    for name in ["base", "python", "tools", "api"] {
        assert_eq!(
            index
                .matches(&format!("<a href=\"images/{name}.html\" class=\"node"))
                .count(),
            1
        );
    }
    assert_eq!(index.matches("<path class=\"edge uses\"").count(), 1);
    assert_eq!(index.matches("<path class=\"edge\"").count(), 3);
}

#[test]
fn an_image_page_carries_what_an_app_team_needs() {
    let repo = repo();
    assert_eq!(
        repo.hier_offline(&["docs", "--out", "site", "--no-engine"])
            .code,
        0
    );
    let out = repo.path().join("site");
    let python = page(&out, "images/python.html");
    for expected in [
        "<pre><code>FROM registry.test/shop/python:3.12.1</code></pre>",
        "<code>busybox:1.36</code> → <a href=\"base.html\">base</a> → <strong>python</strong>",
        "<dt>Children</dt><dd><a href=\"api.html\">api</a></dd>",
        "<dt>Its own</dt><dd><code>python=3.12</code> <code>&lt;b&gt;pip&lt;/b&gt;</code></dd>",
        "<dt>Inherited</dt><dd><code>os=busybox</code></dd>",
        "<li><code>3.12.1</code></li><li><code>3.12</code></li><li><code>3</code></li>",
        "Not built: hier.lock records no build of it.",
        "Rendered from the template <code>templates/t.hbs</code>.",
        "\nFROM registry.test/shop/base:1.0.0\nRUN echo python &gt; /etc/python\n</code></pre>",
    ] {
        assert!(python.contains(expected), "{expected}\n{python}");
    }
    assert_eq!(
        python
            .matches("<p class=\"unknown\">Not built.</p>")
            .count(),
        2,
        "size and packages"
    );
    let tools = page(&out, "images/tools.html");
    assert!(
        tools.contains("<dt>Used by</dt><dd><a href=\"api.html\">api</a></dd>"),
        "{tools}"
    );
    // `api` uses `tools` but is not its child.
    assert!(tools.contains("<dt>Children</dt><dd>none</dd>"), "{tools}");
    let api = page(&out, "images/api.html");
    assert!(
        api.contains("<h2>Pull it</h2>")
            && api.contains("<code>images/api/Dockerfile</code>, written by hand.")
    );
    assert!(api.contains("COPY --from=tools /etc/tools /etc/tools"));
}

#[test]
fn without_an_engine_the_pages_say_the_contents_are_not_known() {
    let repo = repo();
    super::lock_everything(&repo);
    let run = repo.hier_offline(&["docs", "--out", "site", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.starts_with("warning: the engine was not available (cannot reach the Docker Engine at unix:///nonexistent/hier-test.sock"), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["contents_unknown"], 4);
    assert_eq!(report["not_built"], 0);
    let base = page(&repo.path().join("site"), "images/base.html");
    assert!(
        base.contains("<p class=\"unknown\">Not known: the engine was not available (cannot reach"),
        "{base}"
    );
    assert!(
        base.contains("<dt>Image id</dt><dd><code>sha256:0000"),
        "{base}"
    );
    assert!(base.contains("Not pushed yet."));

    let run = repo.hier_offline(&["docs", "--out", "site", "--no-engine"]);
    assert_eq!(run.stderr, "");
    let base = page(&repo.path().join("site"), "images/base.html");
    assert!(
        base.contains("Not known: the engine was not asked (--no-engine)."),
        "{base}"
    );
}

#[test]
fn writing_again_replaces_hiers_files_only_and_someone_elses_folder_is_refused() {
    let repo = repo();
    let docs = |out: &str| repo.hier_offline(&["docs", "--out", out, "--no-engine"]);
    assert_eq!(docs("site").code, 0);
    let out = repo.path().join("site");
    let marker = fs::read_to_string(out.join(".hier-docs")).unwrap();
    assert!(marker.contains("\nimages/api.html\n"), "{marker}");
    // The user's own files in the folder stay; an image that left the catalog loses its page.
    repo.write("site/CNAME", "catalog.example.com\n");
    repo.write("site/.git/HEAD", "ref: refs/heads/gh-pages\n");
    let catalog = repo.read("catalog.toml");
    let without = &catalog[..catalog.find("[images.api]").unwrap()];
    repo.write("catalog.toml", without);
    assert_eq!(docs("site/").code, 0);
    assert!(!out.join("images/api.html").exists());
    assert!(out.join("images/tools.html").exists());
    assert_eq!(repo.read("site/CNAME"), "catalog.example.com\n");
    assert!(out.join(".git/HEAD").exists());
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(&out),
        [
            ".git",
            ".hier-docs",
            "CNAME",
            "images",
            "index.html",
            "index.js",
            "style.css"
        ]
    );
    assert_eq!(
        names(&out.join("images")),
        ["base.html", "python.html", "tools.html"]
    );

    repo.write("mine/notes.txt", "keep me\n");
    repo.write("file", "a file\n");
    repo.write("images/tools/site/x", "");
    std::os::unix::fs::symlink(repo.path().join("mine"), repo.path().join("link")).unwrap();
    // A marker at the root does not make the repository a catalog to replace.
    repo.write(".hier-docs", "index.html\ncatalog.toml\n");
    let before = repo.snapshot();
    for (out, message) in [
        (
            "mine",
            "error: mine is not empty and hier docs did not write it\n  = help: name a new or empty folder\n",
        ),
        ("file", "error: file is not a folder\n"),
        (
            "link/",
            "error: link is a symlink\n  = help: name the folder it leads to, or a new folder\n",
        ),
        (
            ".",
            "error: . holds the repository\n  = help: write the catalog to a folder of its own, such as target/catalog\n",
        ),
        (
            "images/tools/site",
            "error: images/tools/site is not empty and hier docs did not write it\n  = help: name a new or empty folder\n",
        ),
        (
            "images/tools/new",
            "error: images/tools/new is inside the build context of image `tools`\n  = help: write the catalog outside every build context, such as target/catalog\n",
        ),
    ] {
        let run = docs(out);
        assert_eq!((run.code, run.stderr.as_str()), (2, message), "{out}");
    }
    repo.assert_unchanged(&before, "a refused docs");
}

#[test]
fn a_catalog_of_sixty_images_gets_a_layered_picture_and_valid_pages() {
    let repo = wide_catalog(60);
    let run = repo.hier_offline(&["docs", "--out", "site", "--no-engine"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = repo.path().join("site");
    assert_eq!(fs::read_dir(out.join("images")).unwrap().count(), 60);
    assert_valid_html(&out);
    let index = page(&out, "index.html");
    assert_eq!(index.matches("class=\"node ").count(), 60);
    // Parents above children: every layer's boxes sit below the one it builds on.
    let top = |name: &str| -> f64 {
        let at = index.find(&format!("data-name=\"{name}\"><rect")).unwrap();
        let rest = &index[at..];
        let y = rest.find(" y=\"").unwrap() + 4;
        rest[y..y + rest[y..].find('"').unwrap()].parse().unwrap()
    };
    assert!(top("base") < top("runtime-0"));
    assert!(top("runtime-0") < top("combo-0"));
    assert!(top("combo-0") < top("app-0"));
    assert_eq!(index.matches("<path class=\"edge uses\"").count(), 14);
}

/// An engine that answers `/version` and then never answers anything else.
fn silent_engine() -> (tempfile::TempDir, String) {
    super::common::stub::engine(
        r#"{"Version":"26.1.5","ApiVersion":"1.45","Os":"linux","Arch":"amd64"}"#,
        super::common::stub::Otherwise::Silence,
    )
}

#[test]
fn an_engine_that_stops_answering_does_not_stop_the_catalog() {
    let repo = repo();
    super::lock_everything(&repo);
    let (_dir, endpoint) = silent_engine();
    let run = repo.hier_env(&["docs", "--out", "site"], &[("DOCKER_HOST", &endpoint)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: 4 of 4 recorded images could not be read from the engine: no answer within 20s\n"
    );
    let base = page(&repo.path().join("site"), "images/base.html");
    assert!(
        base.contains("Not known: the engine could not be read: no answer within 20s."),
        "{base}"
    );
}
