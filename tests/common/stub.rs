//! A stand-in Docker Engine on a unix socket, for what no real engine here does (speak an old
//! API, stop answering): it answers `/version` with the given body, and every other request
//! with 404, or never.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

/// What the stand-in does with anything but `/version`.
#[derive(Clone, Copy)]
pub enum Otherwise {
    NotFound,
    Silence,
}

/// Starts it; the folder holds its socket, the string is its `DOCKER_HOST`.
pub fn engine(version: &'static str, otherwise: Otherwise) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            std::thread::spawn(move || serve(client, version, otherwise));
        }
    });
    (dir, format!("unix://{}", path.display()))
}

fn serve(client: UnixStream, version: &str, otherwise: Otherwise) {
    let mut writer = client.try_clone().unwrap();
    let mut reader = BufReader::new(client);
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
            line.clear();
        }
        let path = request.split_whitespace().nth(1).unwrap_or("");
        let asks_version = path.split('?').next().unwrap_or("").ends_with("/version");
        let (status, body) = match (asks_version, otherwise) {
            (true, _) => ("200 OK", version),
            (false, Otherwise::NotFound) => ("404 Not Found", r#"{"message":"not here"}"#),
            (false, Otherwise::Silence) => {
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
