//! `hier rebuild`: the plan, then the run against the engine (see [`crate::rebuild`]).

use super::{Context, Output};
use crate::cli::Selection;
use crate::error::{Error, Exit};
use crate::plan;
use crate::rebuild::{self, Options, RunLock};
use crate::repo::{self, Repository};

pub fn run(
    cx: &Context,
    selection: &Selection,
    options: &Options,
    dry_run: bool,
) -> Result<Output, Error> {
    let catalog_path = repo::locate(cx.catalog.as_deref())?;
    let root = catalog_path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    // The run lock comes first: the lock file may change while another run finishes.
    let _run_lock = if dry_run {
        None
    } else {
        Some(RunLock::acquire(&rebuild::state_dir(&root), cx.quiet)?)
    };
    let repo = Repository::open(&catalog_path)?;
    let inputs = repo.inputs()?;
    let catalog_file = catalog_path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| repo::CATALOG_FILE.into());
    let selector = super::plan::selector(&repo, &catalog_file, selection)?;
    let plan = plan::make(
        &repo.catalog,
        &repo.hierarchy,
        &inputs,
        &repo.lock,
        &selector,
    );
    if dry_run {
        let mut plan = plan;
        super::plan::with_fetches(&repo, &mut plan);
        return Ok(super::plan::render(cx, &plan));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
    let options = Options { ..*options };
    let outcome = runtime.block_on(rebuild::execute(
        repo,
        inputs,
        plan,
        options,
        rebuild::Mode::Rebuild,
        None,
    ))?;
    let report = &outcome.report;
    let mut output = if cx.json() {
        Output::json(&serde_json::to_value(report).expect("the report serialises"))
    } else if report.images.is_empty() {
        Output::text(String::new())
    } else {
        Output::text(report.table(&cx.styles))
    };
    let count = |s: rebuild::report::Status| report.images.iter().filter(|i| i.status == s).count();
    use rebuild::report::Status;
    output.stderr = outcome.notes.clone();
    if !cx.quiet {
        if report.images.is_empty() {
            output
                .stderr
                .push_str("nothing to rebuild: every image is up to date\n");
        } else {
            output.stderr.push_str(&format!(
                "{} built, {} failed, {} skipped (report: .hier/reports/{}.json)\n",
                count(Status::Built),
                count(Status::Failed),
                count(Status::Skipped),
                report.run
            ));
        }
    }
    if outcome.exit != Exit::Success {
        output.exit = Some(outcome.exit);
    }
    Ok(output)
}
