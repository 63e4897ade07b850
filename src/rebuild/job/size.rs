//! After an image passed its tests: its size and the bytes it adds over its parent, as the
//! engine reports them (recorded in the lock and the report), checked against its budgets. An
//! image over budget fails like a failed test, with its largest new layers named by the
//! Dockerfile instructions that made them.

use super::log::Log;
use super::{Stop, stop};
use crate::budget::{self, Budget, Sizes};
use crate::engine::{Engine, EngineError};
use crate::rebuild::outcome::Failure;
use crate::size::layers::Step;

/// The largest layers an over-budget image names.
const LARGEST: usize = 3;

/// What checking one image's size needs.
#[derive(Debug, Clone, Default)]
pub struct SizeCheck {
    pub budget: Budget,
    /// The image it is built on (a base: its `from`).
    pub parent_id: Option<String>,
    /// The final stage's instructions, to name layers by, and the file they are in.
    pub steps: Vec<Step>,
    pub dockerfile: String,
}

/// Measures `image_id` and checks it against the budget; over budget, the largest new layers
/// go to `output` and the image fails.
pub(super) async fn check(
    engine: &dyn Engine,
    check: &SizeCheck,
    image_id: &str,
    log: &mut Log,
    output: &mut Vec<String>,
) -> Result<Sizes, Stop> {
    let sizes = crate::size::measure(engine, image_id, check.parent_id.as_deref())
        .await
        .and_then(|s| {
            s.ok_or_else(|| EngineError::Failed(format!("the engine has no image {image_id}")))
        })
        .map_err(|e| stop(e, Failure::Engine))?;
    let added = sizes.added.map_or(String::new(), |a| {
        format!(", {} over its parent", budget::shown(a))
    });
    log.line(&format!("hier: size {}{added}", budget::shown(sizes.size)));
    let excess = budget::excess(&check.budget, &sizes);
    if excess.is_empty() {
        return Ok(sizes);
    }
    *output = largest_layers(engine, check, image_id)
        .await
        .map_err(|e| stop(e, Failure::Engine))?;
    for line in output.iter() {
        log.line(&format!("hier: {line}"));
    }
    Err(Failure::Budget(excess.join("; ")).into())
}

/// The layers the image has beyond its parent's, largest first, with their instructions.
async fn largest_layers(
    engine: &dyn Engine,
    check: &SizeCheck,
    image_id: &str,
) -> Result<Vec<String>, EngineError> {
    let history = engine.history(image_id).await?;
    let below = match &check.parent_id {
        Some(parent) => engine.history(parent).await?.len(),
        None => 0,
    };
    let added = history.get(below..).unwrap_or_default();
    let mut lines = vec!["its largest new layers:".to_string()];
    lines.extend(crate::size::layers::largest(
        added,
        &check.steps,
        &check.dockerfile,
        LARGEST,
    ));
    Ok(lines)
}
