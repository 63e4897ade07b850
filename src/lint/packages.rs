//! The package-manager rules of a shell-form `RUN` (H102–H107), read in its command line and in
//! the heredocs that are its scripts: apt lists updated, installed and removed (`rm`, `apt-get
//! dist-clean`) in the same `RUN`
//! with `--no-install-recommends`, `apk add --no-cache`, `pip install --no-cache-dir` (a cache
//! mount over a cache keeps it out of the layer too), and multi-line package lists sorted and
//! without duplicates.

use std::collections::{BTreeSet, HashMap};

use super::dockerfile::Instruction;
use super::rules::Severity;
use super::scripts::{Script, scripts};
use super::shell::{Word, commands, packages, program, subcommand};
use super::{Hit, hit};

const APT_VALUE_OPTIONS: &[&str] = &[
    "-o",
    "-t",
    "-c",
    "--option",
    "--target-release",
    "--config-file",
];
const APK_VALUE_OPTIONS: &[&str] = &["-X", "--repository", "-t", "--virtual", "-p", "--root"];
const PIP_VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "-e",
    "--editable",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--progress-bar",
];

/// What the commands of one `RUN` do with apt's lists.
#[derive(Default)]
struct AptLists {
    updates: bool,
    installs: bool,
    removes: bool,
}

/// The caches a `RUN` keeps out of its layer: by a cache or tmpfs mount over them
/// (`--mount=type=cache,target=/var/lib/apt`), or, for pip, `PIP_NO_CACHE_DIR` in its stage.
#[derive(Default)]
struct Kept {
    apt_lists: bool,
    apk: bool,
    pip: bool,
}

impl Kept {
    fn of(ins: &Instruction, pip_env: bool) -> Kept {
        let targets: Vec<&str> = ins
            .flags
            .iter()
            .filter(|f| f.name == "mount")
            .filter_map(|f| f.value.as_deref().and_then(cache_target))
            .collect();
        let mounted = |path: &str| targets.iter().any(|t| covers(t, path));
        Kept {
            apt_lists: mounted("/var/lib/apt/lists"),
            apk: mounted("/var/cache/apk") || mounted("/etc/apk/cache"),
            pip: pip_env
                || mounted("/root/.cache/pip")
                || targets
                    .iter()
                    .any(|t| t.ends_with("/.cache/pip") || t.ends_with("/.cache")),
        }
    }
}

/// The target of a `type=cache` or `type=tmpfs` mount (`type=bind` is the default).
fn cache_target(mount: &str) -> Option<&str> {
    let mut kind = "bind";
    let mut target = None;
    for field in mount.split(',') {
        match field.split_once('=') {
            Some(("type", value)) => kind = value,
            Some(("target" | "dst" | "destination", value)) => target = Some(value),
            _ => {}
        }
    }
    matches!(kind, "cache" | "tmpfs")
        .then_some(target)
        .flatten()
}

/// Whether a mount at `target` holds `path`.
fn covers(target: &str, path: &str) -> bool {
    let target = target.trim_end_matches('/');
    path == target || path.starts_with(&format!("{target}/"))
}

/// Checks a shell-form `RUN` (its command line and the heredocs that are scripts);
/// `pip_env` says `PIP_NO_CACHE_DIR` is on in its stage. The caches left behind (H104, H105,
/// H106) matter only in a stage that `ships`: one whose layers are the image's.
pub fn check_run(ins: &Instruction, pip_env: bool, ships: bool, hits: &mut Vec<Hit>) {
    let mut kept = Kept::of(ins, pip_env);
    if !ships {
        kept = Kept {
            apt_lists: true,
            apk: true,
            pip: true,
        };
    }
    let mut lists = AptLists {
        removes: kept.apt_lists,
        ..AptLists::default()
    };
    for script in scripts(ins) {
        check_script(&script, &kept, &mut lists, hits);
    }
    if lists.updates && !lists.installs {
        hits.push(hit(
            "H102",
            ins.line,
            "`apt-get update` in a RUN that installs nothing: update and install in the same RUN",
        ));
    }
    if lists.updates && lists.installs && !lists.removes {
        hits.push(hit(
            "H104",
            ins.line,
            "this RUN fetches apt lists and leaves them in the layer: end it with `rm -rf /var/lib/apt/lists/*`",
        ));
    }
}

fn check_script(script: &Script, kept: &Kept, lists: &mut AptLists, hits: &mut Vec<Hit>) {
    for words in &commands(script.text) {
        let Some((prog, args)) = program(words) else {
            continue;
        };
        let line = script.line_at(words[0].offset);
        match prog {
            "apt-get" | "apt" => apt(script, prog, args, line, lists, hits),
            "rm" => {
                if args.iter().any(|w| w.text.contains("/var/lib/apt/lists")) {
                    lists.removes = true;
                }
            }
            "apk" => apk(script, args, line, kept.apk, hits),
            p => pip(script, p, args, line, kept.pip, hits),
        }
    }
}

