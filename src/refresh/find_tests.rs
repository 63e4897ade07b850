//! What a refresh finds, against the fake engine: an unchanged base is asked like every other
//! image and rebuilt only with something pending (or `--force`); images with the same package
//! sources share one index download; every image is listed with what was found.

use crate::engine::fake::Call;
use crate::name::ImageName;
use crate::packages::DPKG_STATUS;
use crate::rebuild::tests::{Hierarchy, options};

use super::{Due, Findings, find};

const SOURCES: &str = "/etc/apt/sources.list";

fn status(version: &str) -> String {
    format!(
        "Package: openssl\nStatus: install ok installed\nVersion: {version}\n\nPackage: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n"
    )
}

/// A base and five images on it; `extra` has one more apt source, `plain` no sources at all.
async fn hierarchy(openssl_in_base: &str) -> Hierarchy {
    let h = Hierarchy::new(&[
        ("base", None, ""),
        ("a", Some("base"), ""),
        ("b", Some("base"), ""),
        ("c", Some("a"), ""),
        ("extra", Some("base"), ""),
        ("plain", Some("base"), ""),
    ]);
    let fake = h.fake();
    for image in ["base", "a", "b", "c", "extra", "plain"] {
        let version = if image == "base" {
            openssl_in_base
        } else {
            "3.0.20-1"
        };
        fake.set_file(image, DPKG_STATUS, &status(version));
        if image != "plain" {
            fake.set_file(
                image,
                SOURCES,
                "deb http://deb.example/debian bookworm main\n",
            );
        }
    }
    fake.set_file(
        "extra",
        "/etc/apt/sources.list.d/extra.list",
        "deb http://extra.example/ ./\n",
    );
    fake.set_output(
        "apt-cache policy",
        "HIER_INDEX ready\nopenssl:\n  Installed: 3.0.20-1\n  Candidate: 3.0.22-1\ncurl:\n  Installed: 7.88.1-10\n  Candidate: 7.88.1-10\n",
    );
    h.rebuild(options()).await;
    h
}

async fn found(h: &Hierarchy, force: bool) -> Findings {
    found_knowing(h, force, &crate::refresh::known::Known::new()).await
}

async fn found_knowing(
    h: &Hierarchy,
    force: bool,
    known: &crate::refresh::known::Known,
) -> Findings {
    let repo = h.repo();
    let inputs = repo.inputs().unwrap();
    let due = Due {
        images: Vec::new(),
        schedule: None,
        force,
    };
    let engine = h.engine.clone() as std::sync::Arc<dyn crate::engine::Engine>;
    let how = super::How {
        jobs: 2,
        known,
        progress: &|_| {},
    };
    find(&repo, &inputs, engine, &due, true, &how)
        .await
        .unwrap()
}

fn downloads(h: &Hierarchy) -> usize {
    h.fake()
        .calls()
        .iter()
        .filter(|c| matches!(c, Call::Run { command, .. } if command.contains("apt-get update")))
        .count()
}

#[tokio::test]
async fn one_download_per_source_set_and_every_image_listed() {
    let h = hierarchy("3.0.22-1").await;
    let f = found(&h, false).await;
    // Two sets (the one of base, a, b, c; the one of extra): two downloads, one each.
    assert_eq!((f.downloads, downloads(&h)), (2, 2));
    let rows: Vec<(String, &str, String, Vec<String>)> = f
        .checked
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.rebuild,
                c.reason.clone(),
                c.pending.clone(),
            )
        })
        .collect();
    let pending = || vec!["openssl 3.0.20-1 -> 3.0.22-1".to_string()];
    let rebuilt = "1 OS package update pending".to_string();
    assert_eq!(
        rows,
        [
            ("base".into(), "no", "nothing new".into(), vec![]),
            ("a".into(), "yes", rebuilt.clone(), pending()),
            ("b".into(), "yes", rebuilt.clone(), pending()),
            ("extra".into(), "yes", rebuilt.clone(), pending()),
            (
                "plain".into(),
                "no",
                "not checked: no package sources".into(),
                vec![]
            ),
            ("c".into(), "yes", rebuilt, pending()),
        ]
    );
    // The unchanged base is no candidate: only what has something new is rebuilt.
    let base = ImageName::parse("base").unwrap();
    assert!(!f.policy.candidates.contains_key(&base));
    assert_eq!(f.checked[0].upstream_new, f.checked[0].upstream_old);
    assert!(f.checked[0].upstream_new.is_some());
}

