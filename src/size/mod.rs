//! What an image's layers hold, for `hier size`: the saved image read as a stream
//! ([`archive`]) and what its layers say about its size ([`analysis`]).

pub mod analysis;
pub mod archive;
