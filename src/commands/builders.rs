//! `hier builders`: the builders file read and each builder asked what it is (see
//! [`crate::pool::check`]); a table or JSON on standard output, exit 3 when none answers.

use std::path::Path;

use super::{Context, Output};
use crate::error::{Error, Exit};
use crate::pool::check::{Checked, check};
use crate::pool::{ANSWER_WITHIN, file};
use crate::table::Table;

pub fn run(cx: &Context, builders: Option<&Path>) -> Result<Output, Error> {
    let path = builders.ok_or_else(|| {
        Error::usage_help(
            "no builders file",
            "pass `--builders FILE` or set HIER_BUILDERS",
        )
    })?;
    let entries = file::load(path).map_err(Error::Input)?;
    let checked = cx.block_on(check(&entries, ANSWER_WITHIN))?;
    let mut output = if cx.json() {
        Output::json(&serde_json::json!({ "builders": checked }))
    } else {
        Output::text(table(&checked).render(&cx.styles))
    };
    let answered = checked.iter().filter(|c| c.reachable).count();
    if !cx.json() {
        for c in checked.iter().filter(|c| c.problem.is_some()) {
            let problem = c.problem.as_deref().unwrap_or_default();
            output.stderr.push_str(&format!("{}: {problem}\n", c.name));
        }
    }
    if answered == 0 {
        output.exit = Some(Exit::Unreachable);
        output.stderr.push_str("no builder answers\n");
    }
    Ok(output)
}

fn table(checked: &[Checked]) -> Table {
    let mut table = Table::new(&[
        "BUILDER", "HOST", "STATE", "ENGINE", "API", "PLATFORM", "BUILDKIT", "JOBS",
    ]);
    for c in checked {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        table.row(vec![
            c.name.clone(),
            format!("{}{}", c.host, if c.tls { " (tls)" } else { "" }),
            if c.reachable { "ok" } else { "unreachable" }.to_string(),
            or_dash(&c.version),
            or_dash(&c.api_version),
            or_dash(&c.platform),
            match c.buildkit {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }
            .to_string(),
            c.jobs.to_string(),
        ]);
    }
    table
}
