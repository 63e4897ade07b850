//! The tests of recorded images, run again against the real engine: changed tests make the
//! plan's action `test` (the recorded image is tested, nothing is built), and `hier test` runs
//! them on demand; the lock records the tests each image passed.

mod common;

use common::engine::{pairs, statuses};
use common::hierarchy::Hierarchy;
use serde_json::Value;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
test = ["test -f /etc/base"]

[images.child]
parent = "base"
version = "1.0.0"
template = "layer.hbs"
test = ["test -f /etc/child"]
"#;

fn built(test: &str) -> Hierarchy {
    let h = Hierarchy::new(test, IMAGES);
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    h
}

/// `(name, action, reason)` of each planned image.
fn plan(h: &Hierarchy) -> Vec<(String, String, String)> {
    let run = h.hier(&["plan", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let field = |k: &str| i[k].as_str().unwrap().to_string();
            (field("name"), field("action"), field("reason"))
        })
        .collect()
}

fn item(name: &str, action: &str, reason: &str) -> (String, String, String) {
    (name.into(), action.into(), reason.into())
}

/// Replaces the `test` line of `[images.child]`.
fn set_child_tests(h: &Hierarchy, tests: &str) {
    let catalog = h.repo.read("catalog.toml");
    let (head, child) = catalog.split_once("[images.child]").unwrap();
    let child: Vec<String> = child
        .lines()
        .map(|l| {
            if l.starts_with("test = ") {
                format!("test = [{tests}]")
            } else {
                l.to_string()
            }
        })
        .collect();
    h.repo.write(
        "catalog.toml",
        &format!("{head}[images.child]{}\n", child.join("\n")),
    );
}

#[test]
fn changed_tests_test_the_recorded_image_and_build_nothing() {
    let h = built("retest-plan");
    let id = h.entry("child")["image_id"].as_str().unwrap().to_string();
    let passed = h.entry("child")["tests"].as_str().unwrap().to_string();

    // A new test that fails: planned as `test`, run on the recorded image, which stays.
    set_child_tests(&h, "\"test -f /etc/child\", \"test -f /etc/missing\"");
    assert_eq!(plan(&h), [item("child", "test", "tests changed")]);
    let text = h.hier(&["plan"]);
    assert!(
        text.stdout
            .ends_with("0     child  test    tests changed\n1 image to test\n"),
        "{}",
        text.stdout
    );
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(statuses(&report), pairs(&[("child", "failed")]));
    let image = &report["images"][0];
    assert_eq!(image["error"], "test `test -f /etc/missing` exited with 1");
    assert_eq!(
        image["image_id"],
        id.as_str(),
        "the recorded image was tested"
    );
    assert!(
        image["next"]
            .as_str()
            .unwrap()
            .contains("`hier test child`"),
        "{image}"
    );
    assert_eq!(h.entry("child")["tests"].as_str(), Some(passed.as_str()));

    // Tests that pass are recorded; the image is the same one.
    set_child_tests(&h, "\"test -f /etc/child\", \"test -f /etc/base\"");
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(statuses(&report), pairs(&[("child", "tested")]));
    assert!(
        run.stderr
            .contains("0 built, 1 tested, 0 failed, 0 skipped"),
        "{}",
        run.stderr
    );
    assert_eq!(h.entry("child")["image_id"].as_str(), Some(id.as_str()));
    assert_ne!(h.entry("child")["tests"].as_str(), Some(passed.as_str()));
    assert!(plan(&h).is_empty());

    // An image that is rebuilt runs its new tests there: no separate `test` item.
    set_child_tests(&h, "\"true\"");
    let catalog = h
        .repo
        .read("catalog.toml")
        .replace("mark = \"one\"", "mark = \"two\"");
    h.repo.write("catalog.toml", &catalog);
    let actions: Vec<(String, String)> = plan(&h).into_iter().map(|(n, a, _)| (n, a)).collect();
    assert_eq!(actions, pairs(&[("base", "build"), ("child", "build")]));
}

#[test]
fn a_lock_from_before_tests_were_recorded_tests_the_images_that_have_tests() {
    let h = Hierarchy::new(
        "retest-old-lock",
        &format!(
            "{IMAGES}\n[images.untested]\nparent = \"base\"\nversion = \"1.0.0\"\ntemplate = \"layer.hbs\"\n"
        ),
    );
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let old: String = h
        .repo
        .read("hier.lock")
        .lines()
        .filter(|l| !l.starts_with("tests = "))
        .map(|l| format!("{l}\n"))
        .collect();
    h.repo.write("hier.lock", &old);
    assert_eq!(
        plan(&h),
        [
            item("base", "test", "tests changed"),
            item("child", "test", "tests changed")
        ]
    );
}

#[test]
fn hier_test_runs_the_tests_of_recorded_images_and_records_them() {
    let h = built("retest-command");
    let (run, report) = {
        let run = h.hier(&["test", "--format", "json"]);
        let report: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
        (run, report)
    };
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["command"], "test");
    assert_eq!(
        statuses(&report),
        pairs(&[("base", "tested"), ("child", "tested")])
    );
    assert_eq!(
        report["images"][0]["image_id"].as_str(),
        h.entry("base")["image_id"].as_str()
    );

    // One image; a failing test fails it (exit 1) and leaves the lock as it was.
    set_child_tests(&h, "\"test -f /etc/missing\"");
    let before = h.repo.read("hier.lock");
    let run = h.hier(&["test", "child"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("child failed: test `test -f /etc/missing` exited with 1"),
        "{}",
        run.stderr
    );
    assert_eq!(h.repo.read("hier.lock"), before);

    let run = h.hier(&["test", "nosuch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    h.assert_no_test_containers();
}

#[test]
fn hier_test_of_an_image_never_built_is_a_usage_error() {
    let h = Hierarchy::new("retest-never", IMAGES);
    let run = h.hier(&["test", "child"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: `child` was never built, so there is no image to test; run `hier rebuild child`\n"
    );
    let run = h.hier(&["test"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "nothing to test: hier.lock records no image\n");
}
