//! hier manages a layered hierarchy of container images declared in one catalog: it renders
//! their Dockerfiles from templates, works out what changed, and plans the rebuild of the
//! changed images and everything that descends from them.
//!
//! The core is pure (catalog → graph → inputs → plan); reading the repository lives in `repo`,
//! printing in `run` and the commands.

pub mod budget;
pub mod catalog;
pub mod changed;
pub mod cli;
pub mod commands;
pub mod context;
pub mod diagnostic;
pub mod dockerfile;
pub mod engine;
pub mod error;
pub mod gc;
pub mod git;
pub mod graph;
pub mod hash;
pub mod help;
pub mod inherit;
pub mod inputs;
pub mod interrupt;
pub mod lint;
pub mod lock;
pub mod name;
pub mod packages;
pub mod plan;
pub mod plural;
pub mod pool;
pub mod push;
pub mod rebuild;
pub mod reference;
pub mod refresh;
pub mod registry;
pub mod repo;
pub mod report;
pub mod run;
pub mod runlock;
pub mod sbom;
pub mod schedule;
pub mod secrets;
pub mod shown;
pub mod site;
pub mod size;
pub mod source;
pub mod state;
pub mod structure;
pub mod style;
pub mod table;
pub mod tags;
pub mod templates;
