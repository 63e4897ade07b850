//! The fake's side of the [`Engine`] trait: what each call does with the fake's state.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use async_trait::async_trait;
use futures_util::StreamExt;

use super::super::{
    BuildContext, BuildFailure, BuildRequest, ContainerRun, ContextStream, Engine, EngineError,
    ImageFacts, Progress, ProgressFn, TestOutcome,
};
use super::{Call, Fake, Scripted};

/// The build's Dockerfile, however the context comes.
async fn dockerfile(context: BuildContext, path: &str) -> Result<String, String> {
    match context {
        BuildContext::Tar(tar) => read_from_tar(tar, path).await,
        BuildContext::Files(tree) => Ok(String::from_utf8_lossy(tree.dockerfile()).into_owned()),
    }
}

/// The file at `path` in a tar stream.
async fn read_from_tar(mut context: ContextStream, path: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = context.next().await {
        bytes.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
    }
    let mut archive = tar::Archive::new(&bytes[..]);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if entry.path().map_err(|e| e.to_string())?.to_string_lossy() == path {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(|e| e.to_string())?;
            return Ok(text);
        }
    }
    Err(format!("no {path} in the context"))
}

/// The value of a label in a Dockerfile's `LABEL "key"="value"`.
fn label(dockerfile: &str, key: &str) -> Option<String> {
    let start = dockerfile.find(&format!("\"{key}\"=\""))? + key.len() + 4;
    let rest = &dockerfile[start..];
    Some(rest[..rest.find('"')?].to_string())
}

#[async_trait]
impl Engine for Fake {
    fn endpoint(&self) -> &str {
        "fake://engine"
    }

