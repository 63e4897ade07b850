//! The value of `RUN --mount=…`, checked as BuildKit's Dockerfile frontend checks it when it
//! builds: comma-separated fields (CSV, so a field may be quoted), each `key=value` or one of
//! the bare switches; a known mount type; the keys each type takes; the values they need.

use super::syntax::Problem;
use crate::diagnostic::suggest;

const TYPES: &[&str] = &["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING: &[&str] = &["shared", "private", "locked"];
const KEYS: &[&str] = &[
    "type",
    "from",
    "source",
    "src",
    "target",
    "dst",
    "destination",
    "readonly",
    "ro",
    "readwrite",
    "rw",
    "required",
    "size",
    "id",
    "sharing",
    "mode",
    "uid",
    "gid",
    "env",
];

/// What the fields of one mount say, as far as the checks need.
#[derive(Default)]
struct Mount {
    kind: String,
    from: bool,
    source: bool,
    target: bool,
    id: bool,
    sharing: bool,
    ownership: Option<&'static str>,
}

/// The first problem with one `--mount` value.
pub fn check(value: &str) -> Option<Problem> {
    let mut mount = Mount {
        kind: "bind".into(),
        ..Mount::default()
    };
    for field in fields(value) {
        if let Some(problem) = read_field(&mut mount, &field) {
            return Some(problem.help(
                "see https://docs.docker.com/reference/dockerfile/#run---mount for what each mount type takes",
            ));
        }
    }
    consistent(&mount)
}

/// The fields of a CSV record: split at commas outside double quotes, the quotes removed.
fn fields(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("one field").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("one field").push(c),
        }
    }
    out
}

fn read_field(mount: &mut Mount, field: &str) -> Option<Problem> {
    let Some((key, value)) = field.split_once('=') else {
        return switch(mount, &field.to_ascii_lowercase(), field);
    };
    let key = key.to_ascii_lowercase();
    if !KEYS.contains(&key.as_str()) {
        let problem = Problem::new(format!("unexpected key `{key}` in `--mount={field}`"));
        return Some(match suggest(&key, KEYS.iter().copied()) {
            Some(help) => problem.help(help),
            None => problem,
        });
    }
    if value.contains('$') {
        return None;
    }
    match key.as_str() {
        "type" => {
            let kind = value.to_ascii_lowercase();
            if !TYPES.contains(&kind.as_str()) {
                return Some(Problem::new(format!(
                    "unsupported mount type `{value}`: one of {}",
                    TYPES.join(", ")
                )));
            }
            mount.kind = kind;
        }
        "from" => mount.from = true,
        "source" | "src" => mount.source = true,
        "target" | "dst" | "destination" => mount.target = true,
        "id" => mount.id = true,
        "readonly" | "ro" | "readwrite" | "rw" => return boolean(&key, value),
        "required" => {
            return only(mount, &key, &["secret", "ssh"]).or_else(|| boolean(&key, value));
        }
        "size" => return only(mount, &key, &["tmpfs"]),
        "env" => return only(mount, &key, &["secret"]),
        "sharing" => {
            mount.sharing = true;
            return (!SHARING.contains(&value.to_ascii_lowercase().as_str())).then(|| {
                Problem::new(format!(
                    "unsupported sharing `{value}` of a mount: one of {}",
                    SHARING.join(", ")
                ))
            });
        }
        "mode" | "uid" | "gid" => return ownership(mount, &key, value),
        _ => {}
    }
    None
}

/// A field without `=`: only the read-only switches, and `required` for secrets and ssh.
fn switch(mount: &Mount, key: &str, field: &str) -> Option<Problem> {
    match key {
        "readonly" | "ro" | "readwrite" | "rw" => None,
        "required" => only(mount, key, &["secret", "ssh"]),
        _ => Some(Problem::new(format!(
            "invalid field `{field}` of a mount: write it as key=value"
        ))),
    }
}

fn only(mount: &Mount, key: &str, types: &[&str]) -> Option<Problem> {
    (!types.contains(&mount.kind.as_str())).then(|| {
        Problem::new(format!(
            "unexpected key `{key}` for mount type `{}`",
            mount.kind
        ))
    })
}

