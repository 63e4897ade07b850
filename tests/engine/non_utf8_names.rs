//! A context file whose name is not UTF-8. The classic builder gets it as
//! the docker CLI sends it (the tar header carries the name's bytes); BuildKit's file sync
//! carries names as UTF-8 text only, so a BuildKit build of it is refused before anything is
//! built (exit 2), naming the file.

use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use super::builder;
use super::common::hierarchy::Hierarchy;

/// What `sh -c script` prints in a container of `image`, as bytes.
fn run_in(image: &str, script: &str) -> Vec<u8> {
    let out = Command::new("docker")
        .args(["run", "--rm", "--entrypoint", "", image, "sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn a_file_whose_name_is_not_utf8_is_sent_as_is_or_refused_by_name() {
    let h = Hierarchy::new(
        "nonutf8",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "copy.hbs"
"#,
    );
    let context = h.repo.path().join("images/base");
    std::fs::create_dir_all(&context).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(context.join(name), "latin-1\n").unwrap();
    std::os::unix::fs::symlink(name, context.join("link")).unwrap();
    h.repo
        .write("images/base/.dockerignore", "Dockerfile\n.dockerignore\n");
    h.commit();
    let run = h.hier(&["rebuild"]);
    if builder() == "buildkit" {
        assert_eq!((run.code, run.stdout.as_str()), (2, ""));
        assert_eq!(
            run.stderr,
            "error: the name of images/base/caf\u{fffd}.txt (in the context of image `base`) is not UTF-8, and BuildKit's file sync carries names as UTF-8 text only\n  = help: rename it, or build with the classic builder, whose tar carries names as they are (`builder = \"legacy\"` in [catalog], or --builder legacy)\n"
        );
        assert!(!h.repo.path().join("hier.lock").exists());
        return;
    }
    assert_eq!(run.code, 0, "{}", run.stderr);
    let image = h.reference("base", "1.0.0");
    assert_eq!(
        run_in(&image, "cd /ctx/base && for f in *; do echo \"$f\"; done"),
        b"caf\xe9.txt\nlink\n"
    );
    assert_eq!(
        run_in(
            &image,
            "cd /ctx/base && cat \"$(readlink link)\" && cat link"
        ),
        b"latin-1\nlatin-1\n"
    );
    // Built once: the next run finds it up to date.
    let again = h.hier(&["plan"]);
    assert_eq!(again.stdout, "");
    assert_eq!(
        again.stderr,
        "nothing to build: every image matches hier.lock\n"
    );
}
