//! A context file whose name is not UTF-8 is planned like any other (never
//! a failure with "No such file or directory", naming no file).

use std::os::unix::ffi::OsStrExt;

use super::{lock_everything, nothing_to_build, ok, repo};

#[test]
fn a_context_file_whose_name_is_not_utf8_is_planned() {
    let repo = repo();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    let file = repo.path().join("images/app").join(name);
    std::fs::write(&file, "one\n").unwrap();
    let plan = repo.hier_offline(&["plan", "app"]);
    assert_eq!(
        ok(&plan),
        "WAVE  IMAGE  ACTION  REASON\n0     app    build   selected\n1 image to build in 1 wave\n"
    );
    assert_eq!(repo.hier_offline(&["validate", "-q"]).code, 0);
    lock_everything(&repo);
    nothing_to_build(&repo.hier_offline(&["plan"]));
    std::fs::write(&file, "two\n").unwrap();
    assert_eq!(
        ok(&repo.hier_offline(&["plan"])),
        "WAVE  IMAGE  ACTION  REASON\n0     app    build   changed: context (caf\u{fffd}.txt)\n1 image to build in 1 wave\n"
    );
}
