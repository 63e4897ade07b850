//! What an image inherits along `parent` edges: template variables (catalog, then each ancestor
//! from the base down, then its own; tables merge key by key, anything else is replaced by the
//! nearer value) and `provides` (the parent's plus its own).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::graph::Hierarchy;
use crate::name::ImageName;

pub struct Inherited {
    pub vars: BTreeMap<ImageName, Map<String, Value>>,
    pub provides: BTreeMap<ImageName, Vec<String>>,
}

impl Inherited {
    pub fn compute(catalog: &Catalog, hierarchy: &Hierarchy) -> Inherited {
        let mut vars: BTreeMap<ImageName, Map<String, Value>> = BTreeMap::new();
        let mut provides: BTreeMap<ImageName, Vec<String>> = BTreeMap::new();
        // Build order visits every parent before its children.
        for name in hierarchy.order() {
            let image = catalog.image(name);
            let (mut v, mut p) = match image
                .parent()
                .and_then(|d| vars.get(&d.name).map(|v| (d, v)))
            {
                Some((dep, parent_vars)) => (
                    parent_vars.clone(),
                    provides.get(&dep.name).cloned().unwrap_or_default(),
                ),
                None => (catalog.vars.clone(), Vec::new()),
            };
            merge(&mut v, &image.vars);
            for item in &image.provides {
                if !p.contains(item) {
                    p.push(item.clone());
                }
            }
            vars.insert(name.clone(), v);
            provides.insert(name.clone(), p);
        }
        Inherited { vars, provides }
    }
}

/// Merges `nearer` into `base`: tables recursively, other values replaced.
pub fn merge(base: &mut Map<String, Value>, nearer: &Map<String, Value>) {
    for (key, value) in nearer {
        match (base.get_mut(key), value) {
            (Some(Value::Object(b)), Value::Object(n)) => merge(b, n),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nearer_wins_and_tables_merge() {
        let mut base = json!({"a": 1, "list": [1, 2], "t": {"x": 1, "y": 2}})
            .as_object()
            .unwrap()
            .clone();
        let nearer = json!({"list": [3], "t": {"y": 3, "z": 4}})
            .as_object()
            .unwrap()
            .clone();
        merge(&mut base, &nearer);
        assert_eq!(
            Value::Object(base),
            json!({"a": 1, "list": [3], "t": {"x": 1, "y": 3, "z": 4}})
        );
    }
}
