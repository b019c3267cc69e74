//! Reading what customers send about their assets: scanner reports (Nmap,
//! Nessus, OpenVAS/GVM, Qualys, and scanner findings exported as CSV),
//! asset lists (CSV, JSON) and offline vulnerability data (NVD, CISA KEV,
//! FIRST EPSS), plus CPE 2.3 matching.
//!
//! Every reader streams: it yields one host (or one record) at a time from
//! a `BufRead`, with constant memory whatever the file size, and limits on
//! depth, element size and counts. A bad record is yielded as a
//! [`Rejection`] naming its line and the rest goes on; a file that cannot be
//! read on (a DTD, an undefined entity, a truncated document) ends with a
//! [`ScanError`] naming the line. XML readers never resolve DTDs or external
//! entities: a document that declares one is refused.
#![forbid(unsafe_code)]

pub mod assets;
pub mod cpe;
pub mod detect;
pub mod error;
pub mod findings_csv;
pub mod input;
pub mod model;
pub mod nessus;
pub mod nmap;
pub mod openvas;
pub mod qualys;
pub mod synthetic;
pub mod vulndb;
pub mod xml;

pub use detect::{Format, detect};
pub use error::{Rejection, ScanError};
pub use input::{Counted, Progress};
pub use model::{
    Cvss, FindingDefinition, ScanItem, ScannedFinding, ScannedHost, Scanner, Service, Severity,
    Software,
};
pub use xml::Limits;
