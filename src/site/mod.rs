//! The HTML catalog `hier docs` writes: a static site that works from the file system with no
//! network. It is made here, in memory, from the repository (its catalog, lock, renderings and
//! Dockerfiles) and what the engine said about each built image; `commands::docs` asks the
//! engine and writes the files.
//!
//! - `index.html`: the picture of the hierarchy ([`picture`]) and the list of images, filtered
//!   by the search (`index.js`: words match the name, kind, provides or owner;
//!   `kind:`, `provides:`, `owner:` and `name:` narrow a word to one of them; a wide picture
//!   first shows its base);
//! - `images/<name>.html`: one page per image ([`image_page`]);
//! - `style.css`, `index.js`: the only assets, written beside the pages;
//! - `.hier-docs`: the list of the files written, which a later run may replace or remove.

mod html;
mod image_page;
mod index;
mod picture;

use crate::plural::count;

use std::collections::BTreeMap;

use crate::catalog::Image;
use crate::error::Error;
use crate::name::ImageName;
use crate::packages::Inventory;
use crate::repo::Repository;

/// The file that marks a folder as a catalog hier wrote (so writing again may replace it).
pub const MARKER: &str = ".hier-docs";

/// What is known of an image's contents.
#[derive(Debug, Clone, PartialEq)]
pub enum Inside {
    /// The lock records no build of it.
    NotBuilt,
    /// Built, but its contents could not be read; the reason says why (engine not asked, not
    /// reachable, or the image no longer on it).
    Unknown(String),
    Known(Contents),
}

/// An image's size and OS packages, as the engine holding it reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    pub size: u64,
    /// Bytes over the image it was built on (a base: its `from`); `None` when that image is
    /// not at hand.
    pub added: Option<u64>,
    /// dpkg or apk packages; `None` when the image has neither database.
    pub packages: Option<Inventory>,
}

/// What the engine said, per image.
pub type Facts = BTreeMap<ImageName, Inside>;

/// One file of the site: its path below the output folder and its content.
pub struct File {
    pub path: String,
    pub content: String,
}

/// Every file of the site.
pub fn files(repo: &Repository, facts: &Facts) -> Result<Vec<File>, Error> {
    let rendered = repo.stable_renderings()?;
    let mut files = vec![
        File {
            path: "index.html".into(),
            content: index::page(repo),
        },
        File {
            path: "style.css".into(),
            content: include_str!("assets/style.css").into(),
        },
        File {
            path: "index.js".into(),
            content: include_str!("assets/index.js").into(),
        },
    ];
    for name in repo.hierarchy.order() {
        let image = repo.catalog.image(name);
        let dockerfile = repo
            .dockerfile_bytes(image, rendered)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|d| Error::Input(vec![d]))?;
        let inside = facts.get(name).cloned().unwrap_or(Inside::NotBuilt);
        files.push(File {
            path: html::image_href(name.as_str()),
            content: image_page::page(repo, image, &inside, &dockerfile),
        });
    }
    let mut marker = String::from(
        "# written by hier docs: the files it replaces or removes when it runs again\n",
    );
    for file in &files {
        marker.push_str(&file.path);
        marker.push('\n');
    }
    files.push(File {
        path: MARKER.into(),
        content: marker,
    });
    Ok(files)
}

/// Whether `path` is one of the files a catalog is made of (the assets, or an image's page).
pub fn is_site_path(path: &str) -> bool {
    match path
        .strip_prefix("images/")
        .and_then(|p| p.strip_suffix(".html"))
    {
        Some(name) => ImageName::parse(name).is_ok(),
        None => matches!(path, "index.html" | "style.css" | "index.js"),
    }
}

/// The CSS class of an image's kind: `kind-<position in the catalog's kinds>` (kinds are the
/// user's words, so never used as class names themselves).
fn kind_class(repo: &Repository, image: &Image) -> String {
    let position = repo.catalog.kinds.iter().position(|k| *k == image.kind);
    format!("kind-{}", position.unwrap_or(0) % 6)
}
