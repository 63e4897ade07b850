//! The end of a run that promotes everything or nothing (`refresh --atomic`): when every image
//! built and passed its tests, the held images are tagged, pushed and recorded, in the order
//! they finished (each after what it builds on); when one failed, nothing is, and the report
//! names the image that blocked the run.

use crate::engine::EngineError;
use crate::error::{Error, Exit};
use crate::lock::LockEntry;
use crate::name::ImageName;
use crate::pool::Holders;
use crate::push;
use crate::repo::Repository;
use crate::report::{ImageReport, Status};
use crate::tags;

use super::record::Recorder;

/// Promotes the held images, or says what blocked them. Returns how the run ends and notes for
/// people.
pub async fn held(
    holders: &Holders<'_>,
    repo: &Repository,
    recorder: &mut Recorder,
    results: &mut [ImageReport],
    push: bool,
    interrupted: bool,
) -> Result<(Exit, String), Error> {
    let held = recorder.take_held();
    if held.is_empty() || interrupted {
        return Ok((Exit::Success, String::new()));
    }
    if let Some(notes) = blocked(results, &held) {
        return Ok((Exit::Success, notes));
    }
    let mut exit = Exit::Success;
    let mut notes = String::new();
    for (name, mut entry) in held {
        let image = repo.catalog.image(&name);
        let repository = repo.catalog.repository(&name);
        let tags = tags::all_tags(&image.version, &image.tags, &entry.image_id);
        if let Err((tag, e)) = push::tag_all(
            holders.engine(&entry.image_id),
            &entry.image_id,
            &repository,
            &tags,
        )
        .await
        {
            // The engine failed half-way: what was promoted stays promoted; say where it stopped.
            let stopped = if e.is_unreachable() {
                Exit::Unreachable
            } else {
                Exit::Failed
            };
            let note = format!(
                "\nthe promotion stopped at `{name}`: cannot tag {repository}:{tag}: {e}; the images before it were promoted\n"
            );
            return Ok((exit.worst(stopped), note));
        }
        entry.tags = tags.clone();
        // Once a registry does not answer, the rest is tagged and recorded, not pushed: the
        // next `--push` run pushes it.
        if push && exit != Exit::Unreachable {
            let destinations = push::destinations(&repo.catalog, &name);
            let (pushed, error) = push::push_tags(
                holders.engine(&entry.image_id),
                &destinations,
                &entry.image_id,
                &tags,
                |_| {},
            )
            .await;
            if let Some(r) = results.iter_mut().find(|r| r.name == name.as_str()) {
                r.digest = pushed.get(&repository).cloned();
                pushed_or_not(r, error.as_ref(), &mut notes);
            }
            entry.pushed = pushed;
            exit = match error {
                Some(e) if e.is_unreachable() => exit.worst(Exit::Unreachable),
                Some(_) => exit.worst(Exit::Failed),
                None => exit,
            };
        }
        recorder.write(&name, entry)?;
    }
    Ok((exit, notes))
}

/// When an image of the run failed, nothing held is promoted: each says which image blocked
/// it, and the notes say so; `None` when nothing failed.
fn blocked(results: &mut [ImageReport], held: &[(ImageName, LockEntry)]) -> Option<String> {
    let blocker = results
        .iter()
        .find(|r| r.status == Status::Failed)?
        .name
        .clone();
    for (name, _) in held {
        if let Some(r) = results.iter_mut().find(|r| r.name == name.as_str()) {
            r.note = Some(format!(
                "not promoted: `{blocker}` failed and the refresh is atomic"
            ));
        }
    }
    Some(format!(
        "\nnothing was tagged or pushed: `{blocker}` blocked the refresh (--atomic)\n"
    ))
}

/// A promoted image's push: pushed, or failed with why (and the notes say it).
fn pushed_or_not(r: &mut ImageReport, error: Option<&EngineError>, notes: &mut String) {
    match error {
        None => r.status = Status::Pushed,
        Some(e) => {
            r.status = Status::Failed;
            let why = format!("built and tagged, but the push failed: {e}");
            notes.push_str(&format!("\n{}: {why}\n", r.name));
            r.error = Some(why);
            if let Some(help) = e.help() {
                notes.push_str(&format!("help: {help}\n"));
            }
        }
    }
}
