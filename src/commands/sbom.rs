//! `hier sbom IMG [--format spdx-json|cyclonedx-json]`: the bill of materials of the image's
//! recorded build, read from the engine that holds it (`sbom` makes the document); with a
//! builders file, from its first builder once the image crossed there.

use super::{Context, Format, Output};
use crate::error::Error;
use crate::sbom::{self, Identity};

pub fn run(cx: &Context, name: &str, builders: Option<&std::path::Path>) -> Result<Output, Error> {
    let repo = cx.open()?;
    let (image, entry) = super::recorded(&repo, name)?;
    let (engine, notes) = cx.reader(&repo, builders, vec![image.name.clone()])?;
    let repository = repo.catalog.repository(&image.name);
    let read = cx.block_on(async {
        match engine.inspect(&entry.image_id).await? {
            None => Ok(None),
            Some(_) => sbom::read(engine.as_ref(), &repository, &entry.image_id)
                .await
                .map(Some),
        }
    })?;
    let (components, distro) = super::held(read, name, &entry.image_id)?;
    let identity = Identity {
        name: name.to_string(),
        version: image.version.to_string(),
        image_id: entry.image_id.clone(),
        repository,
        created: entry.built_at.clone(),
        distro,
    };
    let format = match cx.format {
        Format::CycloneDxJson => sbom::Format::CycloneDx,
        _ => sbom::Format::Spdx,
    };
    let mut output = Output::json(&format.document(&identity, &components));
    output.stderr = notes;
    Ok(output)
}
