//! The refresh report people read: Markdown to paste into a chat or a pull request (per rebuilt
//! image the upstream digests, the package changes, the outcome, the time and the new digest;
//! the apps rebuilt, grouped by owner), or the JSON run report, by the file's extension.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::Error;
use crate::report::{ImageReport, Report, Status};

/// The Markdown report. `kinds` maps each image to its kind (`app` images are grouped by owner).
pub fn markdown(catalog: &str, report: &Report, kinds: &BTreeMap<String, String>) -> String {
    let mut out = heading(catalog, report);
    if report.images.is_empty() {
        out.push_str("Nothing to refresh: no base moved and no image has OS updates pending.\n");
        return out;
    }
    out.push_str("| image | outcome | why | upstream | packages | time | new digest |\n");
    out.push_str("|---|---|---|---|---|---:|---|\n");
    for image in &report.images {
        out.push_str(&row(image));
    }
    out.push_str(&package_changes(report));
    out.push_str(&apps_by_owner(report, kinds));
    out
}

/// The title, the count of each outcome, and why nothing was promoted if it was not.
fn heading(catalog: &str, report: &Report) -> String {
    let count = |s: Status| report.images.iter().filter(|i| i.status == s).count();
    let rebuilt = count(Status::Built) + count(Status::Pushed);
    let mut out = String::new();
    let _ = writeln!(out, "# Refresh of {catalog} — {}\n", report.run);
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

/// The `app` images rebuilt, grouped by owner.
fn apps_by_owner(report: &Report, kinds: &BTreeMap<String, String>) -> String {
    let mut by_owner: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for i in &report.images {
        let rebuilt = matches!(i.status, Status::Built | Status::Pushed);
        if rebuilt && kinds.get(&i.name).map(String::as_str) == Some("app") {
            by_owner
                .entry(i.owner.clone().unwrap_or_else(|| "(no owner)".into()))
                .or_default()
                .push(&i.name);
        }
    }
    let mut out = String::new();
    if by_owner.is_empty() {
        return out;
    }
    out.push_str("\n## Apps rebuilt, by owner\n\n");
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
    text.replace('|', "\\|")
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
pub fn write(
    path: &Path,
    catalog: &str,
    report: &Report,
    kinds: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let text = match path.extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => markdown(catalog, report, kinds),
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

    #[test]
    fn markdown_shows_digests_packages_and_owners() {
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
                name: "billing-api".into(),
                status: Status::Built,
                reason: "parent rebuilt: base".into(),
                owner: Some("billing-team".into()),
                packages: Some(vec![]),
                ..Default::default()
            },
        ];
        let run = "20261123T010000Z".to_string();
        let report = Report::new("refresh", run, None, false, images, Exit::Success);
        let kinds = BTreeMap::from([
            ("base".to_string(), "base".to_string()),
            ("billing-api".to_string(), "app".to_string()),
        ]);
        let md = markdown("acme", &report, &kinds);
        assert!(md.contains("**2 rebuilt**"), "{md}");
        assert!(
            md.contains("`sha256:111111111111` → `sha256:222222222222`"),
            "{md}"
        );
        assert!(md.contains("- `openssl 3.0.20-1 -> 3.0.22-1`"), "{md}");
        assert!(md.contains("- **billing-team**: billing-api"), "{md}");
        assert!(md.contains("`sha256:dddddddddddd`"), "{md}");
    }
}
