//! Image names: the keys of `[images.*]`, also the last path component of every reference hier
//! tags, so they must satisfy both the catalog's rule and Docker's repository grammar.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageName(String);

impl ImageName {
    /// Checks a name; the error says what is wrong with it.
    pub fn parse(name: &str) -> Result<ImageName, String> {
        let mut chars = name.chars();
        match chars.next() {
            None => return Err("an image name cannot be empty".into()),
            Some(c) if !(c.is_ascii_lowercase() || c.is_ascii_digit()) => {
                return Err(format!(
                    "image name `{name}` must start with a lower-case letter or a digit"
                ));
            }
            _ => {}
        }
        if let Some(c) = name.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(format!(
                "image name `{name}` contains `{c}`: use lower-case letters, digits, `.`, `_` and `-`"
            ));
        }
        // Docker's path-component grammar: separators (`.`, `_`, `__`, `-`+) sit between
        // alphanumerics, so a name cannot end with one nor chain `.` and `_`.
        if name.ends_with(['.', '_', '-']) {
            return Err(format!(
                "image name `{name}` must end with a letter or a digit (Docker cannot tag it otherwise)"
            ));
        }
        if name.contains("..") || name.contains("___") || has_mixed_separators(name) {
            return Err(format!(
                "image name `{name}` has separators Docker does not accept together (`.`, `_`, `__` or dashes must sit between letters or digits)"
            ));
        }
        if name.len() > 128 {
            return Err(format!("image name `{name}` is longer than 128 characters"));
        }
        Ok(ImageName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The build argument a `uses` image is passed to a hand-written Dockerfile as:
    /// `HIER_USES_<NAME>`. Different names can give the same argument (`x.y`, `x_y`, `x-y`),
    /// which the catalog refuses among one image's `uses`.
    pub fn uses_arg(&self) -> String {
        format!("HIER_USES_{}", self.arg_suffix())
    }

    /// The name as a build-argument suffix: upper case, `-` and `.` as `_`.
    pub fn arg_suffix(&self) -> String {
        self.0
            .chars()
            .map(|c| match c {
                '-' | '.' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect()
    }
}

/// True when two separators of different kinds touch (`a.-b`, `a_.b`, `a-_b`).
fn has_mixed_separators(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.windows(2).any(|w| {
        let sep = |b: u8| matches!(b, b'.' | b'_' | b'-');
        sep(w[0]) && sep(w[1]) && w[0] != w[1] && !(w[0] == b'-' && w[1] == b'-')
    })
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ImageName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ImageName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_docker_can_tag() {
        for ok in [
            "base",
            "python-nginx",
            "php8.3",
            "a",
            "0x",
            "my_app",
            "a__b",
            "a--b",
        ] {
            assert!(ImageName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_names_outside_the_grammar() {
        for bad in [
            "", "Base", "-x", ".x", "x-", "a..b", "a_.b", "a b", "a/b", "naïve", "a___b",
        ] {
            assert!(ImageName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arg_suffix_is_upper_case_with_underscores() {
        assert_eq!(
            ImageName::parse("python-nginx.x").unwrap().arg_suffix(),
            "PYTHON_NGINX_X"
        );
    }
}
