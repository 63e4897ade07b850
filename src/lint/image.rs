//! The rules only the hierarchy can check: an app's effective user through its parents (H108),
//! a base's init as `ENTRYPOINT` (H109), a `.dockerignore` in each context (H113), a
//! structure-test file left out of its context (H117); and what an
//! image's parents leave it (its `SHELL` for H114, a `WORKDIR` for H116).

use std::collections::{BTreeMap, HashMap};

use super::dockerfile::Dockerfile;
use super::dockerfile::Instruction;
use super::runs::{Shell, shell_set};
use super::stages::Stages;
use super::{Hit, Parsed, hit};
use crate::catalog::{Image, Origin};
use crate::name::ImageName;
use crate::repo::Repository;

/// The effective users found so far: (user, line of its `USER`; 0 when inherited).
pub type Users = HashMap<ImageName, Option<(String, usize)>>;

/// What each image's final stage leaves to the images built on it, found so far: its shell
/// (H114) and whether a `WORKDIR` was set (H116).
#[derive(Default)]
pub struct Left {
    shells: HashMap<ImageName, Shell>,
    workdirs: HashMap<ImageName, bool>,
}

/// What an image's parent leaves it: (shell, a `WORKDIR` set). A base's `from` is taken as a
/// plain `/bin/sh` without a `WORKDIR`.
pub fn parent_left(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    cache: &mut Left,
) -> (Shell, bool) {
    let shell = parent_value(
        repo,
        image,
        parsed,
        &mut cache.shells,
        Shell::Plain,
        shell_set,
    );
    let workdir = parent_value(repo, image, parsed, &mut cache.workdirs, false, workdir_set);
    (shell, workdir)
}

/// Whether an instruction sets a `WORKDIR`.
pub fn workdir_set(ins: &Instruction) -> Option<bool> {
    (ins.keyword == "WORKDIR").then_some(true)
}

fn parent_value<T: Copy>(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    cache: &mut HashMap<ImageName, T>,
    outside: T,
    set: fn(&Instruction) -> Option<T>,
) -> T {
    let Origin::Parent(dep) = &image.origin else {
        return outside;
    };
    let parent = repo.catalog.image(&dep.name);
    if let Some(value) = cache.get(&parent.name) {
        return *value;
    }
    let inherited = parent_value(repo, parent, parsed, cache, outside, set);
    let value = Stages::new(inherited, outside, set).of_file(&parsed[&parent.name].df);
    cache.insert(parent.name.clone(), value);
    value
}

/// H108 and H109 for one image.
pub fn check_image(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    users: &mut Users,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    let df = &parsed[&image.name].df;
    let final_from = df.stages.last().map(|s| s.line).unwrap_or(1);
    if image.kind == crate::catalog::APP {
        check_user(repo, image, parsed, users, final_from, &mut hits);
    }
    if image.is_base() {
        check_init(df, final_from, &mut hits);
    }
    hits
}

/// H108: an app does not run as root.
fn check_user(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    users: &mut Users,
    final_from: usize,
    hits: &mut Vec<Hit>,
) {
    match &effective_user(repo, image, parsed, users) {
        None => hits.push(hit(
            "H108",
            final_from,
            "this app image runs as root: neither it nor its parents set a USER",
        )),
        Some((u, line)) if is_root(u) => hits.push(hit(
            "H108",
            if *line == 0 { final_from } else { *line },
            format!("this app image runs as root (`USER {u}`)"),
        )),
        _ => {}
    }
}

