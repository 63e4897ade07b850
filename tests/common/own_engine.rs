//! An engine a test starts for itself and may kill: a dockerd on `tcp://127.0.0.1:PORT` with
//! TLS (a test authority, server and client certificates made with openssl), its own data root,
//! exec root and bridge. Dropping it stops every process it started and removes its folders.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct OwnEngine {
    pub dir: tempfile::TempDir,
    pub host: String,
    daemon: Option<Child>,
}

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed authority: `NAME.pem` and its key `NAME-key.pem`.
fn authority(dir: &Path, name: &str, cn: &str) {
    let (key, cert) = (format!("{name}-key.pem"), format!("{name}.pem"));
    let subject = format!("/CN={cn}");
    run(
        dir,
        "openssl",
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert,
            "-days", "2", "-subj", &subject,
        ],
    );
}

/// A certificate authority, a server certificate for 127.0.0.1 and a client certificate.
fn certificates(dir: &Path) {
    let openssl = |args: &[&str]| run(dir, "openssl", args);
    authority(dir, "ca", "hier-test-ca");
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (key, csr, cert, cn, ext) in [
        (
            "server-key.pem",
            "server.csr",
            "server-cert.pem",
            "/CN=127.0.0.1",
            "server.ext",
        ),
        (
            "key.pem",
            "client.csr",
            "cert.pem",
            "/CN=hier-client",
            "client.ext",
        ),
    ] {
        openssl(&[
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", cn,
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            ext,
        ]);
    }
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl OwnEngine {
    /// Starts the engine on bridge `bridge` (made with the /24 `subnet` when missing) and waits
    /// until it answers.
    pub fn start(bridge: &str, subnet: &str) -> OwnEngine {
        let dir = tempfile::Builder::new()
            .prefix("hier-engine-")
            .tempdir()
            .unwrap();
        certificates(dir.path());
        let has_bridge = Command::new("ip")
            .args(["link", "show", bridge])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_bridge {
            run(dir.path(), "ip", &["link", "add", bridge, "type", "bridge"]);
            run(dir.path(), "ip", &["addr", "add", subnet, "dev", bridge]);
            run(dir.path(), "ip", &["link", "set", bridge, "up"]);
        }
        let port = free_port();
        let host = format!("tcp://127.0.0.1:{port}");
        let path = |name: &str| dir.path().join(name).display().to_string();
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let daemon = Command::new("dockerd")
            .args(["--host", &host, "--tlsverify"])
            .args(["--tlscacert", &path("ca.pem")])
            .args(["--tlscert", &path("server-cert.pem")])
            .args(["--tlskey", &path("server-key.pem")])
            .args(["--data-root", &path("data"), "--exec-root", &path("exec")])
            .args(["--pidfile", &path("dockerd.pid")])
            .args([
                &format!("--bridge={bridge}"),
                "--iptables=false",
                "--ip-masq=false",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        let engine = OwnEngine {
            dir,
            host,
            daemon: Some(daemon),
        };
        let start = Instant::now();
        while !engine.answers() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the test's engine did not start: {}",
                std::fs::read_to_string(engine.dir.path().join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        engine
    }

    /// The docker CLI's arguments to reach it.
    pub fn cli(&self) -> Vec<String> {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        vec![
            "--tlsverify".into(),
            format!("--tlscacert={}", path("ca.pem")),
            format!("--tlscert={}", path("cert.pem")),
            format!("--tlskey={}", path("key.pem")),
            "-H".into(),
            self.host.clone(),
        ]
    }

    /// Runs the docker CLI against it: whether it succeeded, and its output.
    pub fn docker(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("docker")
            .args(self.cli())
            .args(args)
            .output()
            .expect("docker runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    }

    pub fn answers(&self) -> bool {
        self.docker(&["version", "--format", "{{.Server.Version}}"])
            .0
    }

    /// The folder holding its TLS files (`ca.pem`, `cert.pem`, `key.pem`).
    pub fn tls_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// A second authority's certificate, `other-ca.pem`, which signed nothing of this engine's.
    pub fn other_authority(&self) -> PathBuf {
        authority(self.dir.path(), "other-ca", "hier-other-ca");
        self.dir.path().join("other-ca.pem")
    }

    /// Kills it at once (SIGKILL), as a machine that goes away.
    pub fn kill(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

impl Drop for OwnEngine {
    fn drop(&mut self) {
        self.kill();
        // Its containerd and shims outlive a killed dockerd: stop everything under its folder.
        let dir = self.dir.path().display().to_string();
        let _ = Command::new("pkill").args(["-9", "-f", &dir]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"
            ))
            .status();
    }
}
