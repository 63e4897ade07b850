//! Examining an image on the Docker Engine (structure tests): an argument vector run in a
//! throwaway container with its output split, after setup commands each committed for the
//! next (and removed after); each
//! path's own entry, read from the start of the engine's archive of it and no further (the
//! archive of `/` is the whole filesystem); the image's configuration from its inspection.

use std::io::Read;

use bollard::errors::Error as BollardError;
use bollard::models::{ContainerConfig, ContainerCreateBody, ImageInspect};
use bollard::query_parameters::{
    CommitContainerOptions, DownloadFromContainerOptions, RemoveImageOptions,
};
use futures_util::StreamExt;

use super::Docker;
use super::container::{
    MAX_ARCHIVE, Unstarted, attach_start_and_wait, create, owner_label, reader, remove,
};
use crate::engine::{
    EngineError, Exec, ExecOutcome, ImageConfig, PathEntry, PathKind, PathRequest,
};

/// Runs the setup commands of `exec`, each committed for the next, then its command; removes
/// the images the setup made (never their parents: the image under test may be untagged).
pub(super) async fn exec(docker: &Docker, exec: &Exec<'_>) -> Result<ExecOutcome, EngineError> {
    let mut made: Vec<String> = Vec::new();
    let outcome = setup_then_run(docker, exec, &mut made).await;
    for image in made.iter().rev() {
        let options = RemoveImageOptions {
            force: false,
            noprune: true,
            ..Default::default()
        };
        let _ = docker.docker.remove_image(image, Some(options), None).await;
    }
    outcome
}

async fn setup_then_run(
    docker: &Docker,
    exec: &Exec<'_>,
    made: &mut Vec<String>,
) -> Result<ExecOutcome, EngineError> {
    for argv in exec.setup {
        let image = made.last().map_or(exec.image, String::as_str);
        let (mut outcome, committed) =
            once(docker, exec, image, argv, exec.setup_env, true).await?;
        match committed {
            Some(id) => made.push(id),
            None => {
                if let Some(reason) = outcome.not_started.take() {
                    outcome.not_started = Some(format!("setup command {argv:?}: {reason}"));
                }
                return Ok(outcome);
            }
        }
    }
    let image = made.last().map_or(exec.image, String::as_str);
    Ok(once(docker, exec, image, exec.argv, exec.env, false)
        .await?
        .0)
}

/// One command in a container of `image`; the container committed as an image when `commit`
/// (and the command ran to its end).
async fn once(
    docker: &Docker,
    exec: &Exec<'_>,
    image: &str,
    argv: &[String],
    env: &[String],
    commit: bool,
) -> Result<(ExecOutcome, Option<String>), EngineError> {
    let config = ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec![String::new()]),
        cmd: Some(argv.to_vec()),
        env: Some(env.to_vec()),
        labels: Some(owner_label(exec.owner)),
        ..Default::default()
    };
    let id = create(docker, config).await?;
    let ended = attach_start_and_wait(docker, &id, exec.limit, true).await;
    let result = match ended {
        Ok(ended) => {
            let committed = match commit && !ended.timed_out {
                true => commit_container(docker, &id).await.map(Some),
                false => Ok(None),
            };
            committed.map(|image| {
                let outcome = ExecOutcome {
                    exit_code: ended.exit_code,
                    stdout: ended.stdout.finish(),
                    stderr: ended.stderr.finish(),
                    timed_out: ended.timed_out,
                    not_started: None,
                };
                (outcome, image)
            })
        }
        Err(Unstarted::Refused(e)) => Ok((
            ExecOutcome {
                exit_code: -1,
                not_started: Some(e.to_string()),
                ..ExecOutcome::default()
            },
            None,
        )),
        Err(Unstarted::Engine(e)) => Err(e),
    };
    let _ = remove(docker, &id).await;
    result
}

async fn commit_container(docker: &Docker, id: &str) -> Result<String, EngineError> {
    let options = CommitContainerOptions {
        container: Some(id.to_string()),
        pause: false,
        ..Default::default()
    };
    docker
        .docker
        .commit_container(options, ContainerConfig::default())
        .await
        .map(|r| r.id)
        .map_err(|e| docker.error(e))
}

