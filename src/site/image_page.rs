//! An image's page: what it is and who owns it, the `FROM` lines to copy, its place in the
//! hierarchy, what it provides (its own and inherited), its tags, its last build and pushed
//! digests, its size and OS packages, its tests and its Dockerfile. What is not known (never
//! built, or not on the engine) says so and why.

use super::html::{page as html_page, text};
use super::{Contents, Inside, kind_class};
use crate::budget::shown as bytes;
use crate::catalog::{APP, Image, Origin, Recipe};
use crate::dockerfile::template_path;
use crate::lock::LockEntry;
use crate::repo::Repository;
use crate::tags::{moving_tags, pinned_reference};

pub fn page(repo: &Repository, image: &Image, inside: &Inside, dockerfile: &str) -> String {
    let last = repo.lock.images.get(image.name.as_str());
    let sections = [
        build_on(repo, image, last),
        place(repo, image),
        provides(repo, image),
        tags(repo, image, last),
        last_build(last),
        size(inside, last),
        packages(inside),
        tests(image),
        recipe(repo, image, dockerfile),
    ];
    let body = format!(
        "<nav><a href=\"../index.html\">{catalog}</a> / {name}</nav>\n{header}<main>\n{sections}</main>\n",
        catalog = text(&repo.catalog.name),
        name = text(image.name.as_str()),
        header = header(repo, image),
        sections = sections.concat(),
    );
    let title = format!("{} {} — {}", image.name, image.version, repo.catalog.name);
    html_page(&title, "../", &body, false)
}

fn header(repo: &Repository, image: &Image) -> String {
    let mut out = format!(
        "<header>\n<h1>{} <span class=\"version\">{}</span> <span class=\"kind {}\">{}</span></h1>\n",
        text(image.name.as_str()),
        text(&image.version.to_string()),
        kind_class(repo, image),
        text(&image.kind)
    );
    if !image.description.is_empty() {
        out.push_str(&format!(
            "<p class=\"description\">{}</p>\n",
            text(&image.description)
        ));
    }
    let owner = match image.owner.as_deref().map(str::trim) {
        Some(owner) if !owner.is_empty() => text(owner),
        _ => "no owner named".into(),
    };
    out.push_str(&format!(
        "<p class=\"owner\">Owner: {owner}</p>\n</header>\n"
    ));
    out
}

fn section(id: &str, heading: &str, content: &str) -> String {
    format!("<section id=\"{id}\">\n<h2>{heading}</h2>\n{content}</section>\n")
}

fn code_block(line: &str) -> String {
    format!("<pre><code>{}</code></pre>\n", text(line))
}

fn unknown(why: &str) -> String {
    format!("<p class=\"unknown\">{}</p>\n", text(why))
}

/// The `FROM` lines to copy (for an app, the references to pull it by).
fn build_on(repo: &Repository, image: &Image, last: Option<&LockEntry>) -> String {
    let stable = repo.catalog.stable_ref(image);
    let repository = repo.catalog.repository(&image.name);
    let pinned = last.and_then(|l| pinned_reference(&repository, &l.image_id, &l.tags, &l.pushed));
    let (heading, prefix) = match image.kind == APP {
        true => ("Pull it", ""),
        false => ("Build on it", "FROM "),
    };
    let mut out =
        String::from("<p>The stable tag: it moves to each rebuild of this version.</p>\n");
    out.push_str(&code_block(&format!("{prefix}{stable}")));
    out.push_str("<p>Pinned: the last pushed build, by its immutable tag and digest.</p>\n");
    out.push_str(&match (pinned, last) {
        (Some(pinned), _) => code_block(&format!("{prefix}{pinned}")),
        (None, None) => unknown("Not built yet."),
        (None, Some(_)) => unknown(&format!("Not pushed to {repository} yet.")),
    });
    section("build-on", heading, &out)
}

fn links(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let links: Vec<String> = names
        .iter()
        .map(|n| format!("<a href=\"{0}.html\">{0}</a>", text(n)))
        .collect();
    links.join(", ")
}

