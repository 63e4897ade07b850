//! Asking images whether their OS packages have updates pending, at the cost of what changed:
//! each image's packages and sources are read without running it ([`sources`]), unless an
//! earlier refresh read that image already ([`super::known`]); images with
//! the same sources are grouped, and each group downloads the package indexes once, in a
//! container of its first image ([`index`]); every image of the group is then compared with
//! that one answer. `jobs` reads or downloads run at once.
//!
//! [`sources`]: super::sources
//! [`index`]: super::index

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::index;
use super::known::Known;
use super::sources::{self, Facts, Manager};
use crate::engine::{ContainerRun, Engine, EngineError};
use crate::name::ImageName;

/// An image to ask: its name, recorded id and repository (the owner of its containers).
#[derive(Debug, Clone)]
pub struct Asking {
    pub name: ImageName,
    pub image_id: String,
    pub repository: String,
}

/// What asking an image found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// The image's package sources (`apt sha256:…`), when it has some.
    pub sources: Option<String>,
    /// Updates pending: (package, installed, candidate).
    pub pending: Vec<(String, String, String)>,
    /// Why nothing could be asked, or the question failed.
    pub problem: Option<String>,
}

/// What happens while asking, for progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// This many images are to be asked.
    Asking(usize),
    /// An image's packages and sources are being read.
    Reading(&'a ImageName),
    /// The indexes of a set of sources are being downloaded, in a container of this image,
    /// for this many images.
    Downloading(&'a str, &'a ImageName, usize),
    /// An image's answer.
    Answered(&'a ImageName, &'a Answer),
}

/// How many index downloads the run made, each image's answer, and what was read of each
/// image, by image id (for the next refresh: [`super::known`]).
pub struct Asked {
    pub downloads: usize,
    pub answers: BTreeMap<ImageName, Answer>,
    pub known: Known,
}

