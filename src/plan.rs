//! The build plan: which images to build, in which waves, and why. A pure function of the
//! catalog's graph, the current inputs and the lock, so `hier plan` prints exactly what
//! `hier rebuild` will do. A reason is shown shortly (`{}`) or with everything it names
//! (`{:#}`: every changed path and variable).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::changed::{self, Change, Recorded};
use crate::graph::Hierarchy;
use crate::hash::short;
use crate::inputs::Inputs;
use crate::lock::Lock;
use crate::name::ImageName;

/// What to plan for.
pub enum Selector {
    /// Images whose inputs differ from the lock, that are not in the lock, or whose recorded
    /// parent moved since they were built; plus their dependents.
    Changed,
    /// Every image.
    All,
    /// These images and their dependents.
    Images(Vec<ImageName>),
    /// Images whose inputs differ from an earlier revision's, plus their dependents.
    Since(BTreeMap<ImageName, Inputs>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    New,
    Changed(Vec<Change>),
    ParentRebuilt(ImageName),
    /// What it was built on is no longer what the lock records for that image (a cascade that
    /// stopped half-way): the image, the id it was built on, the id recorded now.
    ParentMoved {
        name: ImageName,
        was: String,
        now: String,
    },
    Selected,
    /// Said in words: why a refresh rebuilds it (upstream moved, updates pending, …), or why
    /// an image must be fetched.
    Note(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::New => f.write_str("new"),
            Reason::Changed(changes) => {
                f.write_str("changed: ")?;
                for (i, change) in changes.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    match f.alternate() {
                        true => write!(f, "{sep}{change:#}")?,
                        false => write!(f, "{sep}{change}")?,
                    }
                }
                Ok(())
            }
            Reason::ParentRebuilt(p) => write!(f, "parent rebuilt: {p}"),
            Reason::ParentMoved { name, was, now } => write!(
                f,
                "parent rebuilt: {name} ({} -> {})",
                short(was),
                short(now)
            ),
            Reason::Selected => f.write_str("selected"),
            Reason::Note(why) => f.write_str(why),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Build,
    Fetch,
    /// Run the tests of the recorded image again (they changed); build nothing.
    Test,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Build => "build",
            Action::Fetch => "fetch",
            Action::Test => "test",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    pub name: ImageName,
    pub wave: usize,
    pub reason: Reason,
    pub inputs: String,
    pub action: Action,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In build order: by wave, then name.
    pub items: Vec<PlanItem>,
}

impl Plan {
    pub fn waves(&self) -> usize {
        self.items.iter().map(|i| i.wave + 1).max().unwrap_or(0)
    }

    pub fn builds(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.action == Action::Build)
    }

    /// What the run loop runs: the builds and the `test` items.
    pub fn runs(&self) -> impl Iterator<Item = &PlanItem> {
        self.items
            .iter()
            .filter(|i| matches!(i.action, Action::Build | Action::Test))
    }

    /// Puts `fetch` items first (they come before every build).
    pub fn add_fetches(&mut self, fetches: Vec<PlanItem>) {
        self.items.splice(0..0, fetches);
    }
}

/// The images the plan's builds build on that it does not build itself, each once, in the
/// order the builds need them.
pub fn outside_dependencies(catalog: &Catalog, plan: &Plan) -> Vec<ImageName> {
    let built: BTreeSet<&ImageName> = plan.builds().map(|i| &i.name).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in plan.builds() {
        for dep in catalog.image(&item.name).dependencies() {
            if !built.contains(&dep.name) && seen.insert(dep.name.clone()) {
                out.push(dep.name.clone());
            }
        }
    }
    out
}

/// The recorded images a run needs in the engine: what its builds build on (that it does not
/// build itself), then the images it tests.
pub fn recorded_needs(catalog: &Catalog, plan: &Plan) -> Vec<ImageName> {
    let mut needs = outside_dependencies(catalog, plan);
    for item in plan.items.iter().filter(|i| i.action == Action::Test) {
        if !needs.contains(&item.name) {
            needs.push(item.name.clone());
        }
    }
    needs
}

/// The `fetch` items for recorded images the engine lacks (`missing`): pulled by the digest
/// they were pushed as, or, never pushed, named with the command that rebuilds them.
pub fn fetch_items(catalog: &Catalog, lock: &Lock, missing: &[ImageName]) -> Vec<PlanItem> {
    missing
        .iter()
        .filter_map(|name| {
            let entry = lock.images.get(name.as_str())?;
            let repository = catalog.repository(name);
            let reason = match entry.pushed.get(&repository) {
                Some(digest) => format!("the engine lacks it: pull {repository}@{digest}"),
                None => format!(
                    "the engine lacks it and it was never pushed: run `hier rebuild {name}`"
                ),
            };
            Some(PlanItem {
                name: name.clone(),
                wave: 0,
                reason: Reason::Note(reason),
                inputs: entry.inputs.clone(),
                action: Action::Fetch,
            })
        })
        .collect()
}

/// What changed since `then`; with the same components but a different total, the hashing
/// format did.
fn changed_since(now: &Inputs, then: &Recorded) -> Reason {
    let mut changes = changed::changes(now, then);
    if changes.is_empty() {
        changes.push(Change::plain("format"));
    }
    Reason::Changed(changes)
}

