//! `hier push`: push the images the lock records to the registry and every mirror.

use super::{Context, Output};
use crate::error::{Error, Exit};
use crate::rebuild::{self, RunLock};
use crate::repo::{self, Repository};

pub fn run(cx: &Context, images: &[String]) -> Result<Output, Error> {
    let catalog_path = repo::locate(cx.catalog.as_deref())?;
    let root = catalog_path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let _run_lock = RunLock::acquire(&rebuild::state_dir(&root), cx.quiet)?;
    let repo = Repository::open(&catalog_path)?;
    let names = if images.is_empty() {
        repo.hierarchy
            .order()
            .iter()
            .filter(|n| repo.lock.images.contains_key(n.as_str()))
            .cloned()
            .collect()
    } else {
        let mut names = Vec::new();
        for image in images {
            names.push(repo.image_arg(image)?.name.clone());
        }
        names
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(rebuild::push_recorded(repo, names))?;
    let mut output = if cx.json() {
        Output::json(&serde_json::to_value(&outcome.report).expect("the report serialises"))
    } else {
        Output::text(outcome.report.table(&cx.styles))
    };
    output.stderr = outcome.notes;
    if outcome.exit != Exit::Success {
        output.exit = Some(outcome.exit);
    }
    Ok(output)
}
