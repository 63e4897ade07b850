//! Pushing images: every tag of an image to the catalog's registry and every mirror (what
//! `--push` does for each image a run promotes), and `hier push` of the images the lock records,
//! whose pushed digests are recorded image by image.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::catalog::Catalog;
use crate::engine::{Engine, EngineError};
use crate::error::{Error, Exit};
use crate::name::ImageName;
use crate::repo::Repository;
use crate::report::{ImageReport, Report, RunOutcome, Status};

/// Where an image is pushed: `<registry>/<name>`, then `<mirror>/<name>` for each mirror.
pub fn destinations(catalog: &Catalog, name: &ImageName) -> Vec<String> {
    std::iter::once(catalog.repository(name))
        .chain(catalog.mirrors.iter().map(|m| format!("{m}/{name}")))
        .collect()
}

/// Tags an image `repository:tag` for every tag, side by side; the first tag that failed.
pub async fn tag_all(
    engine: &dyn Engine,
    image_id: &str,
    repository: &str,
    tags: &[String],
) -> Result<(), (String, EngineError)> {
    let tagged =
        futures_util::future::join_all(tags.iter().map(|t| engine.tag(image_id, repository, t)))
            .await;
    for (tag, result) in tags.iter().zip(tagged) {
        result.map_err(|e| (tag.clone(), e))?;
    }
    Ok(())
}

/// Pushes every tag to every repository of `push_to` (tagging the image there first, so what is
/// pushed is exactly `image_id`); returns each repository's manifest digest (all tags of one
/// image share it) for what was pushed, and the error that stopped it, if one did.
pub async fn push_tags(
    engine: &dyn Engine,
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

/// `hier push`: pushes the recorded images (every tag, to the registry and every mirror) and
/// records each repository's digest in the lock, image by image. A registry that does not
/// answer stops it (exit 3); one that refuses fails that image (exit 1).
pub async fn recorded(
    engine: &dyn Engine,
    repo: &Repository,
    names: &[ImageName],
    run: String,
) -> Result<RunOutcome, Error> {
    let mut lock = repo.lock.clone();
    let mut images = Vec::new();
    let mut exit = Exit::Success;
    let mut notes = String::new();
    for name in names {
        let start = Instant::now();
        let (mut report, refused) = push_one(engine, repo, &mut lock, name).await?;
        if report.error.is_some() {
            exit = exit.worst(Exit::Failed);
        }
        if let Some(e) = refused {
            notes.push_str(&format!("{name}: the push failed: {e}\n"));
        }
        report.duration_s = crate::report::seconds(start.elapsed());
        images.push(report);
    }
    let revision = crate::rebuild::Provenance::of(&repo.root).revision;
    let report = Report::new("push", run, revision, false, images, exit);
    report.write(&crate::state::reports(&repo.root))?;
    Ok(RunOutcome {
        report,
        exit,
        notes,
    })
}

/// Pushes one recorded image and records what was pushed; its report (with the error that
/// failed it), and what a registry that refused said. A registry or engine that does not
/// answer is the run's error.
async fn push_one(
    engine: &dyn Engine,
    repo: &Repository,
    lock: &mut crate::lock::Lock,
    name: &ImageName,
) -> Result<(ImageReport, Option<EngineError>), Error> {
    let mut report = ImageReport {
        name: name.to_string(),
        status: Status::Failed,
        ..ImageReport::default()
    };
    let Some(entry) = lock.images.get(name.as_str()).cloned() else {
        report.error = Some(format!("never built; run `hier rebuild {name}`"));
        return Ok((report, None));
    };
    report.image_id = Some(entry.image_id.clone());
    if engine.inspect(&entry.image_id).await?.is_none() {
        report.error = Some(format!(
            "the engine lacks {} (the image the lock records); run `hier rebuild {name}`",
            entry.image_id
        ));
        return Ok((report, None));
    }
    let push_to = destinations(&repo.catalog, name);
    // The tags come from the catalog, never from the lock's copy of them.
    let image = repo.catalog.image(name);
    let tags = crate::tags::all_tags(&image.version, &image.tags, &entry.image_id);
    let (pushed, error) = push_tags(engine, &push_to, &entry.image_id, &tags, |_| {}).await;
    report.digest = pushed.get(&repo.catalog.repository(name)).cloned();
    if !pushed.is_empty() {
        // What did get pushed is recorded, whatever happened next.
        let stored = lock.images.get_mut(name.as_str()).expect("recorded");
        stored.pushed.extend(pushed);
        let path = repo.lock_path();
        lock.write_atomic(&path)
            .map_err(|e| Error::io("write", path.display(), e))?;
    }
    match error {
        None => {
            report.status = Status::Pushed;
            report.reason = push_to.join(", ");
            Ok((report, None))
        }
        Some(e) if e.is_unreachable() => Err(e.into()),
        Some(e) => {
            report.error = Some(e.to_string());
            Ok((report, Some(e)))
        }
    }
}
