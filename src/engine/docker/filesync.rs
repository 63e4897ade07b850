//! BuildKit's file sync, served on hier's session: the engine asks for a folder by name
//! (`context`, or `dockerfile` for the build's Dockerfile, kept apart from the context so a
//! `COPY .` never sees it), hier lists every entry with its metadata (the `fsutil` protocol:
//! one STAT packet per entry in walk order, then an empty one), and then sends the contents of
//! the files the engine asks for (REQ by the entry's index; DATA chunks ending with an empty
//! one) until it says it is done (FIN). Owners are sent as root, as the docker CLI sends them,
//! so the layers match the CLI's.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use bollard::fsutil::types::packet::PacketType;
use bollard::fsutil::types::{Packet, Stat};
use bollard::moby::filesync::v1::file_sync_server::FileSync;
use std::io::Read;

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use crate::context::ignore::{Patterns, read_lines};
use crate::context::{Entry, EntryKind};
use crate::engine::{FileTree, content_nanos};

/// Go's `os.FileMode` bits, which the protocol carries.
mod go_mode {
    pub const DIR: u32 = 1 << 31;
    pub const SYMLINK: u32 = 1 << 27;
    pub const DEVICE: u32 = 1 << 26;
    pub const NAMED_PIPE: u32 = 1 << 25;
    pub const SETUID: u32 = 1 << 23;
    pub const SETGID: u32 = 1 << 22;
    pub const CHAR_DEVICE: u32 = 1 << 21;
    pub const STICKY: u32 = 1 << 20;
}

/// Chunks of file content, as fsutil sends them.
const CHUNK: usize = 32 * 1024;

/// An entry's mode the way Go describes it.
fn mode(entry: &Entry) -> u32 {
    let mut mode = entry.mode & 0o777;
    for (unix, go) in [
        (0o4000, go_mode::SETUID),
        (0o2000, go_mode::SETGID),
        (0o1000, go_mode::STICKY),
    ] {
        if entry.mode & unix != 0 {
            mode |= go;
        }
    }
    mode | match entry.kind {
        EntryKind::Dir => go_mode::DIR,
        EntryKind::File => 0,
        EntryKind::Symlink(_) => go_mode::SYMLINK,
        EntryKind::Fifo => go_mode::NAMED_PIPE,
        EntryKind::CharDevice => go_mode::DEVICE | go_mode::CHAR_DEVICE,
        EntryKind::BlockDevice => go_mode::DEVICE,
    }
}

