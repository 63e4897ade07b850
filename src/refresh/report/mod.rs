//! The refresh report people read — the on-call engineer first: Markdown to paste into a chat
//! or a pull request, or the JSON run report, by the file's extension. The Markdown says first
//! whether the run left the hierarchy mixed; then per image the outcome, why, the upstream
//! digests, the package changes, the time and the new digest; per failed image its log, what
//! failed with its last output lines, and what to do next; and the apps, by owner: rebuilt, and
//! left on an old parent; then every image checked ([`checked`]).

mod checked;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::report::{ImageReport, Report, Status};

/// The Markdown report.
pub fn markdown(catalog: &Catalog, report: &Report) -> String {
    let mut out = heading(&catalog.name, report);
    if report.images.is_empty() {
        out.push_str("Nothing to refresh: no base moved and no image has OS updates pending.\n");
        out.push_str(&checked::section(report.checked.as_deref()));
        return out;
    }
    out.push_str("| image | outcome | why | upstream | packages | time | new digest |\n");
    out.push_str("|---|---|---|---|---|---:|---|\n");
    for image in &report.images {
        out.push_str(&row(image));
    }
    out.push_str(&failures(report));
    out.push_str(&package_changes(report));
    out.push_str(&apps(catalog, report, "Apps rebuilt", promoted));
    out.push_str(&apps(
        catalog,
        report,
        "Apps left on an old parent",
        left_behind,
    ));
    out.push_str(&checked::section(report.checked.as_deref()));
    out
}

/// Promoted in this run.
fn promoted(i: &ImageReport) -> bool {
    matches!(i.status, Status::Built | Status::Pushed) && !held_back(i)
}

/// Built, but not promoted: an atomic refresh that something blocked.
fn held_back(i: &ImageReport) -> bool {
    i.note
        .as_deref()
        .is_some_and(|n| n.starts_with("not promoted"))
}

/// Meant to move onto something new, and did not: it failed, was skipped, or was held back.
fn left_behind(i: &ImageReport) -> bool {
    matches!(i.status, Status::Failed | Status::Skipped) || held_back(i)
}

/// When some images were promoted and others are still on the parent they had: who is where.
fn mixed(report: &Report) -> Option<String> {
    let names = |keep: fn(&ImageReport) -> bool| -> Vec<String> {
        report
            .images
            .iter()
            .filter(|i| keep(i))
            .map(|i| format!("`{}`", i.name))
            .collect()
    };
    let (moved, behind) = (names(promoted), names(left_behind));
    (!moved.is_empty() && !behind.is_empty()).then(|| {
        format!(
            "> **The hierarchy is mixed:** {} promoted ({}), {} still on an old parent ({}).\n\n",
            moved.len(),
            moved.join(", "),
            behind.len(),
            behind.join(", ")
        )
    })
}

