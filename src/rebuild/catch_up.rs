//! With `--push`, images the lock records but a registry does not have yet (a push failed in an
//! earlier run, or `--push` was not given then) are pushed by this run too, so a run with
//! `--push` always leaves every recorded image in every registry. Deciding needs no engine:
//! the lock says where each image was pushed.

use std::collections::HashSet;
use std::time::Instant;

use super::record::Recorder;
use crate::error::{Error, Exit};
use crate::name::ImageName;
use crate::pool::Holders;
use crate::push;
use crate::repo::Repository;
use crate::report::{ImageReport, Status, seconds};

/// Pushes the recorded images, outside `done`, that some destination lacks; their reports,
/// how the pushes ended, and notes for people.
pub async fn push_unpushed(
    holders: &Holders<'_>,
    repo: &Repository,
    recorder: &mut Recorder,
    done: &HashSet<ImageName>,
) -> Result<(Vec<ImageReport>, Exit, String), Error> {
    let mut reports = Vec::new();
    let (mut exit, mut notes) = (Exit::Success, String::new());
    for name in repo.hierarchy.order() {
        let Some(entry) = recorder.lock().images.get(name.as_str()).cloned() else {
            continue;
        };
        let destinations = push::destinations(&repo.catalog, name);
        if done.contains(name) || destinations.iter().all(|d| entry.pushed.contains_key(d)) {
            continue;
        }
        let start = Instant::now();
        let image = repo.catalog.image(name);
        let tags = crate::tags::all_tags(&image.version, &image.tags, &entry.image_id);
        let (pushed, error) = push::push_tags(
            holders.engine(&entry.image_id),
            &destinations,
            &entry.image_id,
            &tags,
            |_| {},
        )
        .await;
        let mut recorded = entry.clone();
        recorded.pushed.extend(pushed);
        let digest = recorded.pushed.get(&repo.catalog.repository(name)).cloned();
        recorder.write(name, recorded)?;
        let mut report = ImageReport {
            name: name.to_string(),
            status: Status::Pushed,
            image_id: Some(entry.image_id.clone()),
            duration_s: seconds(start.elapsed()),
            reason: "recorded, and not yet in every registry".into(),
            digest,
            ..ImageReport::default()
        };
        if let Some(e) = error {
            exit = exit.worst(if e.is_unreachable() {
                Exit::Unreachable
            } else {
                Exit::Failed
            });
            notes.push_str(&format!("\n{name}: the push failed: {e}\n"));
            if let Some(help) = e.help() {
                notes.push_str(&format!("help: {help}\n"));
            }
            report.status = Status::Failed;
            report.error = Some(format!("the push failed: {e}"));
            reports.push(report);
            if e.is_unreachable() {
                break;
            }
            continue;
        }
        reports.push(report);
    }
    Ok((reports, exit, notes))
}
