//! The subcommands.

pub mod admin;
pub mod bench;
pub mod demo;
pub mod import;
pub mod ingest;
pub mod serve;
