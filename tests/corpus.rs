//! The bad-input corpus: every folder of tests/corpus is a repository with one kind of mistake
//! (several, for `many-problems-in-one-run`). Each must make hier exit 2 with exactly the
//! message in its `expected.stderr`, and write nothing.

mod common;

use std::fs;
use std::path::Path;

use common::{assert_snapshot, copy_tree, hier_in, snapshot};

const MARKERS: &[&str] = &["expected.stderr", "render-ok"];

fn check_case(case: &Path) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let work = tempfile::tempdir().unwrap();
    copy_tree(case, work.path());
    for marker in MARKERS {
        let _ = fs::remove_file(work.path().join(marker));
    }
    let before = snapshot(work.path());

    let validate = hier_in(work.path(), &["validate"]);
    if validate.code != 2 {
        return Err(format!(
            "{name}: `hier validate` exited {} (want 2)\n{}",
            validate.code, validate.stderr
        ));
    }
    if !validate.stdout.is_empty() {
        return Err(format!(
            "{name}: `hier validate` printed on stdout: {}",
            validate.stdout
        ));
    }
    assert_snapshot(&case.join("expected.stderr"), &validate.stderr)
        .map_err(|e| format!("{name}: {e}"))?;

    let plan = hier_in(work.path(), &["plan", "--format", "json"]);
    if plan.code != 2 || !plan.stdout.is_empty() {
        return Err(format!(
            "{name}: `hier plan` exited {} with stdout {:?}",
            plan.code, plan.stdout
        ));
    }
    if !case.join("render-ok").exists() {
        let render = hier_in(work.path(), &["render"]);
        if render.code != 2 {
            return Err(format!(
                "{name}: `hier render` exited {} (want 2)",
                render.code
            ));
        }
        if render.stderr != validate.stderr {
            return Err(format!(
                "{name}: `hier render` reported differently:\n{}",
                render.stderr
            ));
        }
        if snapshot(work.path()) != before {
            return Err(format!("{name}: `hier render` wrote files"));
        }
    }
    Ok(())
}

#[test]
fn every_broken_input_exits_2_with_its_message_and_place_and_writes_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "the corpus holds {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check_case(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
