//! `hier lint`: the practices of the field (SPEC section 8), checked on every image's
//! Dockerfile — the stable rendering of a templated image (the file `hier render` commits) or
//! the hand-written one — in every stage, plus what only the hierarchy knows: an app's
//! effective user through its parents, a base's init, each context's `.dockerignore`.

pub mod dockerfile;
pub mod rules;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::catalog::{Image, Origin, Recipe};
use crate::dockerfile::{StableRefs, rendered_path, template_path};
use crate::error::Error;
use crate::name::ImageName;
use crate::reference::Reference;
use crate::repo::Repository;
use dockerfile::{Dockerfile, Instruction, Word, commands};
use rules::Severity;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub image: String,
    pub rule: &'static str,
    pub severity: Severity,
    pub file: String,
    /// 0 when the finding is about a file that is missing (no line to point at).
    pub line: usize,
    pub message: String,
}

/// One finding of a file, before it is attributed to an image.
struct Hit {
    rule: &'static str,
    severity: Severity,
    line: usize,
    message: String,
}

fn hit(rule: &'static str, line: usize, message: impl Into<String>) -> Hit {
    let severity = rules::rule(rule)
        .map(|r| r.severity)
        .unwrap_or(Severity::Warning);
    Hit {
        rule,
        severity,
        line,
        message: message.into(),
    }
}

/// A parsed image Dockerfile and where it is.
struct Parsed {
    file: String,
    template: Option<String>,
    df: Dockerfile,
}

/// Lints the images (all when `only` is empty), in build order, each finding once.
pub fn lint(repo: &Repository, only: &[ImageName]) -> Result<Vec<Finding>, Error> {
    lint_rendered(repo, only, &repo.render_all(&StableRefs)?)
}

/// [`lint`], given the stable renderings of the templated images.
pub fn lint_rendered(
    repo: &Repository,
    only: &[ImageName],
    rendered: &BTreeMap<ImageName, String>,
) -> Result<Vec<Finding>, Error> {
    let mut parsed: BTreeMap<ImageName, Parsed> = BTreeMap::new();
    for image in &repo.catalog.images {
        let (file, template, text) = match &image.recipe {
            Recipe::Template { name, .. } => (
                rendered_path(&repo.catalog, &image.name),
                Some(template_path(&repo.catalog, name)),
                rendered.get(&image.name).cloned().unwrap_or_default(),
            ),
            Recipe::Dockerfile { path, .. } => (
                path.clone(),
                None,
                std::fs::read_to_string(repo.root.join(path))
                    .map_err(|e| Error::io("read", path, e))?,
            ),
        };
        parsed.insert(
            image.name.clone(),
            Parsed {
                file,
                template,
                df: dockerfile::parse(&text),
            },
        );
    }
    let mut users: HashMap<ImageName, Option<(String, usize)>> = HashMap::new();
    let mut findings = Vec::new();
    for name in repo.hierarchy.order() {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        let image = repo.catalog.image(name);
        let p = &parsed[name];
        let mut hits = check_file(&p.df);
        hits.extend(check_image(repo, image, &parsed, &mut users));
        let mut image_findings: Vec<Finding> = hits
            .into_iter()
            .filter(|h| {
                !image
                    .lint_ignore
                    .iter()
                    .any(|i| i.eq_ignore_ascii_case(h.rule))
            })
            .map(|h| Finding {
                image: name.to_string(),
                rule: h.rule,
                severity: h.severity,
                file: p.file.clone(),
                line: h.line,
                message: match &p.template {
                    Some(t) => format!("{} (rendered from {t})", h.message),
                    None => h.message,
                },
            })
            .collect();
        if let Some(f) = check_context(repo, image)
            && !image
                .lint_ignore
                .iter()
                .any(|i| i.eq_ignore_ascii_case(f.rule))
        {
            image_findings.push(Finding {
                image: name.to_string(),
                rule: f.rule,
                severity: f.severity,
                file: if image.context.is_empty() {
                    ".".into()
                } else {
                    image.context.clone()
                },
                line: 0,
                message: f.message,
            });
        }
        image_findings.sort_by_key(|f| (f.file.clone(), f.line, f.rule));
        findings.extend(image_findings);
    }
    Ok(findings)
}