/// The title, the count of each outcome, and why nothing was promoted if it was not.
fn heading(catalog: &str, report: &Report) -> String {
    let count = |s: Status| report.images.iter().filter(|i| i.status == s).count();
    let rebuilt = count(Status::Built) + count(Status::Pushed);
    let mut out = String::new();
    let _ = writeln!(out, "# Refresh of {catalog} — {}\n", report.run);
    if let Some(mixed) = mixed(report) {
        out.push_str(&mixed);
    }
    let _ = writeln!(
        out,
        "**{rebuilt} rebuilt**, {} unchanged, {} failed, {} skipped{}.\n",
        count(Status::Unchanged),
        count(Status::Failed),
        count(Status::Skipped),
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    if let Some(blocked) = report
        .images
        .iter()
        .find_map(|i| i.note.as_deref().filter(|n| n.starts_with("not promoted")))
    {
        let _ = writeln!(
            out,
            "> Nothing was promoted: {}.\n",
            blocked.trim_start_matches("not promoted: ")
        );
    }
    out
}

/// One image's line of the table.
fn row(i: &ImageReport) -> String {
    let upstream = match (&i.upstream_old, &i.upstream_new) {
        (Some(a), Some(b)) if a == b => format!("{} (same)", short(b)),
        (Some(a), Some(b)) => format!("{} → {}", short(a), short(b)),
        (None, Some(b)) => short(b),
        _ => String::new(),
    };
    let packages = match &i.packages {
        Some(p) if p.is_empty() => "no change".to_string(),
        Some(p) => format!("{} change{}", p.len(), if p.len() == 1 { "" } else { "s" }),
        None => String::new(),
    };
    let outcome = match i.error.as_ref().or(i.note.as_ref()) {
        Some(remark) => format!("{} — {}", i.status.as_str(), cell(remark)),
        None => i.status.as_str().to_string(),
    };
    let digest = i
        .digest
        .as_deref()
        .or(i.image_id.as_deref())
        .map(short)
        .unwrap_or_default();
    format!(
        "| {} | {} | {} | {} | {} | {:.1}s | {} |\n",
        i.name,
        outcome,
        cell(&i.reason),
        upstream,
        packages,
        i.duration_s,
        digest
    )
}

/// A section per image whose OS packages changed, listing the changes.
fn package_changes(report: &Report) -> String {
    let changed: Vec<_> = report
        .images
        .iter()
        .filter(|i| i.packages.as_ref().is_some_and(|p| !p.is_empty()))
        .collect();
    let mut out = String::new();
    if changed.is_empty() {
        return out;
    }
    out.push_str("\n## Package changes\n");
    for i in changed {
        let _ = writeln!(out, "\n### {}\n", i.name);
        for line in i.packages.iter().flatten() {
            let _ = writeln!(out, "- `{line}`");
        }
    }
    out
}

/// Per failed image: what failed, its last output lines, its log, and what to do next.
fn failures(report: &Report) -> String {
    let failed: Vec<&ImageReport> = report
        .images
        .iter()
        .filter(|i| i.status == Status::Failed)
        .collect();
    let mut out = String::new();
    if failed.is_empty() {
        return out;
    }
    out.push_str("\n## Failures\n");
    for i in failed {
        let _ = writeln!(out, "\n### {}\n", i.name);
        let _ = writeln!(out, "{}\n", i.error.as_deref().unwrap_or("failed"));
        if let Some(output) = &i.output {
            out.push_str("```\n");
            for line in output {
                let _ = writeln!(out, "{}", line.replace("```", "` ` `"));
            }
            out.push_str("```\n\n");
        }
        if let Some(log) = &i.log {
            let _ = writeln!(out, "- log: `{log}`");
        }
        if let Some(next) = &i.next {
            let _ = writeln!(out, "- next: {next}");
        }
    }
    out
}

/// The `app` images `which` selects, grouped by owner, under a title.
fn apps(
    catalog: &Catalog,
    report: &Report,
    title: &str,
    which: fn(&ImageReport) -> bool,
) -> String {
    let mut by_owner: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for i in report.images.iter().filter(|i| which(i)) {
        let Some(image) = catalog.get(&i.name).filter(|image| image.kind == "app") else {
            continue;
        };
        let owner = image.owner.clone().unwrap_or_else(|| "(no owner)".into());
        let apps = by_owner.entry(owner).or_default();
        if !apps.contains(&i.name.as_str()) {
            apps.push(&i.name);
        }
    }
    let mut out = String::new();
    if by_owner.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n## {title}, by owner\n");
    for (owner, apps) in by_owner {
        let _ = writeln!(out, "- **{owner}**: {}", apps.join(", "));
    }
    out
}

/// A digest in its short form, as code.
fn short(digest: &str) -> String {
    format!("`{}`", crate::hash::short(digest))
}

/// Text for a table cell (a `|` would end the cell).
fn cell(text: &str) -> String {
    // One line, and no `|` to end the cell early.
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A report path must say its format by its extension (checked before the run starts).
pub fn check_extension(path: &Path) -> Result<(), Error> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown" | "json") => Ok(()),
        _ => Err(Error::usage_help(
            format!(
                "--report {}: the extension says which format",
                path.display()
            ),
            "use a .md file for Markdown or a .json file for JSON",
        )),
    }
}

