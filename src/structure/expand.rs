//! `$NAME` and `${NAME}` in a structure test's command and paths, replaced by the image's
//! environment exactly as the reference tool does it (Go's `os.Expand`): an unknown name is
//! empty, `$` before anything that is not a name stays, a shell special character (`$$`,
//! `$1`, `$?`) is looked up as a name, and a bad `${…}` is dropped.

use std::collections::BTreeMap;

/// An environment by name (from `KEY=VALUE` lines).
pub type Env = BTreeMap<String, String>;

/// `KEY=VALUE` lines as an environment: a later line wins, a line without `=` is a name with
/// an empty value.
pub fn env_of<'a>(lines: impl IntoIterator<Item = &'a String>) -> Env {
    lines
        .into_iter()
        .map(|line| match line.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (line.clone(), String::new()),
        })
        .collect()
}

/// `text` with each variable replaced by its value in `env`.
pub fn expand(text: &str, env: &Env) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            out.push_str(&text[copied..j]);
            let (name, width) = shell_name(&text[j + 1..]);
            match name {
                Some(name) => out.push_str(env.get(name).map_or("", String::as_str)),
                // Valid syntax, no name: the `$` stays.
                None if width == 0 => out.push('$'),
                // Bad syntax: eaten.
                None => {}
            }
            j += width;
            copied = j + 1;
        }
        j += 1;
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

fn is_special(c: u8) -> bool {
    matches!(
        c,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// The name after a `$` and how many bytes it takes; no name with a width means bad syntax.
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        return match s[1..].find('}') {
            Some(0) => (None, 2),
            Some(i) => (Some(&s[1..=i]), i + 2),
            None => (None, 1),
        };
    }
    if is_special(b[0]) {
        return (Some(&s[..1]), 1);
    }
    let n = b.iter().take_while(|&&c| is_name_char(c)).count();
    if n == 0 {
        (None, 0)
    } else {
        (Some(&s[..n]), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_as_go_does() {
        let env = env_of(&[
            "GREETING=hello".to_string(),
            "PATHY=/opt/app".to_string(),
            "GLOBAL=g-hello".to_string(),
            "EQ=a=b".to_string(),
        ]);
        // Each case was run through the reference tool (`echo` of the argument).
        let cases = [
            ("$GREETING", "hello"),
            ("${PATHY}", "/opt/app"),
            ("$$", ""),
            ("$1", ""),
            ("${}", ""),
            ("$", "$"),
            ("a$-b", "ab"),
            ("${GLOBAL}", "g-hello"),
            ("$FOO", ""),
            ("x$GREETING.y", "xhello.y"),
            ("${unclosed", "unclosed"),
            ("$ a", "$ a"),
            ("${?}", ""),
            ("$EQ", "a=b"),
            ("é$GREETING€", "éhello€"),
            ("50$", "50$"),
        ];
        for (text, want) in cases {
            assert_eq!(expand(text, &env), want, "{text}");
        }
    }
}
