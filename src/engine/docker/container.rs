//! Throwaway containers: a command run in an image (tests, package checks) within a time
//! limit, one file read from an image without running it, and the removal of the containers a
//! run left behind. Every container hier creates is labelled `io.hier.test=<owner>` and removed
//! when it is done with it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptions, DownloadFromContainerOptions,
    ListContainersOptions, RemoveContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;

use super::Docker;
use crate::engine::capture::Capture;
use crate::engine::{ContainerRun, EngineError, TestOutcome};

const OWNER_LABEL: &str = "io.hier.test";

/// Runs `command` with `/bin/sh -c` (entrypoint cleared, the image's user kept unless one is
/// given), its standard error sent to its standard output so the two stay in the order written;
/// the container is removed in every case.
pub(super) async fn run(
    docker: &Docker,
    run: &ContainerRun<'_>,
) -> Result<TestOutcome, EngineError> {
    let config = ContainerCreateBody {
        image: Some(run.image.to_string()),
        user: run.user.map(str::to_string),
        entrypoint: Some(vec![String::new()]),
        // The command is an argument of its own shell: never spliced into this one's text.
        cmd: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            "exec 2>&1 && exec /bin/sh -c \"$1\"".into(),
            "hier-test".into(),
            run.command.into(),
        ]),
        labels: Some(owner_label(run.owner)),
        host_config: Some(HostConfig {
            auto_remove: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = create(docker, config).await?;
    let ended = attach_start_and_wait(docker, &id, run.limit, false).await;
    let _ = remove(docker, &id).await;
    match ended {
        Ok(ended) => Ok(TestOutcome {
            exit_code: ended.exit_code,
            output: ended.stdout.finish(),
            timed_out: ended.timed_out,
        }),
        Err(Unstarted::Refused(e) | Unstarted::Engine(e)) => Err(e),
    }
}

pub(super) fn owner_label(owner: &str) -> HashMap<String, String> {
    HashMap::from([(OWNER_LABEL.into(), owner.into())])
}

pub(super) async fn create(
    docker: &Docker,
    config: ContainerCreateBody,
) -> Result<String, EngineError> {
    docker
        .docker
        .create_container(None::<CreateContainerOptions>, config)
        .await
        .map(|created| created.id)
        .map_err(|e| docker.error(e))
}

/// How a container's command ended: its exit code (-1 when it was stopped at its limit) and
/// what it wrote.
pub(super) struct Ended {
    pub exit_code: i64,
    pub timed_out: bool,
    pub stdout: Capture,
    pub stderr: Capture,
}

/// Why a container's command did not run.
pub(super) enum Unstarted {
    /// The engine refused to start it (its executable does not exist, say).
    Refused(EngineError),
    Engine(EngineError),
}

/// Attaches to the container before starting it, so all it writes is read, to the end; waits
/// for it to exit within `limit`. Standard error goes with standard output unless `split`.
pub(super) async fn attach_start_and_wait(
    docker: &Docker,
    id: &str,
    limit: Duration,
    split: bool,
) -> Result<Ended, Unstarted> {
    let options = AttachContainerOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .stream(true)
        .logs(true)
        .build();
    let mut attached = docker
        .docker
        .attach_container(id, Some(options))
        .await
        .map_err(|e| Unstarted::Engine(docker.error(e)))?;
    match docker.docker.start_container(id, None).await {
        Ok(()) => {}
        Err(e @ BollardError::DockerResponseServerError { .. }) => {
            return Err(Unstarted::Refused(docker.error(e)));
        }
        Err(e) => return Err(Unstarted::Engine(docker.error(e))),
    }
    let mut stdout = Capture::default();
    let mut stderr = Capture::default();
    let read = async {
        while let Some(Ok(chunk)) = attached.output.next().await {
            match chunk {
                LogOutput::StdErr { message } if split => stderr.push(&message),
                other => stdout.push(&other.into_bytes()),
            }
        }
    };
    let wait = async {
        let mut wait = docker
            .docker
            .wait_container(id, None::<WaitContainerOptions>);
        match wait.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            Some(Err(BollardError::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(docker.error(e)),
            None => Ok(-1),
        }
    };
    let ended = tokio::time::timeout(limit, async { tokio::join!(wait, read).0 }).await;
    let (exit_code, timed_out) = match ended {
        Ok(code) => (code.map_err(Unstarted::Engine)?, false),
        Err(_) => (-1, true),
    };
    Ok(Ended {
        exit_code,
        timed_out,
        stdout,
        stderr,
    })
}

/// The content of one file of an image, read from a container that is created and never
/// started (so images without a shell work too); `None` when the file does not exist.
pub(super) async fn read_file(
    docker: &Docker,
    owner: &str,
    image: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, EngineError> {
    let id = create(docker, reader(owner, image)).await?;
    let archive = download(docker, &id, path).await;
    let _ = remove(docker, &id).await;
    match archive? {
        None => Ok(None),
        Some(archive) => first_file(&archive)
            .map_err(|e| EngineError::Failed(format!("cannot read {path} from the image: {e}"))),
    }
}

pub(super) async fn read_files(
    docker: &Docker,
    owner: &str,
    image: &str,
    paths: &[&str],
) -> Result<BTreeMap<String, Vec<u8>>, EngineError> {
    let id = create(docker, reader(owner, image)).await?;
    let mut files = BTreeMap::new();
    let mut result = Ok(());
    for path in paths {
        match download(docker, &id, path).await {
            Ok(Some(archive)) => {
                if let Err(e) = every_file(&archive, path, &mut files) {
                    result = Err(EngineError::Failed(format!(
                        "cannot read {path} from the image: {e}"
                    )));
                    break;
                }
            }
            Ok(None) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = remove(docker, &id).await;
    result.map(|()| files)
}

/// The regular files and symlinks of the archive of `path` (whose first entry is `path`'s own
/// last component), by their path in the image.
fn every_file(
    archive: &[u8],
    path: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> std::io::Result<()> {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = format!("{parent}/{}", entry.path()?.display());
        let kind = entry.header().entry_type();
        if kind.is_file() {
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content)?;
            files.insert(name, content);
        } else if kind.is_symlink()
            && let Some(target) = entry.link_name()?
        {
            files.insert(name, format!("-> {}", target.display()).into_bytes());
        }
    }
    Ok(())
}

/// A container of `image` that is never started, only read from.
pub(super) fn reader(owner: &str, image: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec!["/nonexistent-hier-reader".into()]),
        cmd: Some(Vec::new()),
        labels: Some(owner_label(owner)),
        ..Default::default()
    }
}

/// The most hier reads of one path of an image (held in memory).
pub(super) const MAX_ARCHIVE: usize = 64 << 20;

/// The tar archive of `path` in a container, or `None` when it does not exist.
pub(super) async fn download(
    docker: &Docker,
    id: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, EngineError> {
    let mut stream = docker.docker.download_from_container(
        id,
        Some(DownloadFromContainerOptions {
            path: path.to_string(),
        }),
    );
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) if archive.len() + bytes.len() > MAX_ARCHIVE => {
                return Err(EngineError::Failed(format!(
                    "{path} is over {} MiB",
                    MAX_ARCHIVE >> 20
                )));
            }
            Ok(bytes) => archive.extend_from_slice(&bytes),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(docker.error(e)),
        }
    }
    Ok(Some(archive))
}

/// The content of the first regular file of a tar archive.
fn first_file(archive: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type().is_file() {
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content)?;
            return Ok(Some(content));
        }
    }
    Ok(None)
}

/// Removes a container, running or not, with its anonymous volumes.
pub(super) async fn remove(docker: &Docker, id: &str) -> Result<(), BollardError> {
    docker
        .docker
        .remove_container(
            id,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await
}

/// Removes the containers of these owners (after an interrupted run). Label filters of the
/// engine all have to match, so the engine lists hier's containers and the owners are picked
/// here.
pub(super) async fn remove_owned(docker: &Docker, owners: &[String]) -> Result<usize, EngineError> {
    if owners.is_empty() {
        return Ok(0);
    }
    let containers = docker
        .docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![OWNER_LABEL.to_string()],
            )])),
            ..Default::default()
        }))
        .await
        .map_err(|e| docker.error(e))?;
    let mut removed = 0;
    for c in containers {
        let owned = c
            .labels
            .as_ref()
            .and_then(|l| l.get(OWNER_LABEL))
            .is_some_and(|o| owners.contains(o));
        if let (true, Some(id)) = (owned, c.id)
            && remove(docker, &id).await.is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}
