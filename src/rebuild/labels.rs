//! The labels hier sets on every image it builds, and the one `LABEL` instruction that carries
//! them: provenance from git (`revision`, `created` = the commit time or `SOURCE_DATE_EPOCH`, so
//! equal inputs give equal images, `source`), the fingerprint, and the exact parent. Also the
//! check of `SOURCE_DATE_EPOCH`, which a run makes before it starts.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use crate::error::Error;

/// The last second an RFC 3339 timestamp (the `created` label) can hold: 9999-12-31T23:59:59Z.
const LAST_SECOND: u64 = 253_402_300_799;

/// `SOURCE_DATE_EPOCH` when it is set (an empty value is unset): whole seconds since 1970, at
/// most [`LAST_SECOND`]. Anything else is an error naming the variable and its value, never a
/// label silently left out.
pub fn source_date_epoch() -> Result<Option<u64>, Error> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        Some(value) if !value.is_empty() => parse_epoch(&value).map(Some).map_err(|why| {
            Error::usage_help(
                format!(
                    "SOURCE_DATE_EPOCH is `{}`: {why}",
                    value.to_string_lossy().escape_debug()
                ),
                "set it to a time in seconds since 1970 (`git log -1 --format=%ct` gives the \
                 commit's), or unset it to use the commit time",
            )
        }),
        _ => Ok(None),
    }
}

/// A `SOURCE_DATE_EPOCH` value, or why it is not one.
fn parse_epoch(value: &OsStr) -> Result<u64, &'static str> {
    let text = value
        .to_str()
        .map(|t| t.trim_matches(|c: char| c.is_ascii_whitespace()))
        .unwrap_or_default();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole number of seconds since 1970");
    }
    match text.parse::<u64>() {
        Ok(secs) if secs <= LAST_SECOND => Ok(secs),
        _ => Err("later than 9999-12-31T23:59:59Z, the last time the `created` label can hold"),
    }
}

/// What the repository says about where a build comes from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub revision: Option<String>,
    pub created: Option<String>,
    pub source: Option<String>,
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

impl Provenance {
    /// Starts reading the provenance of the repository at `root` on a thread of its own (two
    /// git processes: worth doing while the run is planned and the engine reached).
    pub fn start(root: &Path) -> std::thread::JoinHandle<Provenance> {
        let root = root.to_path_buf();
        std::thread::spawn(move || Provenance::of(&root))
    }

    pub fn of(root: &Path) -> Provenance {
        // Two quick git calls, side by side.
        let (head, origin) = std::thread::scope(|s| {
            let head = s.spawn(|| git(root, &["log", "-1", "--format=%H %ct"]));
            let origin = s.spawn(|| git(root, &["config", "--get", "remote.origin.url"]));
            (head.join().ok().flatten(), origin.join().ok().flatten())
        });
        let (revision, commit_time) = match head.as_deref().and_then(|h| h.split_once(' ')) {
            Some((sha, time)) => (Some(sha.to_string()), time.parse::<u64>().ok()),
            None => (None, None),
        };
        // A run checked SOURCE_DATE_EPOCH before it started (`source_date_epoch`); a commit
        // time past year 9999 is no time.
        let epoch = source_date_epoch()
            .ok()
            .flatten()
            .or(commit_time)
            .filter(|secs| *secs <= LAST_SECOND);
        let created = epoch.map(|secs| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
            )
            .to_string()
        });
        Provenance {
            revision,
            created,
            source: origin.map(|url| strip_credentials(&url)),
        }
    }
}

/// `https://user:token@host/x` → `https://host/x`: credentials never go into an image.
fn strip_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((_, host)) = rest.split_once('@')
    {
        return format!("{scheme}://{host}");
    }
    url.to_string()
}

/// The facts of one build that go into its labels.
pub struct BuildFacts<'a> {
    pub name: &'a str,
    /// `<registry>/<name>`: whose build it is, so `hier gc` finds it untagged too.
    pub repository: &'a str,
    pub version: &'a str,
    pub fingerprint: &'a str,
    pub parent_id: &'a str,
    pub base_name: &'a str,
    pub base_digest: Option<&'a str>,
}

