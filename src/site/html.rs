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
            '\t' | '\n' | '\r' => out.push(c),
            // What HTML forbids (controls, noncharacters) or what would disguise the text
            // around it (U+202E, U+200B): written as escapes, as hier shows them everywhere.
            c if crate::shown::hidden(c) || is_noncharacter(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// U+FDD0–U+FDEF and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let n = c as u32;
    (0xFDD0..=0xFDEF).contains(&n) || (n & 0xFFFE) == 0xFFFE
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
        assert_eq!(
            text("x\u{ffff}\u{fdd0}\u{202e}\u{200b}y"),
            "x\\u{ffff}\\u{fdd0}\\u{202e}\\u{200b}y"
        );
        assert_eq!(text("l1\n\tl2\r\n"), "l1\n\tl2\r\n");
    }
}