/// The chain from the base's `from` down to this image, its children, what it uses and what
/// uses it.
fn place(repo: &Repository, image: &Image) -> String {
    let names = |list: Vec<crate::name::ImageName>| -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    };
    let ancestors = names(repo.hierarchy.ancestors(&repo.catalog, &image.name));
    let base = ancestors
        .first()
        .and_then(|b| repo.catalog.get(b))
        .unwrap_or(image);
    let from = match &base.origin {
        Origin::Base { from, .. } => format!("<code>{}</code> → ", text(from)),
        Origin::Parent(_) => String::new(),
    };
    let mut chain = from;
    for name in &ancestors {
        chain.push_str(&format!("{} → ", links(std::slice::from_ref(name))));
    }
    chain.push_str(&format!("<strong>{}</strong>", text(image.name.as_str())));
    let uses: Vec<String> = image.uses.iter().map(|d| d.name.to_string()).collect();
    let used_by: Vec<String> = repo
        .catalog
        .images
        .iter()
        .filter(|i| i.uses.iter().any(|d| d.name == image.name))
        .map(|i| i.name.to_string())
        .collect();
    let content = format!(
        "<dl>\n<dt>Chain</dt><dd>{chain}</dd>\n<dt>Children</dt><dd>{}</dd>\n\
         <dt>Uses</dt><dd>{}</dd>\n<dt>Used by</dt><dd>{}</dd>\n</dl>\n",
        links(&names(repo.hierarchy.children(&image.name))),
        links(&uses),
        links(&used_by),
    );
    section("place", "Place in the hierarchy", &content)
}

