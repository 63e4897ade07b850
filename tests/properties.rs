//! Properties of the core on generated hierarchies: the build order respects every edge, and a
//! change to one image's inputs changes exactly its digest and plans exactly it and its
//! dependents.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use hier::lock::{Lock, LockEntry};
use hier::name::ImageName;
use hier::plan::{self, Selector};
use hier::repo::Repository;
use proptest::prelude::*;

/// A generated hierarchy: for image i > 0, a parent among 0..i (or none: another base) and
/// `uses` among 0..i.
#[derive(Debug, Clone)]
struct Shape {
    parents: Vec<Option<usize>>,
    uses: Vec<Vec<usize>>,
}

fn shape() -> impl Strategy<Value = Shape> {
    (2usize..14).prop_flat_map(|n| {
        let parents = (0..n)
            .map(|i| {
                if i == 0 {
                    Just(None).boxed()
                } else {
                    prop::option::weighted(0.9, 0..i).boxed()
                }
            })
            .collect::<Vec<_>>();
        let uses = (0..n)
            .map(|i| {
                if i < 2 {
                    Just(vec![]).boxed()
                } else {
                    prop::collection::vec(0..i, 0..2).boxed()
                }
            })
            .collect::<Vec<_>>();
        (parents, uses).prop_map(|(parents, uses)| Shape { parents, uses })
    })
}

fn name(i: usize) -> String {
    format!("img{i}")
}

fn write_repo(shape: &Shape) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = String::from(
        "[catalog]\nname = \"p\"\nregistry = \"registry.test/p\"\n[catalog.vars]\ntool = \"x\"\n",
    );
    for (i, parent) in shape.parents.iter().enumerate() {
        catalog.push_str(&format!(
            "\n[images.{}]\nversion = \"1.0.{i}\"\ntemplate = \"t.hbs\"\n",
            name(i)
        ));
        match parent {
            None => catalog.push_str("from = \"busybox:1.36\"\n"),
            Some(p) => catalog.push_str(&format!("parent = \"{}\"\n", name(*p))),
        }
        let mut uses: Vec<usize> = shape.uses[i]
            .iter()
            .copied()
            .filter(|u| Some(*u) != *parent)
            .collect();
        uses.sort();
        uses.dedup();
        if !uses.is_empty() {
            let list: Vec<String> = uses.iter().map(|u| format!("\"{}\"", name(*u))).collect();
            catalog.push_str(&format!("uses = [{}]\n", list.join(", ")));
        }
        catalog.push_str(&format!("build_args = {{ N = \"{i}\" }}\n"));
        let ctx = dir.path().join("images").join(name(i));
        fs::create_dir_all(&ctx).unwrap();
        fs::write(ctx.join("file.txt"), format!("content {i}\n")).unwrap();
    }
    fs::write(dir.path().join("catalog.toml"), catalog).unwrap();
    fs::create_dir_all(dir.path().join("templates")).unwrap();
    fs::write(
        dir.path().join("templates/t.hbs"),
        "FROM {{parent.ref}}\n{{#each uses}}COPY --from={{this.ref}} /x /x\n{{/each}}RUN echo {{vars.tool}} {{image.name}}\nCOPY file.txt /\n",
    )
    .unwrap();
    dir
}

/// The images that must rebuild when `changed` does, worked out from the shape alone: a naive
/// fixpoint that adds every image whose parent or one of whose `uses` is in the set, until
/// nothing more is added (the edges as `write_repo` writes them).
fn rebuilt_with(shape: &Shape, changed: usize) -> BTreeSet<ImageName> {
    let mut set = BTreeSet::from([changed]);
    loop {
        let before = set.len();
        for i in 0..shape.parents.len() {
            let on_parent = shape.parents[i].is_some_and(|p| set.contains(&p));
            if on_parent || shape.uses[i].iter().any(|u| set.contains(u)) {
                set.insert(i);
            }
        }
        if set.len() == before {
            return set
                .into_iter()
                .map(|i| ImageName::parse(&name(i)).unwrap())
                .collect();
        }
    }
}

fn lock_of(repo: &Repository, inputs: &BTreeMap<ImageName, hier::inputs::Inputs>) -> Lock {
    let mut lock = Lock::default();
    for image in &repo.catalog.images {
        let id = |n: &ImageName| {
            format!(
                "sha256:{}",
                hier::hash::digest(n.as_str()).trim_start_matches("sha256:")
            )
        };
        lock.images.insert(
            image.name.to_string(),
            LockEntry {
                inputs: inputs[&image.name].digest.clone(),
                components: inputs[&image.name].components.clone(),
                image_id: id(&image.name),
                parent_image_id: image.parent().map(|p| id(&p.name)),
                uses_image_ids: image
                    .uses
                    .iter()
                    .map(|u| (u.name.to_string(), id(&u.name)))
                    .collect(),
                ..Default::default()
            },
        );
    }
    lock
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn build_order_puts_every_dependency_first(shape in shape()) {
        let dir = write_repo(&shape);
        let repo = Repository::open(&dir.path().join("catalog.toml")).unwrap();
        let order = repo.hierarchy.order();
        prop_assert_eq!(order.len(), shape.parents.len());
        let position: BTreeMap<&ImageName, usize> = order.iter().enumerate().map(|(i, n)| (n, i)).collect();
        for image in &repo.catalog.images {
            for dep in image.dependencies() {
                prop_assert!(position[&dep.name] < position[&image.name]);
                prop_assert!(repo.hierarchy.wave(&dep.name) < repo.hierarchy.wave(&image.name));
            }
        }
    }

    #[test]
    fn one_changed_input_changes_one_digest_and_plans_its_dependents(shape in shape(), pick in any::<prop::sample::Index>(), which in 0..2u8) {
        let dir = write_repo(&shape);
        let path = dir.path().join("catalog.toml");
        let repo = Repository::open(&path).unwrap();
        let before = repo.inputs().unwrap();
        let lock = lock_of(&repo, &before);
        prop_assert!(plan::make(&repo.catalog, &repo.hierarchy, &before, &lock, &Selector::Changed).items.is_empty());

        let k = pick.index(shape.parents.len());
        if which == 0 {
            fs::write(dir.path().join("images").join(name(k)).join("file.txt"), "changed\n").unwrap();
        } else {
            let text = fs::read_to_string(&path).unwrap()
                .replace(&format!("build_args = {{ N = \"{k}\" }}"), &format!("build_args = {{ N = \"{k}!\" }}"));
            fs::write(&path, text).unwrap();
        }
        let repo = Repository::open(&path).unwrap();
        let after = repo.inputs().unwrap();
        let changed: BTreeSet<&ImageName> = after.iter().filter(|(n, i)| before[*n] != **i).map(|(n, _)| n).collect();
        let target = ImageName::parse(&name(k)).unwrap();
        prop_assert_eq!(changed, BTreeSet::from([&target]));

        let planned: BTreeSet<ImageName> = plan::make(&repo.catalog, &repo.hierarchy, &after, &lock, &Selector::Changed)
            .items.into_iter().map(|i| i.name).collect();
        prop_assert_eq!(planned, rebuilt_with(&shape, k));
    }
}
