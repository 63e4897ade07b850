//! Shell completions and man pages, made from the command line's own definition: a bash script
//! that loads and completes hier's commands, zsh and fish scripts, and a man page per command
//! that `man` renders, examples included.

use super::common;

fn hier(args: &[&str]) -> common::Run {
    common::hier_in(&std::env::temp_dir(), args)
}

#[test]
fn bash_completes_the_commands_and_their_options() {
    let run = hier(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hier.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    // Loaded into bash, it completes `hier re` and `hier refresh --f`.
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT={}; _hier hier; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display(),
                words.join(" "),
                words.len() - 1,
                line.len()
            ))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let commands = complete("hier re");
    assert!(commands.lines().any(|l| l == "refresh"), "{commands}");
    assert!(commands.lines().any(|l| l == "rebuild"), "{commands}");
    assert!(commands.lines().any(|l| l == "render"), "{commands}");
    let options = complete("hier refresh --f");
    assert!(options.lines().any(|l| l == "--force"), "{options}");
    for (shell, mark) in [("zsh", "#compdef hier"), ("fish", "complete -c hier")] {
        let run = hier(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(mark), "{shell}");
        assert!(run.stdout.contains("rebuild"), "{shell}");
    }
    assert_eq!(hier(&["completions", "tcsh"]).code, 2);
}

#[test]
fn man_writes_a_page_per_command_that_man_renders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let run = hier(&["man", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in [
        "hier",
        "hier-rebuild",
        "hier-refresh",
        "hier-pick",
        "hier-completions",
    ] {
        let path = out.join(format!("{page}.1"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(&format!(".TH {page} 1")), "{page}");
    }
    let rendered = std::process::Command::new("man")
        .args(["-l"])
        .arg(out.join("hier-refresh.1"))
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(rendered.status.success());
    assert!(text.contains("--force"), "{text}");
    assert!(text.contains("hier refresh --dry-run"), "{text}");
}
