//! `hier refresh`, the nightly job: [`find`] resolves the upstream identity of
//! each due base and asks every other image whether its OS packages have updates pending; the
//! run itself is a rebuild under the refresh's [`policy`] (candidates rebuilt with no cache, an
//! image whose upstream and packages did not change kept, the rest promoted and cascaded); and
//! [`report`] writes what people read. `refresh` builds on `rebuild`, never the reverse.

pub mod find;
pub mod policy;
pub mod report;

pub use find::{Due, Findings, find};
pub use policy::RefreshPolicy;

#[cfg(test)]
mod tests;