/// Each path's entry, from one container that is never started.
pub(super) async fn paths(
    docker: &Docker,
    owner: &str,
    image: &str,
    paths: &[PathRequest],
) -> Result<Vec<Option<PathEntry>>, EngineError> {
    let id = create(docker, reader(owner, image)).await?;
    let mut found = Vec::with_capacity(paths.len());
    let mut result = Ok(());
    for request in paths {
        match first_entry(docker, &id, request).await {
            Ok(entry) => found.push(entry),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = remove(docker, &id).await;
    result.map(|()| found)
}

/// The first entry of the archive of a path, reading only as far as it takes (a file's content
/// up to [`MAX_ARCHIVE`]; past it, the entry comes without it).
async fn first_entry(
    docker: &Docker,
    id: &str,
    request: &PathRequest,
) -> Result<Option<PathEntry>, EngineError> {
    let options = DownloadFromContainerOptions {
        path: request.path.clone(),
    };
    let mut stream = docker.docker.download_from_container(id, Some(options));
    let mut archive = Vec::new();
    let failed = |e: std::io::Error| {
        EngineError::Failed(format!("cannot read {} from the image: {e}", request.path))
    };
    loop {
        let chunk = stream.next().await;
        let ended = chunk.is_none();
        match chunk {
            // A file too large to hold: its entry, without its content.
            Some(Ok(bytes)) if archive.len() + bytes.len() > MAX_ARCHIVE + 1024 => {
                archive.extend_from_slice(&bytes);
                return parse_first(&archive, false).map_err(failed);
            }
            Some(Ok(bytes)) => archive.extend_from_slice(&bytes),
            // The engine's answer about this path (404: none; a path through a file is a
            // 500): the path is not there to read.
            Some(Err(BollardError::DockerResponseServerError { .. })) => return Ok(None),
            Some(Err(e)) => return Err(docker.error(e)),
            None => {}
        }
        match parse_first(&archive, request.content) {
            Ok(Some(entry)) => return Ok(Some(entry)),
            Ok(None) if !ended => {}
            Ok(None) => return Err(failed(std::io::ErrorKind::UnexpectedEof.into())),
            Err(_) if !ended => {}
            Err(e) => return Err(failed(e)),
        }
    }
}

/// The first entry of the start of an archive; `None` when more of it is needed.
fn parse_first(archive: &[u8], content: bool) -> std::io::Result<Option<PathEntry>> {
    if archive.len() < 512 {
        return Ok(None);
    }
    let mut tar = tar::Archive::new(archive);
    let Some(entry) = tar.entries()?.next() else {
        return Ok(None);
    };
    let mut entry = entry?;
    let header = entry.header();
    let kind = match header.entry_type() {
        t if t.is_file() => PathKind::File,
        t if t.is_hard_link() => PathKind::HardLink,
        t if t.is_dir() => PathKind::Directory,
        t if t.is_symlink() => PathKind::Symlink,
        _ => PathKind::Other,
    };
    let mode = header.mode()? & 0o7777;
    let (uid, gid) = (header.uid()?, header.gid()?);
    let link = entry.link_name()?.map(|l| l.to_string_lossy().into_owned());
    let mut body = None;
    if content && kind == PathKind::File {
        let size = usize::try_from(entry.size()).unwrap_or(usize::MAX);
        let start = usize::try_from(entry.raw_file_position()).unwrap_or(usize::MAX);
        if archive.len() < start.saturating_add(size) {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(size);
        entry.read_to_end(&mut bytes)?;
        body = Some(bytes);
    }
    Ok(Some(PathEntry {
        kind,
        mode,
        uid,
        gid,
        link,
        content: body,
    }))
}

/// What an image's inspection says of how its containers run.
pub(super) fn image_config(image: &ImageInspect) -> ImageConfig {
    let Some(config) = &image.config else {
        return ImageConfig::default();
    };
    let mut volumes: Vec<String> = config
        .volumes
        .iter()
        .flat_map(|v| v.iter().cloned())
        .collect();
    volumes.sort();
    let mut exposed_ports: Vec<String> = config
        .exposed_ports
        .iter()
        .flat_map(|p| p.iter().cloned())
        .collect();
    exposed_ports.sort();
    ImageConfig {
        env: config.env.clone().unwrap_or_default(),
        entrypoint: config.entrypoint.clone().unwrap_or_default(),
        cmd: config.cmd.clone().unwrap_or_default(),
        volumes,
        workdir: config.working_dir.clone().unwrap_or_default(),
        exposed_ports,
        user: config.user.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, tar::EntryType, &[u8], u32)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data, mode) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(*mode);
            header.set_uid(1000);
            header.set_gid(2000);
            header.set_size(data.len() as u64);
            if *kind == tar::EntryType::Symlink {
                header.set_size(0);
                builder.append_link(&mut header, name, "target").unwrap();
            } else {
                builder.append_data(&mut header, name, *data).unwrap();
            }
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn the_first_entry_is_read_as_soon_as_it_is_whole() {
        let whole = archive(&[
            ("conf", tar::EntryType::Regular, b"name = app\n", 0o4640),
            ("other", tar::EntryType::Regular, &[0; 4096], 0o644),
        ]);
        // Its header alone is not enough for its content, it is for its mode.
        assert_eq!(parse_first(&whole[..512], true).unwrap(), None);
        let entry = parse_first(&whole[..512], false).unwrap().unwrap();
        assert_eq!(
            (entry.kind, entry.mode, entry.uid, entry.gid),
            (PathKind::File, 0o4640, 1000, 2000)
        );
        let entry = parse_first(&whole[..1024], true).unwrap().unwrap();
        assert_eq!(entry.content.as_deref(), Some(&b"name = app\n"[..]));
        assert_eq!(parse_first(&whole[..100], false).unwrap(), None);
        let link = archive(&[("l", tar::EntryType::Symlink, b"", 0o777)]);
        let entry = parse_first(&link, true).unwrap().unwrap();
        assert_eq!(
            (entry.kind, entry.link.as_deref()),
            (PathKind::Symlink, Some("target"))
        );
    }
}
