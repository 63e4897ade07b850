//! What changed in an image's inputs since they were recorded, in words a plan prints: each
//! component whose digest moved (`dockerfile`, `context`, `build_args`, …), and for some what in
//! it: the context's paths that differ, the variables of a rendering that differ (`vars
//! (python_version)` when nothing else of the rendering did), a base's `from` that was
//! replaced. Shown shortly (`a, b and 3 more`) or whole (`{:#}`, for `-v` and JSON).

use std::collections::BTreeMap;
use std::fmt;

use crate::inputs::{COMPONENTS, Detail, Inputs};
use crate::lock::LockEntry;

/// One thing that changed, and what in it (empty when that is not known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub component: &'static str,
    pub details: Vec<String>,
}

impl Change {
    pub fn plain(component: &'static str) -> Change {
        Change {
            component,
            details: Vec::new(),
        }
    }
}

/// How many details are shown when not all are.
const SHOWN: usize = 2;

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.component)?;
        let n = self.details.len();
        let list = |details: &[String]| -> Vec<String> {
            details.iter().map(|d| quoted(d).into_owned()).collect()
        };
        match n {
            0 => Ok(()),
            _ if f.alternate() || n <= SHOWN + 1 => {
                write!(f, " ({})", list(&self.details).join(", "))
            }
            _ => write!(
                f,
                " ({} and {} more)",
                list(&self.details[..SHOWN]).join(", "),
                n - SHOWN
            ),
        }
    }
}

/// A name as one item of a list: quoted when it holds what the list is written with (`, `,
/// ` and `, parentheses) or white space at an end, so no name reads as several.
fn quoted(name: &str) -> std::borrow::Cow<'_, str> {
    let ambiguous = name.is_empty()
        || name.contains([',', '(', ')', '"'])
        || name.contains(" and ")
        || name.trim() != name;
    match ambiguous {
        true => format!("\"{}\"", name.replace('"', "\\\"")).into(),
        false => name.into(),
    }
}

/// What was recorded of an image's inputs: from the lock, or computed at another revision.
pub struct Recorded<'a> {
    pub components: &'a BTreeMap<String, String>,
    pub files: &'a BTreeMap<String, String>,
    pub vars: &'a BTreeMap<String, String>,
    pub template: Option<&'a str>,
    pub from: Option<&'a str>,
}

impl<'a> From<&'a LockEntry> for Recorded<'a> {
    fn from(entry: &'a LockEntry) -> Self {
        Recorded {
            components: &entry.components,
            files: &entry.context_files,
            vars: &entry.vars,
            template: entry.template.as_deref(),
            from: entry.from.as_deref(),
        }
    }
}

impl<'a> From<&'a Inputs> for Recorded<'a> {
    fn from(inputs: &'a Inputs) -> Self {
        let Detail {
            files,
            vars,
            template,
            from,
        } = &inputs.detail;
        Recorded {
            components: &inputs.components,
            files,
            vars,
            template: template.as_deref(),
            from: from.as_deref(),
        }
    }
}

/// What changed from `then` to `now`, in the order a plan reports components. Empty when every
/// component is as recorded.
pub fn changes(now: &Inputs, then: &Recorded) -> Vec<Change> {
    let mut out = Vec::new();
    for &component in COMPONENTS {
        if now.components.get(component) == then.components.get(component) {
            continue;
        }
        match component {
            "dockerfile" => out.extend(rendering(&now.detail, then)),
            "context" => out.push(Change {
                component,
                details: differing(&now.detail.files, then.files),
            }),
            "from" => out.push(Change {
                component,
                details: match (then.from, now.detail.from.as_deref()) {
                    (Some(was), Some(is)) if was != is => vec![format!("{was} -> {is}")],
                    _ => Vec::new(),
                },
            }),
            _ => out.push(Change::plain(component)),
        }
    }
    out
}

/// A changed Dockerfile: the variables that changed, alone when nothing else of the rendering
/// did (the templates, the data besides the variables), else after `dockerfile`.
fn rendering(now: &Detail, then: &Recorded) -> Vec<Change> {
    let vars = differing(&now.vars, then.vars);
    if vars.is_empty() {
        return vec![Change::plain("dockerfile")];
    }
    let vars = Change {
        component: "vars",
        details: vars,
    };
    let same_template = then.template.is_some() && then.template == now.template.as_deref();
    match same_template {
        true => vec![vars],
        false => vec![Change::plain("dockerfile"), vars],
    }
}