/// The STAT packets of `entries`; a later hard link to a file already listed names it. Paths
/// are protobuf strings, UTF-8 by definition: a context with another name is refused before it
/// is offered ([`crate::context::first_non_utf8`]).
fn stats(entries: &[&Entry]) -> Vec<Stat> {
    let mut seen: HashMap<(u64, u64), String> = HashMap::new();
    entries
        .iter()
        .map(|e| {
            let mut stat = Stat {
                path: e.path.lossy().into_owned(),
                mode: mode(e),
                size: e.size as i64,
                mod_time: e.mtime * 1_000_000_000 + e.mtime_nsec,
                ..Stat::default()
            };
            match &e.kind {
                EntryKind::Symlink(target) => stat.linkname = target.lossy().into_owned(),
                EntryKind::File if e.nlink > 1 => match seen.get(&(e.dev, e.ino)) {
                    Some(first) => {
                        stat.linkname = first.clone();
                        stat.size = 0;
                    }
                    None => {
                        seen.insert((e.dev, e.ino), e.path.lossy().into_owned());
                    }
                },
                EntryKind::CharDevice | EntryKind::BlockDevice => {
                    let dev = e.rdev;
                    stat.devmajor = (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as i64;
                    stat.devminor = (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as i64;
                }
                _ => {}
            }
            stat
        })
        .collect()
}

/// What the engine asked for: only these paths (and what leads to them), without these.
#[derive(Default)]
struct Filter {
    include: Vec<String>,
    exclude: Option<Patterns>,
}

impl Filter {
    fn from_metadata(meta: &tonic::metadata::MetadataMap) -> Filter {
        let values = |key: &str| -> Vec<String> {
            meta.get_all(key)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect()
        };
        let mut include = values("include-patterns");
        include.extend(values("followpaths"));
        // The context's own `.dockerignore` decides, unless the engine overrides it.
        let exclude = (values("override-excludes").first().map(String::as_str) == Some("true"))
            .then(|| {
                let lines: Vec<(usize, String)> =
                    values("exclude-patterns").into_iter().enumerate().collect();
                Patterns::new(&lines).ok()
            })
            .flatten();
        Filter { include, exclude }
    }

    fn keeps(&self, path: &str) -> bool {
        if let Some(exclude) = &self.exclude
            && !exclude.is_empty()
            && exclude.matches(path, None).0
        {
            return false;
        }
        self.include.is_empty()
            || self.include.iter().any(|p| {
                let p = p.trim_start_matches("./").trim_end_matches('/');
                path == p
                    || path.starts_with(&format!("{p}/"))
                    || p.starts_with(&format!("{path}/"))
                    || Patterns::new(&read_lines(p)).is_ok_and(|m| m.matches(path, None).0)
            })
    }
}

/// The file sync of one build: its context and its Dockerfile.
pub(super) struct Sync {
    tree: Arc<dyn FileTree>,
}

impl Sync {
    pub fn new(tree: Arc<dyn FileTree>) -> Self {
        Sync { tree }
    }
}

type Packets = Pin<Box<dyn Stream<Item = Result<Packet, Status>> + Send>>;

#[tonic::async_trait]
impl FileSync for Sync {
    type DiffCopyStream = Packets;
    type TarStreamStream = Packets;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<Packets>, Status> {
        let dir = request
            .metadata()
            .get("dir-name")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let filter = Filter::from_metadata(request.metadata());
        let tree = self.tree.clone();
        let (tx, rx) = mpsc::channel(16);
        let incoming = request.into_inner();
        match dir.as_str() {
            "context" => {
                let entries: Vec<&Entry> = tree
                    .entries()
                    .iter()
                    .filter(|e| filter.keeps(&e.path.lossy()))
                    .collect();
                let stats = stats(&entries);
                let served = Served::Files(entries.into_iter().cloned().collect());
                tokio::spawn(send(tree.clone(), stats, incoming, tx, served));
            }
            "dockerfile" => {
                let stat = Stat {
                    path: "Dockerfile".into(),
                    mode: 0o644,
                    size: tree.dockerfile().len() as i64,
                    mod_time: content_nanos(tree.dockerfile()),
                    ..Stat::default()
                };
                let stats = if filter.keeps("Dockerfile") {
                    vec![stat]
                } else {
                    Vec::new()
                };
                let served = Served::Dockerfile(tree.dockerfile().to_vec());
                tokio::spawn(send(tree.clone(), stats, incoming, tx, served));
            }
            other => return Err(Status::not_found(format!("no folder {other:?} here"))),
        }
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|p| (p, rx)) },
            );
        Ok(Response::new(Box::pin(stream)))
    }

    async fn tar_stream(&self, _: Request<Streaming<Packet>>) -> Result<Response<Packets>, Status> {
        Err(Status::unimplemented("only DiffCopy is served"))
    }
}

fn packet(kind: PacketType) -> Packet {
    Packet {
        r#type: kind as i32,
        ..Packet::default()
    }
}

/// What a listing's entries are, by index: the context's entries, or the Dockerfile alone.
enum Served {
    Files(Vec<Entry>),
    Dockerfile(Vec<u8>),
}

