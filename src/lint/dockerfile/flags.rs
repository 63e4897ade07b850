//! The flags before an instruction's arguments (`RUN --mount=type=cache,target=/x`,
//! `COPY --chmod=755`, `FROM --platform=…`), split off as BuildKit's parser does
//! (`extractBuilderFlags`): leading words that start with `--`, quotes removed, up to the first
//! other word; a lone `--` ends them. Then checked as BuildKit's Dockerfile frontend checks
//! them: the flags each instruction takes, a value where one is needed, booleans, the values of
//! `--network`, `--security` and `--mount` (`mounts`).

use super::mounts;
use super::syntax::Problem;
use crate::diagnostic::suggest;

/// `--name` or `--name=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

impl Flag {
    fn parse(word: &str) -> Flag {
        let word = word.strip_prefix("--").unwrap_or(word);
        match word.split_once('=') {
            Some((name, value)) => Flag {
                name: name.to_string(),
                value: Some(value.to_string()),
            },
            None => Flag {
                name: word.to_string(),
                value: None,
            },
        }
    }
}

/// The leading flags of `args`, and the byte offset where the rest (the command) starts.
pub fn split_flags(args: &str) -> (Vec<Flag>, usize) {
    let mut flags = Vec::new();
    let mut pos = 0;
    loop {
        let start = pos + (args.len() - pos - args[pos..].trim_start().len());
        if !args[start..].starts_with("--") {
            return (flags, start);
        }
        let (word, end) = flag_word(args, start);
        pos = end;
        if word == "--" {
            let rest = args[end..].trim_start();
            return (flags, args.len() - rest.len());
        }
        flags.push(Flag::parse(&word));
    }
}

/// The word starting at `start` (up to unquoted white space), with its quotes and escapes
/// removed, and where it ends.
fn flag_word(args: &str, start: usize) -> (String, usize) {
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = args[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => return (word, start + i),
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some((_, next)) = chars.next() {
                    word.push(next);
                }
            }
            (_, c) => word.push(c),
        }
    }
    (word, args.len())
}

/// How a flag takes its value: `--link` or `--link=false`; `--from=x`; `--mount=…` repeatable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Text,
    Repeated,
}

/// The flags an instruction takes (BuildKit's stable Dockerfile syntax), `None` for the
/// instructions whose flags the frontend never reads (`ARG`, `STOPSIGNAL`).
fn allowed(keyword: &str) -> Option<&'static [(&'static str, Kind)]> {
    use Kind::*;
    Some(match keyword {
        "FROM" => &[("platform", Text)],
        "RUN" => &[("mount", Repeated), ("network", Text), ("security", Text)],
        "COPY" => &[
            ("from", Text),
            ("chown", Text),
            ("chmod", Text),
            ("link", Bool),
            ("exclude", Repeated),
            ("parents", Bool),
        ],
        "ADD" => &[
            ("chown", Text),
            ("chmod", Text),
            ("link", Bool),
            ("keep-git-dir", Bool),
            ("checksum", Text),
            ("exclude", Repeated),
            ("unpack", Bool),
        ],
        "HEALTHCHECK" => &[
            ("interval", Text),
            ("timeout", Text),
            ("start-period", Text),
            ("start-interval", Text),
            ("retries", Text),
        ],
        "ARG" | "STOPSIGNAL" => return None,
        _ => &[],
    })
}

/// The first problem with an instruction's flags.
pub fn check(keyword: &str, flags: &[Flag]) -> Option<Problem> {
    let allowed = allowed(keyword)?;
    let mut seen: Vec<&str> = Vec::new();
    for flag in flags {
        let Some(&(_, kind)) = allowed.iter().find(|(name, _)| *name == flag.name) else {
            return Some(unknown(keyword, flag, allowed));
        };
        if kind != Kind::Repeated && seen.contains(&flag.name.as_str()) {
            return Some(Problem::new(format!(
                "`--{}` is given twice to {keyword}",
                flag.name
            )));
        }
        seen.push(&flag.name);
        if let Some(problem) = value(keyword, flag, kind) {
            return Some(problem);
        }
    }
    None
}

fn unknown(keyword: &str, flag: &Flag, allowed: &[(&str, Kind)]) -> Problem {
    let names: Vec<String> = allowed.iter().map(|(n, _)| format!("--{n}")).collect();
    let given = format!("--{}", flag.name);
    let help = suggest(&given, names.iter().map(String::as_str)).unwrap_or_else(|| {
        if names.is_empty() {
            format!("{keyword} takes no flags")
        } else {
            format!("{keyword} takes {}", names.join(", "))
        }
    });
    Problem::new(format!("unknown flag `{given}` of {keyword}")).help(help)
}

/// The value of a known flag: present when needed, a boolean for a boolean, and for
/// `--network`, `--security` and `--mount` one the frontend accepts (unless a variable, which
/// the build expands).
fn value(keyword: &str, flag: &Flag, kind: Kind) -> Option<Problem> {
    let name = &flag.name;
    let value = match (&flag.value, kind) {
        (None, Kind::Bool) => return None,
        (Some(v), Kind::Bool) => {
            return (!matches!(v.to_ascii_lowercase().as_str(), "true" | "false")).then(|| {
                Problem::new(format!(
                    "`--{name}` of {keyword} is true or false, not `{v}`"
                ))
            });
        }
        (None, _) => {
            return Some(Problem::new(format!(
                "`--{name}` of {keyword} needs a value: `--{name}=…`"
            )));
        }
        (Some(v), _) => v,
    };
    if value.contains('$') {
        return None;
    }
    let accepted: &[&str] = match (keyword, name.as_str()) {
        ("RUN", "network") => &["default", "none", "host"],
        ("RUN", "security") => &["sandbox", "insecure"],
        ("RUN", "mount") => return mounts::check(value),
        _ => return None,
    };
    (!accepted.contains(&value.as_str())).then(|| {
        Problem::new(format!("unsupported `--{name}={value}` of RUN"))
            .help(format!("`--{name}` is one of {}", accepted.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(name: &str, value: Option<&str>) -> Flag {
        Flag {
            name: name.into(),
            value: value.map(str::to_string),
        }
    }

    #[test]
    fn leading_flags_are_split_from_the_command() {
        let args = "--mount=type=cache,target=/var/cache/apt,sharing=locked  --network=none apt-get update --quiet";
        let (flags, at) = split_flags(args);
        assert_eq!(
            flags,
            [
                flag(
                    "mount",
                    Some("type=cache,target=/var/cache/apt,sharing=locked")
                ),
                flag("network", Some("none")),
            ]
        );
        assert_eq!(&args[at..], "apt-get update --quiet");
    }

    #[test]
    fn quotes_lone_flags_and_the_end_of_flags() {
        let (flags, at) = split_flags("--link --chown=\"app user\":app -- --odd /dst/");
        assert_eq!(
            flags,
            [flag("link", None), flag("chown", Some("app user:app"))]
        );
        assert_eq!(at, "--link --chown=\"app user\":app -- ".len());
        assert_eq!(split_flags("echo --no"), (vec![], 0));
        assert_eq!(split_flags("--from=build").1, "--from=build".len());
    }
}
