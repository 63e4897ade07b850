//! Lints Dockerfiles read alone, outside a catalog (the rules that need only the file), and
//! prints one line per finding: `<path>:<line> <rule> <message>`. `scripts/lint-compare` runs
//! it beside hadolint on a folder of Dockerfiles.
//!
//! cargo run --release --example lint_files -- <Dockerfile>...

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: lint_files <Dockerfile>...");
        std::process::exit(2);
    }
    for path in paths {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        for (line, rule, message) in hier::lint::lint_text(&text) {
            println!("{path}:{line} {rule} {message}");
        }
    }
}
