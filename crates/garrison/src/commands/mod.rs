//! The subcommands.

pub mod admin;
pub mod demo;
pub mod serve;
