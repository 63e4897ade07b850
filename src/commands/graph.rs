//! `hier graph`: the DAG with both kinds of edge, as Graphviz dot (the text form), Mermaid or
//! JSON.

use serde_json::{Value, json};

use super::Format;
use super::{Context, Output};
use crate::error::Error;
use crate::graph::Edge;
use crate::name::ImageName;
use crate::repo::Repository;

type Edges = [(ImageName, ImageName, Edge)];

pub fn run(cx: &Context) -> Result<Output, Error> {
    let repo = cx.open()?;
    let edges = repo.hierarchy.edges();
    Ok(match cx.format {
        Format::Json => Output::json(&json_graph(&repo, &edges)),
        Format::Mermaid => Output::text(mermaid(&repo, &edges)),
        _ => Output::text(dot(&repo, &edges)),
    })
}

fn json_graph(repo: &Repository, edges: &Edges) -> Value {
    let nodes: Vec<_> = repo
        .hierarchy
        .order()
        .iter()
        .map(|n| {
            let i = repo.catalog.image(n);
            json!({"name": n.as_str(), "kind": i.kind, "version": i.version.to_string()})
        })
        .collect();
    let edges: Vec<_> = edges
        .iter()
        .map(|(from, to, kind)| {
            json!({"from": from.as_str(), "to": to.as_str(), "kind": kind.as_str()})
        })
        .collect();
    json!({"images": nodes, "edges": edges})
}

/// A Mermaid flowchart; nodes are named `n<position in build order>`.
fn mermaid(repo: &Repository, edges: &Edges) -> String {
    let order = repo.hierarchy.order();
    let id = |name: &ImageName| format!("n{}", order.iter().position(|n| n == name).unwrap_or(0));
    let mut out = String::from("flowchart TD\n");
    for n in order {
        let i = repo.catalog.image(n);
        out.push_str(&format!(
            "    {}[\"{} {}<br/><i>{}</i>\"]\n",
            id(n),
            n,
            i.version,
            i.kind
        ));
    }
    for (from, to, kind) in edges {
        let arrow = match kind {
            Edge::Parent => "-->",
            Edge::Uses => "-. uses .->",
        };
        out.push_str(&format!("    {} {arrow} {}\n", id(from), id(to)));
    }
    out
}

/// A Graphviz digraph named after the catalog; `uses` edges are dashed.
fn dot(repo: &Repository, edges: &Edges) -> String {
    let mut out = format!(
        "digraph {} {{\n    rankdir=TB;\n    node [shape=box];\n",
        quote(&repo.catalog.name)
    );
    for n in repo.hierarchy.order() {
        let i = repo.catalog.image(n);
        out.push_str(&format!(
            "    {} [label=\"{n}\\n{} ({})\"];\n",
            quote(n.as_str()),
            i.version,
            i.kind
        ));
    }
    for (from, to, kind) in edges {
        let style = match kind {
            Edge::Parent => "",
            Edge::Uses => " [style=dashed, label=\"uses\"]",
        };
        out.push_str(&format!(
            "    {} -> {}{style};\n",
            quote(from.as_str()),
            quote(to.as_str())
        ));
    }
    out.push_str("}\n");
    out
}

/// A dot string literal.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
