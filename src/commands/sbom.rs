//! `hier sbom IMG [--format spdx-json|cyclonedx-json]`: the bill of materials of the image's
//! recorded build, read from the engine that holds it (`sbom` makes the document).

use super::{Context, Format, Output};
use crate::error::Error;
use crate::sbom::{self, Identity};

pub fn run(cx: &Context, name: &str) -> Result<Output, Error> {
    let repo = cx.open()?;
    let image = repo.image_arg(name)?;
    let Some(entry) = repo.lock.images.get(name) else {
        return Err(Error::usage_help(
            format!("`{name}` has never been built: hier.lock records no build of it"),
            format!("build it with `hier rebuild {name}`"),
        ));
    };
    let engine = cx.engine(&repo.catalog.platform)?;
    let repository = repo.catalog.repository(&image.name);
    let read = cx.block_on(async {
        match engine.inspect(&entry.image_id).await? {
            None => Ok(None),
            Some(_) => sbom::read(engine.as_ref(), &repository, &entry.image_id)
                .await
                .map(Some),
        }
    })?;
    let (components, distro) = read
        .map_err(|e| Error::Failed(format!("cannot read `{name}` from the engine: {e}")))?
        .ok_or_else(|| {
            Error::Failed(format!(
                "the engine does not hold the recorded build of `{name}` ({}): rebuild it, or pull it by its pushed digest",
                crate::hash::short(&entry.image_id)
            ))
        })?;
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
    Ok(Output::json(&format.document(&identity, &components)))
}