fn provides(repo: &Repository, image: &Image) -> String {
    let all = &repo.inherited.provides[&image.name];
    let inherited: Vec<&String> = all.iter().filter(|p| !image.provides.contains(p)).collect();
    let list = |items: Vec<&String>| match items.is_empty() {
        true => "none".to_string(),
        false => items
            .iter()
            .map(|p| format!("<code>{}</code>", text(p)))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let content = format!(
        "<dl>\n<dt>Its own</dt><dd>{}</dd>\n<dt>Inherited</dt><dd>{}</dd>\n</dl>\n",
        list(image.provides.iter().collect()),
        list(inherited)
    );
    section("provides", "Provides", &content)
}

/// The tags a build of this version gets, and the tags the recorded build was given.
fn tags(repo: &Repository, image: &Image, last: Option<&LockEntry>) -> String {
    let list = |tags: &[String]| -> String {
        let items: Vec<String> = tags
            .iter()
            .map(|t| format!("<li><code>{}</code></li>", text(t)))
            .collect();
        format!("<ul class=\"tags\">{}</ul>\n", items.concat())
    };
    let mut content = format!(
        "<p>A build of version {} in <code>{}</code> is tagged:</p>\n{}",
        text(&image.version.to_string()),
        text(&repo.catalog.repository(&image.name)),
        list(&moving_tags(&image.version, &image.tags))
    );
    content.push_str(
        "<p>and with its immutable tag, \
         <code>&lt;version&gt;-&lt;first 12 hex digits of its id&gt;</code>.</p>\n",
    );
    if let Some(l) = last {
        content.push_str(&format!(
            "<p>The recorded build's tags:</p>\n{}",
            list(&l.tags)
        ));
    }
    section("tags", "Tags", &content)
}

fn last_build(last: Option<&LockEntry>) -> String {
    let Some(l) = last else {
        return section(
            "last-build",
            "Last build",
            &unknown("Not built: hier.lock records no build of it."),
        );
    };
    let mut content = format!(
        "<dl>\n<dt>Image id</dt><dd><code>{}</code></dd>\n<dt>Built at</dt><dd>{}</dd>\n</dl>\n",
        text(&l.image_id),
        text(&l.built_at)
    );
    if l.pushed.is_empty() {
        content.push_str(&unknown("Not pushed yet."));
    } else {
        content.push_str("<table class=\"pushed\"><thead><tr><th scope=\"col\">Pushed to</th><th scope=\"col\">Digest</th></tr></thead><tbody>\n");
        for (repository, digest) in &l.pushed {
            content.push_str(&format!(
                "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
                text(repository),
                text(digest)
            ));
        }
        content.push_str("</tbody></table>\n");
    }
    section("last-build", "Last build", &content)
}

fn size(inside: &Inside, last: Option<&LockEntry>) -> String {
    let content = match (inside, last.and_then(|l| l.size)) {
        (Inside::NotBuilt, _) => unknown("Not built."),
        (Inside::Unknown(_), Some(size)) => {
            let added = last
                .and_then(|l| l.added)
                .map_or("not recorded".into(), bytes);
            format!(
                "<p>As recorded at its build:</p>\n<dl>\n<dt>Size</dt><dd>{} ({size} bytes)</dd>\n\
                 <dt>Added over its parent</dt><dd>{}</dd>\n</dl>\n",
                bytes(size),
                text(&added)
            )
        }
        (Inside::Unknown(why), None) => unknown(&format!("Not known: {why}.")),
        (Inside::Known(Contents { size, added, .. }), _) => {
            let added = match added {
                Some(a) => bytes(*a),
                None => "not known (a base, or its parent's build is not at hand)".into(),
            };
            format!(
                "<dl>\n<dt>Size</dt><dd>{} ({size} bytes)</dd>\n<dt>Added over its parent</dt><dd>{}</dd>\n</dl>\n",
                bytes(*size),
                text(&added)
            )
        }
    };
    section("size", "Size", &content)
}

fn packages(inside: &Inside) -> String {
    let content = match inside {
        Inside::NotBuilt => unknown("Not built."),
        Inside::Unknown(why) => unknown(&format!("Not known: {why}.")),
        Inside::Known(Contents { packages: None, .. }) => {
            unknown("The image has no dpkg or apk package database.")
        }
        Inside::Known(Contents {
            packages: Some(list),
            ..
        }) => {
            let mut out = format!(
                "<p>{}.</p>\n<table class=\"packages\"><thead><tr><th scope=\"col\">Package</th><th scope=\"col\">Version</th></tr></thead><tbody>\n",
                super::count(list.len(), "package")
            );
            for (name, version) in list {
                out.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td></tr>\n",
                    text(name),
                    text(version)
                ));
            }
            out.push_str("</tbody></table>\n");
            out
        }
    };
    section("packages", "OS packages", &content)
}

fn tests(image: &Image) -> String {
    let spec = image.test_spec.as_ref().map_or(String::new(), |spec| {
        let count = spec.spec.as_ref().map_or(0, |s| s.len());
        format!(
            "<p>Then {} from <code>{}</code> (container-structure-test's format).</p>\n",
            crate::plural::count(count, "structure test"),
            text(&spec.path)
        )
    });
    let content = match image.test.is_empty() {
        true if spec.is_empty() => unknown("No tests."),
        true => spec,
        false => {
            let items: Vec<String> = image
                .test
                .iter()
                .map(|t| format!("<li><code>{}</code></li>", text(t)))
                .collect();
            format!(
                "<p>Run in the built image before it is tagged:</p>\n<ul>{}</ul>\n{spec}",
                items.concat()
            )
        }
    };
    section("tests", "Tests", &content)
}

fn recipe(repo: &Repository, image: &Image, dockerfile: &str) -> String {
    let source = match &image.recipe {
        Recipe::Template { name, .. } => format!(
            "Rendered from the template <code>{}</code>.",
            text(&template_path(&repo.catalog, name))
        ),
        Recipe::Dockerfile { path, .. } => format!("<code>{}</code>, written by hand.", text(path)),
    };
    let content = format!("<p>{source}</p>\n{}", code_block(dockerfile));
    section("dockerfile", "Dockerfile", &content)
}
