//! A hostile registry on 127.0.0.1 for the engine to push to: one that echoes the credentials
//! it was sent in its refusal, one that accepts connections and never answers, one that
//! answers every request with a 500. It counts the requests it saw.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// How the registry misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostility {
    /// 401 to everything, the request's `Authorization` header (and its decoded form) in the body.
    EchoCredentials,
    /// Reads the request and never answers.
    Silent,
    /// `500 Internal Server Error` to everything.
    ServerError,
}

/// A running hostile registry; it lives as long as the test process.
pub struct HostileRegistry {
    /// `127.0.0.1:<port>`.
    pub address: String,
    requests: Arc<AtomicUsize>,
    pings: Arc<AtomicUsize>,
}

impl HostileRegistry {
    pub fn start(hostility: Hostility) -> HostileRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(AtomicUsize::new(0));
        let pings = Arc::new(AtomicUsize::new(0));
        let counters = (requests.clone(), pings.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counters = counters.clone();
                thread::spawn(move || serve(stream, hostility, &counters.0, &counters.1));
            }
        });
        HostileRegistry {
            address,
            requests,
            pings,
        }
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// `GET /v2/` requests seen so far: the engine sends one as each push or pull begins.
    pub fn pings(&self) -> usize {
        self.pings.load(Ordering::SeqCst)
    }
}

/// Answers the requests of one connection (keep-alive) until it closes.
fn serve(stream: TcpStream, hostility: Hostility, requests: &AtomicUsize, pings: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let Some((target, authorization)) = read_request(&mut reader) else {
            return;
        };
        requests.fetch_add(1, Ordering::SeqCst);
        if target == "GET /v2/" {
            pings.fetch_add(1, Ordering::SeqCst);
        }
        let response = match hostility {
            Hostility::Silent => {
                // Hold the connection open, answering nothing.
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink);
                return;
            }
            Hostility::ServerError => respond(500, "Internal Server Error", "", "oops"),
            Hostility::EchoCredentials => {
                let decoded = authorization
                    .strip_prefix("Basic ")
                    .map(decode_base64)
                    .unwrap_or_default();
                let body = format!(
                    r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"bad credentials: {authorization} ({decoded})","detail":null}}]}}"#
                );
                respond(
                    401,
                    "Unauthorized",
                    "WWW-Authenticate: Basic realm=\"hostile\"\r\nDocker-Distribution-API-Version: registry/2.0\r\n",
                    &body,
                )
            }
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn respond(code: u16, reason: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one request (head and body): its method and path, and its `Authorization` header;
/// `None` when the connection closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut authorization = String::new();
    let mut length = 0usize;
    let mut target = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if target.is_empty() {
            target = line.rsplit_once(' ').map_or(line, |(t, _)| t).to_string();
            continue;
        }
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "authorization" => authorization = value.trim().to_string(),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((target, authorization))
}

fn decode_base64(text: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
