//! From a file to import items: format detection, the right reader, and
//! the conversion of what it yields into [`ImportItem`]s.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use garrison_core::asset::{AssetService, AssetSoftware, Source};
use garrison_scan::assets::{AssetItem, AssetRecord};
use garrison_scan::{Counted, Format, Limits, ScanError, ScanItem, ScannedHost, detect};

use super::importer::{HostItem, ImportItem};
use super::reconcile::Observation;
use crate::{AppError, AppResult};

/// A boxed stream of import items.
pub type Items = Box<dyn Iterator<Item = Result<ImportItem, ScanError>> + Send>;

/// Reads the first kilobytes of `path` and recognises its format.
///
/// # Errors
/// When the file cannot be read or its format is not recognised.
pub fn detect_file(path: &Path) -> AppResult<Format> {
    let mut head = vec![0u8; 8192];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| AppError::invalid("file", format!("cannot read {}: {e}", path.display())))?;
    head.truncate(n);
    detect(&head).ok_or_else(|| {
        AppError::invalid(
            "format",
            "the file's format is not recognised; give it with --format (nmap, nessus, openvas, qualys, scan-csv, csv, json)",
        )
    })
}

fn host_item(h: ScannedHost, scanner: &str) -> ImportItem {
    let obs = Observation {
        ips: h.ips,
        macs: h.macs,
        hostname: h.hostname,
        fqdn: h.fqdn,
        os: h.os,
        services: h
            .services
            .into_iter()
            .map(|s| AssetService {
                port: s.port,
                protocol: s.protocol,
                name: s.name,
                product: s.product,
                version: s.version,
            })
            .collect(),
        software: h
            .software
            .into_iter()
            .map(|s| AssetSoftware {
                name: s.name,
                version: s.version,
                cpe: s.cpe,
            })
            .collect(),
        ..Observation::default()
    };
    ImportItem::Host(Box::new(HostItem {
        line: h.line,
        obs,
        source: Source::Scanner(scanner.to_owned()),
        seen_at: h.scanned_at,
        findings: h.findings,
    }))
}

fn record_item(r: AssetRecord, list: &str) -> ImportItem {
    let obs = Observation {
        ips: r.ips,
        macs: r.macs,
        hostname: r.hostname,
        fqdn: r.fqdn,
        os: r.os,
        zone: r.zone,
        asset_type: r.asset_type,
        owner: r.owner,
        business_unit: r.business_unit,
        location: r.location,
        criticality: r.criticality,
        sensitivity: r.sensitivity,
        regulations: (!r.regulations.is_empty()).then(|| r.regulations.into_iter().collect()),
        tags: (!r.tags.is_empty()).then(|| r.tags.into_iter().collect()),
        internet_exposed: r.internet_exposed,
        services: r
            .services
            .into_iter()
            .map(|s| AssetService {
                port: s.port,
                protocol: s.protocol,
                name: s.name,
                product: s.product,
                version: s.version,
            })
            .collect(),
        software: r
            .software
            .into_iter()
            .map(|s| AssetSoftware {
                name: s.name,
                version: s.version,
                cpe: s.cpe,
            })
            .collect(),
    };
    ImportItem::Host(Box::new(HostItem {
        line: r.line,
        obs,
        source: Source::AssetList(list.to_owned()),
        seen_at: None,
        findings: Vec::new(),
    }))
}

fn scan_item(
    item: Result<ScanItem, ScanError>,
    scanner: &'static str,
) -> Result<ImportItem, ScanError> {
    item.map(|i| match i {
        ScanItem::Host(h) => host_item(*h, scanner),
        ScanItem::Definition(d) => ImportItem::Definition(d),
        ScanItem::Rejected(r) => ImportItem::Rejected(r),
    })
}

fn asset_item(
    item: Result<AssetItem, ScanError>,
    list: &'static str,
) -> Result<ImportItem, ScanError> {
    item.map(|i| match i {
        AssetItem::Record(r) => record_item(*r, list),
        AssetItem::Rejected(r) => ImportItem::Rejected(r),
    })
}

/// Opens `path` as `format` and returns its items.
///
/// # Errors
/// When the file cannot be opened, or the format is not an asset list or a
/// scan report.
pub fn open(
    path: &Path,
    format: Format,
    input_progress: std::sync::Arc<garrison_scan::Progress>,
) -> AppResult<Items> {
    let file = File::open(path)
        .map_err(|e| AppError::invalid("file", format!("cannot open {}: {e}", path.display())))?;
    let input =
        Counted::new(BufReader::with_capacity(256 * 1024, file)).with_progress(input_progress);
    let limits = Limits::default();
    Ok(match format {
        Format::Nessus => {
            Box::new(garrison_scan::nessus::read(input, limits).map(|i| scan_item(i, "nessus")))
        }
        Format::Nmap => {
            Box::new(garrison_scan::nmap::read(input, limits).map(|i| scan_item(i, "nmap")))
        }
        Format::Openvas => {
            Box::new(garrison_scan::openvas::read(input, limits).map(|i| scan_item(i, "openvas")))
        }
        Format::Qualys => {
            Box::new(garrison_scan::qualys::read(input, limits).map(|i| scan_item(i, "qualys")))
        }
        Format::FindingsCsv => {
            // The scanner (which names the source) is known once the header
            // is read, before the first item comes out.
            let mut reader = garrison_scan::findings_csv::read(input, limits);
            Box::new(std::iter::from_fn(move || {
                let item = reader.next()?;
                let scanner = reader
                    .scanner()
                    .map_or("csv", garrison_scan::Scanner::as_str);
                Some(scan_item(item, scanner))
            }))
        }
        Format::AssetsCsv => {
            Box::new(garrison_scan::assets::read_csv(input).map(|i| asset_item(i, "csv")))
        }
        Format::AssetsJson => {
            Box::new(garrison_scan::assets::read_json(input).map(|i| asset_item(i, "json")))
        }
        Format::NvdJson | Format::KevJson | Format::EpssCsv => {
            return Err(AppError::invalid(
                "format",
                "this is vulnerability data, not an asset list or scan: use `garrison import vulndb`",
            ));
        }
    })
}
