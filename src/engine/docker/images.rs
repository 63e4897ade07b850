//! The images hier built, as the engine lists them (labelled with their repository, or tagged
//! under the catalog's registry), and the removal of one reference; what `hier gc` works on.

use std::collections::{BTreeMap, HashMap};

use bollard::errors::Error as BollardError;
use bollard::models::ImageSummary;
use bollard::query_parameters::{ListImagesOptions, RemoveImageOptions};

use super::Docker;
use crate::engine::{EngineError, StoredImage};

/// The label every build of hier carries.
const BUILT_BY_HIER: &str = "io.hier.fingerprint";
/// The label naming the build's repository.
const REPOSITORY: &str = "io.hier.repository";

/// Every image hier built under `repository_prefix/`: labelled so (tagged or not), or tagged
/// there; two listings the engine filters, merged by id.
pub(super) async fn built_images(
    docker: &Docker,
    repository_prefix: &str,
) -> Result<Vec<StoredImage>, EngineError> {
    let labelled = list(docker, "label", REPOSITORY.to_string()).await?;
    let tagged = list(docker, "reference", format!("{repository_prefix}/*")).await?;
    let mine = |i: &ImageSummary| {
        i.labels.contains_key(BUILT_BY_HIER)
            && (i
                .labels
                .get(REPOSITORY)
                .is_some_and(|r| r.starts_with(&format!("{repository_prefix}/")))
                || i.repo_tags
                    .iter()
                    .any(|t| t.starts_with(&format!("{repository_prefix}/"))))
    };
    // A listing by reference shows only the matching tags: the tags of an image are the union
    // of what both listings show.
    let mut by_id: BTreeMap<String, ImageSummary> = BTreeMap::new();
    for image in labelled.into_iter().chain(tagged).filter(mine) {
        match by_id.get_mut(&image.id) {
            Some(seen) => {
                for tag in image.repo_tags {
                    if !seen.repo_tags.contains(&tag) {
                        seen.repo_tags.push(tag);
                    }
                }
            }
            None => {
                by_id.insert(image.id.clone(), image);
            }
        }
    }
    // An image without the label was seen through the reference listing only: ask for all
    // its tags, so a tag outside the registry is never missed.
    for image in by_id.values_mut() {
        if !image.labels.contains_key(REPOSITORY)
            && let Ok(full) = docker.docker.inspect_image(&image.id).await
        {
            image.repo_tags = full.repo_tags.unwrap_or_default();
        }
    }
    Ok(by_id
        .into_values()
        .map(|i| StoredImage {
            repository: i.labels.get(REPOSITORY).cloned(),
            tags: i
                .repo_tags
                .into_iter()
                .filter(|t| t != "<none>:<none>")
                .collect(),
            size: u64::try_from(i.size).unwrap_or(0),
            id: i.id,
        })
        .collect())
}

async fn list(
    docker: &Docker,
    filter: &str,
    value: String,
) -> Result<Vec<ImageSummary>, EngineError> {
    let filters = HashMap::from([(filter.to_string(), vec![value])]);
    docker
        .docker
        .list_images(Some(ListImagesOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(|e| docker.error(e))
}

/// Removes a tag (the image goes with its last one), or an untagged image by id; never forced,
/// so an image a container uses stays. `false` when there was nothing to remove.
pub(super) async fn remove(docker: &Docker, reference: &str) -> Result<bool, EngineError> {
    match docker
        .docker
        .remove_image(reference, None::<RemoveImageOptions>, None)
        .await
    {
        Ok(_) => Ok(true),
        Err(BollardError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(docker.error(e)),
    }
}
