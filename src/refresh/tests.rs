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