/// The keys whose digests differ, added or removed ones included; none when nothing was
/// recorded (an older lock, or a context too large to record file by file).
fn differing(now: &BTreeMap<String, String>, then: &BTreeMap<String, String>) -> Vec<String> {
    if then.is_empty() {
        return Vec::new();
    }
    let mut keys: Vec<&String> = now
        .iter()
        .filter(|(k, v)| then.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .chain(then.keys().filter(|k| !now.contains_key(*k)))
        .collect();
    keys.sort();
    keys.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn inputs(components: &[(&str, &str)], detail: Detail) -> Inputs {
        Inputs {
            digest: String::new(),
            components: map(components),
            detail,
        }
    }

    #[test]
    fn a_context_names_its_changed_paths_shortly_or_whole() {
        let files = map(&[("a", "1"), ("b", "1"), ("c", "1"), ("d", "1"), ("e", "1")]);
        let then = inputs(
            &[("context", "x")],
            Detail {
                files,
                ..Detail::default()
            },
        );
        let now_files = map(&[("a", "2"), ("b", "1"), ("c", "2"), ("d", "2"), ("f", "1")]);
        let now = inputs(
            &[("context", "y")],
            Detail {
                files: now_files,
                ..Detail::default()
            },
        );
        let changed = changes(&now, &Recorded::from(&then));
        assert_eq!(changed[0].details, ["a", "c", "d", "e", "f"]);
        assert_eq!(changed[0].to_string(), "context (a, c and 3 more)");
        let forged = Change {
            component: "context",
            details: vec![
                "a, b and 3 more)  ,x".into(),
                "say \"hi\"".into(),
                " pad".into(),
            ],
        };
        assert_eq!(
            forged.to_string(),
            "context (\"a, b and 3 more)  ,x\", \"say \\\"hi\\\"\", \" pad\")"
        );
        assert_eq!(format!("{:#}", changed[0]), "context (a, c, d, e, f)");
        let three = Change {
            component: "context",
            details: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(three.to_string(), "context (a, b, c)");
    }

    #[test]
    fn variables_alone_when_the_rest_of_the_rendering_is_the_same() {
        let detail = |vars: &[(&str, &str)], template: &str| Detail {
            vars: map(vars),
            template: Some(template.into()),
            ..Detail::default()
        };
        let then = inputs(
            &[("dockerfile", "1")],
            detail(&[("py", "1"), ("os", "1")], "t"),
        );
        let now = inputs(
            &[("dockerfile", "2")],
            detail(&[("py", "2"), ("os", "1")], "t"),
        );
        let shown = |c: Vec<Change>| c.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(shown(changes(&now, &Recorded::from(&then))), ["vars (py)"]);
        let now = inputs(
            &[("dockerfile", "2")],
            detail(&[("py", "2"), ("os", "1")], "t2"),
        );
        assert_eq!(
            shown(changes(&now, &Recorded::from(&then))),
            ["dockerfile", "vars (py)"]
        );
        let now = inputs(
            &[("dockerfile", "2")],
            detail(&[("py", "1"), ("os", "1")], "t2"),
        );
        assert_eq!(shown(changes(&now, &Recorded::from(&then))), ["dockerfile"]);
    }

    #[test]
    fn a_base_says_what_its_from_was_and_nothing_recorded_says_only_the_component() {
        let from = |f: Option<&str>| Detail {
            from: f.map(str::to_string),
            ..Detail::default()
        };
        let then = inputs(
            &[("from", "1"), ("version", "1")],
            from(Some("busybox:1.36")),
        );
        let now = inputs(
            &[("from", "2"), ("version", "2")],
            from(Some("busybox:1.37")),
        );
        let c = changes(&now, &Recorded::from(&then));
        assert_eq!(c[0].to_string(), "version");
        assert_eq!(c[1].to_string(), "from (busybox:1.36 -> busybox:1.37)");
        let old = inputs(&[("from", "1"), ("context", "1")], Detail::default());
        let now = inputs(
            &[("from", "2"), ("context", "2")],
            from(Some("busybox:1.37")),
        );
        let c = changes(&now, &Recorded::from(&old));
        assert_eq!(
            (c[0].to_string(), c[1].to_string()),
            ("context".into(), "from".into())
        );
    }
}
