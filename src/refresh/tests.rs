//! The refresh's rules in the run loop, against the fake engine (the harness of the run
//! loop's tests): an image whose packages did not change is kept, one whose packages moved is
//! promoted and cascades.

use std::collections::HashMap;
use std::sync::Arc;

use super::RefreshPolicy;
use crate::engine::fake::Call;
use crate::interrupt::Interrupt;
use crate::name::ImageName;
use crate::plan::Selector;
use crate::rebuild::tests::{FROM_ID, Hierarchy, TREE, options, pairs, statuses};
use crate::rebuild::upstream::Upstream;
use crate::report::Status;

fn refresh_policy(h: &Hierarchy, candidates: &[&str]) -> RefreshPolicy {
    let name = |n: &str| ImageName::parse(n).unwrap();
    RefreshPolicy {
        candidates: candidates
            .iter()
            .map(|c| (name(c), "scheduled".to_string()))
            .collect(),
        upstreams: HashMap::from([(
            name("base"),
            Upstream {
                local_id: FROM_ID.into(),
                recorded: FROM_ID.into(),
                manifest_digest: None,
            },
        )]),
        old_upstreams: HashMap::from([(name("base"), Some(FROM_ID.to_string()))]),
        lock: h.lock(),
        recorded_on: h.engine.clone(),
    }
}

const DPKG: &str = "Package: openssl\nStatus: install ok installed\nVersion: 3.0.20-1\n";

#[tokio::test]
async fn a_refresh_keeps_an_unchanged_image_and_cascades_a_changed_one() {
    let h = Hierarchy::new(TREE);
    h.fake()
        .set_file("base", crate::packages::DPKG_STATUS, DPKG);
    h.rebuild(options()).await;
    let before = h.lock();
    let all = |h: &Hierarchy| {
        let repo = h.repo();
        Selector::Images(repo.hierarchy.order().to_vec())
    };

    // Same upstream, same packages: the old image stays, nothing below it is built.
    let builds = h.fake().built().len();
    let (outcome, _) = h
        .run_with(
            all(&h),
            options(),
            Arc::new(refresh_policy(&h, &["base"])),
            Interrupt::manual(),
        )
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(statuses(&outcome), pairs(&[("base", Status::Unchanged)]));
    assert_eq!(
        h.fake().built().len(),
        builds + 1,
        "only the base was rebuilt"
    );
    assert_eq!(h.lock(), before);
    let build = h.fake().calls().into_iter().rev().find_map(|c| match c {
        Call::Build { no_cache, .. } => Some(no_cache),
        _ => None,
    });
    assert_eq!(build, Some(true), "a candidate builds with no cache");

    // A package moved: the base is promoted and everything on it is rebuilt.
    h.fake().set_file(
        "base",
        crate::packages::DPKG_STATUS,
        &DPKG.replace("3.0.20-1", "3.0.22-1"),
    );
    let (outcome, _) = h
        .run_with(
            all(&h),
            options(),
            Arc::new(refresh_policy(&h, &["base"])),
            Interrupt::manual(),
        )
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Built),
            ("b", Status::Built),
            ("a1", Status::Built)
        ])
    );
    assert_eq!(
        outcome.report.images[0].packages.as_deref(),
        Some(&["openssl 3.0.20-1 -> 3.0.22-1".to_string()][..])
    );
    assert_ne!(h.image_id("base"), before.images["base"].image_id);
    assert_eq!(
        h.lock().images["a"].parent_image_id.as_deref(),
        Some(h.image_id("base").as_str())
    );
}

#[tokio::test]
async fn a_refresh_over_a_pool_compares_with_the_recorded_image_wherever_it_builds() {
    // The recorded images are on the first builder (a refresh fetches any it lacks there); the
    // rebuilt ones land on both builders, and unchanged ones are kept on either.
    let images = [
        ("base", None, ""),
        ("c0", Some("base"), ""),
        ("c1", Some("base"), ""),
    ];
    let mut h = Hierarchy::pooled(&images, 2);
    for engine in std::iter::once(&h.engine).chain(&h.others) {
        for name in ["base", "c0", "c1"] {
            engine
                .inner()
                .set_file(name, crate::packages::DPKG_STATUS, DPKG);
        }
        engine
            .inner()
            .set_build_time(std::time::Duration::from_millis(30));
    }
    let others = std::mem::take(&mut h.others);
    h.rebuild(options()).await;
    h.others = others;
    let before = h.lock();
    let (outcome, _) = h
        .run_with(
            Selector::Images(h.repo().hierarchy.order().to_vec()),
            crate::rebuild::Options {
                jobs: 1,
                ..options()
            },
            Arc::new(refresh_policy(&h, &["c0", "c1"])),
            Interrupt::manual(),
        )
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(
        statuses(&outcome),
        pairs(&[("c0", Status::Unchanged), ("c1", Status::Unchanged)])
    );
    assert!(
        !h.others[0].inner().built().is_empty(),
        "a candidate was rebuilt on the second builder"
    );
    assert_eq!(h.lock(), before);
}
