//! Where a value of `hier.lock` is written: its span in the file, found by the TOML parser in
//! the image's own table, so a value written with escapes (`"\u001b"`) is found as well as a
//! plain one, and the same value in another image's table is not taken for it.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The span of `value` (a string, or a key) in `[images.<image>]`, or of the image's name
/// when `value` is that name.
pub fn place(text: &str, image: &str, value: &str) -> Option<Range<usize>> {
    let root = DeTable::parse(text).ok()?;
    let images = root
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == "images")?
        .1;
    let DeValue::Table(images) = images.get_ref() else {
        return None;
    };
    let (key, entry) = images.iter().find(|(k, _)| k.get_ref() == image)?;
    match image == value {
        true => Some(key.span()),
        false => find(entry, value),
    }
}

fn find(item: &Spanned<DeValue<'_>>, value: &str) -> Option<Range<usize>> {
    match item.get_ref() {
        DeValue::String(s) if s == value => Some(item.span()),
        DeValue::Array(items) => items.iter().find_map(|i| find(i, value)),
        DeValue::Table(table) => table.iter().find_map(|(k, v)| match k.get_ref() == value {
            true => Some(k.span()),
            false => find(v, value),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_escaped_value_is_found_in_its_image_and_not_in_another() {
        let text = "[images.a]\nx = \"v\\u001b\"\n[images.b]\ntags = [\"1\", \"v\\u001B\"]\n[images.b.vars]\n\"k\\u202e\" = \"s\"\n";
        let at = |image, value| place(text, image, value).map(|r| &text[r]);
        assert_eq!(at("b", "v\u{1b}"), Some("\"v\\u001B\""));
        assert_eq!(at("a", "v\u{1b}"), Some("\"v\\u001b\""));
        assert_eq!(at("b", "k\u{202e}"), Some("\"k\\u202e\""));
        assert_eq!(at("b", "b"), Some("b"));
        assert_eq!(at("c", "v\u{1b}"), None);
    }
}
