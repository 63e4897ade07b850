//! A YAML document as a tree of nodes that know where they are in the file, read with
//! `yaml-rust2`'s event parser, event by event. Anchors and aliases are resolved here, within
//! bounds on the nodes and the bytes of text aliases may copy (so a file of nested aliases
//! cannot grow without end), and nesting stops at 64 levels. Scalars stay text: what a scalar means (a string, a number, a boolean)
//! is decided by the field that reads it, as the reference tool's YAML reader does.

use std::collections::HashMap;
use std::ops::Range;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};

use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::source::SourceFile;

/// The deepest nesting read.
const MAX_DEPTH: usize = 64;
/// The most nodes a document may hold, aliases expanded.
const MAX_NODES: usize = 200_000;
/// The most bytes of text a document may hold, aliases expanded.
const MAX_BYTES: usize = 16 << 20;

/// A node and the byte range it starts at.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar's text; `plain` when it was written without quotes (so `null`, `~` and an
    /// empty value mean nothing, and `yes` may mean true).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in the order written.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Whether this is an explicit nothing: an empty value, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// A problem reading the document, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub at: usize,
}

/// The first document of `text` (`None` for an empty file). Events are pulled one by one (the
/// parser's own loader recurses once per level of nesting), so reading stops at the first
/// problem, a bound included.
pub fn parse(source: &SourceFile) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder {
        source,
        stack: Vec::new(),
        anchors: HashMap::new(),
        document: None,
        nodes: 0,
        bytes: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(&source.text);
    loop {
        match parser.next_token() {
            Err(e) => {
                return Err(YamlError {
                    message: e.info().to_string(),
                    at: byte(source, e.marker()),
                });
            }
            Ok((Event::StreamEnd | Event::DocumentEnd, _)) => break,
            Ok((event, mark)) => builder.on_event(event, mark),
        }
        if let Some(error) = builder.error.take() {
            return Err(error);
        }
    }
    Ok(builder.document)
}

/// A parser's place as a byte offset, from its line and column: its running index is not
/// used, since past a block scalar it counts bytes where it otherwise counts characters.
fn byte(source: &SourceFile, mark: &Marker) -> usize {
    source.offset(mark.line(), mark.col())
}

/// A collection being read: its start, anchor and what it holds so far.
struct Open {
    start: usize,
    anchor: usize,
    items: Vec<Node>,
    map: bool,
}

struct Builder<'a> {
    source: &'a SourceFile,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    document: Option<Node>,
    nodes: usize,
    /// Bytes of scalar text, aliases expanded.
    bytes: usize,
    error: Option<YamlError>,
}

impl Builder<'_> {
    fn fail(&mut self, message: &str, at: usize) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                message: message.to_string(),
                at,
            });
        }
    }

    /// Counts `n` more nodes holding `bytes` of text; false (and an error) past the bounds.
    fn count(&mut self, n: usize, bytes: usize, at: usize) -> bool {
        self.nodes += n;
        self.bytes += bytes;
        if self.nodes > MAX_NODES || self.bytes > MAX_BYTES {
            let message = format!(
                "the document holds more than {MAX_NODES} values or {} MiB of text (aliases expanded)",
                MAX_BYTES >> 20
            );
            self.fail(&message, at);
            return false;
        }
        true
    }

    fn open(&mut self, anchor: usize, at: usize, map: bool) {
        if self.stack.len() >= MAX_DEPTH {
            self.fail(&format!("nesting deeper than {MAX_DEPTH} levels"), at);
            return;
        }
        self.stack.push(Open {
            start: at,
            anchor,
            items: Vec::new(),
            map,
        });
    }

    fn close(&mut self) {
        let Some(open) = self.stack.pop() else {
            return;
        };
        // A block collection's mark is where the parser knew it began (past its first key):
        // it is shown from its first item.
        let start = open
            .items
            .first()
            .map_or(open.start, |first| first.span.start.min(open.start));
        let value = if open.map {
            let mut entries = Vec::with_capacity(open.items.len() / 2);
            let mut items = open.items.into_iter();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                entries.push((k, v));
            }
            Value::Map(entries)
        } else {
            Value::Seq(open.items)
        };
        let node = Node {
            value,
            span: start..start + 1,
        };
        self.finish(node, open.anchor);
    }

    /// A complete node: kept under its anchor, and added to what holds it.
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(open) => open.items.push(node),
            None if self.document.is_none() => self.document = Some(node),
            None => {}
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let at = byte(self.source, &mark);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                if !self.count(1, text.len(), at) {
                    return;
                }
                let plain = style == TScalarStyle::Plain;
                let end = at + if plain { text.len().max(1) } else { 1 };
                let value = Value::Scalar { text, plain };
                self.finish(
                    Node {
                        value,
                        span: at..end,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) if self.count(1, 0, at) => self.open(anchor, at, false),
            Event::MappingStart(anchor, _) if self.count(1, 0, at) => self.open(anchor, at, true),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    let (nodes, bytes) = size(&node);
                    if self.count(nodes, bytes, at) {
                        node.span = at..at + 1;
                        self.finish(node, 0);
                    }
                }
                None => self.fail("an alias to an unknown anchor", at),
            },
            _ => {}
        }
    }
}

