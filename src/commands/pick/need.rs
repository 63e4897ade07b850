//! A need an app states to `hier pick`: `python` (any version), `python=3.12` (that version or
//! one under it: `3.12.4`, never `3.120`), or a comparison (`python>=3.10`, `>`, `<=`, `<`),
//! matched against what images provide (`python=3.12.1`). Versions compare as dotted numbers;
//! a part that is not a number compares as text.

use std::cmp::Ordering;

/// How a need constrains the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Any,
    Prefix,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub name: String,
    pub op: Op,
    pub version: String,
}

impl Need {
    /// The need, or why it is not one.
    pub fn parse(text: &str) -> Result<Need, String> {
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Prefix),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Prefix),
        ];
        let found = ops
            .iter()
            .filter_map(|(s, op)| text.find(s).map(|at| (at, *s, *op)))
            .min_by_key(|(at, s, _)| (*at, std::cmp::Reverse(s.len())));
        let (name, op, version) = match found {
            Some((at, s, op)) => (&text[..at], op, &text[at + s.len()..]),
            None => (text, Op::Any, ""),
        };
        let (name, version) = (name.trim(), version.trim());
        let operator = |t: &str| t.contains(['=', '<', '>']);
        if name.is_empty() || (op != Op::Any && version.is_empty()) || operator(version) {
            return Err(format!("invalid need `{text}`"));
        }
        Ok(Need {
            name: name.to_string(),
            op,
            version: version.to_string(),
        })
    }

    /// Whether a provided item (`python`, `python=3.12.1`) meets the need.
    pub fn met_by(&self, provided: &str) -> bool {
        let (name, version) = split(provided);
        if name != self.name {
            return false;
        }
        let Some(version) = version else {
            return self.op == Op::Any;
        };
        let order = || compare(version, &self.version);
        match self.op {
            Op::Any => true,
            Op::Prefix => {
                version == self.version
                    || version
                        .strip_prefix(self.version.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            }
            Op::Ge => order() != Ordering::Less,
            Op::Gt => order() == Ordering::Greater,
            Op::Le => order() != Ordering::Greater,
            Op::Lt => order() == Ordering::Less,
        }
    }
}

/// `name=version` into its parts.
pub fn split(item: &str) -> (&str, Option<&str>) {
    match item.split_once('=') {
        Some((name, version)) => (name.trim(), Some(version.trim())),
        None => (item.trim(), None),
    }
}

/// Dotted versions part by part, numbers as numbers; a missing part counts as 0 (`12` is
/// `12.0`).
fn compare(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.split('.'), b.split('.'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => {
                let (x, y) = (x.unwrap_or("0"), y.unwrap_or("0"));
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn met(provided: &str, need: &str) -> bool {
        Need::parse(need).unwrap().met_by(provided)
    }

    #[test]
    fn needs_match_names_dotted_prefixes_and_comparisons() {
        assert!(met("python", "python"));
        assert!(met("python=3.12", "python"));
        assert!(met("python=3.12.4", "python=3.12"));
        assert!(met("python=3.12.4", "python=3"));
        assert!(!met("python=3.120", "python=3.12"));
        assert!(!met("python", "python=3.12"));
        assert!(!met("python3", "python"));
        assert!(met("python=3.12.1", "python>=3.10"));
        assert!(!met("python=3.9.18", "python>=3.10"));
        assert!(met("python=3.10", "python>=3.10"));
        assert!(!met("python=3.10", "python>3.10"));
        assert!(met("php=8.2.7", "php<8.3"));
        assert!(met("php=8.3", "php<=8.3"));
        assert!(!met("php", "php>=8"));
        assert_eq!(
            Need::parse("python>="),
            Err("invalid need `python>=`".into())
        );
        assert_eq!(Need::parse(">=3"), Err("invalid need `>=3`".into()));
        assert!(Need::parse("a>=b>=c").is_err());
        assert!(Need::parse("debian=>12").is_err());
        assert!(met("debian=12", "debian>=12.0"));
        assert!(!met("tools=1.0", "tools>1"));
    }
}