/// H109: a base's final stage has dumb-init or tini as `ENTRYPOINT`.
fn check_init(df: &Dockerfile, final_from: usize, hits: &mut Vec<Hit>) {
    let last = df.stages.len().checked_sub(1);
    let entrypoint = df
        .instructions
        .iter()
        .rev()
        .find(|i| i.stage == last && i.keyword == "ENTRYPOINT");
    let first = entrypoint.and_then(|e| match &e.exec {
        Some(items) => items.first().cloned(),
        None => e.args.split_whitespace().next().map(str::to_string),
    });
    let has_init = first.as_deref().is_some_and(|f| {
        let base = f.rsplit('/').next().unwrap_or(f);
        base.contains("dumb-init") || base.contains("tini")
    });
    if !has_init {
        hits.push(hit(
            "H109",
            entrypoint.map(|e| e.line).unwrap_or(final_from),
            "this base has no init (dumb-init or tini) as ENTRYPOINT",
        ));
    }
}

/// The last USER of a stage, following `FROM <earlier stage>`; `Err(())` when the stage starts
/// from an image outside the file (the caller follows the catalog parent).
fn stage_user(df: &Dockerfile, stage: usize) -> Result<Option<(String, usize)>, ()> {
    if let Some(ins) = df
        .instructions
        .iter()
        .rev()
        .find(|i| i.stage == Some(stage) && i.keyword == "USER")
    {
        return Ok(Some((ins.args.trim().to_string(), ins.line)));
    }
    let image = &df.stages[stage].image;
    match df.stages[..stage].iter().rposition(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(image))
    }) {
        Some(earlier) => stage_user(df, earlier),
        None => Err(()),
    }
}

/// The effective user of an image's final stage through its parents (None: root by default).
fn effective_user(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    cache: &mut Users,
) -> Option<(String, usize)> {
    if let Some(u) = cache.get(&image.name) {
        return u.clone();
    }
    let df = &parsed[&image.name].df;
    let user = match df
        .stages
        .len()
        .checked_sub(1)
        .map(|last| stage_user(df, last))
    {
        Some(Ok(u)) => u,
        _ => match &image.origin {
            Origin::Parent(dep) => {
                effective_user(repo, repo.catalog.image(&dep.name), parsed, cache)
                    .map(|(u, _)| (u, 0))
            }
            Origin::Base { .. } => None,
        },
    };
    cache.insert(image.name.clone(), user.clone());
    user
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name.is_empty() || name == "root" || name == "0"
}

/// H113: a context with more than the Dockerfile has a `.dockerignore`.
pub fn check_context(repo: &Repository, image: &Image) -> Option<Hit> {
    let dir = repo.root.join(&image.context);
    let entries = std::fs::read_dir(&dir).ok()?;
    let dockerfile = repo.dockerfile_in_context(image);
    let mut others = false;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".dockerignore" {
            return None;
        }
        if Some(name.as_str()) != dockerfile.as_deref() {
            others = true;
        }
    }
    others.then(|| {
        hit(
            "H113",
            0,
            format!(
                "the context {} has no .dockerignore: every file in it is sent to the engine",
                if image.context.is_empty() {
                    "."
                } else {
                    &image.context
                }
            ),
        )
    })
}

/// H117: an image's structure-test file lies in its build context and `.dockerignore` does not
/// leave it out, so editing the tests changes the context (the image is rebuilt, not tested
/// again) and the file is sent to the engine.
pub fn check_spec(repo: &Repository, image: &Image) -> Option<(String, Hit)> {
    let spec = image.test_spec.as_ref()?;
    let inside = match image.context.as_str() {
        "" => Some(spec.path.as_str()),
        context => spec.path.strip_prefix(&format!("{context}/")),
    }?;
    let ignore = repo.root.join(&image.context).join(".dockerignore");
    let excluded = std::fs::read_to_string(ignore).ok().is_some_and(|text| {
        let lines = crate::context::ignore::read_lines(&text);
        crate::context::ignore::Patterns::new(&lines)
            .is_ok_and(|patterns| patterns.matches(inside, None).0)
    });
    (!excluded).then(|| {
        let message = format!(
            "the test_spec {} is in the build context and .dockerignore does not leave it out: editing the tests rebuilds the image; add `{inside}` to its .dockerignore",
            spec.path
        );
        (spec.path.clone(), hit("H117", 0, message))
    })
}
