//! Preparing one job: the Dockerfile rendered with the exact images of this run (or the lock),
//! the labels in one `LABEL` instruction, the build args (`HIER_PARENT`, `HIER_USES_*`), the
//! fingerprint, the tags and where to push.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::job::Job;
use super::labels::{self, BuildFacts, Provenance};
use super::upstream::Upstream;
use crate::catalog::{Catalog, Image, Origin, Recipe};
use crate::dockerfile::{self, Refs};
use crate::inputs::{self, Inputs};
use crate::name::ImageName;
use crate::repo::Repository;

/// The exact images of this run: what was built, else what the lock records.
struct ExactRefs<'a> {
    ids: &'a HashMap<ImageName, String>,
    from_ids: &'a HashMap<ImageName, String>,
}

impl Refs for ExactRefs<'_> {
    fn image(&self, _catalog: &Catalog, name: &ImageName) -> String {
        self.ids.get(name).cloned().unwrap_or_default()
    }

    fn from(&self, image: &Image, from: &str) -> String {
        self.from_ids
            .get(&image.name)
            .cloned()
            .unwrap_or_else(|| from.to_string())
    }
}

pub(super) fn parent_id(
    image: &Image,
    ids: &HashMap<ImageName, String>,
    from_ids: &HashMap<ImageName, String>,
) -> String {
    match &image.origin {
        Origin::Base { .. } => from_ids[&image.name].clone(),
        Origin::Parent(dep) => ids[&dep.name].clone(),
    }
}

/// `HIER_USES_<NAME>`: upper case, `-` and `.` as `_`.
pub fn uses_arg(name: &ImageName) -> String {
    format!(
        "HIER_USES_{}",
        name.as_str().to_uppercase().replace(['-', '.'], "_")
    )
}

/// Everything one job needs, from the repository and the exact images known now.
#[allow(clippy::too_many_arguments)]
pub(super) fn prepare(
    repo: &Repository,
    name: &ImageName,
    inputs: &BTreeMap<ImageName, Inputs>,
    ids: &HashMap<ImageName, String>,
    from_ids: &HashMap<ImageName, String>,
    upstreams: &HashMap<ImageName, Upstream>,
    provenance: &Provenance,
    log_dir: &Path,
    no_cache: bool,
    push: bool,
    run_pushed: &HashMap<ImageName, String>,
) -> Result<(Job, Inputs, String), String> {
    let catalog = &repo.catalog;
    let image = catalog.image(name);
    let parent = parent_id(image, ids, from_ids);
    let uses: BTreeMap<String, String> = image
        .uses
        .iter()
        .map(|u| (u.name.to_string(), ids[&u.name].clone()))
        .collect();
    let mut effective = inputs[name].clone();
    let (base_name, base_digest) = match &image.origin {
        Origin::Base { from, .. } => {
            let upstream = &upstreams[name];
            effective = inputs::with_upstream(&effective, from, &upstream.recorded);
            (from.clone(), upstream.manifest_digest.clone())
        }
        Origin::Parent(dep) => {
            let target = catalog.image(&dep.name);
            let repository = catalog.repository(&dep.name);
            let digest = run_pushed.get(&dep.name).cloned().or_else(|| {
                repo.lock
                    .images
                    .get(dep.name.as_str())
                    .filter(|e| e.image_id == parent)
                    .and_then(|e| e.pushed.get(&repository).cloned())
            });
            (catalog.stable_ref(target), digest)
        }
    };
    let fingerprint = inputs::fingerprint(&effective, Some(&parent), &uses);
    let mut text = match &image.recipe {
        Recipe::Template { .. } => {
            let refs = ExactRefs { ids, from_ids };
            let vars = &repo.inherited.vars[name];
            dockerfile::render(&repo.templates, catalog, image, vars, &refs)
                .expect("a templated image")
                .map_err(|d| d.message)?
        }
        Recipe::Dockerfile { path, .. } => std::fs::read_to_string(repo.root.join(path))
            .map_err(|e| format!("cannot read {path}: {e}"))?,
    };
    let mut declared = catalog.labels.clone();
    declared.extend(image.labels.clone());
    let version = image.version.to_string();
    let all = labels::labels(
        &declared,
        provenance,
        &BuildFacts {
            name: name.as_str(),
            version: &version,
            fingerprint: &fingerprint,
            parent_id: &parent,
            base_name: &base_name,
            base_digest: base_digest.as_deref(),
        },
    );

    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&labels::instruction(&all));

    let mut build_args: HashMap<String, String> = image
        .build_args
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    build_args.insert("HIER_PARENT".into(), parent.clone());
    for dep in &image.uses {
        build_args.insert(uses_arg(&dep.name), ids[&dep.name].clone());
    }
    let in_context = repo.dockerfile_in_context(image);
    let dockerfile_path = in_context
        .clone()
        .unwrap_or_else(|| ".hier.Dockerfile".to_string());
    let skip = match image.recipe {
        Recipe::Template { .. } => in_context.clone(),
        Recipe::Dockerfile { .. } => None,
    };
    let job = Job {
        name: name.to_string(),
        context_root: repo.root.join(&image.context),
        dockerfile_in_context: in_context,
        dockerfile_path,
        dockerfile: text,
        skip,
        planned_context: effective.components["context"].clone(),
        build_args,
        no_cache,
        tests: image.test.clone(),
        test_timeout: image.test_timeout,
        build_timeout: image.build_timeout,
        repository: catalog.repository(name),
        version: image.version.clone(),
        extra_tags: image.tags.clone(),
        log: log_dir.join(format!("{name}.log")),
        promote_now: true,
        refresh: None,
        push_to: if push {
            std::iter::once(catalog.repository(name))
                .chain(catalog.mirrors.iter().map(|m| format!("{m}/{name}")))
                .collect()
        } else {
            Vec::new()
        },
    };
    Ok((job, effective, fingerprint))
}
