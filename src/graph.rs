//! The hierarchy as a DAG (petgraph): an edge runs from an image to each image that builds on it,
//! labelled `parent` or `uses`. It answers the queries the commands need and finds cycles.
//! Which queries follow which edges is the catalog's contract: planning, impact and descendants
//! follow both; ancestors, the tree and inheritance follow `parent` only.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::catalog::Catalog;
use crate::diagnostic::Diagnostic;
use crate::name::ImageName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edge {
    Parent,
    Uses,
}

impl Edge {
    pub fn as_str(self) -> &'static str {
        match self {
            Edge::Parent => "parent",
            Edge::Uses => "uses",
        }
    }
}

pub struct Hierarchy {
    graph: DiGraph<ImageName, Edge>,
    nodes: BTreeMap<ImageName, NodeIndex>,
    /// Every image in build order: by wave, then by name.
    order: Vec<ImageName>,
    wave: BTreeMap<ImageName, usize>,
}

impl Hierarchy {
    /// Builds the graph of a catalog; cycles are returned as problems (and their edges kept out
    /// of the order, which then lists the images of a cycle last).
    pub fn build(catalog: &Catalog) -> (Hierarchy, Vec<Diagnostic>) {
        let mut graph = DiGraph::new();
        let mut nodes = BTreeMap::new();
        for image in &catalog.images {
            nodes.insert(image.name.clone(), graph.add_node(image.name.clone()));
        }
        for image in &catalog.images {
            let to = nodes[&image.name];
            if let Some(parent) = image.parent()
                && let Some(&from) = nodes.get(&parent.name)
            {
                graph.add_edge(from, to, Edge::Parent);
            }
            for dep in &image.uses {
                if let Some(&from) = nodes.get(&dep.name) {
                    graph.add_edge(from, to, Edge::Uses);
                }
            }
        }
        let mut hierarchy = Hierarchy {
            graph,
            nodes,
            order: Vec::new(),
            wave: BTreeMap::new(),
        };
        let problems = hierarchy.cycles(catalog);
        let all: BTreeSet<ImageName> = hierarchy.nodes.keys().cloned().collect();
        let ordered = hierarchy.build_order(&all);
        hierarchy.wave = ordered.iter().cloned().collect();
        hierarchy.order = ordered.into_iter().map(|(n, _)| n).collect();
        (hierarchy, problems)
    }

