//! Registry credentials from the docker config (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`): a credential helper for the host (`credHelpers`), else the default
//! store (`credsStore`), else `auths`. The secret never leaves this type in readable form: its
//! `Debug` and `Display` redact it.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub secret: Secret,
    /// An identity token rather than a password.
    pub token: bool,
    pub server: String,
}

/// A password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &self.secret)
            .field("server", &self.server)
            .finish()
    }
}

#[derive(Default, Deserialize)]
struct Config {
    #[serde(default)]
    auths: BTreeMap<String, Auth>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Default, Deserialize)]
struct Auth {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Where the docker config is.
pub fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// `https://host/v1/` → `host`.
fn normalize(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn is_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// The credentials the docker config holds for `host`, if any. A broken config or a failing
/// helper is an error naming the file or the helper, never the secret.
pub fn lookup(host: &str) -> Result<Option<Credentials>, String> {
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let config: Config = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a valid docker config: {e}", path.display()))?;
    from_config(&config, host)
}

fn from_config(config: &Config, host: &str) -> Result<Option<Credentials>, String> {
    let same = |key: &str| {
        let k = normalize(key);
        k == host || (is_hub(k) && is_hub(host))
    };
    let helper = config
        .cred_helpers
        .iter()
        .find(|(k, _)| same(k))
        .map(|(_, v)| v.clone())
        .or_else(|| config.creds_store.clone());
    if let Some(helper) = helper {
        return from_helper(&helper, host);
    }
    let Some((key, auth)) = config.auths.iter().find(|(k, _)| same(k)) else {
        return Ok(None);
    };
    let server = key.clone();
    if let Some(token) = &auth.identitytoken {
        return Ok(Some(Credentials {
            username: auth.username.clone(),
            secret: Secret(token.clone()),
            token: true,
            server,
        }));
    }
    if let Some(encoded) = &auth.auth {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| format!("the docker config's `auth` for {host} is not valid base64"))?;
        let (user, pass) = decoded
            .split_once(':')
            .ok_or_else(|| format!("the docker config's `auth` for {host} is not user:password"))?;
        return Ok(Some(Credentials {
            username: Some(user.to_string()),
            secret: Secret(pass.to_string()),
            token: false,
            server,
        }));
    }
    match (&auth.username, &auth.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: Some(u.clone()),
            secret: Secret(p.clone()),
            token: false,
            server,
        })),
        _ => Ok(None),
    }
}

fn from_helper(helper: &str, host: &str) -> Result<Option<Credentials>, String> {
    // The docker CLI stores Docker Hub's credentials under its v1 index address.
    let host = if is_hub(host) {
        "https://index.docker.io/v1/"
    } else {
        host
    };
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the credential helper {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("the credential helper {program} failed: {e}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout);
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!(
            "the credential helper {program} could not answer for {host}"
        ));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("the credential helper {program} gave an answer hier cannot read"))?;
    let token = answer.username == "<token>";
    Ok(Some(Credentials {
        username: (!token).then_some(answer.username),
        secret: Secret(answer.secret),
        token,
        server: host.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Config {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn auths_in_every_spelling() {
        let c = config(
            r#"{"auths": {"https://registry.example:5000/v1/": {"auth": "Ym90OnMzY3JldA=="}}}"#,
        );
        let creds = from_config(&c, "registry.example:5000").unwrap().unwrap();
        assert_eq!(creds.username.as_deref(), Some("bot"));
        assert_eq!(creds.secret.0, "s3cret");
        assert!(from_config(&c, "other.example").unwrap().is_none());
    }

    #[test]
    fn docker_hub_has_several_names() {
        let c = config(r#"{"auths": {"https://index.docker.io/v1/": {"auth": "YTpi"}}}"#);
        assert!(from_config(&c, "docker.io").unwrap().is_some());
    }

    #[test]
    fn the_secret_is_never_printed() {
        let c = config(r#"{"auths": {"r.example": {"username": "u", "password": "hunter2"}}}"#);
        let creds = from_config(&c, "r.example").unwrap().unwrap();
        let shown = format!("{creds:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_missing_helper_is_an_error_naming_it() {
        let c = config(r#"{"credHelpers": {"r.example": "nonexistent-helper"}}"#);
        let err = from_config(&c, "r.example").unwrap_err();
        assert!(
            err.contains("docker-credential-nonexistent-helper"),
            "{err}"
        );
    }
}