fn apt(
    script: &Script,
    prog: &str,
    args: &[Word],
    line: usize,
    lists: &mut AptLists,
    hits: &mut Vec<Hit>,
) {
    let Some((at, sub)) = subcommand(args, APT_VALUE_OPTIONS) else {
        return;
    };
    match sub {
        "update" => lists.updates = true,
        // Removes the lists too (apt 2.7, Debian trixie).
        "dist-clean" => lists.removes = true,
        "install" | "upgrade" | "dist-upgrade" | "full-upgrade" => {
            lists.installs = true;
            if sub == "install" {
                if !without_recommends(args) {
                    hits.push(hit(
                        "H103",
                        line,
                        format!("`{prog} install` without `--no-install-recommends`"),
                    ));
                }
                let names = packages(&args[at + 1..], APT_VALUE_OPTIONS);
                check_list(script, &names, "apt", hits);
            }
        }
        _ => {}
    }
}

/// `--no-install-recommends`, or `-o APT::Install-Recommends=false`.
fn without_recommends(args: &[Word]) -> bool {
    args.iter().enumerate().any(|(i, w)| {
        w.text == "--no-install-recommends"
            || ((w.text == "-o" || w.text == "--option")
                && args.get(i + 1).is_some_and(|v| {
                    let v = v.text.to_ascii_lowercase();
                    v.starts_with("apt::install-recommends=")
                        && (v.ends_with("=false") || v.ends_with("=0"))
                }))
    })
}

fn apk(script: &Script, args: &[Word], line: usize, cache_kept: bool, hits: &mut Vec<Hit>) {
    if let Some((at, "add")) = subcommand(args, APK_VALUE_OPTIONS) {
        // `--no-network` installs local files: there is nothing to cache.
        let cacheless = args
            .iter()
            .any(|w| w.text == "--no-cache" || w.text == "--no-network");
        if !cache_kept && !cacheless {
            hits.push(hit("H105", line, "`apk add` without `--no-cache`"));
        }
        let names = packages(&args[at + 1..], APK_VALUE_OPTIONS);
        check_list(script, &names, "apk", hits);
    }
}

/// `pip…` or `python… -m pip`.
fn pip(
    script: &Script,
    prog: &str,
    args: &[Word],
    line: usize,
    cache_kept: bool,
    hits: &mut Vec<Hit>,
) {
    let pip_args = if prog.starts_with("pip") {
        Some(args)
    } else if prog.starts_with("python") {
        match args {
            [m, pip, rest @ ..] if m.text == "-m" && pip.text == "pip" => Some(rest),
            _ => None,
        }
    } else {
        None
    };
    if let Some(args) = pip_args
        && let Some((at, "install")) = subcommand(args, PIP_VALUE_OPTIONS)
    {
        if !cache_kept && !args.iter().any(|w| w.text == "--no-cache-dir") {
            hits.push(hit("H106", line, "`pip install` without `--no-cache-dir`"));
        }
        let names = packages(&args[at + 1..], PIP_VALUE_OPTIONS);
        check_list(script, &names, "pip", hits);
    }
}

/// Checks a package list written over several lines: sorted (each group between comment lines
/// on its own), no duplicates.
fn check_list(script: &Script, names: &[&Word], tool: &str, hits: &mut Vec<Hit>) {
    let lines: BTreeSet<usize> = names.iter().map(|w| script.line_at(w.offset)).collect();
    if lines.len() < 2 {
        return;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for w in names {
        let line = script.line_at(w.offset);
        if let Some(first) = seen.insert(w.text.as_str(), line) {
            let mut h = hit(
                "H107",
                line,
                format!(
                    "`{}` is listed twice in this {tool} list (first on line {first})",
                    w.text
                ),
            );
            h.severity = Severity::Error;
            hits.push(h);
        }
    }
    // A comment line inside the list (dropped from the instruction, so a gap in its lines)
    // starts a group of its own, sorted on its own.
    for pair in names.windows(2) {
        let gap = script.line_at(pair[1].offset) > script.line_at(pair[0].offset) + 1;
        if !gap && pair[1].text < pair[0].text {
            hits.push(hit(
                "H107",
                script.line_at(pair[1].offset),
                format!(
                    "this {tool} list is not sorted: `{}` comes after `{}`",
                    pair[1].text, pair[0].text
                ),
            ));
            break;
        }
    }
}