/// The program of a simple command (after `VAR=value` assignments, `sudo`, `env`, `exec`),
/// and the words after it.
fn program(words: &[Word]) -> Option<(&str, &[Word])> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].text.as_str();
        let assignment = w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if assignment || matches!(w, "sudo" | "env" | "exec" | "command" | "nice") {
            i += 1;
            continue;
        }
        let base = w.rsplit('/').next().unwrap_or(w);
        return Some((base, &words[i + 1..]));
    }
    None
}

/// The arguments that are not options (nor the values of options that take one), with their
/// index in `args`.
fn operands<'a>(
    args: &'a [Word],
    with_value: &'static [&'static str],
) -> impl Iterator<Item = (usize, &'a Word)> + 'a {
    let mut skip_next = false;
    args.iter().enumerate().filter(move |(_, w)| {
        if std::mem::take(&mut skip_next) {
            return false;
        }
        if w.text.starts_with('-') {
            skip_next = with_value.contains(&w.text.as_str());
            return false;
        }
        true
    })
}

/// The first operand: the subcommand (`install`, `add`, …).
fn subcommand<'a>(
    args: &'a [Word],
    with_value: &'static [&'static str],
) -> Option<(usize, &'a str)> {
    operands(args, with_value)
        .next()
        .map(|(i, w)| (i, w.text.as_str()))
}

/// The package names of an install command's arguments (after the subcommand).
fn packages<'a>(args: &'a [Word], with_value: &'static [&'static str]) -> Vec<&'a Word> {
    operands(args, with_value)
        .map(|(_, w)| w)
        .filter(|w| !w.text.contains('$') && !w.text.is_empty())
        .collect()
}

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

