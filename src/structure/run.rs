//! Running a structure-test file on an image through the engine, as the reference tool runs
//! it: command tests first (each in its own containers, after its setup commands), then file
//! content, file existence and the metadata test. The environment follows the reference tool:
//! `globalEnvVars` and (with setup commands) the test's `envVars` become part of the image's
//! environment, expanded against it; the command and a file existence test's path are
//! expanded against that environment; the test's own `envVars` are also set as written. Each
//! test gives an [`Outcome`]; only an engine that fails (not a test) is an error.

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

/// `KEY=VALUE` lines, a later value of a name replacing an earlier one.
fn lines(vars: &[(String, String)]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut kept: Vec<String> = vars
        .iter()
        .rev()
        .filter(|(k, _)| seen.insert(k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    kept.reverse();
    kept
}

/// A command test's command and environments, as the reference tool makes them.
#[derive(Debug, PartialEq, Eq)]
struct Prepared {
    /// The command and its arguments, expanded.
    argv: Vec<String>,
    /// What the setup commands get: the global variables, then (with setup commands) the
    /// test's, expanded against the image's environment.
    setup_env: Vec<String>,
    /// What the command gets: the setup's, then the test's own as written (which win).
    run_env: Vec<String>,
}

fn prepare(test: &CommandTest, env: &Env, global: &[(String, String)]) -> Prepared {
    let mut set = global.to_vec();
    let mut env = env.clone();
    if !test.setup.is_empty() {
        let test_env = expanded(&test.env, &env);
        env.extend(test_env.iter().cloned());
        set.extend(test_env);
    }
    let argv = std::iter::once(&test.command)
        .chain(&test.args)
        .map(|a| expand(a, &env))
        .collect();
    let setup_env = lines(&set);
    let mut run = set;
    run.extend(test.env.iter().map(|v| (v.key.clone(), v.value.clone())));
    let run_env = lines(&run);
    Prepared {
        argv,
        setup_env,
        run_env,
    }
}

/// One command test: its setup commands, then the command, its output checked.
async fn command(
    target: &Target<'_>,
    test: &CommandTest,
    env: &Env,
    global: &[(String, String)],
) -> Result<Outcome, EngineError> {
    let prepared = prepare(test, env, global);
    let exec = Exec {
        owner: target.owner,
        image: target.image,
        argv: &prepared.argv,
        env: &prepared.run_env,
        limit: target.limit,
        setup: &test.setup,
        setup_env: &prepared.setup_env,
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

/// The file content tests, one at a time (a file's content is held only while its test is
/// checked), a symlink followed to what it leads to.
async fn content(
    target: &Target<'_>,
    tests: &[FileContentTest],
) -> Result<Vec<Outcome>, EngineError> {
    let mut outcomes = Vec::with_capacity(tests.len());
    for test in tests {
        let mut path = test.path.clone();
        let mut entry = lookup(target, std::slice::from_ref(&path), true)
            .await?
            .pop()
            .flatten();
        for _ in 0..MAX_LINKS {
            let Some(link) = entry.as_ref().filter(|e| e.kind == PathKind::Symlink) else {
                break;
            };
            path = link_target(&path, link.link.as_deref().unwrap_or(""));
            entry = lookup(target, std::slice::from_ref(&path), true)
                .await?
                .pop()
                .flatten();
        }
        let errors = match entry.as_ref().map(|e| (e.kind, e.content.as_deref())) {
            Some((_, Some(content))) => check::content(test, content),
            Some((PathKind::Directory, _)) => {
                vec![format!("{} is a directory, not a file", test.path)]
            }
            Some((PathKind::Symlink, _)) => vec![format!(
                "{} leads through more than {MAX_LINKS} symlinks",
                test.path
            )],
            Some((PathKind::File, None)) => {
                vec![format!("{} is too large to read (over 64 MiB)", test.path)]
            }
            _ => vec![format!("{} does not exist", test.path)],
        };
        outcomes.push(Outcome::new(
            format!("File Content Test: {}", test.name),
            errors,
        ));
    }
    Ok(outcomes)
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

    fn test_of(yaml: &str) -> CommandTest {
        let text = format!("schemaVersion: \"2.0.0\"\ncommandTests:\n  - name: t\n{yaml}");
        let source = crate::source::SourceFile::new("s.yaml".into(), text);
        super::super::read(&source, "s.yaml")
            .unwrap()
            .commands
            .remove(0)
    }

    #[test]
    fn commands_get_the_environments_the_reference_tool_gives_them() {
        let image = env_of(&["HOME=/root".to_string(), "N=1".to_string()]);
        let global = vec![("G".to_string(), "g-/root".to_string())];
        let mut env = image.clone();
        env.extend(global.iter().cloned());
        // Without setup commands, the test's variables are set as written and not known to
        // the command's expansion.
        let plain = test_of(
            "    command: echo\n    args: [\"$HOME $G $V\"]\n    envVars: [{key: V, value: \"v-$N\"}]\n",
        );
        assert_eq!(
            prepare(&plain, &env, &global),
            Prepared {
                argv: vec!["echo".into(), "/root g-/root ".into()],
                setup_env: vec!["G=g-/root".into()],
                run_env: vec!["G=g-/root".into(), "V=v-$N".into()],
            }
        );
        // With setup commands, they are expanded and become the image's, then set as written.
        let setup = test_of(
            "    setup: [[\"true\"]]\n    command: echo\n    args: [\"$V\"]\n    envVars: [{key: V, value: \"v-$N\"}]\n",
        );
        assert_eq!(
            prepare(&setup, &env, &global),
            Prepared {
                argv: vec!["echo".into(), "v-1".into()],
                setup_env: vec!["G=g-/root".into(), "V=v-1".into()],
                run_env: vec!["G=g-/root".into(), "V=v-$N".into()],
            }
        );
    }

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
