//! Changed tests in the run loop, against the fake engine: the recorded image is tested and
//! nothing is built for it; what builds on it waits for its tests and is skipped when they
//! fail.

use super::{Hierarchy, TREE, options, pairs, statuses};
use crate::error::Exit;
use crate::report::Status;

/// Changes `a`'s tests in the catalog and `a1`'s Dockerfile.
fn change_a_tests_and_a1(h: &Hierarchy) {
    let path = h.dir.path().join("catalog.toml");
    let catalog = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, catalog.replace("[\"test a\"]", "[\"test a again\"]")).unwrap();
    let dockerfile = h.dir.path().join("images/a1/Dockerfile");
    std::fs::write(
        dockerfile,
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN echo new\n",
    )
    .unwrap();
}

#[tokio::test]
async fn a_build_waits_for_the_new_tests_of_what_it_builds_on() {
    let h = Hierarchy::new(TREE);
    h.rebuild(options()).await;
    let first = h.fake().built();
    let a = h.image_id("a");
    let tests_before = h.lock().images["a"].tests.clone();
    change_a_tests_and_a1(&h);
    h.fake().set_exit("test a again", 1);

    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Failed);
    assert_eq!(
        statuses(&outcome),
        pairs(&[("a", Status::Failed), ("a1", Status::Skipped)])
    );
    assert_eq!(
        outcome.report.images[0].image_id.as_deref(),
        Some(a.as_str())
    );
    assert_eq!(h.lock().images["a"].tests, tests_before);
    assert_eq!(
        h.fake().built().len(),
        first.len(),
        "nothing more was built"
    );

    h.fake().set_exit("test a again", 0);
    let outcome = h.rebuild(options()).await;
    assert_eq!(outcome.exit, Exit::Success);
    assert_eq!(
        statuses(&outcome),
        pairs(&[("a", Status::Tested), ("a1", Status::Built)])
    );
    assert_eq!(
        h.image_id("a"),
        a,
        "the tested image is still the one recorded"
    );
    assert_ne!(h.lock().images["a"].tests, tests_before);
    let built = h.fake().built();
    assert_eq!(built.len(), first.len() + 1);
    assert_eq!(built.iter().filter(|n| *n == "a1").count(), 2);
}