/// Writes the report to `path`: Markdown for `.md`/`.markdown`, JSON for `.json`.
pub fn write(path: &Path, catalog: &Catalog, report: &Report) -> Result<(), Error> {
    let text = match path.extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => markdown(catalog, report),
        _ => {
            check_extension(path)?;
            report.json()
        }
    };
    crate::lock::write_atomic(path, text.as_bytes())
        .map_err(|e| Error::io("write", path.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;
    use crate::report::ImageReport;
    use crate::source::SourceFile;

    const CATALOG: &str = r#"[catalog]
name = "acme"
registry = "r.example/p"

[images.base]
from = "debian:bookworm-slim"
version = "1.0.0"
template = "t.hbs"

[images.python]
parent = "base"
version = "1.0.0"
template = "t.hbs"

[images.billing-api]
parent = "base"
version = "1.0.0"
kind = "app"
owner = "billing-team"
template = "t.hbs"

[images.shop]
parent = "python"
version = "1.0.0"
kind = "app"
owner = "shop-team"
template = "t.hbs"
"#;

    fn catalog() -> Catalog {
        let (catalog, problems) =
            crate::catalog::parse(SourceFile::new("catalog.toml".into(), CATALOG.to_string()));
        assert!(problems.is_empty(), "{problems:?}");
        catalog
    }

    fn report() -> Report {
        let images = vec![
            ImageReport {
                name: "base".into(),
                status: Status::Pushed,
                image_id: Some(format!("sha256:{}", "a".repeat(64))),
                duration_s: 12.3,
                reason: "debian:bookworm-slim moved".into(),
                upstream_old: Some(format!("sha256:{}", "1".repeat(64))),
                upstream_new: Some(format!("sha256:{}", "2".repeat(64))),
                packages: Some(vec!["openssl 3.0.20-1 -> 3.0.22-1".into()]),
                digest: Some(format!("sha256:{}", "d".repeat(64))),
                ..Default::default()
            },
            ImageReport {
                name: "python".into(),
                status: Status::Failed,
                image_id: Some(format!("sha256:{}", "b".repeat(64))),
                reason: "parent rebuilt: base".into(),
                log: Some(".hier/logs/r/python.log".into()),
                error: Some("test `python3 -c 'import ssl'` exited with 1".into()),
                output: Some(vec!["ImportError: libssl.so.3".into()]),
                next: Some("examine it, then run `hier rebuild python`".into()),
                ..Default::default()
            },
            ImageReport {
                name: "billing-api".into(),
                status: Status::Built,
                reason: "parent rebuilt: base".into(),
                packages: Some(vec![]),
                ..Default::default()
            },
            ImageReport {
                name: "shop".into(),
                status: Status::Skipped,
                reason: "parent rebuilt: python".into(),
                error: Some("`python` failed".into()),
                ..Default::default()
            },
        ];
        let run = "20261123T010000Z".to_string();
        Report::new("refresh", run, None, false, images, Exit::Failed)
    }

    #[test]
    fn markdown_shows_digests_packages_and_owners() {
        let md = markdown(&catalog(), &report());
        assert!(md.contains("**2 rebuilt**"), "{md}");
        assert!(
            md.contains("`sha256:111111111111` → `sha256:222222222222`"),
            "{md}"
        );
        assert!(md.contains("- `openssl 3.0.20-1 -> 3.0.22-1`"), "{md}");
        assert!(md.contains("`sha256:dddddddddddd`"), "{md}");
    }

    #[test]
    fn the_on_call_reads_first_that_the_hierarchy_is_mixed_then_what_failed_and_who_waits() {
        let md = markdown(&catalog(), &report());
        let first = md.lines().nth(2).unwrap();
        assert_eq!(
            first,
            "> **The hierarchy is mixed:** 2 promoted (`base`, `billing-api`), 2 still on an old parent (`python`, `shop`)."
        );
        assert!(
            md.contains(
                "## Failures\n\n### python\n\ntest `python3 -c 'import ssl'` exited with 1\n\n```\nImportError: libssl.so.3\n```\n\n- log: `.hier/logs/r/python.log`\n- next: examine it, then run `hier rebuild python`\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("## Apps rebuilt, by owner\n\n- **billing-team**: billing-api\n"),
            "{md}"
        );
        assert!(
            md.contains("## Apps left on an old parent, by owner\n\n- **shop-team**: shop\n"),
            "{md}"
        );
    }
}
