//! What a person sees on a terminal (a pseudo-terminal made by `script`) and in a pipe: colour
//! only when it is wanted, in hier's own output, its progress bars and what the engine says.

mod common;

use std::process::Command;

use common::hierarchy::Hierarchy;

const IMAGES: &str = r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
dockerfile = "images/base/Dockerfile"
"#;

/// A base whose build prints in colour and then fails.
fn colourful_failure(test: &str) -> Hierarchy {
    let h = Hierarchy::new(test, IMAGES);
    h.repo.write(
        "images/base/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN printf '\\033[31mred words\\033[0m\\n' && exit 3\n",
    );
    h.commit();
    h
}

/// Colour codes (SGR): `ESC [ … m`.
fn colour_codes(text: &str) -> usize {
    let re = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    re.find_iter(text).count()
}

/// `hier <args>` on a pseudo-terminal, as a person runs it: everything it wrote.
fn on_a_terminal(h: &Hierarchy, args: &str) -> String {
    let hier = env!("CARGO_BIN_EXE_hier");
    let out = Command::new("script")
        .args(["-qfec", &format!("{hier} {args}"), "/dev/null"])
        .current_dir(h.repo.path())
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn color_never_leaves_no_colour_in_the_bars_or_the_engines_output() {
    let h = colourful_failure("colour-tty");
    let plain = on_a_terminal(&h, "rebuild --color never");
    assert!(plain.contains("red words"), "{plain}");
    assert_eq!(colour_codes(&plain), 0, "{plain:?}");
    let coloured = on_a_terminal(&h, "rebuild --color always");
    assert!(colour_codes(&coloured) > 0, "{coloured:?}");
}

#[test]
fn a_pipe_gets_the_engines_output_without_its_escape_codes() {
    let h = colourful_failure("colour-pipe");
    let run = h.hier(&["rebuild"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("red words"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    let run = h.hier(&["rebuild", "--color", "always"]);
    assert!(run.stderr.contains("\x1b[31mred words"), "{:?}", run.stderr);
}

const GOOD: &str = r#"
[images.good]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
"#;

#[test]
fn quiet_prints_only_what_went_wrong() {
    let h = Hierarchy::new("quiet", GOOD);
    let run = h.hier(&["rebuild", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
}

#[test]
fn plan_dry_run_and_rebuild_say_the_same_when_nothing_is_to_build() {
    let h = Hierarchy::new("uptodate", GOOD);
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for args in [&["plan"][..], &["rebuild", "--dry-run"], &["rebuild"]] {
        let run = h.hier(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert_eq!(
            run.stderr, "nothing to build: every image matches hier.lock\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_refresh_shows_a_bar_while_it_asks_on_a_terminal_and_lines_in_a_pipe() {
    let h = Hierarchy::new("refresh-asking", IMAGES);
    h.repo.write(
        "images/base/Dockerfile",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT}\nRUN echo base > /etc/base\n",
    );
    h.commit();
    let (run, _) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = on_a_terminal(&h, "refresh --dry-run --color never");
    assert!(shown.contains("0/1 checked (reading base)"), "{shown:?}");
    assert!(!shown.contains("reading its packages"), "{shown:?}");
    let piped = h.hier(&["refresh", "--dry-run"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(
        piped.stderr,
        "checking 1 image for OS package updates\nbase: reading its packages and sources\nbase: not checked: no dpkg or apk database\nnothing to refresh: no base moved and no image has OS updates pending\n"
    );
}
