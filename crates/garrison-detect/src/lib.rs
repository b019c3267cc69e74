//! Garrison's correlation: what the detection pipeline computes from events
//! and the tenant's inventory: the [`asset_index`], the [`indicator_index`],
//! [`enrich`]ment, [`sigma`] rules, threshold and sequence rules
//! ([`correlation`]), [`alerts`] and their [`scoring`].
//!
//! This crate is pure: it does no IO, knows nothing of databases, HTTP or
//! async runtimes, and is given the time rather than reading a clock.
//! `.ci/check-deps` fails the build if that changes.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod asset_index;
pub mod correlation;
pub mod enrich;
pub mod indicator_index;
pub mod scoring;
pub mod sigma;

pub use asset_index::{AssetIndex, AssetProfile, DEFAULT_ZONE, Lookup, RangeProfile};
pub use indicator_index::{IndexError, IndicatorHit, IndicatorIndex, IndicatorIndexBuilder};