    fn cycles(&self, catalog: &Catalog) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        let mut components: Vec<Vec<NodeIndex>> = petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|c| c.len() > 1 || self.graph.contains_edge(c[0], c[0]))
            .collect();
        for c in &mut components {
            c.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
        }
        components.sort_by(|a, b| self.graph[a[0]].cmp(&self.graph[b[0]]));
        for component in components {
            let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
            let start = component[0];
            let path = self.cycle_path(start, &members);
            let names: Vec<&str> = path.iter().map(|&n| self.graph[n].as_str()).collect();
            // The first step of the cycle: `names[0]` depends on `names[1]`.
            let image = catalog.image(&self.graph[start]);
            let next = &self.graph[path[1]];
            let span = image
                .dependencies()
                .find(|d| &d.name == next)
                .map(|d| d.span.clone())
                .unwrap_or(image.span.clone());
            problems.push(
                Diagnostic::error(format!("dependency cycle: {}", names.join(" -> ")))
                    .at(catalog.source.locate(span))
                    .help("`parent` and `uses` must form a hierarchy; remove one of these edges"),
            );
        }
        problems
    }

    /// A cycle through `start` inside one strongly connected component, following dependencies
    /// (child → parent), as `[start, …, start]`.
    fn cycle_path(&self, start: NodeIndex, members: &BTreeSet<NodeIndex>) -> Vec<NodeIndex> {
        // Breadth-first over dependencies finds the shortest way back to `start`.
        let mut previous: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            let mut deps: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(node, Direction::Incoming)
                .filter(|n| members.contains(n))
                .collect();
            deps.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
            deps.dedup();
            for dep in deps {
                if dep == start {
                    let mut path = vec![start];
                    let mut at = node;
                    let mut back = vec![];
                    while at != start {
                        back.push(at);
                        at = previous[&at];
                    }
                    path.extend(back.into_iter().rev());
                    path.push(start);
                    return path;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(dep) {
                    e.insert(node);
                    queue.push_back(dep);
                }
            }
        }
        vec![start, start]
    }

    pub fn contains(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    /// Every image in build order.
    pub fn order(&self) -> &[ImageName] {
        &self.order
    }

    /// Wave of an image in the whole hierarchy (0 for bases).
    pub fn wave(&self, name: &ImageName) -> usize {
        self.wave.get(name).copied().unwrap_or(0)
    }

    /// Images that build directly on `name` (as parent or through `uses`), sorted.
    pub fn dependents(&self, name: &ImageName) -> Vec<ImageName> {
        self.neighbours(name, Direction::Outgoing, None)
    }

    /// Images that name `name` as their parent, sorted.
    pub fn children(&self, name: &ImageName) -> Vec<ImageName> {
        self.neighbours(name, Direction::Outgoing, Some(Edge::Parent))
    }

    /// The images `name` builds on directly (parent and uses), sorted.
    pub fn dependencies(&self, name: &ImageName) -> Vec<ImageName> {
        self.neighbours(name, Direction::Incoming, None)
    }

    fn neighbours(&self, name: &ImageName, dir: Direction, only: Option<Edge>) -> Vec<ImageName> {
        let Some(&node) = self.nodes.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<ImageName> = self
            .graph
            .edges_directed(node, dir)
            .filter(|e| only.is_none_or(|k| *e.weight() == k))
            .map(|e| {
                let other = if dir == Direction::Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                self.graph[other].clone()
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `roots` and everything that depends on them, through both kinds of edge.
    pub fn closure(&self, roots: impl IntoIterator<Item = ImageName>) -> BTreeSet<ImageName> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<NodeIndex> = roots
            .into_iter()
            .filter_map(|n| self.nodes.get(&n).copied())
            .collect();
        while let Some(node) = stack.pop() {
            if seen.insert(self.graph[node].clone()) {
                stack.extend(self.graph.neighbors_directed(node, Direction::Outgoing));
            }
        }
        seen
    }

    /// Everything that depends on `name`, directly or not, without `name` itself.
    pub fn descendants(&self, name: &ImageName) -> BTreeSet<ImageName> {
        let mut all = self.closure(self.dependents(name));
        all.remove(name);
        all
    }

    /// The chain of parents from the base down to `name`'s parent.
    pub fn ancestors(&self, catalog: &Catalog, name: &ImageName) -> Vec<ImageName> {
        let mut chain = Vec::new();
        let mut at = catalog.get(name.as_str());
        while let Some(image) = at {
            match image.parent() {
                Some(parent) if !chain.contains(&parent.name) && &parent.name != name => {
                    chain.push(parent.name.clone());
                    at = catalog.get(parent.name.as_str());
                }
                _ => break,
            }
        }
        chain.reverse();
        chain
    }

    /// Orders a set of images for building: each with its wave inside the set (0 when nothing
    /// it depends on is in the set), sorted by wave then name.
    pub fn build_order(&self, set: &BTreeSet<ImageName>) -> Vec<(ImageName, usize)> {
        // Kahn's algorithm restricted to `set`; images on a cycle never become ready and are
        // appended at the end so that callers still see every image once.
        let mut pending: BTreeMap<&ImageName, usize> = BTreeMap::new();
        for name in set {
            let deps = self
                .dependencies(name)
                .into_iter()
                .filter(|d| set.contains(d) && d != name)
                .count();
            pending.insert(name, deps);
        }
        let mut wave: BTreeMap<ImageName, usize> = BTreeMap::new();
        let mut ready: Vec<&ImageName> = pending
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut current = 0;
        while !ready.is_empty() {
            let mut next = Vec::new();
            for name in ready {
                wave.insert(name.clone(), current);
                for dependent in self.dependents(name) {
                    if let Some((key, count)) =
                        pending.get_key_value(&dependent).map(|(k, v)| (*k, *v))
                    {
                        if count == 1 {
                            next.push(key);
                        }
                        pending.insert(key, count.saturating_sub(1));
                    }
                }
            }
            next.sort();
            next.dedup();
            ready = next;
            current += 1;
        }
        let stuck: Vec<ImageName> = set
            .iter()
            .filter(|n| !wave.contains_key(*n))
            .cloned()
            .collect();
        let mut out: Vec<(ImageName, usize)> = wave.into_iter().collect();
        out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        out.extend(stuck.into_iter().map(|n| (n, current)));
        out
    }

    /// Number of images on the longest chain of dependents below `name` (0 for a leaf).
    pub fn chain_below(&self) -> BTreeMap<ImageName, usize> {
        let mut below: BTreeMap<ImageName, usize> = BTreeMap::new();
        for name in self.order.iter().rev() {
            let longest = self
                .dependents(name)
                .iter()
                .map(|d| below.get(d).map(|n| n + 1).unwrap_or(1))
                .max()
                .unwrap_or(0);
            below.insert(name.clone(), longest);
        }
        below
    }

    /// All edges as (dependency, dependent, kind), sorted.
    pub fn edges(&self) -> Vec<(ImageName, ImageName, Edge)> {
        let mut out: Vec<_> = self
            .graph
            .edge_references()
            .map(|e| {
                (
                    self.graph[e.source()].clone(),
                    self.graph[e.target()].clone(),
                    *e.weight(),
                )
            })
            .collect();
        out.sort();
        out
    }
}
