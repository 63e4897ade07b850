//! The flags before an instruction's arguments (`RUN --mount=type=cache,target=/x`,
//! `COPY --chmod=755`, `FROM --platform=…`), split off as BuildKit's parser does
//! (`extractBuilderFlags`): leading words that start with `--`, quotes removed, up to the first
//! other word; a lone `--` ends them.

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
