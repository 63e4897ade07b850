//! A path as the file system holds it: its bytes as they are, since a Linux file name need not
//! be UTF-8. Context entries and symlink targets are kept this way, so a file is read, hashed
//! and sent under its real name (a tar header carries the raw bytes, as the docker CLI's does);
//! it is shown lossily (an invalid byte as `�`, a control or invisible character escaped).

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawPath(Vec<u8>);

impl RawPath {
    pub fn new(bytes: Vec<u8>) -> Self {
        RawPath(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn as_path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.0))
    }

    /// The path as text, when it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The path as text, each invalid byte sequence shown as `�`.
    pub fn lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The path as people read it: lossily, with the characters that would change what a
    /// terminal shows escaped ([`crate::shown`]), so no name can rewrite a screen.
    pub fn shown(&self) -> String {
        crate::shown::escaped(&self.lossy())
    }

    /// `self/name` (just `name` for the empty path).
    pub fn join(&self, name: &[u8]) -> RawPath {
        let mut bytes = Vec::with_capacity(self.0.len() + 1 + name.len());
        if !self.0.is_empty() {
            bytes.extend_from_slice(&self.0);
            bytes.push(b'/');
        }
        bytes.extend_from_slice(name);
        RawPath(bytes)
    }

    /// The path with a `/` after it (a folder's name in a tar).
    pub fn with_trailing_slash(&self) -> RawPath {
        let mut bytes = self.0.clone();
        bytes.push(b'/');
        RawPath(bytes)
    }
}

impl From<&str> for RawPath {
    fn from(text: &str) -> Self {
        RawPath(text.as_bytes().to_vec())
    }
}

impl From<std::ffi::OsString> for RawPath {
    fn from(name: std::ffi::OsString) -> Self {
        use std::os::unix::ffi::OsStringExt;
        RawPath(name.into_vec())
    }
}

impl fmt::Display for RawPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl AsRef<Path> for RawPath {
    fn as_ref(&self) -> &Path {
        self.as_path()
    }
}

impl AsRef<[u8]> for RawPath {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for RawPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for RawPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<String> for RawPath {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_bytes_and_shows_them_lossily() {
        let name = RawPath::from("images").join(b"caf\xe9.txt");
        assert_eq!(name.as_bytes(), b"images/caf\xe9.txt");
        assert_eq!(name.to_str(), None);
        assert_eq!(name.to_string(), "images/caf\u{fffd}.txt");
        assert_eq!(name.as_path().as_os_str().as_bytes(), b"images/caf\xe9.txt");
        assert_eq!(RawPath::default().join(b"a"), *"a");
        assert_eq!(RawPath::from("a\nb\x1b[2J").shown(), "a\\nb\\u{1b}[2J");
        assert_eq!(RawPath::from("d").with_trailing_slash(), *"d/");
    }
}
