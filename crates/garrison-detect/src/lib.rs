//! Garrison's correlation: what the detection pipeline computes from events
//! and the tenant's inventory. For now the [`asset_index`]; indicator
//! matching, Sigma rules, thresholds and scoring will join it.
//!
//! This crate is pure: it does no IO, knows nothing of databases, HTTP or
//! async runtimes, and is given the time rather than reading a clock.
//! `.ci/check-deps` fails the build if that changes.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod asset_index;
pub mod correlation;
pub mod enrich;
pub mod scoring;

pub use asset_index::{AssetIndex, AssetProfile, DEFAULT_ZONE, Lookup, RangeProfile};
