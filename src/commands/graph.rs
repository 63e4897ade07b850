//! `hier graph`: the DAG with both kinds of edge, as Graphviz dot (the text form), Mermaid or
//! JSON.

use serde_json::json;

use super::Format;
use super::{Context, Output};
use crate::error::Error;
use crate::graph::Edge;

pub fn run(cx: &Context) -> Result<Output, Error> {
    let repo = cx.open()?;
    let order = repo.hierarchy.order();
    let edges = repo.hierarchy.edges();
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let text = match cx.format {
        Format::Json => {
            let nodes: Vec<_> = order
                .iter()
                .map(|n| {
                    let i = repo.catalog.image(n);
                    json!({"name": n.as_str(), "kind": i.kind, "version": i.version.to_string()})
                })
                .collect();
            let edges: Vec<_> = edges
                .iter()
                .map(|(from, to, kind)| json!({"from": from.as_str(), "to": to.as_str(), "kind": kind.as_str()}))
                .collect();
            return Ok(Output::json(&json!({"images": nodes, "edges": edges})));
        }
        Format::Mermaid => {
            let id = |name: &str| {
                format!(
                    "n{}",
                    order.iter().position(|n| n.as_str() == name).unwrap_or(0)
                )
            };
            let mut out = String::from("flowchart TD\n");
            for n in order {
                let i = repo.catalog.image(n);
                out.push_str(&format!(
                    "    {}[\"{} {}<br/><i>{}</i>\"]\n",
                    id(n.as_str()),
                    n,
                    i.version,
                    i.kind
                ));
            }
            for (from, to, kind) in &edges {
                match kind {
                    Edge::Parent => out.push_str(&format!(
                        "    {} --> {}\n",
                        id(from.as_str()),
                        id(to.as_str())
                    )),
                    Edge::Uses => out.push_str(&format!(
                        "    {} -. uses .-> {}\n",
                        id(from.as_str()),
                        id(to.as_str())
                    )),
                }
            }
            out
        }
        Format::Dot | Format::Text => {
            let mut out = format!(
                "digraph {} {{\n    rankdir=TB;\n    node [shape=box];\n",
                quote(&repo.catalog.name)
            );
            for n in order {
                let i = repo.catalog.image(n);
                out.push_str(&format!(
                    "    {} [label=\"{n}\\n{} ({})\"];\n",
                    quote(n.as_str()),
                    i.version,
                    i.kind
                ));
            }
            for (from, to, kind) in &edges {
                match kind {
                    Edge::Parent => out.push_str(&format!(
                        "    {} -> {};\n",
                        quote(from.as_str()),
                        quote(to.as_str())
                    )),
                    Edge::Uses => out.push_str(&format!(
                        "    {} -> {} [style=dashed, label=\"uses\"];\n",
                        quote(from.as_str()),
                        quote(to.as_str())
                    )),
                }
            }
            out.push_str("}\n");
            out
        }
    };
    Ok(Output::text(text))
}
