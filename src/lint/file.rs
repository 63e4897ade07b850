//! The rules that need only the Dockerfile: pinned `FROM`s in every stage (H101), the `RUN`
//! rules of `packages` (its size rules only in the stages that ship) and of `runs` (pipes
//! under `pipefail`, consecutive `RUN`s), `ENTRYPOINT`/`CMD` in exec form (H110), `COPY` rather
//! than `ADD` for local files (H111), secret-looking `ENV`/`ARG` names (H112) and `COPY`/`ADD`
//! to a relative destination with no `WORKDIR` (H116); `ONBUILD` triggers are checked as the
//! instructions they are.

use std::collections::HashMap;

use super::dockerfile::{Dockerfile, Instruction, Stage, marker};
use super::image::workdir_set;
use super::packages::check_run;
use super::runs::{Shell, check_consecutive, check_pipefail, shell_set};
use super::shell::{Word, commands};
use super::stages::Stages;
use super::{Hit, hit};
use crate::reference::Reference;

/// Rules that need only the file.
/// `inherited` is what the image's parent leaves it: its shell, and whether it set a
/// `WORKDIR`.
pub fn check_file(df: &Dockerfile, inherited: (Shell, bool)) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut shells = Stages::new(inherited.0, Shell::Plain, shell_set);
    let mut workdirs = Stages::new(inherited.1, false, workdir_set);
    let global_args = global_args(df);
    for (index, stage) in df.stages.iter().enumerate() {
        check_from(df, index, stage, &global_args, &mut hits);
    }
    let ships = shipped_stages(df);
    let mut pip_no_cache: HashMap<Option<usize>, bool> = HashMap::new();
    for ins in &df.instructions {
        shells.follow(df, ins);
        workdirs.follow(df, ins);
        if ins.keyword == "ENV" {
            for (name, value, _) in env_pairs(ins) {
                if name == "PIP_NO_CACHE_DIR" {
                    let off = matches!(
                        value.to_ascii_lowercase().as_str(),
                        "0" | "false" | "off" | "no"
                    );
                    pip_no_cache.insert(ins.stage, !off);
                }
            }
        }
        let context = Context {
            pip_env: pip_no_cache.get(&ins.stage).copied().unwrap_or(false),
            ships: ins.stage.is_none_or(|i| ships[i]),
            shell: shells.of_stage(ins.stage),
            workdir: workdirs.of_stage(ins.stage),
        };
        check_instruction(ins, &context, &mut hits);
        // An ONBUILD trigger runs in every image built on this one, which ships it.
        if let Some(trigger) = trigger(ins) {
            // (It runs under the child's shell, unknown here: taken as plain.)
            let context = Context {
                pip_env: false,
                ships: true,
                shell: Shell::Plain,
                workdir: true,
            };
            check_instruction(&trigger, &context, &mut hits);
        }
    }
    check_consecutive(df, &mut hits);
    hits
}

/// What the rules of an instruction need to know of its stage.
struct Context {
    /// `PIP_NO_CACHE_DIR` is on.
    pip_env: bool,
    /// The stage's layers are the image's (the final stage, or one it is built `FROM`): the
    /// size rules apply.
    ships: bool,
    /// The shell its `RUN`s run under.
    shell: Shell,
    /// A `WORKDIR` was set (in its stage, one it is built on, or the image's parents).
    workdir: bool,
}

fn check_instruction(ins: &Instruction, context: &Context, hits: &mut Vec<Hit>) {
    match ins.keyword.as_str() {
        "ENV" | "ARG" => check_secrets(ins, hits),
        "RUN" if ins.exec.is_none() => {
            check_run(ins, context.pip_env, context.ships, hits);
            check_pipefail(ins, context.shell, hits);
        }
        "ENTRYPOINT" | "CMD" if ins.exec.is_none() && !ins.args.is_empty() => hits.push(hit(
            "H110",
            ins.line,
            format!(
                "{} in shell form does not receive signals: use the exec form [\"…\"]",
                ins.keyword
            ),
        )),
        "ADD" => {
            check_add(ins, hits);
            check_destination(ins, context.workdir, hits);
        }
        "COPY" => check_destination(ins, context.workdir, hits),
        _ => {}
    }
}

/// H116: a `COPY` or `ADD` to a relative destination where no `WORKDIR` says what it is
/// relative to.
fn check_destination(ins: &Instruction, workdir: bool, hits: &mut Vec<Hit>) {
    if workdir {
        return;
    }
    let destination = match &ins.exec {
        Some(items) => items.last().cloned(),
        None => commands(&ins.args)
            .into_iter()
            .flatten()
            .last()
            .map(|w| w.text),
    };
    let Some(destination) = destination else {
        return;
    };
    let absolute = destination.starts_with('/')
        || destination.starts_with('$')
        || destination.get(1..3) == Some(":\\")
        || destination.get(1..3) == Some(":/");
    if !absolute {
        hits.push(hit(
            "H116",
            ins.line,
            format!(
                "{} to `{destination}`, relative to no WORKDIR: set one first, or copy to an absolute path",
                ins.keyword
            ),
        ));
    }
}

/// The instruction an `ONBUILD` holds, on the same lines.
fn trigger(ins: &Instruction) -> Option<Instruction> {
    if ins.keyword != "ONBUILD" {
        return None;
    }
    let args = ins.args.trim_start();
    let skipped = ins.args.len() - args.len();
    let (keyword, rest) = args.split_once(char::is_whitespace)?;
    let rest_start = skipped + keyword.len() + (args.len() - keyword.len() - rest.len());
    let rest = &ins.args[rest_start..];
    let lines = ins
        .lines
        .iter()
        .map(|&(offset, line)| (offset.saturating_sub(rest_start), line))
        .collect();
    let exec = rest
        .trim_start()
        .starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(rest.trim()).ok())
        .flatten();
    Some(Instruction {
        keyword: keyword.to_ascii_uppercase(),
        args: rest.to_string(),
        lines,
        exec,
        flags: Vec::new(),
        heredocs: Vec::new(),
        ..ins.clone()
    })
}

