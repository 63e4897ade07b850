//! One image's build: stream its context to the engine, build with the Dockerfile rendered for
//! exact parents, run its tests in throwaway containers, and only then tag it. Everything it
//! needs is prepared by the run beforehand, so a job owns its data and runs on its own task.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::report::Event;
use crate::context::archive::{Archive, ChunkWriter};
use crate::context::{self, Entry};
use crate::engine::{BuildFailure, BuildRequest, Engine, EngineError};
use crate::inputs;
use crate::refresh::packages::{self, Changes, Inventory};

/// Everything one build needs.
pub struct Job {
    pub name: String,
    pub context_root: PathBuf,
    /// The Dockerfile's path inside the context (kept even when ignored, like the CLI).
    pub dockerfile_in_context: Option<String>,
    /// Where the build's Dockerfile goes in the archive.
    pub dockerfile_path: String,
    pub dockerfile: String,
    /// The committed rendering left out of the context digest (templated images).
    pub skip: Option<String>,
    /// The planned context digest: the streamed files must match it.
    pub planned_context: String,
    pub build_args: HashMap<String, String>,
    pub no_cache: bool,
    pub tests: Vec<String>,
    pub test_timeout: Duration,
    pub build_timeout: Duration,
    pub repository: String,
    /// The version and the catalog's extra tags: with the image id, they make every tag.
    pub version: semver::Version,
    pub extra_tags: Vec<String>,
    pub log: PathBuf,
    /// Repositories to push every tag to once the tests passed (`--push`): the catalog's
    /// registry first, then each mirror.
    pub push_to: Vec<String>,
    /// Tag (and push) as soon as the tests pass; `false` under `refresh --atomic`, where the
    /// run promotes everything at the end or nothing.
    pub promote_now: bool,
    /// Under `refresh`: compare the new image's OS packages with the old image's.
    pub refresh: Option<RefreshCheck>,
}

/// What a refresh compares a rebuilt image with.
pub struct RefreshCheck {
    /// The image the lock records (the one the new image would replace).
    pub old_image: Option<String>,
    /// Promote even when the packages did not change (the upstream moved, or a parent was
    /// promoted).
    pub promote: bool,
}

/// The packages of a rebuilt image under refresh.
pub struct PackageFacts {
    pub digest: Option<String>,
    pub changes: Option<Changes>,
}

/// How a job ended.
pub enum Outcome {
    /// Built, tested and tagged; pushed to these repositories (repository → manifest digest),
    /// or the push failed (the image itself is good and recorded).
    Built {
        image_id: String,
        tags: Vec<String>,
        pushed: BTreeMap<String, String>,
        /// The push's error, and whether the registry (or engine) did not answer at all.
        push_error: Option<(String, bool)>,
        packages: Option<PackageFacts>,
    },
    /// Refresh: the new image is identical in what matters (same upstream, same packages);
    /// the old image and its tags stay.
    Unchanged,
    Failed(String),
    /// The engine went away: the run stops.
    Unreachable(EngineError),
}

pub struct Finished {
    pub name: String,
    pub outcome: Outcome,
    pub duration: Duration,
}

/// Lines of a build's log, written as they come.
struct Log {
    file: Option<fs::File>,
}

impl Log {
    fn line(&mut self, line: &str) {
        if let Some(f) = self.file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
    }
}

pub async fn run(engine: Engine, job: Job, events: mpsc::UnboundedSender<Event>) -> Finished {
    let start = Instant::now();
    let name = job.name.clone();
    let _ = events.send(Event::Started { name: name.clone() });
    let mut log = Log {
        file: fs::File::create(&job.log).ok(),
    };
    let outcome = build_and_test(&engine, &job, &events, &mut log).await;
    if let Outcome::Failed(reason) = &outcome {
        log.line(&format!("hier: {reason}"));
    }
    Finished {
        name,
        outcome,
        duration: start.elapsed(),
    }
}

