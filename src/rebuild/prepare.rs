//! Preparing one job from the repository and the exact images known now: the Dockerfile
//! rendered with exact parents (pin tags), the labels in one `LABEL` instruction, the build
//! args (`HIER_PARENT`, `HIER_USES_*`), the secrets the image may mount, the fingerprint, the
//! tags and where to push.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::exact::{Exact, from_pin_tag, pin_tag};
use super::job::{Job, Pin, SizeCheck};
use super::labels::{self, BuildFacts, Provenance};
use super::upload::ContextSpec;
use crate::catalog::{Builder, Catalog, Image, Origin, Recipe};
use crate::dockerfile::{self, Refs};
use crate::engine::{BuildRequest, SecretValues};
use crate::inputs::{self, Inputs};
use crate::name::ImageName;
use crate::repo::Repository;

/// The exact images of this run, as a build names them.
struct ExactRefs<'a> {
    exact: &'a Exact,
    catalog: &'a Catalog,
}

impl Refs for ExactRefs<'_> {
    fn image(&self, catalog: &Catalog, name: &ImageName) -> String {
        self.exact.reference(catalog, name)
    }

    fn from(&self, image: &Image, _from: &str) -> String {
        self.exact.from_reference(self.catalog, &image.name)
    }
}

/// What every job of a run shares.
pub struct Setting<'a> {
    pub repo: &'a Repository,
    pub inputs: &'a BTreeMap<ImageName, Inputs>,
    pub provenance: &'a Provenance,
    pub log_dir: &'a Path,
    pub push: bool,
    pub builder: Builder,
    /// Secret values by name (those the planned images declare).
    pub secrets: &'a SecretValues,
}

/// A job ready to run, with what the lock will record of it.
pub struct Prepared {
    pub job: Job,
    /// Its inputs, with a base's upstream identity as this run builds on it.
    pub inputs: Inputs,
    pub fingerprint: String,
}

/// Prepares the job of `name` on the exact images known now.
pub fn prepare(
    setting: &Setting,
    exact: &Exact,
    name: &ImageName,
    no_cache: bool,
    must_promote: bool,
) -> Result<Prepared, String> {
    let repo = setting.repo;
    let catalog = &repo.catalog;
    let image = catalog.image(name);
    let parent = exact.parent_id(image).to_string();
    let uses = exact.uses_ids(image);
    let mut effective = setting.inputs[name].clone();
    if let Origin::Base { from, .. } = &image.origin {
        effective = inputs::with_upstream(&effective, from, &exact.upstreams[name].recorded);
    }
    let fingerprint = inputs::fingerprint(&effective, Some(&parent), &uses);
    let mut text = dockerfile_text(repo, image, exact)?;
    let declared_args = declared_args(&text);
    let declared = labels_of(setting, exact, image, &parent, &fingerprint);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&labels::instruction(&declared));
    let size = size_check(repo, image, Some(&parent), &text);
    let job = Job {
        name: name.clone(),
        context: context(repo, image, text, &effective),
        request: BuildRequest {
            image: name.to_string(),
            dockerfile: dockerfile_path(repo, image),
            build_args: build_args(catalog, image, exact, &declared_args),
            no_cache,
            builder: setting.builder,
            secrets: setting.secrets.only(&image.secrets),
        },
        tests: image.test.clone(),
        spec: image.test_spec.as_ref().and_then(|t| t.spec.clone()),
        test_timeout: image.test_timeout,
        build_timeout: image.build_timeout,
        repository: catalog.repository(name),
        version: image.version.clone(),
        extra_tags: image.tags.clone(),
        log: setting.log_dir.join(format!("{name}.log")),
        push_to: match setting.push {
            true => crate::push::destinations(catalog, name),
            false => Vec::new(),
        },
        promote_now: true,
        must_promote,
        pins: pins(catalog, image, exact),
        size,
        sbom_dir: crate::state::dir(&repo.root)
            .join("sbom")
            .join(name.as_str()),
    };
    Ok(Prepared {
        job,
        inputs: effective,
        fingerprint,
    })
}

/// The build's Dockerfile: the template rendered on exact images, or the hand-written file.
fn dockerfile_text(repo: &Repository, image: &Image, exact: &Exact) -> Result<String, String> {
    match &image.recipe {
        Recipe::Template { .. } => {
            let vars = &repo.inherited.vars[&image.name];
            let refs = ExactRefs {
                exact,
                catalog: &repo.catalog,
            };
            dockerfile::render(&repo.templates, &repo.catalog, image, vars, &refs)
                .expect("a templated image")
                .map_err(|d| d.message)
        }
        Recipe::Dockerfile { path, .. } => std::fs::read_to_string(repo.root.join(path))
            .map_err(|e| format!("cannot read {path}: {e}")),
    }
}

