//! `hier push`: push the images the lock records to the registry and every mirror (see
//! [`crate::push`]); with a builders file, from its first builder, to which the images it
//! lacks cross from the builders that hold them.

use super::{Context, Output};
use crate::error::{Error, Exit};
use crate::name::ImageName;

pub fn run(
    cx: &Context,
    images: &[String],
    builders: Option<&std::path::Path>,
) -> Result<Output, Error> {
    let (repo, _run_lock, _) = super::open_locked_to_build_nothing(cx)?;
    let names: Vec<ImageName> = if images.is_empty() {
        repo.recorded()
    } else {
        let mut names = Vec::new();
        for image in images {
            names.push(repo.image_arg(image)?.name.clone());
        }
        names
    };
    let (engine, notes) = cx.reader(&repo, builders, names.clone())?;
    let outcome = cx.block_on(crate::push::recorded(
        &*engine,
        &repo,
        &names,
        crate::state::run_id(),
    ))??;
    let mut output = if cx.json() {
        Output::text(outcome.report.json())
    } else {
        Output::text(outcome.report.table(&cx.styles))
    };
    output.stderr = notes + &outcome.notes;
    if outcome.exit != Exit::Success {
        output.exit = Some(outcome.exit);
    }
    Ok(output)
}