/// How many nodes a tree holds, and how many bytes of text.
fn size(node: &Node) -> (usize, usize) {
    let mut count = 0;
    let mut bytes = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.value {
            Value::Scalar { text, .. } => bytes += text.len(),
            Value::Seq(items) => todo.extend(items),
            Value::Map(entries) => todo.extend(entries.iter().flat_map(|(k, v)| [k, v])),
        }
    }
    (count, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Node>, YamlError> {
        super::parse(&SourceFile::new("t.yaml".into(), text.to_string()))
    }

    fn scalar(node: &Node) -> &str {
        match &node.value {
            Value::Scalar { text, .. } => text,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn nodes_know_where_they_are() {
        let text = "a: 1\nlist:\n  - \"x y\"\n  - é: z\n";
        let doc = parse(text).unwrap().unwrap();
        let Value::Map(entries) = &doc.value else {
            panic!()
        };
        assert_eq!(scalar(&entries[0].0), "a");
        assert_eq!(&text[entries[0].1.span.clone()], "1");
        let Value::Seq(items) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!(scalar(&items[0]), "x y");
        assert_eq!(items[0].span.start, text.find('"').unwrap());
        let Value::Map(inner) = &items[1].value else {
            panic!()
        };
        // Byte offsets, past a character of two bytes.
        assert_eq!(&text[inner[0].1.span.clone()], "z");
        // Past a block scalar holding such characters too.
        let text = "a: |\n  éé\nb: [x, y]\n";
        let doc = parse(text).unwrap().unwrap();
        let Value::Map(entries) = &doc.value else {
            panic!()
        };
        let Value::Seq(items) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!(&text[items[1].span.clone()], "y");
    }

    #[test]
    fn aliases_are_copies_within_a_bound() {
        let doc = parse("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        let Value::Map(entries) = &doc.value else {
            panic!()
        };
        assert_eq!(entries[0].1.value, entries[1].1.value);
        let mut bomb = String::from("a: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("more than"), "{e:?}");
    }

    #[test]
    fn deep_nesting_and_bad_syntax_are_errors() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep).unwrap_err().message.contains("nesting"));
        // Block sequences nested far deeper than any stack would hold.
        let block = "- ".repeat(100_000) + "x\n";
        assert!(parse(&block).unwrap_err().message.contains("nesting"));
        let text = format!(
            "a: &s \"{}\"\nb: [{}]\n",
            "x".repeat(600_000),
            "*s,".repeat(100)
        );
        assert!(parse(&text).unwrap_err().message.contains("MiB of text"));
        let e = parse("a: [1, 2\nb: c").unwrap_err();
        assert!(e.at > 0, "{e:?}");
        assert_eq!(parse("").unwrap(), None);
        assert!(parse("a: ~").unwrap().is_some());
    }
}
