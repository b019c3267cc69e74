//! The asset inventory: reconciliation, imports, risk, and the use cases
//! around assets, findings and network ranges, and the per-tenant asset
//! index for correlation.

pub mod importer;
pub(crate) mod index;
pub mod reconcile;
pub mod risk;
pub mod service;
pub mod sources;
pub mod vulndb;

/// The asset index `App::asset_index` returns, and what it answers.
pub use garrison_detect::asset_index::{
    AssetIndex, AssetProfile, DEFAULT_ZONE, Lookup, RangeProfile,
};
pub use service::{AssetDetail, AssetInput, BulkChange, ImportFile};
pub use vulndb::{
    CPE_MATCH_SCANNER, CvssSource, FindingFacts, MatchCounts, VulnImportSummary, VulnSkip,
};

pub use garrison_scan::{Format, Progress};

/// The CSV template for asset lists, with the documented columns.
#[must_use]
pub fn csv_template() -> String {
    garrison_scan::assets::csv_template()
}
