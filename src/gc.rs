//! `hier gc`: what hier leaves behind, removed. Images: every image hier built for this catalog
//! (labelled with a repository under its registry, or tagged there) that the lock no longer
//! records — failed builds, builds superseded twice (the last one replaced stays, for `hier
//! diff`) — loses its tags under the registry, and goes when it has no other tag. Runs: all but the last N runs' logs and reports under `.hier/`.
//! What to remove is decided by pure functions; removing it is at the edge.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::engine::{Engine, EngineError, StoredImage};
use crate::error::Error;
use crate::lock::Lock;
use crate::state;

/// An image to remove: its tags under the catalog's registry go; the image itself goes unless
/// something else (a tag of someone else's) holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRemoval {
    pub id: String,
    /// The catalog image it was built for, when its labels or tags say.
    pub name: Option<String>,
    /// The tags removed.
    pub tags: Vec<String>,
    /// Tags outside the registry that keep the image in the engine.
    pub kept_by: Vec<String>,
    pub size: u64,
}

/// The images of this catalog the lock does not record (as an image's build, or as the build
/// that build replaced, which `hier diff` compares it with).
pub fn images_to_remove(
    catalog: &Catalog,
    lock: &Lock,
    stored: &[StoredImage],
) -> Vec<ImageRemoval> {
    let recorded: BTreeSet<&str> = lock
        .images
        .values()
        .flat_map(|e| std::iter::once(&e.image_id).chain(&e.previous_image_id))
        .map(String::as_str)
        .collect();
    let under = format!("{}/", catalog.registry);
    stored
        .iter()
        .filter(|i| !recorded.contains(i.id.as_str()))
        .map(|i| {
            let (tags, kept_by): (Vec<String>, Vec<String>) =
                i.tags.iter().cloned().partition(|t| t.starts_with(&under));
            let name = i
                .repository
                .as_deref()
                .or_else(|| {
                    tags.first()
                        .map(|t| t.rsplit_once(':').map_or(t.as_str(), |p| p.0))
                })
                .and_then(|r| r.strip_prefix(&under))
                .map(str::to_string);
            ImageRemoval {
                id: i.id.clone(),
                name,
                tags,
                kept_by,
                size: i.size,
            }
        })
        .collect()
}

/// The runs to remove: all but the `keep` most recent (run names sort by time).
pub fn runs_to_remove(runs: &BTreeSet<String>, keep: usize) -> Vec<String> {
    let remove = runs.len().saturating_sub(keep);
    runs.iter().take(remove).cloned().collect()
}

/// Whether a name is a run's (`20261203T062647.123Z`, or `20261203T062647Z` from before
/// runs were named to the millisecond): nothing else under `.hier/` is touched.
fn is_run(name: &str) -> bool {
    let b = name.as_bytes();
    let seconds =
        b.len() >= 16 && b[8] == b'T' && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    seconds
        && match &b[15..] {
            [b'Z'] => true,
            [b'.', m1, m2, m3, b'Z'] => [m1, m2, m3].iter().all(|d| d.is_ascii_digit()),
            _ => false,
        }
}

/// The runs that left logs or a report.
pub fn runs(root: &Path) -> Result<BTreeSet<String>, Error> {
    let mut runs = BTreeSet::new();
    let logs = state::dir(root).join("logs");
    for name in entries(&logs)? {
        if is_run(&name) {
            runs.insert(name);
        }
    }
    for name in entries(&state::reports(root))? {
        if let Some(run) = name.strip_suffix(".json").filter(|r| is_run(r)) {
            runs.insert(run.to_string());
        }
    }
    Ok(runs)
}

fn entries(dir: &Path) -> Result<Vec<String>, Error> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", dir.display(), e)),
    }
}

/// Removes a run's log folder and report. A symlink is removed as a link: nothing it points to
/// is touched.
pub fn remove_run(root: &Path, run: &str) -> Result<(), Error> {
    let logs = state::logs(root, run);
    let report = state::reports(root).join(format!("{run}.json"));
    for path in [logs, report] {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| Error::io("remove", path.display(), e))?;
    }
    Ok(())
}