/// Which stages ship: the final one and those it is built `FROM`, through their names or
/// indexes (a stage only copied from does not).
fn shipped_stages(df: &Dockerfile) -> Vec<bool> {
    let mut ships = vec![false; df.stages.len()];
    let mut at = df.stages.len().checked_sub(1);
    while let Some(i) = at {
        if std::mem::replace(&mut ships[i], true) {
            break;
        }
        let image = df.stages[i].image.as_str();
        at = df.stages[..i].iter().rposition(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(image))
        });
        if at.is_none() {
            at = image.parse::<usize>().ok().filter(|&n| n < i);
        }
    }
    ships
}

/// ARG defaults before the first FROM: they resolve `FROM ${X}`.
fn global_args(df: &Dockerfile) -> HashMap<String, String> {
    let mut args = HashMap::new();
    for ins in df
        .instructions
        .iter()
        .filter(|i| i.stage.is_none() && i.keyword == "ARG")
    {
        if let Some((k, v)) = ins.args.split_once('=') {
            args.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    args
}

fn is_hier_ref(image: &str) -> bool {
    image.contains("HIER_PARENT") || image.contains("HIER_USES_")
}

/// H101: a stage's `FROM` names a tag or a digest (not needed for hier's own references,
/// `scratch` and earlier stages).
fn check_from(
    df: &Dockerfile,
    index: usize,
    stage: &Stage,
    global_args: &HashMap<String, String>,
    hits: &mut Vec<Hit>,
) {
    let image = stage.image.as_str();
    let earlier = df.stages[..index].iter().any(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(image))
    });
    if earlier || image.eq_ignore_ascii_case("scratch") || is_hier_ref(image) {
        return;
    }
    let resolved = if image.contains('$') {
        let var = image
            .trim_start_matches('$')
            .trim_start_matches('{')
            .trim_end_matches('}');
        match global_args.get(var) {
            Some(v) if !v.contains('$') => v.clone(),
            _ => return,
        }
    } else {
        image.to_string()
    };
    let Ok(reference) = Reference::parse(&resolved) else {
        return;
    };
    if reference.digest.is_some() {
        return;
    }
    match reference.tag.as_deref() {
        None => hits.push(hit(
            "H101",
            stage.line,
            format!("`FROM {image}` has no tag: pin a version or a digest"),
        )),
        Some("latest") => hits.push(hit(
            "H101",
            stage.line,
            format!("`FROM {image}` uses `latest`: pin a version or a digest"),
        )),
        _ => {}
    }
}

/// H111: `ADD` of local files (URLs and archives that ADD unpacks are its job; a heredoc is
/// not a file).
fn check_add(ins: &Instruction, hits: &mut Vec<Hit>) {
    let items: Vec<String> = match &ins.exec {
        Some(items) => items.clone(),
        None => commands(&ins.args)
            .into_iter()
            .flatten()
            .map(|w| w.text)
            .filter(|w| !w.starts_with("--"))
            .filter(|w| ins.heredocs.is_empty() || marker(w).is_none())
            .collect(),
    };
    if items.len() < 2 {
        return;
    }
    let archive = [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
    ];
    let local = items[..items.len() - 1].iter().any(|s| {
        let remote = s.starts_with("http://")
            || s.starts_with("https://")
            || s.starts_with("git@")
            || s.starts_with("git://");
        !remote && !archive.iter().any(|a| s.ends_with(a))
    });
    if local {
        hits.push(hit("H111", ins.line, "ADD of local files: use COPY"));
    }
}

/// (name, value, offset) of an ENV or ARG instruction.
fn env_pairs(ins: &Instruction) -> Vec<(String, String, usize)> {
    let words: Vec<Word> = commands(&ins.args).into_iter().flatten().collect();
    let Some(first) = words.first() else {
        return Vec::new();
    };
    if ins.keyword == "ENV" && !first.text.contains('=') {
        // Legacy form: `ENV NAME value…`.
        let value = words[1..]
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return vec![(first.text.clone(), value, first.offset)];
    }
    words
        .iter()
        .map(|w| match w.text.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string(), w.offset),
            None => (w.text.clone(), String::new(), w.offset),
        })
        .collect()
}

/// H112: names that look like secrets (but not GPG keys and key ids, nor hier's own).
fn check_secrets(ins: &Instruction, hits: &mut Vec<Hit>) {
    for (name, _, offset) in env_pairs(ins) {
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("HIER_") {
            continue;
        }
        let exempt = upper == "GPG_KEY"
            || upper == "GPG_KEYS"
            || upper.ends_with("_GPG_KEY")
            || upper.ends_with("_GPG_KEYS")
            || upper.ends_with("_KEY_ID");
        let secret = ["_PASSWORD", "_PASSWD", "_TOKEN", "_SECRET", "_KEY"]
            .iter()
            .any(|s| upper.ends_with(s))
            || matches!(upper.as_str(), "PASSWORD" | "TOKEN" | "SECRET");
        if secret && !exempt {
            hits.push(hit(
                "H112",
                ins.line_at(offset),
                format!(
                    "{} `{name}` looks like a secret: it stays readable in the image",
                    ins.keyword
                ),
            ));
        }
    }
}
