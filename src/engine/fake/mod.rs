//! A scripted engine for the run loop's unit tests: it keeps images and tags in memory, records
//! every call, reads the Dockerfile out of each streamed context, and does what a test told it
//! to for a given call (fail, fail transiently, hang until the run is interrupted). Every
//! engine feature also has a test against the real engine; this one makes the loop's own
//! behaviour fast to test.

mod engine;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use super::EngineError;

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
    ReadFiles {
        image: String,
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
    /// What a command holding the key prints (`ran <command>` when none matches).
    outputs: Vec<(String, String)>,
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
    /// The size the engine reports for the images built for a catalog image (1000 otherwise).
    sizes: HashMap<String, u64>,
    /// Image id → the image it was built on, and the command of its Dockerfile's last `RUN`.
    parents: HashMap<String, String>,
    runs: HashMap<String, String>,
}

impl State {
    fn size_of(&self, id: &str) -> u64 {
        let built_for = self.images.get(id).cloned().unwrap_or_default();
        self.sizes.get(&built_for).copied().unwrap_or(1000)
    }

    /// An image's history: its parent's (from the `io.hier.parent.id` label its build
    /// had), then one layer holding what it adds; an image a test added is one layer.
    fn history(&self, id: &str) -> Vec<crate::size::layers::Layer> {
        let built_for = self.images.get(id).cloned().unwrap_or_default();
        let Some(parent) = self.parents.get(id).filter(|_| !built_for.is_empty()) else {
            return vec![crate::size::layers::Layer {
                size: self.size_of(id),
                created_by: "/bin/sh -c #(nop) ADD file:rootfs in / ".into(),
            }];
        };
        let mut history = self.history(parent);
        history.push(crate::size::layers::Layer {
            size: self.size_of(id).saturating_sub(self.size_of(parent)),
            created_by: format!(
                "RUN /bin/sh -c {} # buildkit",
                self.runs.get(id).map_or("true", String::as_str)
            ),
        });
        history
    }
}

/// A registry several fake engines share: `repository@digest` → image id.
pub type Registry = std::sync::Arc<Mutex<HashMap<String, String>>>;

#[derive(Default)]
pub struct Fake {
    state: Mutex<State>,
    /// Told apart from other engines in the ids it makes.
    salt: String,
    registry: Registry,
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }

    /// An engine of a pool: its ids differ from the others', and it pushes to and pulls from
    /// `registry`.
    pub fn in_pool(salt: &str, registry: Registry) -> Fake {
        Fake {
            salt: salt.to_string(),
            registry,
            ..Fake::default()
        }
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

    /// A command that holds `key` prints `output` (the latest such setting wins).
    pub fn set_output(&self, key: &str, output: &str) {
        let mut s = self.state.lock().unwrap();
        s.outputs.insert(0, (key.into(), output.into()));
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

    /// The size of the images built for `image` from now on.
    pub fn set_size(&self, image: &str, size: u64) {
        let mut s = self.state.lock().unwrap();
        s.sizes.insert(image.to_string(), size);
    }

    fn size_of(&self, id: &str) -> u64 {
        self.state.lock().unwrap().size_of(id)
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
