//! Running a structure-test file on an image through the engine, as the reference tool runs
//! it: command tests first (each in its own container, after its setup commands), then file
//! content, file existence and the metadata test. The
//! environment follows the reference tool: `globalEnvVars` and (with setup commands) the
//! test's `envVars` become part of the image's environment, expanded against it; the command
//! and a file existence test's path are expanded against that environment; the test's own
//! `envVars` are also set as written. Each test gives an [`Outcome`]; only an engine that
//! fails (not a test) is an error.

use std::time::Duration;

use super::check;
use super::expand::{Env, env_of, expand};
use super::spec::{CommandTest, EnvVar, FileContentTest, Spec};
use crate::engine::{Engine, EngineError, Exec, PathEntry, PathKind, PathRequest};

/// The most symlinks followed to a file's content.
const MAX_LINKS: usize = 40;

/// The image under test.
pub struct Target<'a> {
    pub engine: &'a dyn Engine,
    /// Who the containers belong to (the image's repository).
    pub owner: &'a str,
    pub image: &'a str,
    /// The time limit of each command.
    pub limit: Duration,
}

/// One test's result, named as the reference tool names it (`Command Test: <name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    /// Why it failed; none when it passed.
    pub errors: Vec<String>,
    /// A command test's output.
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn new(name: String, errors: Vec<String>) -> Self {
        Outcome {
            name,
            errors,
            stdout: String::new(),
            stderr: String::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Runs every test of `spec` on the image, in the reference tool's order.
pub async fn run(target: &Target<'_>, spec: &Spec) -> Result<Vec<Outcome>, EngineError> {
    let facts =
        target.engine.inspect(target.image).await?.ok_or_else(|| {
            EngineError::Failed(format!("the engine has no image {}", target.image))
        })?;
    let image_env = env_of(&facts.config.env);
    let global = expanded(&spec.global_env, &image_env);
    let mut env = image_env;
    env.extend(global.iter().cloned());
    let mut outcomes = Vec::with_capacity(spec.len());
    for test in &spec.commands {
        outcomes.push(command(target, test, &env, &global).await?);
    }
    outcomes.extend(content(target, &spec.file_content).await?);
    outcomes.extend(existence(target, spec, &env).await?);
    if let Some(test) = &spec.metadata {
        let errors = check::metadata(test, &facts.config, &facts.labels);
        outcomes.push(Outcome::new("Metadata Test".into(), errors));
    }
    Ok(outcomes)
}

/// Variables with their values expanded against `env`.
fn expanded(vars: &[EnvVar], env: &Env) -> Vec<(String, String)> {
    vars.iter()
        .map(|v| (v.key.clone(), expand(&v.value, env)))
        .collect()
}

fn lines(vars: &[(String, String)]) -> Vec<String> {
    vars.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// One command test: its setup commands, then the command, its output checked.
async fn command(
    target: &Target<'_>,
    test: &CommandTest,
    env: &Env,
    global: &[(String, String)],
) -> Result<Outcome, EngineError> {
    let mut set = global.to_vec();
    let mut env = env.clone();
    if !test.setup.is_empty() {
        let test_env = expanded(&test.env, &env);
        env.extend(test_env.iter().cloned());
        set.extend(test_env);
    }
    let argv: Vec<String> = std::iter::once(&test.command)
        .chain(&test.args)
        .map(|a| expand(a, &env))
        .collect();
    let setup_env = lines(&set);
    let mut run_env = setup_env.clone();
    run_env.extend(test.env.iter().map(|v| format!("{}={}", v.key, v.value)));
    let exec = Exec {
        owner: target.owner,
        image: target.image,
        argv: &argv,
        env: &run_env,
        limit: target.limit,
        setup: &test.setup,
        setup_env: &setup_env,
    };
    let out = target.engine.exec(&exec).await?;
    let errors = if let Some(reason) = &out.not_started {
        vec![format!("cannot start: {reason}")]
    } else if out.timed_out {
        vec![format!("took longer than {}", shown(target.limit))]
    } else {
        check::command(test, &out.stdout, &out.stderr, out.exit_code)
    };
    Ok(Outcome {
        name: format!("Command Test: {}", test.name),
        errors,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

fn shown(limit: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(limit)
}

/// The file content tests, a symlink followed to what it leads to.
async fn content(
    target: &Target<'_>,
    tests: &[FileContentTest],
) -> Result<Vec<Outcome>, EngineError> {
    let mut paths: Vec<String> = tests.iter().map(|t| t.path.clone()).collect();
    let mut entries = lookup(target, &paths, true).await?;
    for _ in 0..MAX_LINKS {
        let links: Vec<usize> = (0..entries.len())
            .filter(|&i| matches!(&entries[i], Some(e) if e.kind == PathKind::Symlink))
            .collect();
        if links.is_empty() {
            break;
        }
        let targets: Vec<String> = links
            .iter()
            .map(|&i| {
                link_target(
                    &paths[i],
                    entries[i]
                        .as_ref()
                        .and_then(|e| e.link.as_deref())
                        .unwrap_or(""),
                )
            })
            .collect();
        let found = lookup(target, &targets, true).await?;
        for ((i, path), entry) in links.into_iter().zip(targets).zip(found) {
            paths[i] = path;
            entries[i] = entry;
        }
    }
    Ok(tests
        .iter()
        .zip(entries)
        .map(|(test, entry)| {
            let errors = match entry.as_ref().map(|e| (e.kind, e.content.as_deref())) {
                Some((_, Some(content))) => check::content(test, content),
                Some((PathKind::Directory, _)) => {
                    vec![format!("{} is a directory, not a file", test.path)]
                }
                Some((PathKind::Symlink, _)) => vec![format!(
                    "{} leads through more than {MAX_LINKS} symlinks",
                    test.path
                )],
                _ => vec![format!("{} does not exist", test.path)],
            };
            Outcome::new(format!("File Content Test: {}", test.name), errors)
        })
        .collect())
}

/// Where a symlink at `path` leads: its target, from the link's folder when relative.
fn link_target(path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_string();
    }
    let folder = path
        .trim_end_matches('/')
        .rsplit_once('/')
        .map_or("", |(f, _)| f);
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The file existence tests; a path expanded against the image's environment.
async fn existence(
    target: &Target<'_>,
    spec: &Spec,
    env: &Env,
) -> Result<Vec<Outcome>, EngineError> {
    let paths: Vec<String> = spec
        .file_existence
        .iter()
        .map(|t| expand(&t.path, env))
        .collect();
    let entries = lookup(target, &paths, false).await?;
    Ok(spec
        .file_existence
        .iter()
        .zip(paths.iter().zip(entries))
        .map(|(test, (path, entry))| {
            // The reference tool sees files, folders and links only.
            let entry = entry.filter(|e| e.kind != PathKind::Other);
            let errors = check::existence(test, path, entry.as_ref());
            Outcome::new(format!("File Existence Test: {}", test.name), errors)
        })
        .collect())
}

async fn lookup(
    target: &Target<'_>,
    paths: &[String],
    content: bool,
) -> Result<Vec<Option<PathEntry>>, EngineError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let requests: Vec<PathRequest> = paths
        .iter()
        .map(|path| PathRequest {
            path: path.clone(),
            content,
        })
        .collect();
    target
        .engine
        .paths(target.owner, target.image, &requests)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lead_from_their_folder() {
        assert_eq!(
            link_target("/opt/app/rel", "conf.toml"),
            "/opt/app/conf.toml"
        );
        assert_eq!(
            link_target("/etc/os-release", "../usr/lib/os-release"),
            "/usr/lib/os-release"
        );
        assert_eq!(link_target("/a/b", "/abs/c"), "/abs/c");
        assert_eq!(link_target("/x", "../../y"), "/y");
    }
}