fn boolean(key: &str, value: &str) -> Option<Problem> {
    const BOOLS: &[&str] = &[
        "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False",
    ];
    (!BOOLS.contains(&value))
        .then(|| Problem::new(format!("invalid value `{value}` for `{key}` of a mount")))
}

/// `mode` (octal), `uid` and `gid` (decimal).
fn ownership(mount: &mut Mount, key: &str, value: &str) -> Option<Problem> {
    let radix = if key == "mode" { 8 } else { 10 };
    if u32::from_str_radix(value, radix).is_err() {
        return Some(Problem::new(format!(
            "invalid value `{value}` for `{key}` of a mount"
        )));
    }
    mount.ownership = Some(match key {
        "mode" => "mode",
        "uid" => "uid",
        _ => "gid",
    });
    None
}

/// What only the whole mount shows: ownership only where files are made, a secret's source,
/// sharing only for a cache.
fn consistent(mount: &Mount) -> Option<Problem> {
    let kind = mount.kind.as_str();
    if let Some(key) = mount.ownership
        && !matches!(kind, "secret" | "ssh" | "cache")
    {
        return Some(Problem::new(format!(
            "`{key}` is not allowed for `{kind}` mounts"
        )));
    }
    if kind == "secret" {
        if mount.from {
            return Some(Problem::new("a secret mount cannot have `from`"));
        }
        if !(mount.source || mount.target || mount.id) {
            return Some(
                Problem::new("a secret mount needs an `id` (or a `target`)")
                    .help("write `--mount=type=secret,id=<secret>`"),
            );
        }
        if mount.source && mount.id {
            return Some(Problem::new(
                "a secret mount takes `source` or `id`, not both",
            ));
        }
    }
    (mount.sharing && kind != "cache")
        .then(|| Problem::new(format!("`sharing` is for cache mounts, not `{kind}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(value: &str) -> Option<String> {
        check(value).map(|p| p.message)
    }

    #[test]
    fn mounts_buildkit_accepts() {
        for ok in [
            "type=cache,target=/var/cache/apt,sharing=locked",
            "type=secret,id=npm_token,required=true",
            "type=secret,id=npm_token,required",
            "type=secret,id=token,env=TOKEN",
            "type=bind,source=requirements.txt,target=/tmp/r.txt,ro",
            "type=tmpfs,target=/tmp,size=64m",
            "type=cache,target=/root/.cache,mode=0755,uid=1000",
            "type=ssh",
            "target=/src",
            "type=cache,id=$CACHE_ID,target=/x",
            "type=bind,\"source=a,b\",target=/b",
        ] {
            assert_eq!(message(ok), None, "{ok}");
        }
    }

    #[test]
    fn mounts_buildkit_refuses() {
        let cases = [
            (
                "type=volume,target=/x",
                "unsupported mount type `volume`: one of bind, cache, tmpfs, secret, ssh",
            ),
            (
                "type=cache,taget=/x",
                "unexpected key `taget` in `--mount=taget=/x`",
            ),
            (
                "type=cache,required",
                "unexpected key `required` for mount type `cache`",
            ),
            (
                "type=bind,target=/x,size=1m",
                "unexpected key `size` for mount type `bind`",
            ),
            (
                "type=cache,target=/x,sharing=all",
                "unsupported sharing `all` of a mount: one of shared, private, locked",
            ),
            (
                "type=bind,target=/x,uid=1",
                "`uid` is not allowed for `bind` mounts",
            ),
            (
                "type=secret",
                "a secret mount needs an `id` (or a `target`)",
            ),
            (
                "type=cache,target=/x,mode=999",
                "invalid value `999` for `mode` of a mount",
            ),
            (
                "type=bind,target=/x,ro=yes",
                "invalid value `yes` for `ro` of a mount",
            ),
            (
                "type=bind,target",
                "invalid field `target` of a mount: write it as key=value",
            ),
            (
                "type=tmpfs,target=/x,sharing=locked",
                "`sharing` is for cache mounts, not `tmpfs`",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(message(value).as_deref(), Some(want), "{value}");
        }
    }
}
