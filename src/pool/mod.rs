//! A pool of engines (SPEC §11): the builders file ([`file`]), the engines it names connected
//! ([`Pool`], one member when a run has no builders file; an `ssh://` one through [`ssh`]),
//! where each ready image goes ([`place`], pure), images crossing from one builder to another
//! through the catalog's registry ([`handoff`]), the recorded images the first builder
//! gathers for a refresh and the commands that read them, or that no builder holds
//! ([`gather`]), and `hier builders` ([`check`]).

pub mod check;
pub mod file;
pub mod gather;
pub mod handoff;
pub mod place;
pub mod ssh;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::engine::docker::{self, Endpoint, EngineFacts};
use crate::engine::retry::{Backoff, Retrying};
use crate::engine::{Docker, Engine, EngineError};

pub use handoff::{HandoffError, Moved, Need};

/// How long a builder has to answer when a run or `hier builders` connects to it.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// Whose turn it is to move one image (to one builder).
type Turn = Arc<tokio::sync::Mutex<()>>;

/// One engine of the pool.
pub struct Member {
    pub name: String,
    pub engine: Arc<dyn Engine>,
    pub jobs: usize,
    /// The ssh forwarding an `ssh://` builder is reached through, for as long as the pool is.
    pub tunnel: Option<ssh::Tunnel>,
}

/// The engines a run builds on, in the builders file's order (the first one also fetches and
/// resolves what the run builds on), and what crossed between them.
pub struct Pool {
    pub members: Vec<Member>,
    /// Copies of images in a registry, by image id: `repository@digest`.
    copies: Mutex<HashMap<String, String>>,
    /// One transfer of an image at a time: a push by id, a pull by builder and id.
    locks: Mutex<HashMap<(Option<usize>, String), Turn>>,
}

impl Pool {
    pub fn new(members: Vec<Member>) -> Pool {
        assert!(!members.is_empty(), "a pool has a member");
        Pool {
            members,
            copies: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// One engine taking `jobs` builds at once (a run without a builders file).
    pub fn single(engine: Arc<dyn Engine>, jobs: usize) -> Pool {
        Pool::new(vec![Member {
            name: "local".to_string(),
            engine,
            jobs,
            tunnel: None,
        }])
    }

    /// Whether the run has several builders (so images may cross between them).
    pub fn is_shared(&self) -> bool {
        self.members.len() > 1
    }

    pub fn primary(&self) -> Arc<dyn Engine> {
        self.members[0].engine.clone()
    }

    pub fn name(&self, builder: usize) -> &str {
        &self.members[builder].name
    }

    /// A registry copy of image `id`, pulled by digest and verified: `repository@digest`.
    pub fn add_copy(&self, id: &str, reference: String) {
        self.copies
            .lock()
            .unwrap()
            .insert(id.to_string(), reference);
    }

    /// Forgets a copy that could not be pulled (unless another took its place meanwhile).
    pub fn forget_copy(&self, id: &str, reference: &str) {
        let mut copies = self.copies.lock().unwrap();
        if copies.get(id).is_some_and(|c| c == reference) {
            copies.remove(id);
        }
    }

    pub fn copy_of(&self, id: &str) -> Option<String> {
        self.copies.lock().unwrap().get(id).cloned()
    }

    fn lock_for(&self, builder: Option<usize>, id: &str) -> Turn {
        self.locks
            .lock()
            .unwrap()
            .entry((builder, id.to_string()))
            .or_default()
            .clone()
    }
}

/// Connects to a builder of the file (through ssh for an `ssh://` one) and asks what it is.
pub async fn reach(
    entry: &file::Entry,
) -> Result<(Docker, EngineFacts, Option<ssh::Tunnel>), EngineError> {
    let (endpoint, tunnel) = match &entry.ssh {
        None => (
            Endpoint {
                host: entry.host.clone(),
                tls: entry.tls.clone(),
            },
            None,
        ),
        Some(over) => {
            let target = ssh::parse(&entry.host).map_err(EngineError::Failed)?;
            let (tunnel, local) =
                ssh::open(&entry.host, &target, &over.socket, over.config.as_deref()).await?;
            (
                Endpoint {
                    host: local,
                    tls: None,
                },
                Some(tunnel),
            )
        }
    };
    let (docker, facts) = Docker::reach(&endpoint).await?;
    Ok((docker, facts, tunnel))
}

/// Connects to each builder of the file and checks its platform; what did not answer, with why.
pub async fn connect(
    entries: &[file::Entry],
    platform: &str,
) -> (Vec<Member>, Vec<(String, EngineError)>) {
    let tries = entries.iter().map(|e| async move {
        let reached = tokio::time::timeout(ANSWER_WITHIN, reach(e)).await;
        let reached = reached.unwrap_or_else(|_| {
            Err(EngineError::Unreachable {
                endpoint: e.host.clone(),
                message: format!("it did not answer within {ANSWER_WITHIN:?}"),
            })
        });
        (e, reached)
    });
    let mut members = Vec::new();
    let mut failed = Vec::new();
    for (entry, reached) in futures_util::future::join_all(tries).await {
        let checked = reached.and_then(|(docker, facts, tunnel)| {
            docker::check_platform(&facts, platform, &entry.host)?;
            Ok((docker, tunnel))
        });
        match checked {
            Ok((docker, tunnel)) => members.push(Member {
                name: entry.name.clone(),
                engine: Arc::new(Retrying::new(docker, Backoff::default())),
                jobs: entry.jobs,
                tunnel,
            }),
            Err(e) => failed.push((entry.name.clone(), e)),
        }
    }
    (members, failed)
}

/// The engine holding each image, for what comes after the run (an atomic promotion, pushes
/// caught up): the first builder still answering for an image none is known to hold.
pub struct Holders<'a> {
    pub pool: &'a Pool,
    pub by_id: HashMap<String, usize>,
    /// The first builder still answering.
    pub fallback: usize,
}

impl Holders<'_> {
    pub fn engine(&self, image_id: &str) -> &dyn Engine {
        let builder = self.by_id.get(image_id).copied().unwrap_or(self.fallback);
        &*self.pool.members[builder].engine
    }
}
