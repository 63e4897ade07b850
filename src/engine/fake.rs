//! A scripted engine for the run loop's unit tests: it keeps images and tags in memory, records
//! every call, reads the Dockerfile out of each streamed context, and does what a test told it
//! to for a given call (fail, fail transiently, hang until the run is interrupted). Every
//! engine feature also has a test against the real engine; this one makes the loop's own
//! behaviour fast to test.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Read;
use std::sync::Mutex;

use async_trait::async_trait;
use futures_util::StreamExt;

use super::{
    BuildContext, BuildFailure, BuildRequest, ContainerRun, ContextStream, Engine, EngineError,
    ImageFacts, Progress, ProgressFn, TestOutcome,
};

/// A call the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Build {
        image: String,
        dockerfile: String,
        build_args: BTreeMap<String, String>,
        no_cache: bool,
    },
    Inspect(String),
    Run {
        image: String,
        command: String,
    },
    ReadFile {
        image: String,
        path: String,
    },
    Tag {
        image: String,
        reference: String,
    },
    Tags(String),
    Push(String),
    Pull(String),
    RemoteDigest(String),
    RemoveContainers(Vec<String>),
}

/// What a scripted call does instead of succeeding.
#[derive(Debug, Clone)]
pub enum Scripted {
    Fail(EngineError),
    /// A build step fails with this message.
    StepFails(String),
    /// The call never ends (until its task is aborted).
    Hang,
    /// The call panics (a bug in hier, as far as the run can tell).
    Panic,
}

#[derive(Default)]
struct State {
    /// Image id → the catalog image it was built for (empty for images a test added).
    images: BTreeMap<String, String>,
    /// `repository:tag` → image id.
    refs: BTreeMap<String, String>,
    /// Path → content, by the catalog image whose next builds have it.
    files: HashMap<(String, String), Vec<u8>>,
    /// Path → content, by image id (what each build got).
    image_files: HashMap<(String, String), Vec<u8>>,
    /// Exit codes of test commands (0 when not set).
    exits: HashMap<String, i64>,
    /// What the next calls matching a key do: `build <image>`, `tag <reference>`,
    /// `push <reference>`, `run <command>`, `pull <reference>`.
    script: HashMap<String, VecDeque<Scripted>>,
    calls: Vec<Call>,
    builds: u64,
    /// Image id → the `io.hier.repository` label its Dockerfile gave it.
    repositories: HashMap<String, String>,
    /// How long each build takes, the builds running now and the most that ran at once.
    build_time: std::time::Duration,
    running: usize,
    peak: usize,
}

#[derive(Default)]
pub struct Fake {
    state: Mutex<State>,
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }

    /// An image the engine has (a base's `from`), under these references.
    pub fn add_image(&self, id: &str, references: &[&str]) {
        let mut s = self.state.lock().unwrap();
        s.images.insert(id.to_string(), String::new());
        for r in references {
            s.refs.insert(r.to_string(), id.to_string());
        }
    }

    /// Forgets an image (an engine that lost it).
    pub fn remove_image(&self, id: &str) {
        let mut s = self.state.lock().unwrap();
        s.images.remove(id);
        s.refs.retain(|_, v| v != id);
    }

    /// Images built for `image` from now on have this file.
    pub fn set_file(&self, image: &str, path: &str, content: &str) {
        let mut s = self.state.lock().unwrap();
        s.files
            .insert((image.into(), path.into()), content.as_bytes().to_vec());
    }

    /// The test command `command` exits with `code`.
    pub fn set_exit(&self, command: &str, code: i64) {
        self.state
            .lock()
            .unwrap()
            .exits
            .insert(command.into(), code);
    }

    /// The next call matching `key` does `what`.
    pub fn script(&self, key: &str, what: Scripted) {
        let mut s = self.state.lock().unwrap();
        s.script.entry(key.into()).or_default().push_back(what);
    }

    /// Every build from now on takes `time` (so builds overlap as they would on an engine).
    pub fn set_build_time(&self, time: std::time::Duration) {
        self.state.lock().unwrap().build_time = time;
    }

    /// The most builds that ran at once.
    pub fn peak_builds(&self) -> usize {
        self.state.lock().unwrap().peak
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The catalog image names built, in the order the builds started.
    pub fn built(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Build { image, .. } => Some(image),
                _ => None,
            })
            .collect()
    }

    /// The image id a reference names.
    pub fn resolve(&self, reference: &str) -> Option<String> {
        let s = self.state.lock().unwrap();
        s.refs.get(reference).cloned().or_else(|| {
            s.images
                .contains_key(reference)
                .then(|| reference.to_string())
        })
    }

    fn record(&self, call: Call) {
        self.state.lock().unwrap().calls.push(call);
    }

    /// What the script says for `key`, if anything.
    async fn scripted(&self, key: &str) -> Option<Scripted> {
        let next = self
            .state
            .lock()
            .unwrap()
            .script
            .get_mut(key)
            .and_then(VecDeque::pop_front);
        match next {
            Some(Scripted::Hang) => std::future::pending::<()>().await,
            Some(Scripted::Panic) => panic!("scripted panic for {key}"),
            _ => {}
        }
        next
    }

    async fn fail_if_scripted(&self, key: &str) -> Result<(), EngineError> {
        match self.scripted(key).await {
            Some(Scripted::Fail(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

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
        let id = crate::hash::digest(format!("{}\n{dockerfile}\n{}", request.image, s.builds));
        s.images.insert(id.clone(), request.image.clone());
        if let Some(repository) = label(&dockerfile, "io.hier.repository") {
            s.repositories.insert(id.clone(), repository);
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
            id,
            repo_digests: Vec::new(),
        }))
    }

    async fn run(&self, run: &ContainerRun<'_>) -> Result<TestOutcome, EngineError> {
        self.record(Call::Run {
            image: run.image.into(),
            command: run.command.into(),
        });
        self.fail_if_scripted(&format!("run {}", run.command))
            .await?;
        let exit_code = self
            .state
            .lock()
            .unwrap()
            .exits
            .get(run.command)
            .copied()
            .unwrap_or(0);
        Ok(TestOutcome {
            exit_code,
            output: format!("ran {}\n", run.command),
            timed_out: false,
        })
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
    ) -> Result<Vec<super::StoredImage>, EngineError> {
        let s = self.state.lock().unwrap();
        let under = format!("{repository_prefix}/");
        let stored = s
            .images
            .iter()
            .filter(|(_, name)| !name.is_empty())
            .map(|(id, _)| super::StoredImage {
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
        Ok(crate::hash::digest(format!("manifest of {id}")))
    }

    async fn pull(&self, reference: &str) -> Result<(), EngineError> {
        self.record(Call::Pull(reference.into()));
        self.fail_if_scripted(&format!("pull {reference}")).await
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