fn labels_of(
    setting: &Setting,
    exact: &Exact,
    image: &Image,
    parent: &str,
    fingerprint: &str,
) -> BTreeMap<String, String> {
    let catalog = &setting.repo.catalog;
    let (base_name, base_digest) = match &image.origin {
        Origin::Base { from, .. } => (
            from.clone(),
            exact.upstreams[&image.name].manifest_digest.clone(),
        ),
        Origin::Parent(dep) => {
            let repository = catalog.repository(&dep.name);
            let digest = exact.pushed.get(&dep.name).cloned().or_else(|| {
                setting
                    .repo
                    .lock
                    .images
                    .get(dep.name.as_str())
                    .filter(|e| e.image_id == parent)
                    .and_then(|e| e.pushed.get(&repository).cloned())
            });
            (catalog.stable_ref(catalog.image(&dep.name)), digest)
        }
    };
    let mut declared = catalog.labels.clone();
    declared.extend(image.labels.clone());
    let version = image.version.to_string();
    let repository = catalog.repository(&image.name);
    labels::labels(
        &declared,
        setting.provenance,
        &BuildFacts {
            name: image.name.as_str(),
            repository: &repository,
            version: &version,
            fingerprint,
            parent_id: parent,
            base_name: &base_name,
            base_digest: base_digest.as_deref(),
        },
    )
}

/// The names the Dockerfile declares with `ARG`.
fn declared_args(dockerfile: &str) -> BTreeSet<String> {
    crate::lint::dockerfile::parse(dockerfile)
        .instructions
        .iter()
        .filter(|i| i.keyword == "ARG")
        .flat_map(|i| {
            i.args
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|a| a.split('=').next().unwrap_or_default().to_string())
        .collect()
}

/// The catalog's build args, and the exact images as `HIER_PARENT` and `HIER_USES_*` where the
/// Dockerfile declares them (a templated image names them in its rendering; an argument no
/// `ARG` takes makes the legacy builder warn).
fn build_args(
    catalog: &Catalog,
    image: &Image,
    exact: &Exact,
    declared: &BTreeSet<String>,
) -> HashMap<String, String> {
    let mut args: HashMap<String, String> = image
        .build_args
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let parent = match &image.origin {
        Origin::Base { .. } => exact.from_reference(catalog, &image.name),
        Origin::Parent(dep) => exact.reference(catalog, &dep.name),
    };
    let mut hier = vec![("HIER_PARENT".to_string(), parent)];
    for dep in &image.uses {
        hier.push((dep.name.uses_arg(), exact.reference(catalog, &dep.name)));
    }
    args.extend(hier.into_iter().filter(|(k, _)| declared.contains(k)));
    args
}

/// The pins of what the build names: its `from` (a base) or parent, and its `uses` images.
fn pins(catalog: &Catalog, image: &Image, exact: &Exact) -> Vec<Pin> {
    let mut pins = Vec::new();
    match &image.origin {
        Origin::Base { .. } => {
            let id = &exact.upstreams[&image.name].local_id;
            pins.push(Pin {
                image_id: id.clone(),
                repository: catalog.repository(&image.name),
                tag: from_pin_tag(id),
            });
        }
        Origin::Parent(dep) => pins.push(pin_of(catalog, exact, &dep.name)),
    }
    pins.extend(image.uses.iter().map(|u| pin_of(catalog, exact, &u.name)));
    pins
}

fn pin_of(catalog: &Catalog, exact: &Exact, name: &ImageName) -> Pin {
    let id = &exact.ids[name];
    Pin {
        image_id: id.clone(),
        repository: catalog.repository(name),
        tag: pin_tag(id),
    }
}

/// What checking the built image's size needs: its budgets, its parent, and the instructions
/// of the Dockerfile it is built from (named by its path in the repository).
pub fn size_check(
    repo: &Repository,
    image: &Image,
    parent_id: Option<&str>,
    text: &str,
) -> SizeCheck {
    let dockerfile = match &image.recipe {
        Recipe::Template { .. } => dockerfile::rendered_path(&repo.catalog, &image.name),
        Recipe::Dockerfile { path, .. } => path.clone(),
    };
    SizeCheck {
        budget: image.budget,
        parent_id: parent_id.map(str::to_string),
        steps: crate::size::layers::steps(text),
        dockerfile,
    }
}

fn dockerfile_path(repo: &Repository, image: &Image) -> String {
    repo.dockerfile_in_context(image)
        .unwrap_or_else(|| ".hier.Dockerfile".to_string())
}

fn context(repo: &Repository, image: &Image, dockerfile: String, inputs: &Inputs) -> ContextSpec {
    let in_context = repo.dockerfile_in_context(image);
    ContextSpec {
        root: repo.root.join(&image.context),
        dockerfile_path: dockerfile_path(repo, image),
        skip: match image.recipe {
            Recipe::Template { .. } => in_context.clone(),
            Recipe::Dockerfile { .. } => None,
        },
        dockerfile_in_context: in_context,
        dockerfile: dockerfile.into_bytes(),
        planned: inputs.components["context"].clone(),
    }
}