    async fn build(
        &self,
        request: &BuildRequest,
        context: BuildContext,
        progress: ProgressFn<'_>,
    ) -> Result<String, BuildFailure> {
        let dockerfile = dockerfile(context, &request.dockerfile)
            .await
            .map_err(|e| BuildFailure::Engine(EngineError::Failed(e)))?;
        self.record(Call::Build {
            image: request.image.clone(),
            dockerfile: dockerfile.clone(),
            build_args: request.build_args.clone().into_iter().collect(),
            no_cache: request.no_cache,
        });
        match self.scripted(&format!("build {}", request.image)).await {
            Some(Scripted::Fail(e)) => return Err(BuildFailure::Engine(e)),
            Some(Scripted::StepFails(m)) => return Err(BuildFailure::Step(m)),
            _ => {}
        }
        progress(Progress::Step("[1/1] fake"));
        progress(Progress::Line("#1 [1/1] fake"));
        let time = {
            let mut s = self.state.lock().unwrap();
            s.running += 1;
            s.peak = s.peak.max(s.running);
            s.build_time
        };
        tokio::time::sleep(time).await;
        let mut s = self.state.lock().unwrap();
        s.running -= 1;
        s.builds += 1;
        let id = crate::hash::digest(format!(
            "{}\n{dockerfile}\n{}{}",
            request.image, s.builds, self.salt
        ));
        s.images.insert(id.clone(), request.image.clone());
        if let Some(repository) = label(&dockerfile, "io.hier.repository") {
            s.repositories.insert(id.clone(), repository);
        }
        if let Some(parent) = label(&dockerfile, "io.hier.parent.id") {
            s.parents.insert(id.clone(), parent);
        }
        if let Some(run) = dockerfile
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("RUN "))
        {
            s.runs.insert(id.clone(), run.to_string());
        }
        let files: Vec<(String, Vec<u8>)> = s
            .files
            .iter()
            .filter(|((image, _), _)| *image == request.image)
            .map(|((_, path), content)| (path.clone(), content.clone()))
            .collect();
        for (path, content) in files {
            s.image_files.insert((id.clone(), path), content);
        }
        Ok(id)
    }

    async fn inspect(&self, reference: &str) -> Result<Option<ImageFacts>, EngineError> {
        self.record(Call::Inspect(reference.into()));
        Ok(self.resolve(reference).map(|id| ImageFacts {
            size: self.size_of(&id),
            id,
            repo_digests: Vec::new(),
            labels: Default::default(),
            layers: Vec::new(),
            config: Default::default(),
        }))
    }

    async fn saved(&self, image: &str) -> Result<crate::size::archive::Saved, EngineError> {
        Err(EngineError::Failed(format!(
            "the fake engine does not save {image}"
        )))
    }

    async fn history(&self, image: &str) -> Result<Vec<crate::size::layers::Layer>, EngineError> {
        let Some(id) = self.resolve(image) else {
            return Err(EngineError::Failed(format!("no such image: {image}")));
        };
        Ok(self.state.lock().unwrap().history(&id))
    }

    async fn run(&self, run: &ContainerRun<'_>) -> Result<TestOutcome, EngineError> {
        self.record(Call::Run {
            image: run.image.into(),
            command: run.command.into(),
        });
        self.fail_if_scripted(&format!("run {}", run.command))
            .await?;
        let s = self.state.lock().unwrap();
        let exit_code = s.exits.get(run.command).copied().unwrap_or(0);
        let output = s
            .outputs
            .iter()
            .find(|(key, _)| run.command.contains(key.as_str()))
            .map_or_else(|| format!("ran {}\n", run.command), |(_, o)| o.clone());
        Ok(TestOutcome {
            exit_code,
            output,
            timed_out: false,
        })
    }

    async fn exec(
        &self,
        exec: &crate::engine::Exec<'_>,
    ) -> Result<crate::engine::ExecOutcome, EngineError> {
        let command = exec.argv.join(" ");
        self.record(Call::Run {
            image: exec.image.into(),
            command: command.clone(),
        });
        self.fail_if_scripted(&format!("run {command}")).await?;
        let s = self.state.lock().unwrap();
        Ok(crate::engine::ExecOutcome {
            exit_code: s.exits.get(&command).copied().unwrap_or(0),
            stdout: format!("ran {command}\n"),
            ..Default::default()
        })
    }

    /// The files the fake's images hold, each a regular file readable by all.
    async fn paths(
        &self,
        _owner: &str,
        image: &str,
        paths: &[crate::engine::PathRequest],
    ) -> Result<Vec<Option<crate::engine::PathEntry>>, EngineError> {
        let s = self.state.lock().unwrap();
        Ok(paths
            .iter()
            .map(|request| {
                let content = s
                    .image_files
                    .get(&(image.to_string(), request.path.clone()))?;
                Some(crate::engine::PathEntry {
                    kind: crate::engine::PathKind::File,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    link: None,
                    content: request.content.then(|| content.clone()),
                })
            })
            .collect())
    }

    async fn read_files(
        &self,
        _owner: &str,
        image: &str,
        paths: &[&str],
    ) -> Result<BTreeMap<String, Vec<u8>>, EngineError> {
        self.record(Call::ReadFiles {
            image: image.into(),
        });
        let s = self.state.lock().unwrap();
        let under = |file: &str, path: &str| {
            file == path || file.strip_prefix(path).is_some_and(|r| r.starts_with('/'))
        };
        Ok(s.image_files
            .iter()
            .filter(|((id, file), _)| id == image && paths.iter().any(|p| under(file, p)))
            .map(|((_, file), content)| (file.clone(), content.clone()))
            .collect())
    }

    async fn read_file(
        &self,
        _owner: &str,
        image: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        self.record(Call::ReadFile {
            image: image.into(),
            path: path.into(),
        });
        let s = self.state.lock().unwrap();
        Ok(s.image_files
            .get(&(image.to_string(), path.to_string()))
            .cloned())
    }

    async fn tag(&self, image_id: &str, repository: &str, tag: &str) -> Result<(), EngineError> {
        let reference = format!("{repository}:{tag}");
        self.record(Call::Tag {
            image: image_id.into(),
            reference: reference.clone(),
        });
        self.fail_if_scripted(&format!("tag {reference}")).await?;
        let mut s = self.state.lock().unwrap();
        if !s.images.contains_key(image_id) {
            return Err(EngineError::Failed(format!("No such image: {image_id}")));
        }
        s.refs.insert(reference, image_id.into());
        Ok(())
    }

    async fn tags(
        &self,
        repository_prefix: &str,
    ) -> Result<HashMap<String, Vec<String>>, EngineError> {
        self.record(Call::Tags(repository_prefix.into()));
        let s = self.state.lock().unwrap();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (reference, id) in &s.refs {
            if reference.starts_with(&format!("{repository_prefix}/")) {
                out.entry(id.clone()).or_default().push(reference.clone());
            }
        }
        Ok(out)
    }

    async fn built_images(
        &self,
        repository_prefix: &str,
    ) -> Result<Vec<super::super::StoredImage>, EngineError> {
        let s = self.state.lock().unwrap();
        let under = format!("{repository_prefix}/");
        let stored = s
            .images
            .iter()
            .filter(|(_, name)| !name.is_empty())
            .map(|(id, _)| super::super::StoredImage {
                id: id.clone(),
                tags: s
                    .refs
                    .iter()
                    .filter(|(_, i)| *i == id)
                    .map(|(r, _)| r.clone())
                    .collect(),
                repository: s.repositories.get(id).cloned(),
                size: 1000,
            })
            .filter(|i| {
                i.repository
                    .as_deref()
                    .is_some_and(|r| r.starts_with(&under))
                    || i.tags.iter().any(|t| t.starts_with(&under))
            })
            .collect();
        Ok(stored)
    }

    async fn remove_image(&self, reference: &str) -> Result<bool, EngineError> {
        let mut s = self.state.lock().unwrap();
        let id = match s.refs.remove(reference) {
            Some(id) => id,
            None if s.images.contains_key(reference) => reference.to_string(),
            None => return Ok(false),
        };
        if !s.refs.values().any(|i| *i == id) {
            s.images.remove(&id);
        }
        Ok(true)
    }

    async fn push(&self, repository: &str, tag: &str) -> Result<String, EngineError> {
        let reference = format!("{repository}:{tag}");
        self.record(Call::Push(reference.clone()));
        self.fail_if_scripted(&format!("push {reference}")).await?;
        let id = self
            .resolve(&reference)
            .ok_or_else(|| EngineError::Failed(format!("no {reference} to push")))?;
        let digest = crate::hash::digest(format!("manifest of {id}"));
        let copy = format!("{repository}@{digest}");
        self.registry.lock().unwrap().insert(copy, id);
        Ok(digest)
    }

    async fn pull(&self, reference: &str) -> Result<(), EngineError> {
        self.record(Call::Pull(reference.into()));
        self.fail_if_scripted(&format!("pull {reference}")).await?;
        let id = self.registry.lock().unwrap().get(reference).cloned();
        if let Some(id) = id {
            self.add_image(&id, &[reference]);
        }
        Ok(())
    }

    async fn remote_digest(&self, reference: &str) -> Result<String, EngineError> {
        self.record(Call::RemoteDigest(reference.into()));
        Err(EngineError::Failed(format!("no registry has {reference}")))
    }

    async fn remove_containers(&self, owners: &[String]) -> Result<usize, EngineError> {
        self.record(Call::RemoveContainers(owners.to_vec()));
        Ok(0)
    }
}
