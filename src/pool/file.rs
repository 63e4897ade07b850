//! The builders file (`--builders FILE`, `$HIER_BUILDERS`): `[[builder]]` entries naming the
//! engines a run may use, each reached like the docker CLI reaches one (`unix://PATH`,
//! `tcp://HOST:PORT`, with TLS from `tls = { ca, cert, key }` or a `tls_dir` holding `ca.pem`,
//! `cert.pem` and `key.pem`; `ssh://[USER@]HOST[:PORT]`, with the engine's `socket` there and
//! an `ssh_config`), and how many jobs it takes. Every problem is reported at
//! file:line:col with the builder's name; TLS files are named relative to the builders file and
//! must be regular files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::catalog::Span;
use crate::catalog::value::{Problems, TableReader, type_name};
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// At most this many jobs on one builder.
pub const MAX_JOBS: i64 = 64;
/// A builders file is small; a larger one is refused unread.
const MAX_BYTES: u64 = 1 << 20;

/// One engine of the pool, as the file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// `unix:///path` or `tcp://host:port`.
    pub host: String,
    pub jobs: usize,
    pub tls: Option<Tls>,
    /// `ssh://`: the engine's socket on the host, and the ssh configuration to use.
    pub ssh: Option<Ssh>,
}

/// How an `ssh://` builder's engine is reached on its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssh {
    /// The engine's socket there (`/var/run/docker.sock` unless `socket` says otherwise).
    pub socket: String,
    /// `ssh -F` (the user's own configuration otherwise).
    pub config: Option<PathBuf>,
}

/// The client certificate and the authority a `tcp://` engine is reached with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads and checks a builders file.
pub fn load(path: &Path) -> Result<Vec<Entry>, Vec<Diagnostic>> {
    let fail = |m: String| vec![Diagnostic::error(m).at_file(path)];
    let meta =
        std::fs::metadata(path).map_err(|e| fail(format!("cannot read the builders file: {e}")))?;
    if !meta.is_file() {
        return Err(fail("the builders file is not a regular file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(fail(format!("the builders file is over {MAX_BYTES} bytes")));
    }
    let bytes =
        std::fs::read(path).map_err(|e| fail(format!("cannot read the builders file: {e}")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| fail("the builders file is not UTF-8".into()))?;
    let source = SourceFile::new(crate::source::display_path(path), text);
    let folder = path.parent().unwrap_or(Path::new("."));
    parse(&source, folder)
}

/// Reads builders from `source`; TLS paths are relative to `folder`.
pub fn parse(source: &SourceFile, folder: &Path) -> Result<Vec<Entry>, Vec<Diagnostic>> {
    let (root, syntax) = DeTable::parse_recoverable(&source.text);
    let mut p = Problems::new(source);
    for e in syntax {
        p.error(e.span().unwrap_or(0..0), e.message().to_string());
    }
    if !p.list.is_empty() {
        return Err(p.list);
    }
    let mut top = TableReader::new(root.get_ref(), "the builders file");
    let mut entries = Vec::new();
    match top.get("builder").map(|v| (v.get_ref(), v.span())) {
        Some((DeValue::Array(items), _)) => {
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::Table(t) => entries.push(entry(&mut p, t, item.span(), folder)),
                    other => p.error(
                        item.span(),
                        format!("a builder must be a table, found {}", type_name(other)),
                    ),
                }
            }
        }
        Some((other, span)) => p.error_help(
            span,
            format!(
                "`builder` must be a list of tables, found {}",
                type_name(other)
            ),
            "write each builder as `[[builder]]`",
        ),
        None => p.error_help(
            0..0,
            "the builders file has no builder",
            "add `[[builder]]` with `name`, `host` and `jobs`",
        ),
    }
    top.finish(&mut p, &["builder"]);
    if entries.is_empty() && p.list.is_empty() {
        p.error(0..0, "the builders file has no builder");
    }
    unique_names(&mut p, &entries);
    match p.list.is_empty() {
        true => Ok(entries.into_iter().filter_map(|r| r.entry).collect()),
        false => Err(p.list),
    }
}

/// One `[[builder]]` as read: the entry when it can be used, and its name wherever given.
struct Read {
    entry: Option<Entry>,
    name: Option<String>,
    span: Span,
}

fn unique_names(p: &mut Problems, entries: &[Read]) {
    let mut seen = BTreeSet::new();
    for read in entries {
        let Some(name) = &read.name else { continue };
        if !seen.insert(name.as_str()) {
            p.error(
                read.span.clone(),
                format!("builder `{name}` is declared twice"),
            );
        }
    }
}

/// One `[[builder]]`; no entry (its problems reported) when it cannot be used.
fn entry(p: &mut Problems, table: &DeTable<'_>, span: Span, folder: &Path) -> Read {
    let mut t = TableReader::new(table, "a builder");
    let before = p.list.len();
    let name = t.string(p, "name");
    let label = name
        .as_ref()
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| "?".into());
    match &name {
        None if !t.contains("name") => p.error(span.clone(), "a builder has no `name`"),
        Some((n, s)) if !valid_name(n) => p.error_help(
            s.clone(),
            format!("builder name `{n}` is not a valid name"),
            "use letters, digits, `.`, `_` and `-` (at most 64), starting with a letter or digit",
        ),
        _ => {}
    }
    let host = t.string(p, "host");
    if host.is_none() && !t.contains("host") {
        p.error(span.clone(), format!("builder `{label}` has no `host`"));
    }
    let jobs = jobs(p, &mut t, &label);
    let tls = tls(p, &mut t, &label, folder);
    let over_ssh = host.as_ref().is_some_and(|(h, _)| h.starts_with("ssh://"));
    let ssh = ssh(p, &mut t, &label, folder, over_ssh);
    if let Some((h, s)) = &host {
        check_host(p, h, s.clone(), &label, matches!(tls, Some(Some(_))));
    }
    t.finish(
        p,
        &[
            "name",
            "host",
            "jobs",
            "tls",
            "tls_dir",
            "socket",
            "ssh_config",
        ],
    );
    let usable = p.list.len() == before;
    let entry = match (&name, host, tls) {
        (Some((name, _)), Some((host, _)), Some(tls)) if usable => Some(Entry {
            name: name.clone(),
            host,
            jobs,
            tls,
            ssh,
        }),
        _ => None,
    };
    Read {
        entry,
        name: name.map(|(n, _)| n),
        span,
    }
}

fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// `jobs`: how many builds at once (1 when not given).
fn jobs<'t>(p: &mut Problems, t: &mut TableReader<'t, '_>, label: &str) -> usize {
    let Some(value) = t.get("jobs") else {
        return 1;
    };
    match value.get_ref() {
        DeValue::Integer(i) => match i.to_string().parse::<i64>() {
            Ok(n) if (1..=MAX_JOBS).contains(&n) => n as usize,
            _ => {
                p.error(
                    value.span(),
                    format!("`jobs` of builder `{label}` must be between 1 and {MAX_JOBS}"),
                );
                1
            }
        },
        other => {
            p.error(
                value.span(),
                format!(
                    "`jobs` of builder `{label}` must be a number, found {}",
                    type_name(other)
                ),
            );
            1
        }
    }
}

/// How a builder's address is written: `unix://` with an absolute path, or `tcp://host:port`.
fn check_host(p: &mut Problems, host: &str, span: Span, label: &str, tls: bool) {
    let problem = if let Some(path) = host.strip_prefix("unix://") {
        (!path.starts_with('/')).then(|| "a unix:// host names an absolute path".to_string())
    } else if let Some(address) = host.strip_prefix("tcp://") {
        let address = address.trim_end_matches('/');
        let port = address.rsplit_once(':').map(|(_, port)| port);
        match port.map(str::parse::<u16>) {
            Some(Ok(port)) if port > 0 && !address.contains(['/', '@', '?', '#']) => None,
            _ => Some("a tcp:// host is `tcp://HOST:PORT`".to_string()),
        }
    } else if host.starts_with("ssh://") {
        super::ssh::parse(host).err()
    } else {
        Some("a host starts with unix://, tcp:// or ssh://".to_string())
    };
    if let Some(problem) = problem {
        p.error(
            span,
            format!("host `{host}` of builder `{label}`: {problem}"),
        );
    } else if tls && !host.starts_with("tcp://") {
        p.error(
            span,
            format!("builder `{label}` takes TLS over tcp:// only"),
        );
    }
}

