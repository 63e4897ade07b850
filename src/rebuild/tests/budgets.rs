//! Sizes and budgets in the run loop, against the fake engine: every build records its size
//! and what it adds over its parent; an image over budget fails like a failed test (no tag, no
//! lock entry, its dependents skipped) naming its largest layers; a lowered budget is checked
//! again on the recorded image, building nothing.

use super::{Hierarchy, options, pairs, statuses};
use crate::error::Exit;
use crate::report::Status;

const TREE: &[(&str, Option<&str>, &str)] = &[
    ("base", None, ""),
    ("a", Some("base"), "max_added = \"5kB\""),
    ("a1", Some("a"), ""),
    ("b", Some("base"), "max_size = \"1MB\""),
];

#[tokio::test]
async fn an_image_over_budget_fails_and_its_dependents_are_skipped() {
    let h = Hierarchy::new(TREE);
    h.fake().set_size("base", 20_000);
    h.fake().set_size("a", 30_000);
    h.fake().set_size("b", 900_000);
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(
        statuses(&outcome),
        pairs(&[
            ("base", Status::Built),
            ("a", Status::Failed),
            ("b", Status::Built),
            ("a1", Status::Skipped)
        ])
    );
    let a = &outcome.report.images[1];
    assert_eq!(
        a.error.as_deref(),
        Some("over budget: it adds 10.0 kB over its parent, over max_added 5.0 kB by 5.0 kB")
    );
    assert_eq!(
        a.output.as_deref().unwrap(),
        [
            "its largest new layers:",
            "  10.0 kB  images/a/Dockerfile:3 RUN true"
        ]
    );
    assert!(a.image_id.is_some(), "the failed image is kept to examine");
    let lock = h.lock();
    assert!(!lock.images.contains_key("a"));
    let tagged = h.fake().resolve(&format!("{}/a:1.0.0", super::REGISTRY));
    assert_eq!(tagged, None, "an image over budget gets no tag");
    // What fits is recorded with its sizes, in the lock and the report.
    assert_eq!(
        (lock.images["b"].size, lock.images["b"].added),
        (Some(900_000), Some(880_000))
    );
    assert_eq!(
        (lock.images["base"].size, lock.images["base"].added),
        (Some(20_000), Some(19_000))
    );
    let b = &outcome.report.images[2];
    assert_eq!((b.size, b.added), (Some(900_000), Some(880_000)));
}

#[tokio::test]
async fn a_lowered_budget_is_checked_on_the_recorded_image() {
    let h = Hierarchy::new(TREE);
    h.fake().set_size("base", 20_000);
    h.fake().set_size("a", 24_000);
    h.fake().set_size("b", 900_000);
    assert_eq!(h.rebuild(options()).await.exit, Exit::Success);
    let built = h.fake().built().len();
    let path = h.dir.path().join("catalog.toml");
    let catalog = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        catalog.replace("max_size = \"1MB\"", "max_size = \"800kB\""),
    )
    .unwrap();

    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(statuses(&outcome), pairs(&[("b", Status::Failed)]));
    assert_eq!(
        outcome.report.images[0].error.as_deref(),
        Some("over budget: its size, 900.0 kB, is over max_size 800.0 kB by 100.0 kB")
    );
    assert_eq!(h.fake().built().len(), built, "nothing was built");
}

#[tokio::test]
async fn a_recorded_image_tested_again_gets_the_sizes_its_lock_entry_lacks() {
    let h = Hierarchy::new(TREE);
    h.fake().set_size("base", 20_000);
    assert_eq!(h.rebuild(options()).await.exit, Exit::Success);
    // A lock written before sizes were recorded, and new tests for `base`.
    let mut lock = h.lock();
    for entry in lock.images.values_mut() {
        (entry.size, entry.added) = (None, None);
    }
    lock.write_atomic(&h.dir.path().join("hier.lock")).unwrap();
    let path = h.dir.path().join("catalog.toml");
    let catalog = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        catalog.replace("[\"test base\"]", "[\"test base again\"]"),
    )
    .unwrap();

    let outcome = h.rebuild(options()).await;
    assert_eq!(statuses(&outcome), pairs(&[("base", Status::Tested)]));
    let lock = h.lock();
    assert_eq!(
        (lock.images["base"].size, lock.images["base"].added),
        (Some(20_000), Some(19_000))
    );
    assert_eq!(
        lock.images["a"].size, None,
        "an image not tested again is left as it was"
    );
}