/// Why an image is selected on its own, if it is (for `--changed`).
fn own_change(catalog: &Catalog, name: &ImageName, inputs: &Inputs, lock: &Lock) -> Option<Reason> {
    let Some(entry) = lock.images.get(name.as_str()) else {
        return Some(Reason::New);
    };
    if entry.inputs != inputs.digest {
        return Some(changed_since(inputs, &Recorded::from(entry)));
    }
    // A cascade that stopped half-way: what this image was built on is no longer what the
    // lock records for its parent or `uses`.
    let image = catalog.image(name);
    let parent = image
        .parent()
        .map(|p| (p, entry.parent_image_id.as_deref()));
    let uses = image.uses.iter().map(|u| {
        (
            u,
            entry
                .uses_image_ids
                .get(u.name.as_str())
                .map(String::as_str),
        )
    });
    for (dep, built_on) in parent.into_iter().chain(uses) {
        let recorded = lock
            .images
            .get(dep.name.as_str())
            .map(|e| e.image_id.as_str());
        if recorded != built_on {
            return Some(match (built_on, recorded) {
                (Some(was), Some(now)) => Reason::ParentMoved {
                    name: dep.name.clone(),
                    was: was.to_string(),
                    now: now.to_string(),
                },
                _ => Reason::ParentRebuilt(dep.name.clone()),
            });
        }
    }
    None
}

/// Makes the plan for a selector.
pub fn make(
    catalog: &Catalog,
    hierarchy: &Hierarchy,
    inputs: &BTreeMap<ImageName, Inputs>,
    lock: &Lock,
    selector: &Selector,
) -> Plan {
    let mut direct: BTreeMap<ImageName, Reason> = BTreeMap::new();
    match selector {
        Selector::All => {
            for name in hierarchy.order() {
                direct.insert(name.clone(), Reason::Selected);
            }
        }
        Selector::Images(names) => {
            for name in names {
                direct.insert(name.clone(), Reason::Selected);
            }
        }
        Selector::Changed => {
            for name in hierarchy.order() {
                if let Some(reason) = own_change(catalog, name, &inputs[name], lock) {
                    direct.insert(name.clone(), reason);
                }
            }
        }
        Selector::Since(previous) => {
            for name in hierarchy.order() {
                let reason = match previous.get(name) {
                    None => Some(Reason::New),
                    Some(before) if before.digest != inputs[name].digest => {
                        Some(changed_since(&inputs[name], &Recorded::from(before)))
                    }
                    Some(_) => None,
                };
                if let Some(reason) = reason {
                    direct.insert(name.clone(), reason);
                }
            }
        }
    }
    let mut plan = with_dependents(catalog, hierarchy, inputs, &direct);
    if matches!(selector, Selector::Changed) {
        let tests = test_items(catalog, hierarchy, lock, &plan);
        plan.items.splice(0..0, tests);
    }
    plan
}

/// The `test` items: recorded images the plan does not build whose tests are not the ones
/// they passed (an entry from before tests were recorded counts as having passed none).
fn test_items(catalog: &Catalog, hierarchy: &Hierarchy, lock: &Lock, plan: &Plan) -> Vec<PlanItem> {
    let built: BTreeSet<&ImageName> = plan.builds().map(|i| &i.name).collect();
    hierarchy
        .order()
        .iter()
        .filter(|name| !built.contains(name))
        .filter_map(|name| {
            let entry = lock.images.get(name.as_str())?;
            let image = catalog.image(name);
            let now = image.tests_digest();
            let passed = entry.tests.as_deref();
            let unchanged =
                passed == Some(now.as_str()) || (passed.is_none() && !image.has_tests());
            (!unchanged).then(|| PlanItem {
                name: name.clone(),
                wave: 0,
                reason: Reason::Note("tests changed".into()),
                inputs: entry.inputs.clone(),
                action: Action::Test,
            })
        })
        .collect()
}

/// The plan for images selected directly (with why) plus everything that depends on them, in
/// build order; a dependent's reason names what it builds on that is rebuilt.
pub fn with_dependents(
    catalog: &Catalog,
    hierarchy: &Hierarchy,
    inputs: &BTreeMap<ImageName, Inputs>,
    direct: &BTreeMap<ImageName, Reason>,
) -> Plan {
    let selected: BTreeSet<ImageName> = hierarchy.closure(direct.keys().cloned());
    let items = hierarchy
        .build_order(&selected)
        .into_iter()
        .map(|(name, wave)| {
            let reason = direct.get(&name).cloned().unwrap_or_else(|| {
                // Not selected itself: something it builds on is rebuilt. Name the parent when
                // it is, else the first `uses` image that is.
                let image = catalog.image(&name);
                let dep = image
                    .dependencies()
                    .find(|d| selected.contains(&d.name))
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| name.clone());
                Reason::ParentRebuilt(dep)
            });
            PlanItem {
                inputs: inputs
                    .get(&name)
                    .map(|i| i.digest.clone())
                    .unwrap_or_default(),
                name,
                wave,
                reason,
                action: Action::Build,
            }
        })
        .collect();
    Plan { items }
}