/// Every label of a build: the catalog's and the image's, then hier's own (which win).
pub fn labels(
    declared: &BTreeMap<String, String>,
    provenance: &Provenance,
    facts: &BuildFacts,
) -> BTreeMap<String, String> {
    let mut out = declared.clone();
    let oci = |k: &str| format!("org.opencontainers.image.{k}");
    out.insert(oci("title"), facts.name.to_string());
    out.insert(oci("version"), facts.version.to_string());
    if let Some(created) = &provenance.created {
        out.insert(oci("created"), created.clone());
    }
    if let Some(revision) = &provenance.revision {
        out.insert(oci("revision"), revision.clone());
    }
    if let Some(source) = &provenance.source {
        out.insert(oci("source"), source.clone());
    }
    out.insert(oci("base.name"), facts.base_name.to_string());
    if let Some(digest) = facts.base_digest {
        out.insert(oci("base.digest"), digest.to_string());
    }
    out.insert("io.hier.fingerprint".into(), facts.fingerprint.to_string());
    out.insert("io.hier.repository".into(), facts.repository.to_string());
    out.insert("io.hier.parent.id".into(), facts.parent_id.to_string());
    out
}

/// One `LABEL` instruction, a label per line, keys and values quoted and escaped (a `$` would
/// otherwise be expanded by the builder); a control character (a line break from git's
/// configuration, say) becomes a space, so no value can end the instruction.
pub fn instruction(labels: &BTreeMap<String, String>) -> String {
    let quote = |s: &str| {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if matches!(c, '"' | '\\' | '$') {
                q.push('\\');
            }
            q.push(if c.is_control() { ' ' } else { c });
        }
        q.push('"');
        q
    };
    let items: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
        .collect();
    format!("\nLABEL {}\n", items.join(" \\\n      "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_quotes_and_escapes() {
        let labels = BTreeMap::from([
            ("a".to_string(), "x \"y\" $HOME \\".to_string()),
            ("b.c".to_string(), "2".to_string()),
        ]);
        assert_eq!(
            instruction(&labels),
            "\nLABEL \"a\"=\"x \\\"y\\\" \\$HOME \\\\\" \\\n      \"b.c\"=\"2\"\n"
        );
        let broken = BTreeMap::from([("k".to_string(), "a\nRUN evil\r".to_string())]);
        assert_eq!(instruction(&broken), "\nLABEL \"k\"=\"a RUN evil \"\n");
    }

    #[test]
    fn source_date_epoch_is_whole_seconds_up_to_the_last_second_a_timestamp_holds() {
        let parse = |v: &str| parse_epoch(OsStr::new(v));
        assert_eq!(parse("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse(" 0\n"), Ok(0));
        assert_eq!(parse("253402300799"), Ok(LAST_SECOND));
        let late =
            Err("later than 9999-12-31T23:59:59Z, the last time the `created` label can hold");
        assert_eq!(parse("253402300800"), late);
        assert_eq!(parse("99999999999999999999999"), late);
        let nan = Err("not a whole number of seconds since 1970");
        for bad in ["yesterday", "-1", "+5", "1.5", "1e9", "", "12 34"] {
            assert_eq!(parse(bad), nan, "{bad:?}");
        }
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(parse_epoch(OsStr::from_bytes(b"17\xff")), nan);
        // The largest accepted value is one `created` can say.
        let text = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(LAST_SECOND),
        )
        .to_string();
        assert_eq!(text, "9999-12-31T23:59:59Z");
    }

    #[test]
    fn credentials_are_stripped_from_the_source() {
        assert_eq!(
            strip_credentials("https://bot:s3cret@git.example/acme/images.git"),
            "https://git.example/acme/images.git"
        );
        assert_eq!(strip_credentials("git@host:x.git"), "git@host:x.git");
    }
}
