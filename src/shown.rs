//! Text read from files a user (or an attacker) wrote, as it may be shown to people: the
//! characters that would move, hide or reorder what a terminal shows (control characters,
//! format characters such as U+202E RIGHT-TO-LEFT OVERRIDE or U+200B ZERO WIDTH SPACE, line and
//! paragraph separators, unassigned code points) are escaped, as Rust's `escape_debug` writes
//! them (`\n`, `\u{202e}`).

/// Whether `c` cannot be shown as it is (see the module's documentation).
pub fn hidden(c: char) -> bool {
    c.is_control() || (!matches!(c, '\\' | '\'' | '"') && c.escape_debug().len() > 1)
}

/// `text` with every [`hidden`] character escaped.
pub fn escaped(text: &str) -> String {
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match hidden(c) {
            true => c.escape_debug().to_string(),
            false => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_would_change_the_screen_is_escaped_and_nothing_else() {
        assert_eq!(escaped("app/main.py"), "app/main.py");
        assert_eq!(
            escaped("naïve \\ 'q' \"d\" 日本"),
            "naïve \\ 'q' \"d\" 日本"
        );
        assert_eq!(escaped("a\nb\x1b[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(escaped("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escaped("a\u{200b}b\u{2028}c"), "a\\u{200b}b\\u{2028}c");
    }
}
