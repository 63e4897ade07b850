//! The exact images a run builds on — each image built in this run or recorded in the lock, and
//! each base's `from` as its identity resolves — and the local tags that name them in a build.
//! A build names its parent by a pin tag, `<repository>:sha256-<hex of the image id>`: BuildKit
//! resolves a local tag without asking a registry, but sends an image id (`FROM sha256:…`) to
//! Docker Hub, and the legacy builder takes the tag as well. Each build sets the pins of what it
//! builds on right before it starts (so a pin that was removed comes back); pins are never
//! pushed.

use std::collections::HashMap;

use super::upstream::Upstream;
use crate::catalog::{Catalog, Image, Origin};
use crate::name::ImageName;

/// The pin tag of an image id.
pub fn pin_tag(image_id: &str) -> String {
    format!("sha256-{}", image_id.trim_start_matches("sha256:"))
}

/// The pin tag of a base's `from` image, in the base's repository.
pub fn from_pin_tag(image_id: &str) -> String {
    format!("from-{}", pin_tag(image_id))
}

/// What a run builds on, as it goes.
#[derive(Debug, Default)]
pub struct Exact {
    /// Catalog images: built in this run, else recorded (and present in the engine).
    pub ids: HashMap<ImageName, String>,
    /// Each base's `from` as this run builds on it.
    pub upstreams: HashMap<ImageName, Upstream>,
    /// Manifest digests pushed in this run (for `org.opencontainers.image.base.digest`).
    pub pushed: HashMap<ImageName, String>,
}

impl Exact {
    /// The exact image `image` builds on: its parent's, or its `from`'s local image.
    pub fn parent_id(&self, image: &Image) -> &str {
        match &image.origin {
            Origin::Base { .. } => &self.upstreams[&image.name].local_id,
            Origin::Parent(dep) => &self.ids[&dep.name],
        }
    }

    /// The exact image of each of `image`'s `uses`, by name.
    pub fn uses_ids(&self, image: &Image) -> std::collections::BTreeMap<String, String> {
        image
            .uses
            .iter()
            .map(|u| (u.name.to_string(), self.ids[&u.name].clone()))
            .collect()
    }

    /// The local reference a build uses for catalog image `name`.
    pub fn reference(&self, catalog: &Catalog, name: &ImageName) -> String {
        format!("{}:{}", catalog.repository(name), pin_tag(&self.ids[name]))
    }

    /// The local reference a build uses for the `from` of base `name`.
    pub fn from_reference(&self, catalog: &Catalog, name: &ImageName) -> String {
        format!(
            "{}:{}",
            catalog.repository(name),
            from_pin_tag(&self.upstreams[name].local_id)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_name_the_whole_id() {
        let id = format!("sha256:{}", "0123456789abcdef".repeat(4));
        assert_eq!(
            pin_tag(&id),
            format!("sha256-{}", "0123456789abcdef".repeat(4))
        );
        assert_eq!(from_pin_tag(&id).len(), "from-sha256-".len() + 64);
        assert!(crate::reference::is_tag(&from_pin_tag(&id)));
    }
}
