//! The catalog's index page: the picture of the hierarchy, the search, and the list of images
//! in build order (each row carrying what the search matches: name, kind, provides, owner).

use super::html::{image_href, page as html_page, text};
use super::kind_class;
use super::picture::{self, Link, Node};
use crate::catalog::{Image, Origin};
use crate::graph::Edge;
use crate::repo::Repository;

pub fn page(repo: &Repository) -> String {
    let name = &repo.catalog.name;
    let count = repo.catalog.images.len();
    let body = format!(
        "<header>\n<h1>{title}</h1>\n<p class=\"summary\">{count}: {kinds}</p>\n</header>\n\
         <main>\n<section aria-label=\"Picture of the hierarchy\">\n\
         <p class=\"legend\">Parents above their children; a dashed edge is a <code>uses</code> \
         (an image copied from). Select an image to open its page.</p>\n\
         <div class=\"zoom\" hidden><button type=\"button\" data-zoom=\"out\">Smaller</button> \
         <button type=\"button\" data-zoom=\"in\">Larger</button> \
         <button type=\"button\" data-zoom=\"fit\">Fit the window</button></div>\n\
         <div class=\"picture\">\n{svg}</div>\n</section>\n\
         <section aria-label=\"Images\">\n<h2>Images</h2>\n{search}{table}</section>\n</main>\n",
        title = text(name),
        count = super::count(count, "image"),
        kinds = text(&kind_counts(repo)),
        svg = picture(repo),
        search = SEARCH,
        table = table(repo),
    );
    html_page(name, "", &body, true)
}

const SEARCH: &str = "<form class=\"search\" role=\"search\">\n\
    <label for=\"search\">Search</label>\n\
    <input type=\"search\" id=\"search\" autocomplete=\"off\" \
    placeholder=\"python, kind:runtime, provides:nginx, owner:web\">\n\
    <output id=\"shown\" for=\"search\"></output>\n</form>\n";

/// `2 base, 3 runtime, 1 app`, in the catalog's order of kinds (every image's kind is one).
fn kind_counts(repo: &Repository) -> String {
    let images = &repo.catalog.images;
    repo.catalog
        .kinds
        .iter()
        .filter_map(|kind| {
            let n = images.iter().filter(|i| i.kind == *kind).count();
            (n > 0).then(|| format!("{n} {kind}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn picture(repo: &Repository) -> String {
    let order = repo.hierarchy.order();
    let nodes: Vec<Node> = order
        .iter()
        .map(|name| {
            let image = repo.catalog.image(name);
            Node {
                name: name.as_str(),
                detail: format!("{} · {}", image.version, image.kind),
                class: kind_class(repo, image),
            }
        })
        .collect();
    let position = |name| order.iter().position(|n| n == name);
    let links: Vec<Link> = repo
        .hierarchy
        .edges()
        .iter()
        .filter_map(|(from, to, edge)| {
            Some(Link {
                from: position(from)?,
                to: position(to)?,
                uses: *edge == Edge::Uses,
            })
        })
        .collect();
    let title = format!(
        "The images of {} and how they build on each other",
        repo.catalog.name
    );
    picture::svg(&nodes, &links, &title)
}

fn table(repo: &Repository) -> String {
    let mut out = String::from(
        "<table id=\"images\">\n<thead><tr><th scope=\"col\">Image</th><th scope=\"col\">Kind</th>\
         <th scope=\"col\">Version</th><th scope=\"col\">Built on</th>\
         <th scope=\"col\">Provides</th><th scope=\"col\">Owner</th>\
         <th scope=\"col\">Description</th></tr></thead>\n<tbody>\n",
    );
    for name in repo.hierarchy.order() {
        out.push_str(&row(repo, repo.catalog.image(name)));
    }
    out.push_str("</tbody>\n</table>\n<p id=\"none\" hidden>No image matches.</p>\n");
    out
}

fn row(repo: &Repository, image: &Image) -> String {
    let name = image.name.as_str();
    let provides = &repo.inherited.provides[&image.name];
    let owner = image.owner.as_deref().unwrap_or("");
    let parent = match &image.origin {
        Origin::Parent(dep) => link(dep.name.as_str()),
        Origin::Base { from, .. } => format!("<code>{}</code>", text(from)),
    };
    format!(
        "<tr data-name=\"{n}\" data-kind=\"{k}\" data-provides=\"{p}\" data-owner=\"{o}\">\
         <th scope=\"row\">{link}</th><td data-label=\"Kind\">{k}</td>\
         <td data-label=\"Version\">{v}</td><td data-label=\"Built on\">{parent}</td>\
         <td data-label=\"Provides\">{pl}</td><td data-label=\"Owner\">{o}</td>\
         <td data-label=\"Description\">{d}</td></tr>\n",
        n = text(name),
        k = text(&image.kind),
        p = text(&provides.join(" ")),
        o = text(owner),
        link = link(name),
        v = text(&image.version.to_string()),
        pl = provides_cell(image, provides),
        d = text(&image.description),
    )
}

/// What an image provides of its own, then how many more it inherits (the search matches
/// both).
fn provides_cell(image: &Image, all: &[String]) -> String {
    let inherited = all.iter().filter(|p| !image.provides.contains(p)).count();
    let mut cell = text(&image.provides.join(", "));
    if inherited > 0 {
        let sep = if cell.is_empty() { "" } else { " " };
        cell.push_str(&format!(
            "{sep}<span class=\"inherited\">+{inherited} inherited</span>"
        ));
    }
    cell
}

/// A link from the index to an image's page.
fn link(name: &str) -> String {
    format!("<a href=\"{}\">{}</a>", text(&image_href(name)), text(name))
}