/// What became of one image's removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    #[serde(flatten)]
    pub image: ImageRemoval,
    /// Whether the image left the engine (not only its tags).
    pub gone: bool,
    /// Why it could not be removed (a container uses it, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Removes an image's tags under the registry, then the image when nothing else holds it. An
/// engine that does not answer is the caller's error; a refusal is this image's.
pub async fn remove_image(
    engine: &dyn Engine,
    image: ImageRemoval,
) -> Result<Removed, EngineError> {
    let mut error = None;
    for tag in &image.tags {
        if let Err(e) = engine.remove_image(tag).await {
            if e.is_unreachable() {
                return Err(e);
            }
            error = Some(e.to_string());
            break;
        }
    }
    let mut gone = false;
    if error.is_none() && image.kept_by.is_empty() {
        match engine.remove_image(&image.id).await {
            // The last tag took it along, or it goes now.
            Ok(_) => gone = true,
            Err(e) if e.is_unreachable() => return Err(e),
            Err(e) => error = Some(e.to_string()),
        }
    }
    Ok(Removed { image, gone, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let text = "[catalog]\nname = \"t\"\nregistry = \"reg.example/team\"\n\n[images.base]\nfrom = \"busybox:1\"\nversion = \"1.0.0\"\ntemplate = \"t.hbs\"\n";
        let source = crate::source::SourceFile::new("catalog.toml".into(), text.to_string());
        let (catalog, problems) = crate::catalog::parse(source);
        assert!(problems.is_empty(), "{problems:?}");
        catalog
    }

    fn id(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    fn stored(n: u8, tags: &[&str], repository: Option<&str>) -> StoredImage {
        StoredImage {
            id: id(n),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            repository: repository.map(str::to_string),
            size: 10,
        }
    }

    #[test]
    fn what_the_lock_does_not_record_goes_and_foreign_tags_keep_an_image() {
        let mut lock = Lock::default();
        lock.images.insert(
            "base".into(),
            crate::lock::LockEntry {
                image_id: id(1),
                ..Default::default()
            },
        );
        let images = [
            stored(
                1,
                &["reg.example/team/base:1.0.0"],
                Some("reg.example/team/base"),
            ),
            stored(2, &["reg.example/team/base:1.0.0-aaaaaaaaaaaa"], None),
            stored(3, &[], Some("reg.example/team/base")),
            stored(
                4,
                &["reg.example/team/base:0.9.0", "mine:dev"],
                Some("reg.example/team/base"),
            ),
        ];
        let removals = images_to_remove(&catalog(), &lock, &images);
        let base = Some("base".to_string());
        let removal = |n: u8, tags: &[&str], kept_by: &[&str]| ImageRemoval {
            id: id(n),
            name: base.clone(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            kept_by: kept_by.iter().map(|t| t.to_string()).collect(),
            size: 10,
        };
        assert_eq!(
            removals,
            [
                removal(2, &["reg.example/team/base:1.0.0-aaaaaaaaaaaa"], &[]),
                removal(3, &[], &[]),
                removal(4, &["reg.example/team/base:0.9.0"], &["mine:dev"]),
            ]
        );
    }

    #[test]
    fn only_run_names_are_runs() {
        assert!(is_run("20261203T062647Z"));
        for name in [
            "run.lock",
            "20261203T062647",
            "2026120xT062647Z",
            "../20261203T0626Z",
        ] {
            assert!(!is_run(name), "{name}");
        }
    }

    #[test]
    fn the_last_runs_are_kept() {
        let runs: BTreeSet<String> = ["20261201T000000Z", "20261203T000000Z", "20261202T000000Z"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(runs_to_remove(&runs, 2), ["20261201T000000Z"]);
        assert_eq!(runs_to_remove(&runs, 0).len(), 3);
        assert!(runs_to_remove(&runs, 5).is_empty());
    }
}
