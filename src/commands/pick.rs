//! `hier pick NEED…`: the images an app could build on (never apps themselves) that provide
//! every need, best fit first: fewest provides beyond the needs, then the shallowest image,
//! then the name.

use serde_json::json;

use super::{Context, Output};
use crate::error::{Error, Exit};
use crate::table::Table;

/// Whether a provided item satisfies a need: `python` matches `python` and `python=…`;
/// `python=3.12` matches `python=3.12` and `python=3.12.4` (a dotted prefix), not `python=3.120`.
pub fn satisfies(provided: &str, need: &str) -> bool {
    let (p_name, p_version) = split(provided);
    let (n_name, n_version) = split(need);
    if p_name != n_name {
        return false;
    }
    match (n_version, p_version) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(n), Some(p)) => p == n || p.strip_prefix(n).is_some_and(|rest| rest.starts_with('.')),
    }
}

fn split(item: &str) -> (&str, Option<&str>) {
    match item.split_once('=') {
        Some((name, version)) => (name.trim(), Some(version.trim())),
        None => (item.trim(), None),
    }
}

pub fn run(cx: &Context, needs: &[String]) -> Result<Output, Error> {
    for need in needs {
        let (name, version) = split(need);
        if name.is_empty() || version.is_some_and(str::is_empty) {
            return Err(Error::usage_help(
                format!("invalid need `{need}`"),
                "write `name` or `name=version`, e.g. `python` or `python=3.12`",
            ));
        }
    }
    let repo = cx.open()?;
    let mut candidates: Vec<(usize, usize, &str)> = Vec::new();
    for image in &repo.catalog.images {
        if image.kind == crate::catalog::APP {
            continue;
        }
        let provides = &repo.inherited.provides[&image.name];
        if !needs
            .iter()
            .all(|n| provides.iter().any(|p| satisfies(p, n)))
        {
            continue;
        }
        let extra = provides
            .iter()
            .filter(|p| !needs.iter().any(|n| satisfies(p, n)))
            .count();
        let depth = repo.hierarchy.ancestors(&repo.catalog, &image.name).len();
        candidates.push((extra, depth, image.name.as_str()));
    }
    candidates.sort();
    let mut out = if cx.json() {
        let names: Vec<&str> = candidates.iter().map(|c| c.2).collect();
        Output::json(&json!({ "images": names }))
    } else if candidates.is_empty() {
        Output::default()
    } else {
        let mut table = Table::new(&["NAME", "KIND", "VERSION", "PROVIDES"]);
        for (_, _, name) in &candidates {
            let image = repo.catalog.get(name).expect("candidate is in the catalog");
            table.row(vec![
                name.to_string(),
                image.kind.clone(),
                image.version.to_string(),
                repo.inherited.provides[&image.name].join(", "),
            ]);
        }
        Output::text(table.render(&cx.styles))
    };
    if candidates.is_empty() {
        out.stderr = format!("no image provides all of: {}\n", needs.join(", "));
        out.exit = Some(Exit::Failed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn needs_match_names_and_dotted_version_prefixes() {
        assert!(satisfies("python", "python"));
        assert!(satisfies("python=3.12", "python"));
        assert!(satisfies("python=3.12", "python=3.12"));
        assert!(satisfies("python=3.12.4", "python=3.12"));
        assert!(satisfies("python=3.12.4", "python=3"));
        assert!(!satisfies("python=3.120", "python=3.12"));
        assert!(!satisfies("python", "python=3.12"));
        assert!(!satisfies("python3", "python"));
    }
}
