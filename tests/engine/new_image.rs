//! End to end: an image added with `hier new` builds at once, its test passing, and runs as
//! `nobody` with its folder in `/app`.

use super::common::engine::{pairs, statuses};
use super::common::hierarchy::Hierarchy;

#[test]
fn an_image_added_with_new_builds_and_passes_its_test_at_once() {
    let h = Hierarchy::new(
        "new",
        r#"
[images.base]
from = "hier-test/busybox:1"
version = "1.0.0"
template = "layer.hbs"
"#,
    );
    let run = h.hier(&["new", "web", "--parent", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    h.repo.write("images/web/index.html", "hello\n");
    h.commit();
    let (run, report) = h.rebuild(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&report),
        pairs(&[("base", "built"), ("web", "built")])
    );
    let image = h.reference("web", "0.1.0");
    assert_eq!(h.inspect(&image, "{{.Config.User}}"), "65534");
    assert_eq!(h.inspect(&image, "{{.Config.WorkingDir}}"), "/app");
}
