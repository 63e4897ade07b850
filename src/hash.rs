//! SHA-256 digests written as `sha256:<hex>`, the form Docker uses for image ids and manifests.

use std::io::Read;

use sha2::{Digest as _, Sha256};

/// An incremental digest over framed fields: each field is length-prefixed, so no two different
/// sequences of fields can produce the same stream of bytes.
#[derive(Clone, Default)]
pub struct Hasher(Sha256);

impl Hasher {
    pub fn new() -> Self {
        Hasher(Sha256::new())
    }

    pub fn field(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        let bytes = bytes.as_ref();
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    pub fn finish(self) -> String {
        format!("sha256:{}", hex::encode(self.0.finalize()))
    }
}

/// The digest of a byte string.
pub fn digest(bytes: impl AsRef<[u8]>) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes.as_ref())))
}

/// The digest of everything a reader yields, read in chunks (never held whole in memory).
pub fn digest_reader(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

/// The digest of a JSON value with every object's keys sorted, so two equal values written in
/// another order have one digest.
pub fn json_digest(value: &serde_json::Value) -> String {
    let mut text = Vec::new();
    write_sorted(value, &mut text);
    digest(text)
}

/// A JSON value's text, every object's keys in order.
fn write_sorted(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::from(key.as_str()).to_string().as_bytes());
                out.push(b':');
                write_sorted(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// `sha256:` and the first 12 hex digits of a digest or image id, the short form people read.
pub fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digest_reader(&b"abc"[..]).unwrap(), digest("abc"));
    }

    #[test]
    fn fields_are_framed() {
        let mut a = Hasher::new();
        a.field("ab").field("c");
        let mut b = Hasher::new();
        b.field("a").field("bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn json_digests_ignore_key_order_only() {
        let a = serde_json::json!({"a": 1, "t": {"x": [1, 2], "y": "z"}});
        let b: serde_json::Value =
            serde_json::from_str(r#"{"t": {"y": "z", "x": [1, 2]}, "a": 1}"#).unwrap();
        assert_eq!(json_digest(&a), json_digest(&b));
        let c = serde_json::json!({"a": 1, "t": {"x": [2, 1], "y": "z"}});
        assert_ne!(json_digest(&a), json_digest(&c));
    }

    #[test]
    fn short_keeps_twelve_hex_digits() {
        assert_eq!(short(&digest("abc")), "sha256:ba7816bf8f01");
        assert_eq!(short("abc"), "sha256:abc");
    }
}
