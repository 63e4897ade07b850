//! Writing HTML safely: every piece of text from the catalog, the lock or the engine goes
//! through [`text`] (element content and attribute values alike), so a description, owner,
//! package name or Dockerfile line cannot open an element, close an attribute or start a script.

use std::fmt::Write;

/// `value` escaped for element content and quoted attribute values.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters HTML does not allow in text (controls other than tab and line ends).
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A human size in bytes: `512 B`, `7.4 MB` (powers of 1000, as `docker images` shows them).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The page of an image, relative to the site's root.
pub fn image_href(name: &str) -> String {
    format!("images/{name}.html")
}

/// A whole page: the document, its head (title, viewport, the style sheet at `root`) and `body`.
pub fn page(title: &str, root: &str, body: &str, script: bool) -> String {
    let script = match script {
        true => format!("<script src=\"{root}index.js\" defer></script>\n"),
        false => String::new(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{root}style.css\">\n{script}</head>\n\
         <body>\n{body}</body>\n</html>\n",
        text(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_stays_text() {
        assert_eq!(
            text("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(text("a\u{0}b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
    }

    #[test]
    fn sizes_read_like_docker_images() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(74_800_000), "74.8 MB");
        assert_eq!(bytes(1_234_567_890), "1.2 GB");
    }
}
