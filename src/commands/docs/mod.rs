//! `hier docs --out DIR [--no-engine]`: the HTML catalog for app teams (`site` makes the
//! pages). What is inside each built image (size, bytes added, OS packages) is asked of the
//! engine that holds it ([`facts`]); without an engine the pages say it is not known, and
//! the catalog is written all the same. The folder is written whole or not at all ([`write`]).

mod facts;
mod write;

use std::path::PathBuf;

use serde_json::json;

use super::{Context, Output};
use crate::error::Error;
use crate::site::{self, Inside};

pub struct Args {
    pub out: PathBuf,
    /// Do not ask the engine what is inside the built images.
    pub no_engine: bool,
    /// A builders file: each image is read on a builder that holds it.
    pub builders: Option<PathBuf>,
}

pub fn run(cx: &Context, args: &Args) -> Result<Output, Error> {
    let repo = cx.open()?;
    let out = write::normalized(&args.out);
    write::check_target(&repo, &out)?;
    let (facts, warning) = match args.no_engine {
        true => (
            facts::unknown(&repo, "the engine was not asked (--no-engine)"),
            None,
        ),
        false => facts::gather(cx, &repo, args.builders.as_deref())?,
    };
    let files = site::files(&repo, &facts)?;
    write::site(&repo, &out, &files)?;
    let shown = crate::source::display_path(&out);
    let count = |f: fn(&Inside) -> bool| facts.values().filter(|i| f(i)).count();
    let known = count(|i| matches!(i, Inside::Known(_)));
    let unknown = count(|i| matches!(i, Inside::Unknown(_)));
    let mut out = if cx.json() {
        Output::json(&json!({
            "out": shown.display().to_string(),
            "index": shown.join("index.html").display().to_string(),
            "images": repo.catalog.images.len(),
            "files": files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            "contents_known": known,
            "contents_unknown": unknown,
            "not_built": repo.catalog.images.len() - known - unknown,
        }))
    } else if cx.quiet {
        Output::default()
    } else {
        Output::text(format!(
            "wrote the catalog of {} images to {} (open {}); contents read for {known}, \
             not known for {unknown}, {} not built\n",
            repo.catalog.images.len(),
            shown.display(),
            shown.join("index.html").display(),
            repo.catalog.images.len() - known - unknown,
        ))
    };
    if let Some(warning) = warning {
        out.stderr = format!("warning: {warning}\n");
    }
    Ok(out)
}