/// `socket` and `ssh_config`, for an `ssh://` builder only.
fn ssh<'t>(
    p: &mut Problems,
    t: &mut TableReader<'t, '_>,
    label: &str,
    folder: &Path,
    over_ssh: bool,
) -> Option<Ssh> {
    let socket = t.string(p, "socket");
    let config = t.string(p, "ssh_config");
    for (key, value) in [("socket", &socket), ("ssh_config", &config)] {
        if let (Some((_, span)), false) = (value, over_ssh) {
            p.error(
                span.clone(),
                format!("`{key}` of builder `{label}` is for ssh:// hosts"),
            );
        }
    }
    let bad_socket = socket
        .as_ref()
        .filter(|(p, _)| !super::ssh::valid_socket(p));
    if let Some((_, span)) = bad_socket {
        p.error(
            span.clone(),
            format!("`socket` of builder `{label}` is an absolute path without `:` or spaces"),
        );
    }
    let config = match config {
        Some((file, span)) => {
            let file = folder.join(file);
            check_file(p, &file, span, label)?;
            Some(file)
        }
        None => None,
    };
    over_ssh.then(|| Ssh {
        socket: socket.map_or_else(|| "/var/run/docker.sock".to_string(), |(s, _)| s),
        config,
    })
}

/// `tls = { ca, cert, key }` or `tls_dir = "DIR"`: `Some(None)` when neither is given.
fn tls<'t>(
    p: &mut Problems,
    t: &mut TableReader<'t, '_>,
    label: &str,
    folder: &Path,
) -> Option<Option<Tls>> {
    let both = t.contains("tls") && t.contains("tls_dir");
    if both {
        p.error(
            t.span("tls_dir").unwrap_or(0..0),
            format!("builder `{label}` has both `tls` and `tls_dir`; give one"),
        );
        return None;
    }
    if let Some((dir, span)) = t.string(p, "tls_dir") {
        let dir = folder.join(dir);
        let files = ["ca.pem", "cert.pem", "key.pem"].map(|f| dir.join(f));
        for file in &files {
            check_file(p, file, span.clone(), label)?;
        }
        let [ca, cert, key] = files;
        return Some(Some(Tls { ca, cert, key }));
    }
    let (table, span) = match t.table(p, "tls") {
        Some(found) => found,
        None if t.contains("tls") => return None,
        None => return Some(None),
    };
    let mut r = TableReader::new(table, format!("the tls of builder `{label}`"));
    let mut path = |p: &mut Problems, key| {
        let (file, s) = match r.string(p, key) {
            Some(found) => found,
            None => {
                p.error(
                    span.clone(),
                    format!("the tls of builder `{label}` has no `{key}`"),
                );
                return None;
            }
        };
        let file = folder.join(file);
        check_file(p, &file, s, label).map(|()| file)
    };
    let (ca, cert, key) = (path(p, "ca"), path(p, "cert"), path(p, "key"));
    r.finish(p, &["ca", "cert", "key"]);
    Some(Some(Tls {
        ca: ca?,
        cert: cert?,
        key: key?,
    }))
}

fn check_file(p: &mut Problems, file: &Path, span: Span, label: &str) -> Option<()> {
    match std::fs::metadata(file) {
        Ok(m) if m.is_file() => Some(()),
        Ok(_) => {
            p.error(
                span,
                format!(
                    "builder `{label}`: {} is not a regular file",
                    file.display()
                ),
            );
            None
        }
        Err(e) => {
            p.error(
                span,
                format!("builder `{label}`: cannot read {}: {e}", file.display()),
            );
            None
        }
    }
}
