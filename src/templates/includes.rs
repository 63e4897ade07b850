//! Which templates and partials include which (`{{> name}}`, `{{#> name}}…{{/name}}`), and the
//! cycles among them. Handlebars follows an include every time it meets it, so a partial that
//! includes itself, or two that include each other, would recurse until the stack overflows:
//! such a cycle is found before anything is rendered and named with its whole path.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// The names a template's text includes, each with the byte offset of its `{{`. A dynamic
/// include (`{{> (lookup …)}}`) names nothing that can be known here.
pub fn includes(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(pos) = text[at..].find("{{") {
        let start = at + pos;
        let rest = &text[start + 2..];
        if let Some(comment) = rest.strip_prefix('!') {
            let end = if comment.starts_with("--") {
                "--}}"
            } else {
                "}}"
            };
            match rest.find(end) {
                Some(e) => at = start + 2 + e + end.len(),
                None => break,
            }
            continue;
        }
        let body = rest.trim_start_matches('~');
        let body = body.strip_prefix('#').unwrap_or(body);
        if let Some(name) = body.strip_prefix('>').and_then(included_name) {
            found.push((name, start));
        }
        at = start + 2;
    }
    found
}

/// The name after `{{>`: a bare word, or a quoted one.
fn included_name(after: &str) -> Option<String> {
    let after = after.trim_start();
    if let Some(quoted) = after.strip_prefix(['"', '\'']) {
        let quote = after.chars().next()?;
        return quoted.split(quote).next().map(str::to_string);
    }
    let name: String = after
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '}' | '~' | '('))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The cycles of includes among the registered sources (by registered name): one for each
/// group of templates that include each other, named from its smallest name, reported at the
/// include that starts it.
pub fn cycles(sources: &BTreeMap<String, SourceFile>) -> Vec<Diagnostic> {
    let edges: BTreeMap<&str, Vec<(String, usize)>> = sources
        .iter()
        .map(|(name, source)| {
            let mut known = includes(&source.text);
            known.retain(|(to, _)| sources.contains_key(to));
            (name.as_str(), known)
        })
        .collect();
    let mut graph: DiGraph<&str, ()> = DiGraph::new();
    let nodes: BTreeMap<&str, NodeIndex> = edges.keys().map(|&n| (n, graph.add_node(n))).collect();
    for (from, to) in &edges {
        for (name, _) in to {
            graph.update_edge(nodes[from], nodes[name.as_str()], ());
        }
    }
    let mut found: Vec<Vec<String>> = tarjan_scc(&graph)
        .into_iter()
        .filter(|c| c.len() > 1 || graph.contains_edge(c[0], c[0]))
        .map(|component| cycle(&graph, &component))
        .collect();
    found.sort();
    found
        .iter()
        .map(|cycle| report(sources, &edges, cycle))
        .collect()
}

/// The shortest cycle through the smallest name of a group that includes itself, as
/// `[a, …, a]` (breadth-first along includes, inside the group).
fn cycle(graph: &DiGraph<&str, ()>, component: &[NodeIndex]) -> Vec<String> {
    let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
    let start = *component
        .iter()
        .min_by_key(|&&n| graph[n])
        .expect("a group has members");
    let mut previous: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut last = start;
    'search: while let Some(node) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph
            .neighbors(node)
            .filter(|n| members.contains(n))
            .collect();
        next.sort_by_key(|&n| graph[n]);
        for to in next {
            if to == start {
                last = node;
                break 'search;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(to) {
                e.insert(node);
                queue.push_back(to);
            }
        }
    }
    // Back along the search from the last step to the start, then around to the start.
    let mut back = vec![last];
    while let Some(&p) = previous.get(back.last().expect("not empty")) {
        back.push(p);
    }
    let mut names: Vec<String> = back.iter().rev().map(|&n| graph[n].to_string()).collect();
    names.push(graph[start].to_string());
    names
}

fn report(
    sources: &BTreeMap<String, SourceFile>,
    edges: &BTreeMap<&str, Vec<(String, usize)>>,
    cycle: &[String],
) -> Diagnostic {
    let (first, second) = (&cycle[0], &cycle[1]);
    let message = if cycle.len() == 2 {
        format!("`{first}` includes itself: {first} -> {first}")
    } else {
        format!(
            "templates include each other in a cycle: {}",
            cycle.join(" -> ")
        )
    };
    let d = Diagnostic::error(message)
        .help("Handlebars would include them forever; remove one of these includes");
    let source = &sources[first];
    match edges[first.as_str()].iter().find(|(to, _)| to == second) {
        Some((to, offset)) => {
            let end = source.text[*offset..]
                .find(to.as_str())
                .map_or(offset + 2, |at| offset + at + to.len());
            d.at(source.locate(*offset..end))
        }
        None => d.at_file(source.display.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> BTreeMap<String, SourceFile> {
        files
            .iter()
            .map(|(name, text)| {
                let path = format!("templates/partials/{name}.hbs").into();
                (name.to_string(), SourceFile::new(path, text.to_string()))
            })
            .collect()
    }

    #[test]
    fn includes_are_found_outside_comments() {
        let names: Vec<String> = includes(
            "{{> a}} {{~> b x=1}} {{#> c}}x{{/c}} {{> \"d e\"}} {{!-- {{> no}} --}} {{! {{> no2 }} {{> (lookup x)}}",
        )
        .into_iter()
        .map(|(n, _)| n)
        .collect();
        assert_eq!(names, ["a", "b", "c", "d e"]);
    }

    #[test]
    fn cycles_are_named_with_their_whole_path_once() {
        let found = cycles(&sources(&[
            ("a", "x\n{{> b}}\n"),
            ("b", "{{> a}}"),
            ("self", "{{#if x}}{{> self}}{{/if}}"),
            ("fine", "{{> a}}"),
        ]));
        let messages: Vec<(String, String)> = found
            .iter()
            .map(|d| (d.message.clone(), d.place().unwrap()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "templates include each other in a cycle: a -> b -> a".to_string(),
                    "templates/partials/a.hbs:2:1".to_string()
                ),
                (
                    "`self` includes itself: self -> self".to_string(),
                    "templates/partials/self.hbs:1:10".to_string()
                ),
            ]
        );
    }
}