/// Lists `stats`, then serves the engine's requests until it is done.
async fn send(
    tree: Arc<dyn FileTree>,
    stats: Vec<Stat>,
    mut incoming: Streaming<Packet>,
    tx: mpsc::Sender<Result<Packet, Status>>,
    served: Served,
) {
    for stat in stats {
        let p = Packet {
            stat: Some(stat),
            ..packet(PacketType::PacketStat)
        };
        if tx.send(Ok(p)).await.is_err() {
            return;
        }
    }
    if tx.send(Ok(packet(PacketType::PacketStat))).await.is_err() {
        return;
    }
    while let Some(Ok(p)) = incoming.next().await {
        match PacketType::try_from(p.r#type) {
            Ok(PacketType::PacketReq) => {
                let sent = match &served {
                    Served::Dockerfile(bytes) if p.id == 0 => send_bytes(p.id, bytes, &tx).await,
                    Served::Files(entries) => match entries.get(p.id as usize) {
                        Some(entry) if entry.kind == EntryKind::File => {
                            send_file(p.id, &tree, entry, &tx).await
                        }
                        _ => refuse(&tx, p.id).await,
                    },
                    Served::Dockerfile(_) => refuse(&tx, p.id).await,
                };
                if sent.is_err() {
                    return;
                }
            }
            Ok(PacketType::PacketFin) => {
                let _ = tx.send(Ok(packet(PacketType::PacketFin))).await;
                return;
            }
            Ok(PacketType::PacketErr) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A request for something that is not a regular file of the listing.
async fn refuse(tx: &mpsc::Sender<Result<Packet, Status>>, id: u32) -> Result<(), ()> {
    let _ = tx
        .send(Err(Status::out_of_range(format!(
            "entry {id} is not a file that was listed"
        ))))
        .await;
    Err(())
}

fn data(id: u32, bytes: Vec<u8>) -> Result<Packet, Status> {
    Ok(Packet {
        id,
        data: bytes,
        ..packet(PacketType::PacketData)
    })
}

async fn send_bytes(
    id: u32,
    bytes: &[u8],
    tx: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), ()> {
    for chunk in bytes.chunks(CHUNK) {
        tx.send(data(id, chunk.to_vec())).await.map_err(|_| ())?;
    }
    tx.send(data(id, Vec::new())).await.map_err(|_| ())
}

/// A file's content in chunks, then the empty chunk that ends it, read on a blocking thread.
/// A file that cannot be read (or is no longer the one listed) ends the transfer with an error
/// the build reports.
async fn send_file(
    id: u32,
    tree: &Arc<dyn FileTree>,
    entry: &Entry,
    tx: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), ()> {
    let (tree, entry, tx) = (tree.clone(), entry.clone(), tx.clone());
    tokio::task::spawn_blocking(move || {
        let fail = |why: String| {
            let _ = tx.blocking_send(Err(Status::internal(format!("{}: {why}", entry.path))));
            Err(())
        };
        let mut reader = match tree.open(&entry) {
            Ok(r) => r,
            Err(e) => return fail(e.to_string()),
        };
        let mut buf = vec![0u8; CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => tx
                    .blocking_send(data(id, buf[..n].to_vec()))
                    .map_err(|_| ())?,
                Err(e) => return fail(e.to_string()),
            }
        }
        tx.blocking_send(data(id, Vec::new())).map_err(|_| ())
    })
    .await
    .unwrap_or(Err(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind, mode: u32) -> Entry {
        Entry {
            path: path.into(),
            kind,
            mode,
            size: 5,
            mtime: 2,
            mtime_nsec: 7,
            dev: 1,
            ino: 9,
            nlink: 1,
            rdev: 0,
        }
    }

    #[test]
    fn modes_are_go_file_modes() {
        assert_eq!(mode(&entry("d", EntryKind::Dir, 0o755)), (1 << 31) | 0o755);
        assert_eq!(
            mode(&entry("l", EntryKind::Symlink("t".into()), 0o777)),
            (1 << 27) | 0o777
        );
        assert_eq!(
            mode(&entry("f", EntryKind::File, 0o4755)),
            (1 << 23) | 0o755
        );
    }

    #[test]
    fn stats_carry_time_links_and_no_owner() {
        let a = Entry {
            nlink: 2,
            ..entry("a", EntryKind::File, 0o644)
        };
        let b = Entry {
            nlink: 2,
            ..entry("b", EntryKind::File, 0o644)
        };
        let link = entry("l", EntryKind::Symlink("a".into()), 0o777);
        let s = stats(&[&a, &b, &link]);
        assert_eq!(s[0].mod_time, 2_000_000_007);
        assert_eq!((s[0].uid, s[0].gid, s[0].size), (0, 0, 5));
        assert_eq!((s[1].linkname.as_str(), s[1].size), ("a", 0));
        assert_eq!(s[2].linkname, "a");
    }

    #[test]
    fn follow_paths_keep_the_path_and_what_leads_to_it() {
        let f = Filter {
            include: vec![".dockerignore".into(), "sub/Dockerfile".into()],
            exclude: None,
        };
        assert!(f.keeps(".dockerignore") && f.keeps("sub") && f.keeps("sub/Dockerfile"));
        assert!(!f.keeps("other.txt") && !f.keeps("sub/x"));
        assert!(Filter::default().keeps("anything"));
        let glob = Filter {
            include: vec!["*.txt".into()],
            exclude: None,
        };
        assert!(glob.keeps("a.txt") && !glob.keeps("a.md"));
    }
}
