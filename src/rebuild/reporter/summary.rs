//! What stays when a run ends: the report as a table for people, or as the JSON run report for
//! programs (its fields are in the README's reference).

use std::io::Write;

use super::Reporter;
use crate::rebuild::event::Event;
use crate::report::Report;
use crate::style::Styles;

/// The table of images (nothing when the run had nothing to do).
pub struct Table<W> {
    out: W,
    styles: Styles,
}

impl<W: Write + Send> Table<W> {
    pub fn new(out: W, styles: Styles) -> Self {
        Table { out, styles }
    }
}

impl<W: Write + Send> Reporter for Table<W> {
    fn event(&mut self, _: &Event) {}

    fn finish(&mut self, report: &Report) {
        if !report.images.is_empty() {
            let _ = self.out.write_all(report.table(&self.styles).as_bytes());
        }
    }
}

/// The JSON report.
pub struct Json<W> {
    out: W,
}

impl<W: Write + Send> Json<W> {
    pub fn new(out: W) -> Self {
        Json { out }
    }
}

impl<W: Write + Send> Reporter for Json<W> {
    fn event(&mut self, _: &Event) {}

    fn finish(&mut self, report: &Report) {
        let _ = self.out.write_all(report.json().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;
    use crate::report::{ImageReport, Status};

    fn report() -> Report {
        let images = vec![
            ImageReport {
                name: "base".into(),
                status: Status::Built,
                image_id: Some(format!("sha256:{}", "ab".repeat(32))),
                duration_s: 1.5,
                reason: "new".into(),
                log: Some(".hier/logs/20261203T010203Z/base.log".into()),
                ..Default::default()
            },
            ImageReport {
                name: "app".into(),
                status: Status::Skipped,
                reason: "parent rebuilt: base".into(),
                error: Some("`base` failed".into()),
                ..Default::default()
            },
        ];
        let run = "20261203T010203Z".to_string();
        let revision = Some("0123abc".to_string());
        let mut report = Report::new("rebuild", run, revision, false, images, Exit::Failed);
        report.hier_version = "0.1.0".into();
        report
    }

    #[test]
    fn the_table_lists_each_image() {
        let mut out = Vec::new();
        Table::new(&mut out, Styles::new(false)).finish(&report());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "IMAGE  STATUS   TIME  IMAGE ID      NOTE\n\
             base   built    1.5s  abababababab  new\n\
             app    skipped  0.0s                `base` failed\n"
        );
    }

    #[test]
    fn the_json_report_is_one_document() {
        let mut out = Vec::new();
        Json::new(&mut out).finish(&report());
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"{
  "command": "rebuild",
  "hier_version": "0.1.0",
  "revision": "0123abc",
  "exit_code": 1,
  "counts": {
    "built": 1,
    "failed": 0,
    "fetched": 0,
    "pushed": 0,
    "skipped": 1,
    "tested": 0,
    "unchanged": 0
  },
  "run": "20261203T010203Z",
  "interrupted": false,
  "images": [
    {
      "name": "base",
      "status": "built",
      "image_id": "sha256:abababababababababababababababababababababababababababababababab",
      "duration_s": 1.5,
      "reason": "new",
      "log": ".hier/logs/20261203T010203Z/base.log"
    },
    {
      "name": "app",
      "status": "skipped",
      "image_id": null,
      "duration_s": 0.0,
      "reason": "parent rebuilt: base",
      "log": null,
      "error": "`base` failed"
    }
  ]
}
"#
        );
    }
}
