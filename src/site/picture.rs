//! The picture of the hierarchy on the catalog's index: a layered layout made by `layout-rs`
//! (parents above children, edges routed around the layers between them), drawn as SVG by
//! hier so that each node is a link to its image's page and `uses` edges are dashed.

use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::html::{image_href, text};

/// One image as the picture shows it.
pub struct Node<'a> {
    pub name: &'a str,
    /// The second line: version and kind.
    pub detail: String,
    /// The CSS class that colours it (by kind).
    pub class: String,
}

/// An edge between two nodes (indexes into the node list), parent or user below.
pub struct Link {
    pub from: usize,
    pub to: usize,
    /// A `uses` edge (dashed) rather than a parent.
    pub uses: bool,
}

/// Width of a character of the name and of the detail line, in pixels (the style sheet's
/// monospace sizes), and the box's padding and height.
const NAME_CHAR: f64 = 8.5;
const DETAIL_CHAR: f64 = 7.0;
const PADDING: f64 = 24.0;
const HEIGHT: f64 = 46.0;
/// Space around the drawing.
const MARGIN: f64 = 12.0;
/// The space between layers grows with the drawing's width (a sixteenth of it), up to this, so
/// that edges fanning out across a wide layer stay steep enough to follow.
const MAX_LAYER_GAP: f64 = 150.0;

/// The SVG of the hierarchy (an empty catalog has an empty picture).
pub fn svg(nodes: &[Node], links: &[Link], title: &str) -> String {
    let mut canvas = Canvas::default();
    if !nodes.is_empty() {
        let mut graph = VisualGraph::new(Orientation::TopToBottom);
        let handles: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| graph.add_node(element(i, node)))
            .collect();
        for link in links {
            graph.add_edge(arrow(link), handles[link.from], handles[link.to]);
        }
        graph.do_it(false, false, false, &mut canvas);
        canvas.spread_layers();
    }
    canvas.svg(nodes, title)
}

fn element(index: usize, node: &Node) -> Element {
    let width = (node.name.chars().count() as f64 * NAME_CHAR)
        .max(node.detail.chars().count() as f64 * DETAIL_CHAR)
        + PADDING;
    Element::create_with_properties(
        ShapeKind::Box(String::new()),
        StyleAttr::simple(),
        Orientation::TopToBottom,
        Point::new(width, HEIGHT),
        index.to_string(),
    )
}

fn arrow(link: &Link) -> Arrow {
    use layout::core::style::LineStyleKind;
    let style = match link.uses {
        true => LineStyleKind::Dashed,
        false => LineStyleKind::Normal,
    };
    Arrow::new(
        LineEndKind::None,
        LineEndKind::Arrow,
        style,
        "",
        &StyleAttr::simple(),
        &None,
        &None,
    )
}

/// Where the layout put each node (top-left corner and size) and each edge's curve.
#[derive(Default)]
struct Canvas {
    boxes: Vec<(usize, Point, Point)>,
    /// A curve in `layout-rs`'s form: the first pair is the exit vector, the others entries.
    curves: Vec<(Vec<(Point, Point)>, bool)>,
}

