//! Builders reached over ssh (`ssh://[USER@]HOST[:PORT]`): the system's `ssh` forwards a local
//! socket, in a folder only this user can enter, to the engine's socket on the host (OpenSSH's
//! stream-local forwarding, `-L LOCAL:REMOTE`), and everything (the API, hier's BuildKit
//! session) goes through that socket as through `unix://`. The user's ssh configuration, agent
//! and known hosts apply (`ssh_config` names another configuration); ssh never prompts
//! (`BatchMode`). The forwarding ends with the run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::engine::EngineError;

/// How long ssh has to connect and forward.
const CONNECT_WITHIN: Duration = Duration::from_secs(20);

/// Where an ssh builder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `USER@HOST` or `HOST`.
    pub destination: String,
    pub port: Option<u16>,
}

/// Reads `ssh://[USER@]HOST[:PORT]`; why it cannot be used, otherwise. Nothing that ssh could
/// read as an option gets through (no leading `-`, no spaces, only the characters of host and
/// user names).
pub fn parse(host: &str) -> Result<Target, String> {
    let rest = host
        .strip_prefix("ssh://")
        .ok_or("an ssh host starts with ssh://")?;
    let (user, address) = match rest.rsplit_once('@') {
        Some((user, address)) => (Some(user), address),
        None => (None, rest),
    };
    let (name, port) = match address.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => {
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or("the port is a number from 1 to 65535")?;
            (name, Some(port))
        }
        _ => (address, None),
    };
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with(['-', '.'])
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    if !plain(name) {
        return Err(
            "an ssh host is `ssh://[USER@]HOST[:PORT]`, HOST a host name or an IPv4 address".into(),
        );
    }
    if user.is_some_and(|u| !plain(u)) {
        return Err("the user of an ssh host is letters, digits, `.`, `_` and `-`".into());
    }
    Ok(Target {
        destination: match user {
            Some(user) => format!("{user}@{name}"),
            None => name.to_string(),
        },
        port,
    })
}

/// Whether a remote socket path can be forwarded: absolute, with no `:` (the separator of the
/// forwarding) and nothing but printable characters.
pub fn valid_socket(path: &str) -> bool {
    path.starts_with('/') && path.chars().all(|c| c.is_ascii_graphic() && c != ':')
}

/// A running forwarding; it ends (ssh is stopped) when dropped.
pub struct Tunnel {
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts ssh forwarding a local socket to `socket` on `target`; the forwarding and the local
/// endpoint (`unix://…`) once the socket is there.
pub async fn open(
    host: &str,
    target: &Target,
    socket: &str,
    config: Option<&Path>,
) -> Result<(Tunnel, String), EngineError> {
    let failed = |message: String| EngineError::Unreachable {
        endpoint: host.to_string(),
        message,
    };
    let dir = tempfile::Builder::new()
        .prefix("hier-ssh-")
        .tempdir()
        .map_err(|e| {
            failed(format!(
                "cannot make a folder for the forwarded socket: {e}"
            ))
        })?;
    let local: PathBuf = dir.path().join("docker.sock");
    let mut command = tokio::process::Command::new("ssh");
    command
        .args([
            "-nNT",
            "-o",
            "BatchMode=yes",
            "-o",
            "ExitOnForwardFailure=yes",
        ])
        .args(["-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=10"]);
    if let Some(config) = config {
        command.arg("-F").arg(config);
    }
    if let Some(port) = target.port {
        command.args(["-p", &port.to_string()]);
    }
    command
        .arg("-L")
        .arg(format!("{}:{socket}", local.display()))
        .arg("--")
        .arg(&target.destination)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| failed(format!("cannot run ssh: {e}")))?;
    let start = Instant::now();
    while !local.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(failed(format!(
                "ssh ended ({status}): {}",
                stderr(&mut child).await
            )));
        }
        if start.elapsed() > CONNECT_WITHIN {
            let _ = child.start_kill();
            return Err(failed(format!(
                "ssh did not forward within {CONNECT_WITHIN:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What ssh says from now on (a forwarded connection that failed, say) is read and dropped,
    // so a full pipe never stops it.
    if let Some(mut err) = child.stderr.take() {
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut err, &mut tokio::io::sink()).await;
        });
    }
    let endpoint = format!("unix://{}", local.display());
    Ok((Tunnel { child, _dir: dir }, endpoint))
}

/// What ssh wrote before it ended, on one line.
async fn stderr(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncReadExt;
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text).await;
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_hosts_are_read_and_options_never_get_through() {
        assert_eq!(
            parse("ssh://build@big.example.com:2222"),
            Ok(Target {
                destination: "build@big.example.com".into(),
                port: Some(2222)
            })
        );
        assert_eq!(parse("ssh://10.0.0.5").unwrap().destination, "10.0.0.5");
        for bad in [
            "ssh://-oProxyCommand=touch /tmp/x",
            "ssh://-oProxyCommand=x",
            "ssh://me@-x",
            "ssh://-me@host",
            "ssh://host:0",
            "ssh://host:99999",
            "ssh://host/path",
            "ssh://host name",
            "ssh://",
            "ssh://a@b@c",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(valid_socket("/var/run/docker.sock"));
        assert!(!valid_socket("var/run/docker.sock"));
        assert!(!valid_socket("/x:/y"));
        assert!(!valid_socket("/x y"));
    }
}