/// Checks a package list written over several lines: sorted, no duplicates.
fn check_list(ins: &Instruction, names: &[&Word], tool: &str, hits: &mut Vec<Hit>) {
    let lines: std::collections::BTreeSet<usize> =
        names.iter().map(|w| ins.line_at(w.offset)).collect();
    if lines.len() < 2 {
        return;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for w in names {
        let line = ins.line_at(w.offset);
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
    for pair in names.windows(2) {
        if pair[1].text < pair[0].text {
            hits.push(hit(
                "H107",
                ins.line_at(pair[1].offset),
                format!(
                    "this {tool} list is not sorted: `{}` comes after `{}`",
                    pair[1].text, pair[0].text
                ),
            ));
            break;
        }
    }
}

fn is_hier_ref(image: &str) -> bool {
    image.contains("HIER_PARENT") || image.contains("HIER_USES_")
}

/// Rules that need only the file.
fn check_file(df: &Dockerfile) -> Vec<Hit> {
    let mut hits = Vec::new();
    // ARG defaults before the first FROM resolve `FROM ${X}`.
    let mut global_args: HashMap<String, String> = HashMap::new();
    for ins in df
        .instructions
        .iter()
        .filter(|i| i.stage.is_none() && i.keyword == "ARG")
    {
        if let Some((k, v)) = ins.args.split_once('=') {
            global_args.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    for (index, stage) in df.stages.iter().enumerate() {
        let image = stage.image.as_str();
        let earlier = df.stages[..index].iter().any(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(image))
        });
        if earlier || image.eq_ignore_ascii_case("scratch") || is_hier_ref(image) {
            continue;
        }
        let resolved = if image.contains('$') {
            let var = image
                .trim_start_matches('$')
                .trim_start_matches('{')
                .trim_end_matches('}');
            match global_args.get(var) {
                Some(v) if !v.contains('$') => v.clone(),
                _ => continue,
            }
        } else {
            image.to_string()
        };
        let Ok(reference) = Reference::parse(&resolved) else {
            continue;
        };
        if reference.digest.is_some() {
            continue;
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

    let mut pip_no_cache: HashMap<Option<usize>, bool> = HashMap::new();
    for ins in &df.instructions {
        match ins.keyword.as_str() {
            "ENV" => {
                for (name, value, _) in env_pairs(ins) {
                    if name == "PIP_NO_CACHE_DIR" {
                        let off = matches!(
                            value.to_ascii_lowercase().as_str(),
                            "0" | "false" | "off" | "no"
                        );
                        pip_no_cache.insert(ins.stage, !off);
                    }
                }
                check_secrets(ins, &mut hits);
            }
            "ARG" => check_secrets(ins, &mut hits),
            "RUN" if ins.exec.is_none() => check_run(
                ins,
                pip_no_cache.get(&ins.stage).copied().unwrap_or(false),
                &mut hits,
            ),
            "ENTRYPOINT" | "CMD" if ins.exec.is_none() && !ins.args.is_empty() => hits.push(hit(
                "H110",
                ins.line,
                format!(
                    "{} in shell form does not receive signals: use the exec form [\"…\"]",
                    ins.keyword
                ),
            )),
            "ADD" => check_add(ins, &mut hits),
            _ => {}
        }
    }
    hits
}

fn check_run(ins: &Instruction, pip_env: bool, hits: &mut Vec<Hit>) {
    let cmds = commands(&ins.args);
    let (mut updates, mut installs, mut removes_lists) = (false, false, false);
    for words in &cmds {
        let Some((prog, args)) = program(words) else {
            continue;
        };
        let line = ins.line_at(words[0].offset);
        match prog {
            "apt-get" | "apt" => {
                let Some((at, sub)) = subcommand(args, APT_VALUE_OPTIONS) else {
                    continue;
                };
                match sub {
                    "update" => updates = true,
                    "install" | "upgrade" | "dist-upgrade" | "full-upgrade" => {
                        installs = true;
                        if sub == "install" {
                            let no_recommends = args.iter().enumerate().any(|(i, w)| {
                                w.text == "--no-install-recommends"
                                    || ((w.text == "-o" || w.text == "--option")
                                        && args.get(i + 1).is_some_and(|v| {
                                            let v = v.text.to_ascii_lowercase();
                                            v.starts_with("apt::install-recommends=")
                                                && (v.ends_with("=false") || v.ends_with("=0"))
                                        }))
                            });
                            if !no_recommends {
                                hits.push(hit(
                                    "H103",
                                    line,
                                    format!("`{prog} install` without `--no-install-recommends`"),
                                ));
                            }
                            let names = packages(&args[at + 1..], APT_VALUE_OPTIONS);
                            check_list(ins, &names, "apt", hits);
                        }
                    }
                    _ => {}
                }
            }
            "rm" => {
                if args.iter().any(|w| w.text.contains("/var/lib/apt/lists")) {
                    removes_lists = true;
                }
            }
            "apk" => {
                if let Some((at, "add")) = subcommand(args, APK_VALUE_OPTIONS) {
                    if !args.iter().any(|w| w.text == "--no-cache") {
                        hits.push(hit("H105", line, "`apk add` without `--no-cache`"));
                    }
                    let names = packages(&args[at + 1..], APK_VALUE_OPTIONS);
                    check_list(ins, &names, "apk", hits);
                }
            }
            p => {
                let pip_args = if p.starts_with("pip") {
                    Some(args)
                } else if p.starts_with("python") {
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
                    if !pip_env && !args.iter().any(|w| w.text == "--no-cache-dir") {
                        hits.push(hit("H106", line, "`pip install` without `--no-cache-dir`"));
                    }
                    let names = packages(&args[at + 1..], PIP_VALUE_OPTIONS);
                    check_list(ins, &names, "pip", hits);
                }
            }
        }
    }
    if updates && !installs {
        hits.push(hit(
            "H102",
            ins.line,
            "`apt-get update` in a RUN that installs nothing: update and install in the same RUN",
        ));
    }
    if updates && installs && !removes_lists {
        hits.push(hit(
            "H104",
            ins.line,
            "this RUN fetches apt lists and leaves them in the layer: end it with `rm -rf /var/lib/apt/lists/*`",
        ));
    }
}

fn check_add(ins: &Instruction, hits: &mut Vec<Hit>) {
    let items: Vec<String> = match &ins.exec {
        Some(items) => items.clone(),
        None => commands(&ins.args)
            .into_iter()
            .flatten()
            .map(|w| w.text)
            .filter(|w| !w.starts_with("--"))
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

/// The last USER of a stage, following `FROM <earlier stage>`; `Err(())` when the stage starts
/// from an image outside the file (the caller follows the catalog parent).
fn stage_user(df: &Dockerfile, stage: usize) -> Result<Option<(String, usize)>, ()> {
    if let Some(ins) = df
        .instructions
        .iter()
        .rev()
        .find(|i| i.stage == Some(stage) && i.keyword == "USER")
    {
        return Ok(Some((ins.args.trim().to_string(), ins.line)));
    }
    let image = &df.stages[stage].image;
    match df.stages[..stage].iter().rposition(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(image))
    }) {
        Some(earlier) => stage_user(df, earlier),
        None => Err(()),
    }
}

/// The effective user of an image's final stage through its parents (None: root by default).
fn effective_user(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    cache: &mut HashMap<ImageName, Option<(String, usize)>>,
) -> Option<(String, usize)> {
    if let Some(u) = cache.get(&image.name) {
        return u.clone();
    }
    let df = &parsed[&image.name].df;
    let user = match df
        .stages
        .len()
        .checked_sub(1)
        .map(|last| stage_user(df, last))
    {
        Some(Ok(u)) => u,
        _ => match &image.origin {
            Origin::Parent(dep) => {
                effective_user(repo, repo.catalog.image(&dep.name), parsed, cache)
                    .map(|(u, _)| (u, 0))
            }
            Origin::Base { .. } => None,
        },
    };
    cache.insert(image.name.clone(), user.clone());
    user
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name.is_empty() || name == "root" || name == "0"
}

fn check_image(
    repo: &Repository,
    image: &Image,
    parsed: &BTreeMap<ImageName, Parsed>,
    users: &mut HashMap<ImageName, Option<(String, usize)>>,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    let df = &parsed[&image.name].df;
    let final_from = df.stages.last().map(|s| s.line).unwrap_or(1);
    if image.kind == "app" {
        let user = effective_user(repo, image, parsed, users);
        match &user {
            None => hits.push(hit(
                "H108",
                final_from,
                "this app image runs as root: neither it nor its parents set a USER",
            )),
            Some((u, line)) if is_root(u) => hits.push(hit(
                "H108",
                if *line == 0 { final_from } else { *line },
                format!("this app image runs as root (`USER {u}`)"),
            )),
            _ => {}
        }
    }
    if image.is_base() {
        let last = df.stages.len().checked_sub(1);
        let entrypoint = df
            .instructions
            .iter()
            .rev()
            .find(|i| i.stage == last && i.keyword == "ENTRYPOINT");
        let first = entrypoint.and_then(|e| match &e.exec {
            Some(items) => items.first().cloned(),
            None => e.args.split_whitespace().next().map(str::to_string),
        });
        let has_init = first.as_deref().is_some_and(|f| {
            let base = f.rsplit('/').next().unwrap_or(f);
            base.contains("dumb-init") || base.contains("tini")
        });
        if !has_init {
            hits.push(hit(
                "H109",
                entrypoint.map(|e| e.line).unwrap_or(final_from),
                "this base has no init (dumb-init or tini) as ENTRYPOINT",
            ));
        }
    }
    hits
}

fn check_context(repo: &Repository, image: &Image) -> Option<Hit> {
    let dir = repo.root.join(&image.context);
    let entries = std::fs::read_dir(&dir).ok()?;
    let dockerfile = repo.dockerfile_in_context(image);
    let mut others = false;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".dockerignore" {
            return None;
        }
        if Some(name.as_str()) != dockerfile.as_deref() {
            others = true;
        }
    }
    others.then(|| {
        hit(
            "H113",
            0,
            format!(
                "the context {} has no .dockerignore: every file in it is sent to the engine",
                if image.context.is_empty() {
                    "."
                } else {
                    &image.context
                }
            ),
        )
    })
}

/// Text for people: findings grouped by image, like a compiler's.
pub fn render(findings: &[Finding], styles: &crate::style::Styles) -> String {
    let mut out = String::new();
    let mut current = "";
    for f in findings {
        if f.image != current {
            if !current.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!(
                "{}\n",
                crate::style::Styles::paint(styles.bold, &f.image)
            ));
            current = &f.image;
        }
        let place = if f.line == 0 {
            f.file.clone()
        } else {
            format!("{}:{}", f.file, f.line)
        };
        let severity = match f.severity {
            Severity::Error => crate::style::Styles::paint(styles.error, "error"),
            Severity::Warning => crate::style::Styles::paint(styles.warning, "warning"),
        };
        out.push_str(&format!(
            "  {place}: {severity}[{}]: {}\n",
            f.rule, f.message
        ));
    }
    out
}

/// `--explain ID`.
pub fn explain(id: &str) -> Option<String> {
    let r = rules::rule(id)?;
    Some(format!(
        "{} ({}): {}\n\n{}\n{}",
        r.id,
        r.severity.as_str(),
        r.summary,
        r.explanation,
        if r.hadolint.is_empty() {
            "hadolint: no equivalent rule\n".to_string()
        } else {
            format!("hadolint: {}\n", r.hadolint)
        }
    ))
}
