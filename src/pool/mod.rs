//! A pool of engines (SPEC §11): the builders file ([`file`]), the engines it names connected
//! ([`Pool`], one member when a run has no builders file), where each ready image goes
//! ([`place`], pure), images crossing from one builder to another through the catalog's
//! registry ([`handoff`]), and `hier builders` ([`check`]).

pub mod check;
pub mod file;
pub mod handoff;
pub mod place;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::engine::docker::Endpoint;
use crate::engine::retry::{Backoff, Retrying};
use crate::engine::{Docker, Engine};

pub use handoff::{HandoffError, Moved, Need};

/// Whose turn it is to move one image (to one builder).
type Turn = Arc<tokio::sync::Mutex<()>>;

/// One engine of the pool.
pub struct Member {
    pub name: String,
    pub engine: Arc<dyn Engine>,
    pub jobs: usize,
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

/// Connects to each builder of the file; what did not answer, with why.
pub async fn connect(
    entries: &[file::Entry],
    platform: &str,
) -> (Vec<Member>, Vec<(String, crate::engine::EngineError)>) {
    let tries = entries.iter().map(|e| async move {
        let endpoint = Endpoint {
            host: e.host.clone(),
            tls: e.tls.clone(),
        };
        (e, Docker::connect_to(&endpoint, platform).await)
    });
    let mut members = Vec::new();
    let mut failed = Vec::new();
    for (entry, connected) in futures_util::future::join_all(tries).await {
        match connected {
            Ok(docker) => members.push(Member {
                name: entry.name.clone(),
                engine: Arc::new(Retrying::new(docker, Backoff::default())),
                jobs: entry.jobs,
            }),
            Err(e) => failed.push((entry.name.clone(), e)),
        }
    }
    (members, failed)
}

/// The engine holding each image a run built or moved, for what comes after the run (an
/// atomic promotion, pushes caught up): the first builder for any other image.
pub struct Holders<'a> {
    pub pool: &'a Pool,
    pub by_id: HashMap<String, usize>,
}

impl Holders<'_> {
    pub fn engine(&self, image_id: &str) -> &dyn Engine {
        let builder = self.by_id.get(image_id).copied().unwrap_or(0);
        &*self.pool.members[builder].engine
    }
}
