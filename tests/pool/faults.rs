//! Builders that die in the middle of a run: an engine the test starts over TLS beside the
//! suite's engine, killed while a build runs there (the legacy builder, whose `RUN` steps are
//! containers the test can watch for).

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::Repo;
use super::common::own_engine::OwnEngine;
use super::{Cleanup, catalog, image, repo_of, report};

/// The builders file: the suite's engine (`first`, one job) and the victim (two jobs).
fn builders(victim: &OwnEngine) -> String {
    format!(
        "[[builder]]\nname = \"first\"\nhost = \"unix:///var/run/docker.sock\"\njobs = 1\n\n\
         [[builder]]\nname = \"victim\"\nhost = \"{}\"\njobs = 2\ntls_dir = \"{}\"\n",
        victim.host,
        victim.tls_dir().display()
    )
}

/// Runs `hier rebuild` over the builders file and kills the victim once it runs a container
/// whose command holds `marker`; what hier printed.
fn rebuild_killing(repo: &Repo, victim: &mut OwnEngine, marker: &str) -> Output {
    let hier = Command::new(env!("CARGO_BIN_EXE_hier"))
        .args(["rebuild", "--builders", "builders.toml", "--format", "json"])
        .current_dir(repo.path())
        .env_remove("HIER_CATALOG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let (_, running) = victim.docker(&["ps", "--no-trunc", "--format", "{{.Command}}"]);
        if running.contains(marker) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no build of `{marker}` reached the victim"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    victim.kill();
    hier.wait_with_output().unwrap()
}

/// The images of a run report started again after losing a builder.
fn restarted(run: &Value) -> Vec<&Value> {
    run["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["restarted_from"].as_array().is_none_or(Vec::is_empty))
        .collect()
}

#[test]
fn a_builder_killed_mid_run_has_its_builds_started_again() {
    let prefix = format!("hier-pool-kill-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    let mut victim = OwnEngine::start("hier-br3", "10.99.3.1/24");
    let files = catalog(&prefix, "legacy", 4, "sleep 4 && echo {c} > /{c}");
    let repo = repo_of(&files);
    let builders = builders(&victim);
    repo.write("builders.toml", &builders);
    repo.write(
        "victim.toml",
        &builders[builders.find("[[builder]]\nname = \"victim\"").unwrap()..],
    );
    let checked = repo.hier(&["builders", "--builders", "builders.toml"]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    let victim_row = checked
        .stdout
        .lines()
        .find(|l| l.starts_with("victim"))
        .unwrap();
    assert!(
        victim_row.contains("(tls)") && victim_row.contains(" ok "),
        "{victim_row}"
    );

    // Kill the victim while a build runs there.
    let out = rebuild_killing(&repo, &mut victim, "sleep 4");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("builder `victim` stopped answering"),
        "{stderr}"
    );
    let run = report(&String::from_utf8_lossy(&out.stdout));
    let restarted = restarted(&run);
    assert!(!restarted.is_empty(), "{run}");
    for image in &restarted {
        assert_eq!(image["restarted_from"][0], "victim");
        assert_eq!(image["builder"], "first");
        assert_eq!(image["status"], "built");
    }
    for image in run["images"].as_array().unwrap() {
        assert_eq!(image["status"], "built", "{image}");
    }
    // A builders file whose only builder is gone: exit 3.
    let gone = repo.hier(&["builders", "--builders", "victim.toml"]);
    assert_eq!(gone.code, 3, "{}", gone.stderr);
    assert!(
        gone.stderr.contains("no builder answers"),
        "{}",
        gone.stderr
    );
}

#[test]
fn what_only_a_killed_builder_held_is_built_again_for_what_needs_it() {
    // base, then two chains on it: slow -> slow2 -> slow3 (the longer, so it starts first and
    // keeps `first` busy) and mid -> leaf. mid crosses to the victim and is built there, leaf follows it there; the
    // victim is killed under leaf. mid was never pushed: it is built again on `first`, then
    // leaf on it.
    let prefix = format!("hier-pool-strand-{}", std::process::id());
    let _cleanup = Cleanup(format!("/{prefix}/"));
    let mut victim = OwnEngine::start("hier-br4", "10.99.4.1/24");
    let mut files = catalog(&prefix, "legacy", 0, "");
    let mut more = String::new();
    for (name, parent, run) in [
        ("slow", "base", "sleep 10 && echo slow > /slow"),
        ("slow2", "slow", "echo slow2 > /slow2"),
        ("slow3", "slow2", "echo slow3 > /slow3"),
        ("mid", "base", "echo mid > /mid"),
        ("leaf", "mid", "sleep 6 && echo leaf > /leaf"),
    ] {
        more.push_str(&format!(
            "\n[images.{name}]\nparent = \"{parent}\"\nversion = \"1.0.0\"\n\
             dockerfile = \"images/{name}/Dockerfile\"\ntest = [\"test -f /{name}\"]\n"
        ));
        files.push((
            format!("images/{name}/Dockerfile"),
            format!("ARG HIER_PARENT\nFROM ${{HIER_PARENT}}\nRUN {run}\n"),
        ));
    }
    let catalog_file = files.iter_mut().find(|(p, _)| p == "catalog.toml").unwrap();
    catalog_file.1.push_str(&more);
    let repo = repo_of(&files);
    repo.write("builders.toml", &builders(&victim));
    let out = rebuild_killing(&repo, &mut victim, "sleep 6");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("mid was only on builder `victim`: it is built again"),
        "{stderr}"
    );
    let run = report(&String::from_utf8_lossy(&out.stdout));
    for name in ["mid", "leaf"] {
        let built = image(&run, name);
        assert_eq!(built["status"], "built", "{built}");
        assert_eq!(built["builder"], "first", "{built}");
        assert_eq!(built["restarted_from"][0], "victim", "{built}");
    }
    // The lock records leaf on the mid that stays, as one engine would.
    let lock: toml::Table = toml::from_str(&repo.read("hier.lock")).unwrap();
    let images = lock["images"].as_table().unwrap();
    assert_eq!(
        images["leaf"].get("parent_image_id"),
        images["mid"].get("image_id")
    );
    assert_eq!(restarted(&run).len(), 2, "{run}");
}