async fn build_and_test(
    engine: &Engine,
    job: &Job,
    events: &mpsc::UnboundedSender<Event>,
    log: &mut Log,
) -> Outcome {
    // The context is written by a blocking thread into a bounded channel: at most 8 chunks of
    // 256 KiB are in memory, whatever the context's size.
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let root = job.context_root.clone();
    let in_context = job.dockerfile_in_context.clone();
    let dockerfile_path = job.dockerfile_path.clone();
    let dockerfile = job.dockerfile.clone().into_bytes();
    let skip = job.skip.clone();
    let planned = job.planned_context.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let entries: Vec<Entry> = context::walk(&root, in_context.as_deref())
            .map_err(|e| format!("cannot read the context: {e}"))?;
        let archive = Archive {
            root: root.clone(),
            entries,
            dockerfile_path,
            dockerfile,
        };
        let sender = tx.clone();
        let out = ChunkWriter::new(256 * 1024, move |chunk| {
            sender
                .blocking_send(Ok(Bytes::from(chunk)))
                .map_err(|_| std::io::Error::other("the engine stopped reading the context"))
        });
        let result = archive
            .write(out)
            .map_err(|e| e.to_string())
            .and_then(|streamed| {
                let sent = inputs::context_digest_with(&archive.entries, skip.as_deref(), |e| {
                    streamed
                        .get(&e.path)
                        .cloned()
                        .ok_or_else(|| std::io::Error::other("not streamed"))
                })
                .map_err(|e| e.to_string())?;
                if sent == planned {
                    Ok(())
                } else {
                    Err("the context changed since the plan was made; run again".to_string())
                }
            });
        if let Err(e) = &result {
            // Make the upload fail rather than end cleanly with a partial context.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.clone())));
        }
        result
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let request = BuildRequest {
        dockerfile: job.dockerfile_path.clone(),
        build_args: job.build_args.clone(),
        no_cache: job.no_cache,
    };
    let built = tokio::time::timeout(
        job.build_timeout,
        engine.build(&request, stream, |line| {
            log.line(line);
            let _ = events.send(Event::Step {
                name: job.name.clone(),
                line: line.to_string(),
            });
        }),
    )
    .await;
    let context_check = writer.await.unwrap_or_else(|e| Err(e.to_string()));
    // A context that could not be sent as planned fails this image (the failed upload may
    // look like a lost connection to the engine: the context's error is the real one).
    if let Err(e) = context_check {
        return Outcome::Failed(e);
    }
    let image_id = match built {
        Err(_) => {
            return Outcome::Failed(format!(
                "the build took longer than {}",
                humantime::format_duration(job.build_timeout)
            ));
        }
        Ok(Err(BuildFailure::Engine(e @ EngineError::Unreachable { .. }))) => {
            return Outcome::Unreachable(e);
        }
        Ok(Err(failure)) => {
            return Outcome::Failed(match failure {
                BuildFailure::Step(m) => m,
                BuildFailure::Engine(e) => e.to_string(),
            });
        }
        Ok(Ok(id)) => id,
    };
    for command in &job.tests {
        let _ = events.send(Event::Testing {
            name: job.name.clone(),
            command: command.clone(),
        });
        log.line(&format!("hier: test `{command}`"));
        match engine
            .run_test(&job.repository, &image_id, command, job.test_timeout)
            .await
        {
            Ok(result) => {
                for line in result.output.lines() {
                    log.line(line);
                }
                if result.timed_out {
                    return Outcome::Failed(format!(
                        "test `{command}` took longer than {}",
                        humantime::format_duration(job.test_timeout)
                    ));
                }
                if result.exit_code != 0 {
                    return Outcome::Failed(format!(
                        "test `{command}` exited with {}",
                        result.exit_code
                    ));
                }
            }
            Err(e @ EngineError::Unreachable { .. }) => return Outcome::Unreachable(e),
            Err(e) => return Outcome::Failed(format!("test `{command}`: {e}")),
        }
    }
    let mut package_facts = None;
    if let Some(check) = &job.refresh {
        let new = match inventory(engine, &job.repository, &image_id).await {
            Ok(i) => i,
            Err(e @ EngineError::Unreachable { .. }) => return Outcome::Unreachable(e),
            Err(e) => return Outcome::Failed(format!("cannot read the OS packages: {e}")),
        };
        // The old image's packages; `None` inside when it has no package database, `None`
        // outside when there is no old image to compare with.
        let old = match &check.old_image {
            Some(old) => inventory(engine, &job.repository, old).await.ok(),
            None => None,
        };
        let changes = match (&old, &new) {
            (Some(Some(o)), Some(n)) => Some(packages::diff(o, n)),
            _ => None,
        };
        let same = old.as_ref() == Some(&new);
        if same && !check.promote {
            log.line(
                "hier: same upstream and packages as the image it would replace: kept the old one",
            );
            return Outcome::Unchanged;
        }
        for line in changes.iter().flat_map(|c| c.lines()) {
            log.line(&format!("hier: package {line}"));
        }
        package_facts = Some(PackageFacts {
            digest: new.as_ref().map(packages::digest),
            changes,
        });
    }
    if !job.promote_now {
        return Outcome::Built {
            image_id,
            tags: Vec::new(),
            pushed: BTreeMap::new(),
            push_error: None,
            packages: package_facts,
        };
    }
    let tags = crate::tags::all_tags(&job.version, &job.extra_tags, &image_id);
    let tagged = futures_util::future::join_all(
        tags.iter()
            .map(|tag| engine.tag(&image_id, &job.repository, tag)),
    )
    .await;
    for (tag, result) in tags.iter().zip(tagged) {
        match result {
            Ok(()) => {}
            Err(e @ EngineError::Unreachable { .. }) => return Outcome::Unreachable(e),
            Err(e) => return Outcome::Failed(format!("cannot tag {}:{tag}: {e}", job.repository)),
        }
    }
    log.line(&format!(
        "hier: built {image_id}, tagged {}",
        tags.join(", ")
    ));
    let (pushed, push_error) = push_tags(engine, &job.push_to, &image_id, &tags, |line| {
        log.line(line)
    })
    .await;
    // The image is built, tested and tagged: whatever the push did, it is recorded.
    let push_error = push_error.map(|e| {
        let unreachable = matches!(
            e,
            EngineError::Unreachable { .. } | EngineError::RegistryUnreachable { .. }
        );
        (e.to_string(), unreachable)
    });
    Outcome::Built {
        image_id,
        tags,
        pushed,
        push_error,
        packages: package_facts,
    }
}

