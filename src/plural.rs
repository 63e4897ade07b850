//! Counts in words, for people: `1 image`, `3 images`.

/// `n` and the noun, plural unless `n` is 1 (nouns that take an `s`).
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}
