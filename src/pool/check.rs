//! `hier builders`: each builder of the builders file asked, side by side, whether it answers,
//! its engine version, API and platform, whether hier can build there with BuildKit, and its
//! jobs. Exit 3 when none answers.

use serde::Serialize;

use super::file::Entry;
use crate::engine::{Builder, Engine};

/// What one builder said.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub host: String,
    pub tls: bool,
    pub jobs: usize,
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Whether hier can build there with BuildKit (`None` when it did not answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buildkit: Option<bool>,
    /// Why it cannot be used (it did not answer), or why it cannot build with BuildKit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Asks every builder, within `limit` each.
pub async fn check(entries: &[Entry], limit: std::time::Duration) -> Vec<Checked> {
    let asks = entries.iter().map(|entry| async move {
        let mut checked = Checked {
            name: entry.name.clone(),
            host: entry.host.clone(),
            tls: entry.tls.is_some(),
            jobs: entry.jobs,
            reachable: false,
            version: None,
            api_version: None,
            platform: None,
            buildkit: None,
            problem: None,
        };
        match tokio::time::timeout(limit, super::reach(entry)).await {
            Err(_) => checked.problem = Some(format!("it did not answer within {limit:?}")),
            Ok(Err(e)) => checked.problem = Some(e.to_string()),
            Ok(Ok((docker, facts, _tunnel))) => {
                let buildkit = docker.check_builder(Builder::BuildKit);
                checked.reachable = true;
                checked.version = Some(facts.version);
                checked.api_version = Some(facts.api_version);
                checked.platform = Some(facts.platform);
                checked.buildkit = Some(buildkit.is_ok());
                checked.problem = buildkit.err();
            }
        }
        checked
    });
    futures_util::future::join_all(asks).await
}
