//! `hier refresh`, the nightly job, at the cost of what changed: [`find`] resolves the
//! upstream identity of each due base and asks every recorded image (an unchanged base among
//! them) whether its OS packages have updates pending ([`ask`]: each image's packages and
//! [`sources`] read without running it, one [`index`] download per set of sources), shown by
//! [`progress`]; the run itself is a rebuild under the refresh's [`policy`] (candidates rebuilt
//! with no cache, an image whose upstream and packages did not change kept, the rest promoted
//! and cascaded); and [`report`] writes what people read. `refresh` builds on `rebuild`, never
//! the reverse.

pub mod ask;
pub mod find;
pub mod index;
pub mod known;
pub mod policy;
pub mod progress;
pub mod report;
pub mod sources;

pub use find::{Due, Findings, How, find};
pub use policy::RefreshPolicy;

#[cfg(test)]
mod find_tests;
#[cfg(test)]
mod tests;
