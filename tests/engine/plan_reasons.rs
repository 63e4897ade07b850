//! End to end: what a real build records in the lock lets the next plan
//! name the changed files and variables.

use super::common::hierarchy::Hierarchy;

#[test]
fn after_a_build_the_plan_names_changed_files_and_variables() {
    let h = Hierarchy::new(
        "reasons",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"

[images.files]
parent = "base"
version = "1.0.0"
template = "copy.hbs"
"#,
    );
    h.repo.write("images/files/data.txt", "one\n");
    h.repo.write("images/files/keep.txt", "same\n");
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    h.repo.write("images/files/data.txt", "two\n");
    let catalog = h
        .repo
        .read("catalog.toml")
        .replace("mark = \"one\"", "mark = \"two\"");
    h.repo.write("catalog.toml", &catalog);
    let plan = h.hier(&["plan"]);
    assert_eq!(
        plan.stdout,
        "\
WAVE  IMAGE  ACTION  REASON
0     base   build   changed: vars (mark)
1     files  build   changed: context (data.txt)
2 images to build in 2 waves
"
    );
}
