//! How big an image is: its size and what it adds over its parent, as the engine reports them
//! (recorded by every build, shown by `hier docs`), and, for `hier size`, what its layers hold:
//! the saved image read as a stream ([`archive`]), what its layers say ([`analysis`]), and
//! each layer named by the instruction that made it ([`layers`]).

pub mod analysis;
pub mod archive;
pub mod layers;

use crate::budget::Sizes;
use crate::engine::{Engine, EngineError};

/// The image's size, and what it adds over `parent` when the engine has that; `None` when the
/// engine does not have the image.
pub async fn measure(
    engine: &dyn Engine,
    image_id: &str,
    parent: Option<&str>,
) -> Result<Option<Sizes>, EngineError> {
    let Some(image) = engine.inspect(image_id).await? else {
        return Ok(None);
    };
    let parent = match parent {
        Some(parent) => engine.inspect(parent).await?,
        None => None,
    };
    Ok(Some(Sizes {
        size: image.size,
        added: parent.map(|p| image.size.saturating_sub(p.size)),
    }))
}
