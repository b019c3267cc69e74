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

/// A YAML alias bomb ("billion laughs"): ten levels of ten aliases each,
/// 10^10 nodes if expanded; one mapping entry per line, anchors `a`, `l0`
/// … `l8`. For the rule loaders' hostile-input tests.
#[cfg(test)]
pub(crate) fn yaml_alias_bomb() -> String {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 10].join(", ");
        bomb.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    bomb
}
