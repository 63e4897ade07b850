//! `hier test`: the tests of recorded images run again on exactly the images the lock records
//! (fetched by digest when no engine holds them; over a builders file, each is tested on a
//! builder that holds it), building nothing; each image that passes
//! gets the digest of the tests it passed recorded. Progress on standard error, the report on
//! standard output, as `rebuild` does.

use std::collections::BTreeMap;

use super::rebuild::finish;
use super::{Context, Output};
use crate::engine::SecretValues;
use crate::error::Error;
use crate::name::ImageName;
use crate::plan::{Action, Plan, PlanItem, Reason};
use crate::rebuild::{Options, Provenance, Runner};
use crate::repo::Repository;

/// What `hier test` was asked.
pub struct Args {
    /// The images to test; none means every recorded image.
    pub images: Vec<String>,
    pub jobs: usize,
    /// A builders file: each image is tested on a builder that holds it.
    pub builders: Option<std::path::PathBuf>,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    let (repo, _run_lock, _) = super::open_locked_to_build_nothing(cx)?;
    let provenance = Provenance::start(&repo.root);
    let mut plan = Plan {
        items: tested(&repo, &args.images)?,
    };
    let (pool, pool_notes) =
        cx.pool(&repo.catalog.platform, args.builders.as_deref(), args.jobs)?;
    super::rebuild::add_fetches(cx, &pool, &repo, &mut plan)?;
    let options = Options {
        jobs: args.jobs,
        push: false,
        fail_fast: false,
        no_cache: false,
        builder: repo.catalog.builder,
        atomic: false,
    };
    let no_inputs = BTreeMap::new();
    let runner = Runner {
        command: "test",
        repo: &repo,
        inputs: &no_inputs,
        pool,
        interrupt: cx.interrupt()?,
        secrets: SecretValues::default(),
        provenance: provenance.join().unwrap_or_default(),
        fetched: Vec::new(),
        checked: None,
    };
    let (outcome, stdout) = super::rebuild::run_plan(cx, &runner, &plan, &options)?;
    let mut output = finish(
        cx,
        outcome,
        stdout,
        "nothing to test: hier.lock records no image\n",
    );
    output.stderr.insert_str(0, &pool_notes);
    Ok(output)
}

/// The `test` items: the named images (each must be recorded), else every recorded image, in
/// build order.
fn tested(repo: &Repository, images: &[String]) -> Result<Vec<PlanItem>, Error> {
    let names: Vec<ImageName> = if images.is_empty() {
        repo.recorded()
    } else {
        let mut names = Vec::new();
        for image in images {
            let name = repo.image_arg(image)?.name.clone();
            if !repo.lock.images.contains_key(name.as_str()) {
                return Err(Error::usage(format!(
                    "`{name}` was never built, so there is no image to test; run `hier rebuild {name}`"
                )));
            }
            names.push(name);
        }
        names
    };
    Ok(names
        .into_iter()
        .map(|name| PlanItem {
            inputs: repo.lock.images[name.as_str()].inputs.clone(),
            name,
            wave: 0,
            reason: Reason::Selected,
            action: Action::Test,
        })
        .collect())
}