/// An image's OS packages (dpkg, else apk), read from its filesystem; `None` without either.
pub async fn inventory(
    engine: &Engine,
    owner: &str,
    image_id: &str,
) -> Result<Option<Inventory>, EngineError> {
    if let Some(bytes) = engine
        .read_file(owner, image_id, packages::DPKG_STATUS)
        .await?
    {
        return Ok(Some(packages::parse_dpkg(&String::from_utf8_lossy(&bytes))));
    }
    if let Some(bytes) = engine
        .read_file(owner, image_id, packages::APK_INSTALLED)
        .await?
    {
        return Ok(Some(packages::parse_apk(&String::from_utf8_lossy(&bytes))));
    }
    Ok(None)
}

/// Pushes every tag to every repository of `push_to` (tagging the image there first, so what is
/// pushed is exactly `image_id`); returns each repository's manifest digest (all tags of one
/// image share it) for what was pushed, and the error that stopped it, if one did.
pub async fn push_tags(
    engine: &Engine,
    push_to: &[String],
    image_id: &str,
    tags: &[String],
    mut log_line: impl FnMut(&str),
) -> (BTreeMap<String, String>, Option<EngineError>) {
    let mut pushed = BTreeMap::new();
    for repository in push_to {
        let mut digest = String::new();
        for tag in tags {
            if let Err(e) = engine.tag(image_id, repository, tag).await {
                return (pushed, Some(e));
            }
            match engine.push(repository, tag).await {
                Ok(d) => digest = d,
                Err(e) => return (pushed, Some(e)),
            }
            log_line(&format!("hier: pushed {repository}:{tag} ({digest})"));
        }
        pushed.insert(repository.clone(), digest);
    }
    (pushed, None)
}