impl RenderBackend for Canvas {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        _: &StyleAttr,
        p: Option<String>,
        _: Option<ClipHandle>,
    ) {
        if let Some(index) = p.and_then(|p| p.parse().ok()) {
            self.boxes.push((index, xy, size));
        }
    }

    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        dashed: bool,
        _: (bool, bool),
        _: &StyleAttr,
        _: Option<String>,
        _: &str,
    ) {
        if path.len() >= 2 {
            self.curves.push((path.to_vec(), dashed));
        }
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

impl Canvas {
    /// The smallest box holding every node and curve point, with the margin around it.
    fn bounds(&self) -> (Point, Point) {
        let corners = self
            .boxes
            .iter()
            .flat_map(|(_, xy, size)| [*xy, xy.add(*size)])
            .chain(
                self.curves
                    .iter()
                    .flat_map(|(c, _)| c.iter().flat_map(|p| [p.0, p.1])),
            );
        let (mut low, mut high) = (Point::splat(f64::MAX), Point::splat(f64::MIN));
        for p in corners {
            low = Point::new(low.x.min(p.x), low.y.min(p.y));
            high = Point::new(high.x.max(p.x), high.y.max(p.y));
        }
        if low.x > high.x {
            return (Point::zero(), Point::splat(2.0 * MARGIN));
        }
        (
            low.sub(Point::splat(MARGIN)),
            high.add(Point::splat(MARGIN)),
        )
    }

    /// Moves the layers apart (never closer) so the gap between two layers is a sixteenth of
    /// the drawing's width, at most [`MAX_LAYER_GAP`]: boxes keep their size, and each curve
    /// point between two layers keeps its relative place between them.
    fn spread_layers(&mut self) {
        let (low, high) = self.bounds();
        let target = ((high.x - low.x) / 16.0).min(MAX_LAYER_GAP);
        let mut bands: Vec<(f64, f64)> = Vec::new();
        for (_, xy, size) in &self.boxes {
            match bands.iter_mut().find(|b| xy.y < b.1 && xy.y + size.y > b.0) {
                Some(band) => *band = (band.0.min(xy.y), band.1.max(xy.y + size.y)),
                None => bands.push((xy.y, xy.y + size.y)),
            }
        }
        bands.sort_by(|a, b| a.0.total_cmp(&b.0));
        // How far each band moves down.
        let mut shifts = vec![0.0; bands.len()];
        for i in 1..bands.len() {
            let gap = bands[i].0 - bands[i - 1].1;
            shifts[i] = shifts[i - 1] + (target - gap).max(0.0);
        }
        let moved = |y: f64| shifted(y, &bands, &shifts);
        for (_, xy, _) in &mut self.boxes {
            *xy = Point::new(xy.x, moved(xy.y));
        }
        for (curve, _) in &mut self.curves {
            for (a, b) in curve.iter_mut() {
                *a = Point::new(a.x, moved(a.y));
                *b = Point::new(b.x, moved(b.y));
            }
        }
    }

    fn svg(&self, nodes: &[Node], title: &str) -> String {
        let (low, high) = self.bounds();
        let size = high.sub(low);
        let mut out = format!(
            "<svg class=\"hierarchy\" xmlns=\"http://www.w3.org/2000/svg\" \
             viewBox=\"{:.0} {:.0} {:.0} {:.0}\" width=\"{:.0}\" height=\"{:.0}\">\n\
             <title>{}</title>\n\
             <defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
             <path d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>\n",
            low.x,
            low.y,
            size.x,
            size.y,
            size.x,
            size.y,
            text(title)
        );
        for (curve, dashed) in &self.curves {
            let class = if *dashed { "edge uses" } else { "edge" };
            out.push_str(&format!(
                "<path class=\"{class}\" d=\"{}\" marker-end=\"url(#head)\"/>\n",
                path_data(curve)
            ));
        }
        for (index, xy, size) in &self.boxes {
            if let Some(node) = nodes.get(*index) {
                out.push_str(&node_svg(node, *xy, *size));
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

/// Where `y` goes when each band (a layer's top and bottom) moves down by its shift: within
/// or beside a band, by that band's shift; between two bands, in proportion.
fn shifted(y: f64, bands: &[(f64, f64)], shifts: &[f64]) -> f64 {
    let Some(next) = bands.iter().position(|b| y < b.0) else {
        return y + shifts.last().copied().unwrap_or(0.0);
    };
    if next == 0 {
        return y;
    }
    let (above, below) = (bands[next - 1], bands[next]);
    if y <= above.1 {
        return y + shifts[next - 1];
    }
    let along = (y - above.1) / (below.0 - above.1);
    y + shifts[next - 1] + along * (shifts[next] - shifts[next - 1])
}

/// A curve as SVG path data: a cubic Bézier out of the first point, then smooth segments.
fn path_data(curve: &[(Point, Point)]) -> String {
    let p = |p: Point| format!("{:.1} {:.1}", p.x, p.y);
    let mut d = format!(
        "M {} C {}, {}, {}",
        p(curve[0].0),
        p(curve[0].1),
        p(curve[1].0),
        p(curve[1].1)
    );
    for (control, point) in &curve[2..] {
        d.push_str(&format!(" S {}, {}", p(*control), p(*point)));
    }
    d
}

/// A node: a link to the image's page around its box and its two lines of text.
fn node_svg(node: &Node, xy: Point, size: Point) -> String {
    let middle = xy.x + size.x / 2.0;
    format!(
        "<a href=\"{href}\" class=\"node {class}\" data-name=\"{name}\">\
         <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"6\"/>\
         <text class=\"name\" x=\"{middle:.1}\" y=\"{y1:.1}\">{name}</text>\
         <text class=\"detail\" x=\"{middle:.1}\" y=\"{y2:.1}\">{detail}</text></a>\n",
        href = text(&image_href(node.name)),
        class = text(&node.class),
        name = text(node.name),
        detail = text(&node.detail),
        x = xy.x,
        y = xy.y,
        w = size.x,
        h = size.y,
        y1 = xy.y + 19.0,
        y2 = xy.y + 36.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> Node<'_> {
        Node {
            name,
            detail: "1.0.0 · runtime".into(),
            class: "kind-1".into(),
        }
    }

    /// The top edge of each named node's box in the SVG.
    fn top(svg: &str, name: &str) -> f64 {
        let at = svg.find(&format!("data-name=\"{name}\"")).unwrap();
        let rest = &svg[at..];
        let y = rest.find(" y=\"").unwrap() + 4;
        rest[y..rest[y..].find('"').unwrap() + y].parse().unwrap()
    }

    #[test]
    fn parents_are_drawn_above_their_children_and_uses_edges_are_dashed() {
        let nodes = [node("base"), node("python"), node("app"), node("tools")];
        let links = [
            Link {
                from: 0,
                to: 1,
                uses: false,
            },
            Link {
                from: 1,
                to: 2,
                uses: false,
            },
            Link {
                from: 0,
                to: 3,
                uses: false,
            },
            Link {
                from: 3,
                to: 2,
                uses: true,
            },
        ];
        let svg = svg(&nodes, &links, "example");
        assert!(top(&svg, "base") < top(&svg, "python"));
        assert!(top(&svg, "python") < top(&svg, "app"));
        assert_eq!(svg.matches("<path class=\"edge\"").count(), 3);
        assert_eq!(svg.matches("<path class=\"edge uses\"").count(), 1);
        for name in ["base", "python", "app", "tools"] {
            assert!(
                svg.contains(&format!("<a href=\"images/{name}.html\"")),
                "{svg}"
            );
        }
    }

    #[test]
    fn wide_layers_are_moved_apart_and_curves_follow_their_ends() {
        let names: Vec<String> = (0..30).map(|i| format!("child-{i}")).collect();
        let mut nodes = vec![node("base")];
        nodes.extend(names.iter().map(|n| node(n)));
        let links: Vec<Link> = (1..=30)
            .map(|to| Link {
                from: 0,
                to,
                uses: false,
            })
            .collect();
        let svg = svg(&nodes, &links, "wide");
        let gap = top(&svg, "child-0") - (top(&svg, "base") + HEIGHT);
        assert!((gap - MAX_LAYER_GAP).abs() < 0.5, "{gap}");
        // Every curve still starts on the base's box and ends on a child's.
        for d in svg.split("d=\"M ").skip(1) {
            let start_y: f64 = d.split(' ').nth(1).unwrap().parse().unwrap();
            let end_y: f64 = d[..d.find('"').unwrap()]
                .rsplit(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let on = |y: f64, box_top: f64| (box_top - 1.0..=box_top + HEIGHT + 1.0).contains(&y);
            assert!(on(start_y, top(&svg, "base")), "{d}");
            assert!(on(end_y, top(&svg, "child-0")), "{d}");
        }
    }

    #[test]
    fn an_empty_catalog_has_an_empty_picture() {
        let svg = svg(&[], &[], "none");
        assert!(svg.starts_with("<svg") && !svg.contains("<a "));
    }

    #[test]
    fn names_and_titles_are_text() {
        let mut n = node("x");
        n.detail = "<b>\"".into();
        let svg = svg(&[n], &[], "<script>");
        assert!(svg.contains("&lt;b&gt;&quot;") && svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
    }
}
