//! Every image a job builds that passes its tests and budgets gets its bills of materials, SPDX
//! and CycloneDX, in `.hier/sbom/<name>/<version>-<id12>.spdx.json` and `.cdx.json`, before it
//! is tagged. They are a record, not a check: an image whose packages cannot be read is still
//! built, and its log says why.

use std::time::SystemTime;

use super::Job;
use super::log::Log;
use crate::engine::Engine;
use crate::sbom::{self, Format, Identity};

pub(super) async fn write(engine: &dyn Engine, job: &Job, image_id: &str, log: &mut Log) {
    let (components, distro) = match sbom::read(engine, &job.repository, image_id).await {
        Ok(read) => read,
        Err(e) => {
            log.line(&format!("hier: no bill of materials: {e}"));
            return;
        }
    };
    let identity = Identity {
        name: job.name.to_string(),
        version: job.version.to_string(),
        image_id: image_id.to_string(),
        repository: job.repository.clone(),
        created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        distro,
    };
    let dir = &job.sbom_dir;
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        log.line(&format!(
            "hier: no bill of materials: {} is a symlink",
            dir.display()
        ));
        return;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        log.line(&format!(
            "hier: no bill of materials: cannot create {}: {e}",
            dir.display()
        ));
        return;
    }
    let stem = crate::tags::immutable_tag(&job.version, image_id);
    for format in [Format::Spdx, Format::CycloneDx] {
        let path = dir.join(format!("{stem}.{}", format.extension()));
        let mut text = serde_json::to_string_pretty(&format.document(&identity, &components))
            .expect("a document serialises");
        text.push('\n');
        match crate::lock::write_atomic(&path, text.as_bytes()) {
            Ok(()) => log.line(&format!(
                "hier: bill of materials ({} packages): {}",
                components.len(),
                crate::source::display_path(&path).display()
            )),
            Err(e) => log.line(&format!("hier: cannot write {}: {e}", path.display())),
        }
    }
}