#[tokio::test]
async fn a_base_with_something_pending_or_forced_is_rebuilt_and_cascades() {
    let h = hierarchy("3.0.20-1").await;
    let f = found(&h, false).await;
    assert_eq!(f.checked[0].rebuild, "yes");
    assert_eq!(f.checked[0].pending, ["openssl 3.0.20-1 -> 3.0.22-1"]);
    let h = hierarchy("3.0.22-1").await;
    let f = found(&h, true).await;
    assert_eq!(
        (f.checked[0].rebuild, f.checked[0].reason.as_str()),
        ("yes", "--force: busybox:1 rebuilt as it is")
    );
    // `plain` has nothing of its own, and is rebuilt if its parent changes.
    let plain = f.checked.iter().find(|c| c.name == "plain").unwrap();
    assert_eq!(plain.rebuild, "if a parent changes");
}

#[tokio::test]
async fn an_image_read_before_is_not_read_again() {
    let h = hierarchy("3.0.22-1").await;
    let reads = |h: &Hierarchy| {
        h.fake()
            .calls()
            .iter()
            .filter(|c| matches!(c, Call::ReadFiles { .. }))
            .count()
    };
    // What the builds read (their bills of materials) is not the refresh's.
    let built = reads(&h);
    let first = found(&h, false).await;
    assert_eq!(reads(&h) - built, 6);
    assert_eq!(first.known.len(), 6);
    let again = found_knowing(&h, false, &first.known).await;
    assert_eq!(reads(&h) - built, 6, "nothing read the second time");
    assert_eq!(again.checked, first.checked);
    assert_eq!(
        downloads(&h),
        4,
        "the indexes are downloaded again, once per set"
    );
}

#[tokio::test]
async fn a_failed_download_is_said_and_a_due_base_is_rebuilt_as_before() {
    let h = hierarchy("3.0.22-1").await;
    h.fake().set_output(
        "apt-cache policy",
        "HIER_INDEX failed\nW: Failed to fetch http://deb.example/debian/dists/bookworm/InRelease\n",
    );
    let f = found(&h, false).await;
    let why = "the package indexes could not be downloaded: W: Failed to fetch http://deb.example/debian/dists/bookworm/InRelease";
    let base = &f.checked[0];
    assert_eq!(base.rebuild, "yes");
    assert_eq!(
        base.reason,
        format!("not checked ({why}), so rebuilt as a due base")
    );
    assert_eq!(base.problem.as_deref(), Some(why));
    // What builds on it follows it; its own question is said to have failed.
    let a = &f.checked[1];
    assert_eq!(
        (a.rebuild, a.reason.as_str()),
        ("if a parent changes", &*format!("not checked: {why}"))
    );
    // An image with no sources has nothing to ask: no problem to warn about.
    let plain = f.checked.iter().find(|c| c.name == "plain").unwrap();
    assert_eq!(plain.problem, None);
}

#[tokio::test]
async fn when_an_image_cannot_run_the_download_the_next_of_its_set_does() {
    use crate::engine::EngineError;
    use crate::engine::fake::Scripted;
    use crate::refresh::{index, sources::Manager};
    let h = hierarchy("3.0.22-1").await;
    // The set of base, a, b and c: its first image cannot start the script (no shell, say).
    let names = ["curl", "openssl"].map(String::from).into();
    let script = index::script(Manager::Apt, &names);
    h.fake().script(
        &format!("run {script}"),
        Scripted::Fail(EngineError::Failed("exec: \"/bin/sh\": not found".into())),
    );
    let f = found(&h, false).await;
    let runs: Vec<String> = h
        .fake()
        .calls()
        .iter()
        .filter_map(|c| match c {
            Call::Run { image, command } if *command == script => Some(image.clone()),
            _ => None,
        })
        .collect();
    // Two sets (the other, `extra`'s, asks about the same packages), and one more try: on
    // another image than the one that could not run it.
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(
        runs.iter().collect::<std::collections::BTreeSet<_>>().len(),
        3
    );
    // The answer came from the next image: nothing is left unchecked.
    assert!(
        f.checked.iter().all(|c| c.problem.is_none()),
        "{:?}",
        f.checked
    );
    assert_eq!(f.checked[1].pending, ["openssl 3.0.20-1 -> 3.0.22-1"]);
}
