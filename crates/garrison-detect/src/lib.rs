//! Garrison's correlation: what the detection pipeline computes from events
//! and the tenant's inventory: the [`asset_index`] and [`sigma`] rules;
//! indicator matching, thresholds and scoring will join them.
//!
//! This crate is pure: it does no IO, knows nothing of databases, HTTP or
//! async runtimes, and is given the time rather than reading a clock.
//! `.ci/check-deps` fails the build if that changes.
#![forbid(unsafe_code)]

pub mod asset_index;
pub mod sigma;

pub use asset_index::{AssetIndex, AssetProfile, DEFAULT_ZONE, Lookup, RangeProfile};