/// Asks every image in `images`, reading only those `known` has nothing of; an engine that is
/// lost ends it with that error.
pub async fn ask(
    engine: Arc<dyn Engine>,
    images: &[Asking],
    known: &Known,
    jobs: usize,
    progress: &(dyn Fn(Step<'_>) + Send + Sync),
) -> Result<Asked, EngineError> {
    progress(Step::Asking(images.len()));
    let unread: Vec<Asking> = images
        .iter()
        .filter(|i| !known.contains_key(&i.image_id))
        .cloned()
        .collect();
    let read = read_all(engine.clone(), &unread, jobs, progress).await?;
    let (facts, known) = facts_of(images, read, known);
    let mut answers = BTreeMap::new();
    let mut groups: BTreeMap<(Manager, String), Vec<(&Asking, &Facts)>> = BTreeMap::new();
    for image in images {
        let Some(fact) = facts.get(&image.name) else {
            continue;
        };
        match fact {
            Ok(f) => groups
                .entry((f.manager, f.sources.clone()))
                .or_default()
                .push((image, f)),
            Err(why) => {
                let answer = Answer {
                    problem: Some(why.clone()),
                    ..Answer::default()
                };
                progress(Step::Answered(&image.name, &answer));
                answers.insert(image.name.clone(), answer);
            }
        }
    }
    let downloads = groups.len();
    let found = download_all(engine, &groups, jobs, progress).await?;
    for ((manager, set), members) in &groups {
        let unfinished = Err("the download did not finish".to_string());
        let candidates = found.get(set).unwrap_or(&unfinished);
        for (image, facts) in members {
            let answer = compare(*manager, set, facts, candidates);
            progress(Step::Answered(&image.name, &answer));
            answers.insert(image.name.clone(), answer);
        }
    }
    Ok(Asked {
        downloads,
        answers,
        known,
    })
}

type Read = Result<Facts, String>;

/// Each image's facts, read now or known from before; and what is known after this read.
fn facts_of(
    images: &[Asking],
    read: BTreeMap<ImageName, Reading>,
    known: &Known,
) -> (BTreeMap<ImageName, Read>, Known) {
    let mut known = known.clone();
    let mut facts = BTreeMap::new();
    for image in images {
        let fact = match read.get(&image.name) {
            Some(Ok(read)) => {
                let read = read.clone().map_err(str::to_string);
                known.insert(image.image_id.clone(), read.clone());
                read
            }
            Some(Err(why)) => Err(why.clone()),
            None => match known.get(&image.image_id) {
                Some(k) => k.clone(),
                None => Err("its packages could not be read".to_string()),
            },
        };
        facts.insert(image.name.clone(), fact);
    }
    (facts, known)
}

/// What reading an image gave: what it has (or that it has nothing to check), which stays true
/// of the image; or why it could not be read, which may not.
type Reading = Result<Result<Facts, &'static str>, String>;

/// Every image's facts, `jobs` at once.
async fn read_all(
    engine: Arc<dyn Engine>,
    images: &[Asking],
    jobs: usize,
    progress: &(dyn Fn(Step<'_>) + Send + Sync),
) -> Result<BTreeMap<ImageName, Reading>, EngineError> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut reads = tokio::task::JoinSet::new();
    for image in images {
        progress(Step::Reading(&image.name));
        let (engine, semaphore, image) = (engine.clone(), semaphore.clone(), image.clone());
        reads.spawn(async move {
            let _permit = semaphore.acquire().await;
            let files = engine
                .read_files(&image.repository, &image.image_id, sources::PATHS)
                .await;
            (image.name, files)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(joined) = reads.join_next().await {
        let Ok((name, files)) = joined else {
            // A read that panicked leaves its image unanswered; `ask` says so.
            continue;
        };
        let read = match files {
            Ok(files) => Ok(sources::facts(&files)),
            Err(e) if e.is_engine_lost() => return Err(e),
            Err(e) => Err(format!("cannot read its packages: {e}")),
        };
        out.insert(name, read);
    }
    Ok(out)
}

/// One download per set of sources, `jobs` at once: the candidates, or why there are none.
async fn download_all(
    engine: Arc<dyn Engine>,
    groups: &BTreeMap<(Manager, String), Vec<(&Asking, &Facts)>>,
    jobs: usize,
    progress: &(dyn Fn(Step<'_>) + Send + Sync),
) -> Result<BTreeMap<String, Result<BTreeMap<String, String>, String>>, EngineError> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut downloads = tokio::task::JoinSet::new();
    for ((manager, set), members) in groups {
        let (first, _) = members[0];
        progress(Step::Downloading(set, &first.name, members.len()));
        let names: BTreeSet<String> = members
            .iter()
            .flat_map(|(_, f)| f.installed.keys().cloned())
            .collect();
        let script = index::script(*manager, &names);
        // The first images of the set that can run the script (one without a shell cannot).
        let tries: Vec<Asking> = members.iter().take(3).map(|(a, _)| (*a).clone()).collect();
        let (engine, semaphore, manager) = (engine.clone(), semaphore.clone(), *manager);
        let set = set.clone();
        downloads.spawn(async move {
            let _permit = semaphore.acquire().await;
            (set, download(&*engine, manager, &script, &tries).await)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(joined) = downloads.join_next().await {
        let Ok((set, answer)) = joined else { continue };
        out.insert(set, answer?);
    }
    Ok(out)
}

/// The script run in a container of each image of `tries` in turn, until one answers.
async fn download(
    engine: &dyn Engine,
    manager: Manager,
    script: &str,
    tries: &[Asking],
) -> Result<Candidates, EngineError> {
    let mut why = String::from("no image of the set could run it");
    for image in tries {
        let run = ContainerRun {
            owner: &image.repository,
            image: &image.image_id,
            command: script,
            limit: Duration::from_secs(600),
            user: Some("0"),
        };
        match engine.run(&run).await {
            Ok(outcome) if index::answered(&outcome.output) => {
                return Ok(index::candidates(manager, &outcome.output));
            }
            Ok(outcome) => {
                why = format!(
                    "{} cannot run it (exit code {})",
                    image.name, outcome.exit_code
                )
            }
            Err(e) if e.is_engine_lost() => return Err(e),
            Err(e) => why = format!("cannot download the package indexes: {e}"),
        }
    }
    Ok(Err(why))
}

type Candidates = Result<BTreeMap<String, String>, String>;

/// An image's pending updates: what it has installed that the set's candidate is newer than.
fn compare(
    manager: Manager,
    set: &str,
    facts: &Facts,
    candidates: &Result<BTreeMap<String, String>, String>,
) -> Answer {
    let candidates = match candidates {
        Ok(c) => c,
        Err(why) => {
            return Answer {
                sources: Some(set.to_string()),
                problem: Some(why.clone()),
                ..Answer::default()
            };
        }
    };
    let pending = facts
        .installed
        .iter()
        .filter(|(name, _)| !facts.held.contains(name.as_str()))
        .filter_map(|(name, installed)| {
            let candidate = candidates.get(name)?;
            index::newer(manager, candidate, installed)
                .then(|| (name.clone(), installed.clone(), candidate.clone()))
        })
        .collect();
    Answer {
        sources: Some(set.to_string()),
        pending,
        problem: None,
    }
}
