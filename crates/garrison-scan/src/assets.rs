//! Asset lists: CSV and JSON exports of a CMDB or a software inventory,
//! read one asset at a time.
//!
//! Both readers stream. CSV goes through the `csv` crate with the separator
//! (`,` or `;`) taken from the header line; JSON is either one array of
//! objects or one object after another (NDJSON), and is cut into elements
//! by a small scanner so that only one element is held at a time. Column
//! and key names share one table of aliases ([`COLUMNS`] documents it).
//!
//! Consecutive records that name the same host (same hostname, FQDN,
//! addresses and MACs) are one host described row by row, as a package
//! inventory does: they come out as one [`AssetRecord`] whose software is
//! the rows' software. Only that record is buffered.
//!
//! Values are attacker-controlled text. They are checked where they have a
//! shape (addresses, enums, services), trimmed and capped, and otherwise
//! left as they are: nothing here interprets them, and whoever shows them
//! escapes them.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::net::IpAddr;

use garrison_core::asset::{self, AssetType, Criticality, Sensitivity};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::{Service, Software, cap, normalise_mac};

/// Free-text values (owner, location, software names...) are cut after
/// this many characters.
const MAX_TEXT_CHARS: usize = 256;

/// Software entries kept per host. A package inventory of a real host has a
/// few thousand; more means a broken or hostile file.
const MAX_SOFTWARE: usize = 100_000;

/// The largest CSV record or JSON element read. Anything larger is skipped
/// (JSON) or skipped up to its end (CSV) and rejected.
pub(crate) const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The longest DNS name.
const MAX_NAME_BYTES: usize = 253;

/// How much of a bad value a rejection quotes.
const QUOTED_CHARS: usize = 64;

pub(crate) const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// The columns of a CSV asset list (and keys of a JSON one), with a
/// one-line description each, in the order of the downloadable template.
/// Names are matched case-insensitively, ignoring spaces, underscores and
/// hyphens; the aliases named in each description are accepted too.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "hostname",
        "Short host name; also `host`, `name`. A full DNS name here also fills `fqdn`.",
    ),
    ("fqdn", "Fully qualified DNS name; also `dns`, `dns_name`."),
    (
        "ip",
        "IPv4 or IPv6 addresses, several separated by `;`, `,` or spaces; also `ip_address`, `ips`, `address`.",
    ),
    (
        "mac",
        "MAC addresses in any usual notation, several separated as for `ip`; also `mac_address`, `macs`.",
    ),
    (
        "zone",
        "Network zone, so that the same private address at two sites stays two assets.",
    ),
    ("os", "Operating system; also `operating_system`."),
    (
        "os_version",
        "Operating system version, appended to `os`; also `operating_system_version`.",
    ),
    (
        "type",
        "Asset type: server, workstation, network-device, firewall, cloud-resource, iot-ot, mobile, printer or other; also `asset_type`.",
    ),
    ("owner", "Person or team responsible for the asset."),
    ("business_unit", "Business unit; also `bu`, `department`."),
    ("location", "Site, building or room; also `site`."),
    (
        "criticality",
        "How much the business depends on the asset: low, medium, high or critical.",
    ),
    (
        "sensitivity",
        "Most sensitive data the asset holds: public, internal, confidential or restricted; also `data_classification`, `classification`.",
    ),
    (
        "regulations",
        "Regulations in scope, separated by `;` (PCI-DSS, HIPAA, GDPR, NIS2, SOX, ISO-27001 or your own); also `regulation`, `compliance`.",
    ),
    ("tags", "Free tags, separated by `;`; also `tag`."),
    (
        "internet_exposed",
        "Reachable from the internet: yes/no, true/false, y/n or 1/0; also `exposed`, `internet_facing`.",
    ),
    (
        "services",
        "Listening services as port/protocol with an optional name, separated by `;`, e.g. `443/tcp:https;53/udp`; also `service`.",
    ),
    (
        "software_name",
        "One installed software package per row; also `software`, `package`, `package_name`.",
    ),
    (
        "software_version",
        "Version of `software_name`; also `version`, `package_version`.",
    ),
    (
        "software_cpe",
        "CPE 2.3 name of `software_name`; also `cpe`.",
    ),
];

/// Example values for the template, one array per example row, in the
/// order of [`COLUMNS`].
const TEMPLATE_ROWS: [[&str; 20]; 2] = [
    [
        "web01",
        "web01.corp.example.com",
        "10.0.1.10;10.0.1.11",
        "00:1a:2b:3c:4d:5e",
        "dmz",
        "Ubuntu",
        "22.04",
        "server",
        "Web team",
        "E-commerce",
        "Frankfurt DC1",
        "high",
        "confidential",
        "PCI-DSS;GDPR",
        "prod;web",
        "yes",
        "443/tcp:https;22/tcp:ssh",
        "nginx",
        "1.24.0",
        "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*",
    ],
    [
        "lt-0042",
        "",
        "10.20.3.57",
        "00-1B-63-84-45-E6",
        "office",
        "Windows 11",
        "23H2",
        "workstation",
        "Jane Doe",
        "Finance",
        "Berlin HQ, 2nd floor",
        "medium",
        "internal",
        "",
        "laptop",
        "no",
        "",
        "",
        "",
        "",
    ],
];

/// One asset as an asset list describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AssetRecord {
    /// 1-based line of the file where the record (its first row) starts.
    pub line: u64,
    /// Short host name (no domain), lower case.
    pub hostname: Option<String>,
    /// Fully qualified name, lower case.
    pub fqdn: Option<String>,
    /// Addresses, without duplicates, in the order given.
    pub ips: Vec<IpAddr>,
    /// Lower-case, colon-separated MACs, without duplicates.
    pub macs: Vec<String>,
    /// Network zone, as given.
    pub zone: Option<String>,
    /// Operating system, with its version when a separate column gives one.
    pub os: Option<String>,
    /// What kind of thing the asset is.
    pub asset_type: Option<AssetType>,
    /// Person or team responsible.
    pub owner: Option<String>,
    /// Business unit or department.
    pub business_unit: Option<String>,
    /// Site, building or room.
    pub location: Option<String>,
    /// How much the business depends on the asset.
    pub criticality: Option<Criticality>,
    /// The most sensitive data the asset holds.
    pub sensitivity: Option<Sensitivity>,
    /// Normalised regulation names (see [`asset::regulation`]).
    pub regulations: Vec<String>,
    /// Normalised tags (see [`asset::tag`]).
    pub tags: Vec<String>,
    /// Whether the asset is reachable from the internet.
    pub internet_exposed: Option<bool>,
    /// Listening services.
    pub services: Vec<Service>,
    /// Installed software, at most 100 000 entries.
    pub software: Vec<Software>,
}

/// What the asset-list readers yield.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetItem {
    /// A usable asset.
    Record(Box<AssetRecord>),
    /// A row or element that was skipped, with its line and why.
    Rejected(Rejection),
}

/// The downloadable CSV template: the header of every column in
/// [`COLUMNS`] and two example rows, comma-separated with a final newline.
#[must_use]
pub fn csv_template() -> String {
    let mut out = String::new();
    let header: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    for row in std::iter::once(&header[..]).chain(TEMPLATE_ROWS.iter().map(|r| &r[..])) {
        let cells: Vec<String> = row.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Quotes a template cell when it holds a separator, quote or line break.
fn csv_cell(cell: &str) -> String {
    if cell.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

// ---------------------------------------------------------------------------
// Columns and keys

/// What a column (or JSON key) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Hostname,
    Fqdn,
    Ip,
    Mac,
    Zone,
    Os,
    OsVersion,
    AssetType,
    Owner,
    BusinessUnit,
    Location,
    Criticality,
    Sensitivity,
    Regulations,
    Tags,
    InternetExposed,
    Services,
    SoftwareName,
    SoftwareVersion,
    SoftwareCpe,
}

/// Accepted names per field; the first is the name in [`COLUMNS`].
const ALIASES: &[(Field, &[&str])] = &[
    (Field::Hostname, &["hostname", "host", "name"]),
    (Field::Fqdn, &["fqdn", "dns", "dns_name"]),
    (Field::Ip, &["ip", "ip_address", "ips", "address"]),
    (Field::Mac, &["mac", "mac_address", "macs"]),
    (Field::Zone, &["zone"]),
    (Field::Os, &["os", "operating_system"]),
    (
        Field::OsVersion,
        &["os_version", "operating_system_version"],
    ),
    (Field::AssetType, &["type", "asset_type"]),
    (Field::Owner, &["owner"]),
    (Field::BusinessUnit, &["business_unit", "bu", "department"]),
    (Field::Location, &["location", "site"]),
    (Field::Criticality, &["criticality"]),
    (
        Field::Sensitivity,
        &["sensitivity", "data_classification", "classification"],
    ),
    (
        Field::Regulations,
        &["regulations", "regulation", "compliance"],
    ),
    (Field::Tags, &["tags", "tag"]),
    (
        Field::InternetExposed,
        &["internet_exposed", "exposed", "internet_facing"],
    ),
    (Field::Services, &["services", "service"]),
    (
        Field::SoftwareName,
        &["software_name", "software", "package", "package_name"],
    ),
    (
        Field::SoftwareVersion,
        &["software_version", "version", "package_version"],
    ),
    (Field::SoftwareCpe, &["software_cpe", "cpe"]),
];

impl Field {
    /// The field a column or key name stands for, if any.
    fn for_name(name: &str) -> Option<Self> {
        ALIASES
            .iter()
            .find(|(_, names)| names.iter().any(|alias| same_name(name, alias)))
            .map(|(field, _)| *field)
    }

    const fn is_identifier(self) -> bool {
        matches!(self, Self::Hostname | Self::Fqdn | Self::Ip | Self::Mac)
    }

    /// Whether a JSON array is a list of values for this field (rather than
    /// a mistake).
    const fn takes_list(self) -> bool {
        matches!(
            self,
            Self::Ip
                | Self::Mac
                | Self::Regulations
                | Self::Tags
                | Self::Services
                | Self::SoftwareName
        )
    }
}

/// Compares a name from a file with an alias, ignoring case, spaces,
/// underscores and hyphens, without allocating (JSON keys are compared for
/// every element).
fn same_name(given: &str, alias: &str) -> bool {
    let kept = |c: &char| !matches!(c, ' ' | '_' | '-');
    given
        .chars()
        .filter(kept)
        .flat_map(char::to_lowercase)
        .eq(alias.chars().filter(kept))
}

// ---------------------------------------------------------------------------
// Values

/// Quotes a value for a rejection reason: control characters escaped and
/// at most a few dozen characters, since the value may be anything.
pub(crate) fn quote(value: &str) -> String {
    let mut shown: String = value.chars().take(QUOTED_CHARS).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("`{}`", shown.escape_debug())
}

/// Caps free text at [`MAX_TEXT_CHARS`] characters.
fn cap_text(value: &str) -> String {
    match value.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => cap(value, end),
        None => value.to_owned(),
    }
}

/// The parts of a list value: separated by `;`, `,` or white space.
fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Keeps the first non-empty value of a single-valued field.
fn keep_first(slot: &mut Option<String>, value: &str) {
    if slot.is_none() {
        *slot = Some(cap_text(value));
    }
}

fn parse_ip(value: &str) -> Result<IpAddr, String> {
    value
        .parse()
        .map_err(|_| format!("{} is not an IP address", quote(value)))
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!(
            "{} is not one of: yes, no, true, false, y, n, 1, 0",
            quote(value)
        )),
    }
}

fn parse_port(value: &str) -> Result<u16, String> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("{} is not a port (1 to 65535)", quote(value))),
    }
}

fn parse_protocol(value: &str) -> Result<String, String> {
    let protocol = value.trim().to_ascii_lowercase();
    if protocol == "tcp" || protocol == "udp" {
        Ok(protocol)
    } else {
        Err(format!("{} is not a protocol (tcp or udp)", quote(value)))
    }
}

/// Reads `443/tcp` or `443/tcp:https`.
fn parse_service(value: &str) -> Result<Service, String> {
    let malformed = || {
        format!(
            "{} is not a service (write port/protocol, e.g. `443/tcp` or `443/tcp:https`)",
            quote(value)
        )
    };
    let (port, rest) = value.split_once('/').ok_or_else(malformed)?;
    let (protocol, name) = match rest.split_once(':') {
        Some((protocol, name)) => (protocol, Some(name.trim()).filter(|n| !n.is_empty())),
        None => (rest, None),
    };
    Ok(Service {
        port: parse_port(port).map_err(|_| malformed())?,
        protocol: parse_protocol(protocol).map_err(|_| malformed())?,
        name: name.map(cap_text),
        product: None,
        version: None,
    })
}

/// Checks a host or DNS name: no spaces or control characters, at most 253
/// bytes. Returns it in lower case without a final dot.
fn parse_name(value: &str) -> Result<String, String> {
    let name = value.strip_suffix('.').unwrap_or(value);
    if name.is_empty()
        || name.len() > MAX_NAME_BYTES
        || name.starts_with('.')
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{} is not a host name (no spaces, at most {MAX_NAME_BYTES} characters)",
            quote(value)
        ));
    }
    Ok(name.to_lowercase())
}

/// The first label of a DNS name.
fn short_name(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_owned()
}

/// A JSON value as text, for the fields that take text.
fn json_text(value: &Value) -> Result<Option<String>, String> {
    Ok(match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(_) => return Err("expected a single value, found a list".to_owned()),
        Value::Object(_) => return Err("expected a value, found an object".to_owned()),
    })
}

/// What a JSON value is, for messages.
const fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One record's values as they are read, before the identifier check.
#[derive(Debug, Default)]
struct Draft {
    hostname: Option<String>,
    /// A short name given where an FQDN was expected.
    hostname_from_fqdn: Option<String>,
    fqdn: Option<String>,
    /// A full name given where a short one was expected.
    fqdn_from_hostname: Option<String>,
    ips: Vec<IpAddr>,
    macs: Vec<String>,
    zone: Option<String>,
    os: Option<String>,
    os_version: Option<String>,
    asset_type: Option<AssetType>,
    owner: Option<String>,
    business_unit: Option<String>,
    location: Option<String>,
    criticality: Option<Criticality>,
    sensitivity: Option<Sensitivity>,
    regulations: Vec<String>,
    tags: Vec<String>,
    internet_exposed: Option<bool>,
    services: Vec<Service>,
    software: Vec<Software>,
    software_name: Option<String>,
    software_version: Option<String>,
    software_cpe: Option<String>,
}

impl Draft {
    /// Takes one value of a column or key. Single-valued fields keep the
    /// first non-empty value (a list may name the same thing in two
    /// columns), but every value is checked.
    fn set(&mut self, field: Field, raw: &str) -> Result<(), String> {
        let value = raw.trim();
        if value.is_empty() {
            return Ok(());
        }
        match field {
            Field::Hostname => self.set_hostname(value)?,
            Field::Fqdn => self.set_fqdn(value)?,
            Field::Ip => {
                for part in split_list(value) {
                    push_unique(&mut self.ips, parse_ip(part)?);
                }
            }
            Field::Mac => {
                for part in split_list(value) {
                    let mac = normalise_mac(part)
                        .ok_or_else(|| format!("{} is not a MAC address", quote(part)))?;
                    push_unique(&mut self.macs, mac);
                }
            }
            Field::Zone => keep_first(&mut self.zone, value),
            Field::Os => keep_first(&mut self.os, value),
            Field::OsVersion => keep_first(&mut self.os_version, value),
            Field::AssetType => {
                let parsed = value.parse::<AssetType>().map_err(|e| e.reason)?;
                self.asset_type.get_or_insert(parsed);
            }
            Field::Owner => keep_first(&mut self.owner, value),
            Field::BusinessUnit => keep_first(&mut self.business_unit, value),
            Field::Location => keep_first(&mut self.location, value),
            Field::Criticality => {
                let parsed = value.parse::<Criticality>().map_err(|e| e.reason)?;
                self.criticality.get_or_insert(parsed);
            }
            Field::Sensitivity => {
                let parsed = value.parse::<Sensitivity>().map_err(|e| e.reason)?;
                self.sensitivity.get_or_insert(parsed);
            }
            Field::Regulations => {
                for part in value.split([';', ',']).filter(|p| !p.trim().is_empty()) {
                    push_unique(
                        &mut self.regulations,
                        asset::regulation(part).map_err(|e| e.reason)?,
                    );
                }
            }
            Field::Tags => {
                for part in value.split([';', ',']).filter(|p| !p.trim().is_empty()) {
                    push_unique(&mut self.tags, asset::tag(part).map_err(|e| e.reason)?);
                }
            }
            Field::InternetExposed => {
                let parsed = parse_bool(value)?;
                self.internet_exposed.get_or_insert(parsed);
            }
            Field::Services => {
                for part in split_list(value) {
                    push_unique(&mut self.services, parse_service(part)?);
                }
            }
            Field::SoftwareName => keep_first(&mut self.software_name, value),
            Field::SoftwareVersion => keep_first(&mut self.software_version, value),
            Field::SoftwareCpe => keep_first(&mut self.software_cpe, value),
        }
        Ok(())
    }

    fn set_hostname(&mut self, value: &str) -> Result<(), String> {
        // Some inventories put the address where the name goes; it is still
        // an identifier, and cut at its dots it would be a wrong name.
        if let Ok(ip) = value.parse::<IpAddr>() {
            push_unique(&mut self.ips, ip);
            return Ok(());
        }
        let name = parse_name(value)?;
        if self.hostname.is_none() {
            if name.contains('.') {
                self.fqdn_from_hostname.get_or_insert_with(|| name.clone());
            }
            self.hostname = Some(short_name(&name));
        }
        Ok(())
    }

    fn set_fqdn(&mut self, value: &str) -> Result<(), String> {
        if let Ok(ip) = value.parse::<IpAddr>() {
            push_unique(&mut self.ips, ip);
            return Ok(());
        }
        let name = parse_name(value)?;
        if name.contains('.') {
            self.fqdn.get_or_insert(name);
        } else {
            self.hostname_from_fqdn.get_or_insert(name);
        }
        Ok(())
    }

    /// Takes the value of a JSON key.
    fn set_json(&mut self, field: Field, value: &Value) -> Result<(), String> {
        match value {
            Value::Array(items) if field.takes_list() => {
                for item in items {
                    self.set_json_item(field, item)?;
                }
                Ok(())
            }
            Value::Object(object) if field == Field::Services => self.add_json_service(object),
            Value::Object(object) if field == Field::SoftwareName => self.add_json_software(object),
            other => match json_text(other)? {
                Some(text) => self.set(field, &text),
                None => Ok(()),
            },
        }
    }

    /// Takes one element of a JSON list.
    fn set_json_item(&mut self, field: Field, item: &Value) -> Result<(), String> {
        match (field, item) {
            (Field::Services, Value::Object(object)) => self.add_json_service(object),
            (Field::SoftwareName, Value::Object(object)) => self.add_json_software(object),
            (Field::SoftwareName, other) => {
                // A bare string in a software list is a name without a
                // version, not the row-form software column.
                if let Some(name) = json_text(other)?.filter(|n| !n.trim().is_empty()) {
                    self.software.push(Software {
                        name: cap_text(name.trim()),
                        version: None,
                        cpe: None,
                    });
                }
                Ok(())
            }
            (_, Value::Array(_)) => {
                Err("expected a list of values, found a list of lists".to_owned())
            }
            (_, other) => match json_text(other)? {
                Some(text) => self.set(field, &text),
                None => Ok(()),
            },
        }
    }

    /// Reads `{port, protocol, name, product, version}`.
    fn add_json_service(&mut self, object: &Map<String, Value>) -> Result<(), String> {
        let text = |key: &str| -> Result<Option<String>, String> {
            match object.get(key) {
                Some(value) => Ok(json_text(value)
                    .map_err(|e| format!("`{key}` of a service: {e}"))?
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())),
                None => Ok(None),
            }
        };
        let port = text("port")?.ok_or("a service needs a `port`")?;
        let protocol = text("protocol")?.ok_or("a service needs a `protocol` (tcp or udp)")?;
        let service = Service {
            port: parse_port(&port)?,
            protocol: parse_protocol(&protocol)?,
            name: text("name")?.as_deref().map(cap_text),
            product: text("product")?.as_deref().map(cap_text),
            version: text("version")?.as_deref().map(cap_text),
        };
        push_unique(&mut self.services, service);
        Ok(())
    }

    /// Reads `{name, version, cpe}`.
    fn add_json_software(&mut self, object: &Map<String, Value>) -> Result<(), String> {
        let text = |key: &str| -> Result<Option<String>, String> {
            match object.get(key) {
                Some(value) => Ok(json_text(value)
                    .map_err(|e| format!("`{key}` of a software entry: {e}"))?
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())),
                None => Ok(None),
            }
        };
        let name = text("name")?.ok_or("a software entry needs a `name`")?;
        self.software.push(Software {
            name: cap_text(&name),
            version: text("version")?.as_deref().map(cap_text),
            cpe: text("cpe")?.as_deref().map(cap_text),
        });
        Ok(())
    }

    /// The record, if it names the host at all.
    fn finish(self, line: u64) -> Result<AssetRecord, String> {
        let fqdn = self.fqdn.or(self.fqdn_from_hostname);
        let hostname = self
            .hostname
            .or(self.hostname_from_fqdn)
            .or_else(|| fqdn.as_deref().map(short_name));
        if hostname.is_none() && fqdn.is_none() && self.ips.is_empty() && self.macs.is_empty() {
            return Err("no identifier: a record needs a hostname, fqdn, ip or mac".to_owned());
        }
        let os = match (self.os, self.os_version) {
            (Some(os), Some(version)) if !os.ends_with(&version) => {
                Some(cap_text(&format!("{os} {version}")))
            }
            (Some(os), _) => Some(os),
            (None, version) => version,
        };
        let mut software = self.software;
        // A version or CPE without a name is dropped: `version` is a common
        // column name that may mean something else entirely.
        if let Some(name) = self.software_name {
            software.push(Software {
                name,
                version: self.software_version,
                cpe: self.software_cpe,
            });
        }
        Ok(AssetRecord {
            line,
            hostname,
            fqdn,
            ips: self.ips,
            macs: self.macs,
            zone: self.zone,
            os,
            asset_type: self.asset_type,
            owner: self.owner,
            business_unit: self.business_unit,
            location: self.location,
            criticality: self.criticality,
            sensitivity: self.sensitivity,
            regulations: self.regulations,
            tags: self.tags,
            internet_exposed: self.internet_exposed,
            services: self.services,
            software,
        })
    }
}

// ---------------------------------------------------------------------------
// Merging consecutive rows of one host, and the queue of what to yield

/// What both readers have ready to yield, and the one record still open
/// to rows of the same host.
#[derive(Debug, Default)]
struct Output {
    current: Option<Box<AssetRecord>>,
    /// Whether the open record has already lost software to the cap (it is
    /// said once per host).
    capped: bool,
    ready: VecDeque<Result<AssetItem, ScanError>>,
}

impl Output {
    fn pop(&mut self) -> Option<Result<AssetItem, ScanError>> {
        self.ready.pop_front()
    }

    fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.ready
            .push_back(Ok(AssetItem::Rejected(Rejection::new(line, reason))));
    }

    /// Adds a record: merged into the open one when it names the same host,
    /// otherwise the open one is ready and this one is opened.
    fn push(&mut self, record: AssetRecord) {
        let line = record.line;
        match self.current.as_deref_mut() {
            Some(open) if same_host(open, &record) => merge(open, record),
            _ => {
                if let Some(done) = self.current.take() {
                    self.ready.push_back(Ok(AssetItem::Record(done)));
                }
                self.capped = false;
                self.current = Some(Box::new(record));
            }
        }
        if let Some(open) = self.current.as_deref_mut()
            && open.software.len() > MAX_SOFTWARE
        {
            open.software.truncate(MAX_SOFTWARE);
            if !self.capped {
                self.capped = true;
                self.reject(
                    line,
                    format!(
                        "the host already has {MAX_SOFTWARE} software entries, the most kept: this and any further software of the host is left out"
                    ),
                );
            }
        }
    }

    /// The input ended: the open record is ready.
    fn finish(&mut self) {
        if let Some(done) = self.current.take() {
            self.ready.push_back(Ok(AssetItem::Record(done)));
        }
    }

    /// The input cannot be read on: what was read stands, then the error.
    fn fail(&mut self, error: ScanError) {
        self.finish();
        self.ready.push_back(Err(error));
    }
}

fn same_host(a: &AssetRecord, b: &AssetRecord) -> bool {
    a.hostname == b.hostname && a.fqdn == b.fqdn && a.ips == b.ips && a.macs == b.macs
}

/// Adds a later row of the same host: its software is appended; a field the
/// first row left empty is filled, and a different value is ignored.
fn merge(open: &mut AssetRecord, row: AssetRecord) {
    fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
        if slot.is_none() {
            *slot = value;
        }
    }
    fn fill_list<T>(slot: &mut Vec<T>, value: Vec<T>) {
        if slot.is_empty() {
            *slot = value;
        }
    }
    fill(&mut open.zone, row.zone);
    fill(&mut open.os, row.os);
    fill(&mut open.asset_type, row.asset_type);
    fill(&mut open.owner, row.owner);
    fill(&mut open.business_unit, row.business_unit);
    fill(&mut open.location, row.location);
    fill(&mut open.criticality, row.criticality);
    fill(&mut open.sensitivity, row.sensitivity);
    fill(&mut open.internet_exposed, row.internet_exposed);
    fill_list(&mut open.regulations, row.regulations);
    fill_list(&mut open.tags, row.tags);
    fill_list(&mut open.services, row.services);
    open.software.extend(row.software);
}

// ---------------------------------------------------------------------------
// CSV

/// Reads a CSV asset list from `input`, one asset at a time. The first row
/// is the header; see [`COLUMNS`].
#[must_use]
pub fn read_csv<R: BufRead>(input: Counted<R>) -> CsvAssets<R> {
    CsvAssets {
        input: Some(input),
        csv: None,
        columns: Vec::new(),
        row: csv::ByteRecord::new(),
        out: Output::default(),
        done: false,
    }
}

/// An iterator over the assets of a CSV list; see [`read_csv`].
///
/// It yields an [`AssetItem::Record`] per host, an [`AssetItem::Rejected`]
/// per row that cannot be used, and at most one error, after which it ends.
pub struct CsvAssets<R: BufRead> {
    /// The input until the header is read.
    input: Option<Counted<R>>,
    csv: Option<csv::Reader<CsvFeed<R>>>,
    columns: Vec<CsvColumn>,
    row: csv::ByteRecord,
    out: Output,
    done: bool,
}

impl<R: BufRead> fmt::Debug for CsvAssets<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvAssets")
            .field("columns", &self.columns)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// One column of the header.
#[derive(Debug)]
struct CsvColumn {
    /// The name as the file writes it, for messages.
    label: String,
    field: Option<Field>,
}

impl<R: BufRead> Iterator for CsvAssets<R> {
    type Item = Result<AssetItem, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.out.pop() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    self.out.finish();
                }
                Err(e) => {
                    // The parser cannot go on after an error, so the error
                    // is reported once and the iteration ends.
                    self.done = true;
                    self.out.fail(e);
                }
            }
        }
    }
}

impl<R: BufRead> CsvAssets<R> {
    /// Reads one row into the output; `false` at the end of the file.
    fn step(&mut self) -> Result<bool, ScanError> {
        if let Some(input) = self.input.take() {
            self.open(input)?;
        }
        let Some(csv) = self.csv.as_mut() else {
            return Ok(false);
        };
        if !read_record(csv, &mut self.row)? {
            return Ok(false);
        }
        let start = take_start(csv, &self.row);
        let line = start.line;
        if start.oversize {
            self.out.reject(line, oversize_reason(start.to_end));
            return Ok(true);
        }
        if start.to_end {
            self.out.reject(
                line,
                "a quoted value lacks its closing quote: the record runs to the end of the file",
            );
            return Ok(true);
        }
        // Spreadsheets leave rows of empty cells behind; they say nothing.
        if self.row.iter().all(|cell| cell.trim_ascii().is_empty()) {
            return Ok(true);
        }
        if self.row.len() > self.columns.len() {
            self.out.reject(
                line,
                format!(
                    "the row has {} fields but the header has {}: a value holding the separator must be quoted",
                    self.row.len(),
                    self.columns.len()
                ),
            );
            return Ok(true);
        }
        let mut draft = Draft::default();
        for (cell, column) in self.row.iter().zip(&self.columns) {
            let Some(field) = column.field else {
                continue;
            };
            let at = |e: String| format!("column {}: {e}", quote(&column.label));
            let Ok(text) = std::str::from_utf8(cell) else {
                self.out.reject(
                    line,
                    at("the value is not UTF-8 text (save the file as UTF-8)".to_owned()),
                );
                return Ok(true);
            };
            if let Err(e) = draft.set(field, text) {
                self.out.reject(line, at(e));
                return Ok(true);
            }
        }
        match draft.finish(line) {
            Ok(record) => self.out.push(record),
            Err(e) => self.out.reject(line, e),
        }
        Ok(true)
    }

    /// Picks the separator, reads the header and maps its columns.
    fn open(&mut self, mut input: Counted<R>) -> Result<(), ScanError> {
        let line = input.line();
        // The header line is read whole to count its separators: a buffer
        // may hold only part of it. The feed hands it to csv first.
        let mut head = Vec::new();
        input
            .by_ref()
            .take(MAX_RECORD_BYTES as u64)
            .read_until(b'\n', &mut head)
            .map_err(|e| io_error(line, &e))?;
        if head.starts_with(UTF8_BOM) {
            // Dropped here rather than by csv, which drops it only when it
            // arrives in one read.
            head.drain(..UTF8_BOM.len());
        }
        let separator = detect_separator(&head);
        let feed = CsvFeed::new(Source::new(head, input), separator, line);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(false)
            .flexible(true)
            .from_reader(feed);
        let mut header = csv::ByteRecord::new();
        if !read_record(&mut csv, &mut header)? {
            return Err(ScanError::new(
                1,
                ErrorKind::Malformed,
                "the file is empty: a CSV asset list starts with a header row",
            ));
        }
        let start = take_start(&mut csv, &header);
        if start.oversize {
            return Err(ScanError::new(
                start.line,
                ErrorKind::TooLarge,
                "the header row is longer than 1 MiB",
            ));
        }
        self.columns = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = String::from_utf8_lossy(name);
                let label = name.trim();
                CsvColumn {
                    label: if label.is_empty() {
                        format!("#{}", i + 1)
                    } else {
                        cap_text(label)
                    },
                    field: Field::for_name(label),
                }
            })
            .collect();
        if !self
            .columns
            .iter()
            .any(|c| c.field.is_some_and(Field::is_identifier))
        {
            let found: Vec<String> = self
                .columns
                .iter()
                .take(20)
                .map(|c| quote(&c.label))
                .collect();
            return Err(ScanError::new(
                start.line,
                ErrorKind::Malformed,
                format!(
                    "the header has no identifier column (hostname, fqdn, ip or mac), so no row could name its host; it has: {}",
                    found.join(", ")
                ),
            ));
        }
        self.csv = Some(csv);
        Ok(())
    }
}

/// Reads the next record, turning csv's errors into ours.
pub(crate) fn read_record<R: BufRead>(
    csv: &mut csv::Reader<CsvFeed<R>>,
    record: &mut csv::ByteRecord,
) -> Result<bool, ScanError> {
    csv.read_byte_record(record).map_err(|e| {
        let line = csv.get_ref().line;
        match e.into_kind() {
            csv::ErrorKind::Io(io) => io_error(line, &io),
            other => ScanError::new(line, ErrorKind::Malformed, format!("{other:?}")),
        }
    })
}

/// Where the record just read starts, from the feed's own account (csv's
/// positions point before blank lines and the `\n` of a CRLF).
pub(crate) fn take_start<R: BufRead>(
    csv: &mut csv::Reader<CsvFeed<R>>,
    record: &csv::ByteRecord,
) -> RecordStart {
    let reported = record.position().map_or(0, csv::Position::byte);
    let fallback = record.position().map_or(1, csv::Position::line);
    csv.get_mut().take_start(reported).unwrap_or(RecordStart {
        offset: reported,
        line: fallback,
        oversize: false,
        to_end: false,
    })
}

pub(crate) fn oversize_reason(to_end: bool) -> String {
    let mut reason = "the record is longer than 1 MiB and was skipped".to_owned();
    if to_end {
        reason.push_str(
            "; it runs to the end of the file, so a quoted value probably lacks its closing quote",
        );
    }
    reason
}

pub(crate) fn io_error(line: u64, e: &io::Error) -> ScanError {
    ScanError::new(line, ErrorKind::Io, format!("reading failed: {e}"))
}

/// `;` when the header line has more semicolons than commas outside
/// quotes, else `,`.
pub(crate) fn detect_separator(head: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0_usize, 0_usize, false);
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// The input with the bytes read ahead of it (the header line) put back.
pub(crate) struct Source<R> {
    head: Vec<u8>,
    at: usize,
    input: Counted<R>,
}

impl<R: BufRead> Source<R> {
    pub(crate) const fn new(head: Vec<u8>, input: Counted<R>) -> Self {
        Self { head, at: 0, input }
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        if self.at < self.head.len() {
            Ok(&self.head[self.at..])
        } else {
            self.input.fill_buf()
        }
    }

    fn consume(&mut self, n: usize) {
        if self.at < self.head.len() {
            self.at += n;
            if self.at >= self.head.len() {
                self.head = Vec::new();
                self.at = 0;
            }
        } else {
            self.input.consume(n);
        }
    }
}

/// Where a record starts in the stream csv reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordStart {
    /// Byte offset in what the feed delivered.
    offset: u64,
    /// 1-based line in the file.
    pub(crate) line: u64,
    /// Longer than [`MAX_RECORD_BYTES`]: skipped, csv saw a stub.
    pub(crate) oversize: bool,
    /// The record ran to the end of the file inside a quoted value.
    pub(crate) to_end: bool,
}

/// Where the feed is within the CSV grammar; the same states as csv-core's
/// reader with its default settings (quotes doubled, no escape, no
/// comments, any of CR, LF, CRLF ending a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    /// Between records: line breaks are skipped.
    StartRecord,
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: doubled, or the field's end.
    AfterQuote,
}

impl CsvState {
    /// The state after `b`; `StartRecord` once a record ends.
    fn step(self, b: u8, separator: u8) -> Self {
        let ends_record = b == b'\n' || b == b'\r';
        match self {
            Self::StartRecord if ends_record => Self::StartRecord,
            Self::StartRecord | Self::StartField => {
                if b == b'"' {
                    Self::InQuoted
                } else if b == separator {
                    Self::StartField
                } else if ends_record {
                    Self::StartRecord
                } else {
                    Self::InField
                }
            }
            Self::InField | Self::AfterQuote if b == separator => Self::StartField,
            Self::InField | Self::AfterQuote if ends_record => Self::StartRecord,
            Self::AfterQuote if b == b'"' => Self::InQuoted,
            Self::InField | Self::AfterQuote => Self::InField,
            Self::InQuoted if b == b'"' => Self::AfterQuote,
            Self::InQuoted => Self::InQuoted,
        }
    }
}

/// What csv reads: the input, followed through the CSV grammar to know the
/// line each record starts on and to keep any record under
/// [`MAX_RECORD_BYTES`]. A longer record is cut: csv gets a stub that ends
/// it, the rest is skipped up to the record's end, and the record is marked
/// so that it is rejected.
pub(crate) struct CsvFeed<R> {
    source: Source<R>,
    separator: u8,
    state: CsvState,
    /// The line of the next input byte.
    line: u64,
    /// Bytes given to csv so far (stubs included: csv's offsets count them).
    delivered: u64,
    /// Starts of records csv has been given but not yet returned; csv reads
    /// ahead by at most its buffer, so this stays short.
    starts: VecDeque<RecordStart>,
    /// The record in progress is too long: skip the rest of it.
    skipping: bool,
    /// Stub bytes still to give csv.
    stub: &'static [u8],
}

impl<R> fmt::Debug for CsvFeed<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvFeed")
            .field("state", &self.state)
            .field("line", &self.line)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> CsvFeed<R> {
    pub(crate) fn new(source: Source<R>, separator: u8, line: u64) -> Self {
        Self {
            source,
            separator,
            state: CsvState::StartRecord,
            line,
            delivered: 0,
            starts: VecDeque::new(),
            skipping: false,
            stub: &[],
        }
    }

    /// The start of the record csv reported at byte `reported`: the first
    /// start at or after it.
    fn take_start(&mut self, reported: u64) -> Option<RecordStart> {
        while self.starts.front().is_some_and(|s| s.offset < reported) {
            self.starts.pop_front();
        }
        self.starts.pop_front()
    }

    /// Skips the rest of an oversized record and prepares the stub that
    /// ends it for csv.
    fn skip_record(&mut self) -> io::Result<()> {
        // csv's state is the feed's state: it has been given every byte up
        // to here. A stub closes an open quote and ends the record.
        self.stub = if self.state == CsvState::InQuoted {
            b"\"\n"
        } else {
            b"\n"
        };
        loop {
            let buf = self.source.fill()?;
            if buf.is_empty() {
                if self.state == CsvState::InQuoted
                    && let Some(start) = self.starts.back_mut()
                {
                    start.to_end = true;
                }
                break;
            }
            let mut used = 0;
            let mut ended = false;
            for &b in buf {
                used += 1;
                if b == b'\n' {
                    self.line += 1;
                }
                self.state = self.state.step(b, self.separator);
                if self.state == CsvState::StartRecord {
                    ended = true;
                    break;
                }
            }
            self.source.consume(used);
            // The skipped bytes are no token of anyone's; a caller's token
            // limit must not trip on them.
            self.source.input.mark();
            if ended {
                break;
            }
        }
        self.state = CsvState::StartRecord;
        self.skipping = false;
        Ok(())
    }
}

impl<R: BufRead> Read for CsvFeed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.skipping {
            self.skip_record()?;
        }
        if !self.stub.is_empty() {
            let n = self.stub.len().min(out.len());
            out[..n].copy_from_slice(&self.stub[..n]);
            self.stub = &self.stub[n..];
            self.delivered += n as u64;
            return Ok(n);
        }
        let buf = self.source.fill()?;
        if buf.is_empty() && self.state == CsvState::InQuoted {
            // csv takes an open quote at the end for the end of the record;
            // the record is rejected instead, since the rows after the
            // missing quote went into its value.
            if let Some(start) = self.starts.back_mut() {
                start.to_end = true;
            }
        }
        let mut n = 0;
        for &b in buf.iter().take(out.len()) {
            let offset = self.delivered + n as u64;
            let next = self.state.step(b, self.separator);
            if self.state == CsvState::StartRecord {
                if next != CsvState::StartRecord {
                    self.starts.push_back(RecordStart {
                        offset,
                        line: self.line,
                        oversize: false,
                        to_end: false,
                    });
                }
            } else if next != CsvState::StartRecord {
                // The byte belongs to the record (it is not its
                // terminator): it must fit.
                if let Some(start) = self
                    .starts
                    .back_mut()
                    .filter(|s| offset - s.offset >= MAX_RECORD_BYTES as u64)
                {
                    start.oversize = true;
                    self.skipping = true;
                    break;
                }
            }
            self.state = next;
            if b == b'\n' {
                self.line += 1;
            }
            out[n] = b;
            n += 1;
        }
        self.source.consume(n);
        self.delivered += n as u64;
        if self.state == CsvState::StartRecord {
            self.source.input.mark();
        }
        if n == 0 && self.skipping {
            // Nothing of the record fitted before the limit: skip it now
            // rather than answer 0, which csv would take for the end.
            return self.read(out);
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// JSON

/// Reads a JSON asset list from `input`, one asset at a time: an array of
/// objects, or objects one after another (NDJSON). Keys are the names of
/// [`COLUMNS`] and their aliases.
#[must_use]
pub fn read_json<R: BufRead>(input: Counted<R>) -> JsonAssets<R> {
    JsonAssets {
        input,
        layout: Layout::Unknown,
        at_start: true,
        bom_seen: 0,
        index: 0,
        out: Output::default(),
        done: false,
    }
}

/// An iterator over the assets of a JSON list; see [`read_json`].
///
/// It yields an [`AssetItem::Record`] per host, an [`AssetItem::Rejected`]
/// per element that cannot be used, and at most one error (a document that
/// is not JSON or ends early), after which it ends.
pub struct JsonAssets<R: BufRead> {
    input: Counted<R>,
    layout: Layout,
    /// Nothing but (part of) a byte order mark has been read.
    at_start: bool,
    /// Bytes of the byte order mark read.
    bom_seen: usize,
    /// Elements of the array read so far.
    index: u64,
    out: Output,
    done: bool,
}

impl<R: BufRead> fmt::Debug for JsonAssets<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonAssets")
            .field("layout", &self.layout)
            .field("index", &self.index)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Nothing read yet.
    Unknown,
    /// Just after `[`.
    ArrayOpen,
    /// Just after a `,` in the array.
    ArrayComma,
    /// Just after an element of the array.
    ArrayElement,
    /// After the closing `]`: only white space may follow.
    ArrayClosed,
    /// Objects one after another.
    Objects,
}

impl<R: BufRead> Iterator for JsonAssets<R> {
    type Item = Result<AssetItem, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.out.pop() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    self.out.finish();
                }
                Err(e) => {
                    self.done = true;
                    self.out.fail(e);
                }
            }
        }
    }
}

impl<R: BufRead> JsonAssets<R> {
    /// Reads one element into the output; `false` at the end of the
    /// document.
    fn step(&mut self) -> Result<bool, ScanError> {
        loop {
            let next = self.peek()?;
            let line = self.input.line();
            match (self.layout, next) {
                (Layout::Unknown, None) => {
                    return Err(malformed(line, "the file is empty"));
                }
                (Layout::Unknown, Some(b'[')) => {
                    self.input.consume(1);
                    self.layout = Layout::ArrayOpen;
                }
                (Layout::Unknown, Some(b'{')) => self.layout = Layout::Objects,
                (Layout::Unknown, Some(_)) => {
                    return Err(malformed(
                        line,
                        "not a JSON asset list: expected `[` (an array of objects) or `{` (one object per line)",
                    ));
                }
                (Layout::ArrayOpen | Layout::ArrayComma | Layout::ArrayElement, None) => {
                    return Err(ScanError::new(
                        line,
                        ErrorKind::Truncated,
                        "the file ends inside the array",
                    ));
                }
                (Layout::ArrayOpen | Layout::ArrayElement, Some(b']')) => {
                    self.input.consume(1);
                    self.layout = Layout::ArrayClosed;
                }
                (Layout::ArrayComma, Some(b']')) => {
                    return Err(malformed(line, "a comma before the array's closing `]`"));
                }
                (Layout::ArrayElement, Some(b',')) => {
                    self.input.consume(1);
                    self.layout = Layout::ArrayComma;
                }
                (Layout::ArrayElement, Some(other)) => {
                    return Err(malformed(
                        line,
                        format!(
                            "expected `,` or `]` after the array element at index {}, found {}",
                            self.index.saturating_sub(1),
                            quote(&char::from(other).to_string())
                        ),
                    ));
                }
                (Layout::ArrayOpen | Layout::ArrayComma, Some(_)) => {
                    self.read_element()?;
                    self.layout = Layout::ArrayElement;
                    return Ok(true);
                }
                (Layout::Objects, Some(b'{')) => {
                    self.read_element()?;
                    return Ok(true);
                }
                (Layout::Objects, Some(other)) => {
                    return Err(malformed(
                        line,
                        format!(
                            "expected a JSON object (one per line), found {}",
                            quote(&char::from(other).to_string())
                        ),
                    ));
                }
                (Layout::Objects | Layout::ArrayClosed, None) => return Ok(false),
                (Layout::ArrayClosed, Some(_)) => {
                    return Err(malformed(
                        line,
                        "more content after the array's closing `]`",
                    ));
                }
            }
        }
    }

    /// The next byte that is not white space (nor, at the start, a byte
    /// order mark), without consuming it; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            let line = self.input.line();
            let buf = self.input.fill_buf().map_err(|e| io_error(line, &e))?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut skip = 0;
            // A byte order mark may open the file, and may arrive split
            // across reads.
            while self.at_start
                && skip < buf.len()
                && self.bom_seen < UTF8_BOM.len()
                && buf[skip] == UTF8_BOM[self.bom_seen]
            {
                skip += 1;
                self.bom_seen += 1;
            }
            if skip < buf.len() {
                self.at_start = false;
            }
            let spaces = buf[skip..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .count();
            skip += spaces;
            let next = buf.get(skip).copied();
            self.input.consume(skip);
            self.input.mark();
            if next.is_some() {
                return Ok(next);
            }
        }
    }

    /// Reads the element starting at the next byte and hands it on.
    fn read_element(&mut self) -> Result<(), ScanError> {
        let line = self.input.line();
        let position = if self.layout == Layout::Objects {
            String::new()
        } else {
            self.index += 1;
            format!("array element at index {}: ", self.index - 1)
        };
        let Some(bytes) = self.scan_value(line)? else {
            self.out.reject(
                line,
                format!("{position}the record is longer than 1 MiB and was skipped"),
            );
            return Ok(());
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Err(e) => {
                // serde_json counts lines and columns from the element's
                // start; the line is made the file's, the column dropped.
                let mut message = e.to_string();
                if let Some(at) = message.rfind(" at line ") {
                    message.truncate(at);
                }
                Err(ScanError::new(
                    line + e.line().saturating_sub(1) as u64,
                    if e.is_eof() {
                        ErrorKind::Truncated
                    } else {
                        ErrorKind::Malformed
                    },
                    format!("{position}not valid JSON: {message}"),
                ))
            }
            Ok(Value::Object(object)) => {
                match json_record(&object, line) {
                    Ok(record) => self.out.push(record),
                    Err(reason) => self.out.reject(line, format!("{position}{reason}")),
                }
                Ok(())
            }
            Ok(other) => {
                self.out.reject(
                    line,
                    format!("{position}expected an object, found {}", json_kind(&other)),
                );
                Ok(())
            }
        }
    }

    /// Cuts one JSON value out of the input by following strings and
    /// brackets (the parser checks it afterwards). `None` when it is longer
    /// than [`MAX_RECORD_BYTES`]: it is then read to its end but not kept.
    fn scan_value(&mut self, start_line: u64) -> Result<Option<Vec<u8>>, ScanError> {
        let mut kept = Vec::new();
        let mut oversize = false;
        let mut first = true;
        let mut scalar = false;
        let mut depth = 0_usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let line = self.input.line();
            let buf = self.input.fill_buf().map_err(|e| io_error(line, &e))?;
            if buf.is_empty() {
                if scalar && !in_string {
                    break;
                }
                return Err(ScanError::new(
                    line,
                    ErrorKind::Truncated,
                    format!("the file ends inside the record that starts on line {start_line}"),
                ));
            }
            let mut used = 0;
            let mut done = false;
            for &b in buf {
                if first {
                    first = false;
                    scalar = !matches!(b, b'{' | b'[' | b'"');
                } else if scalar
                    && !in_string
                    && (matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace())
                {
                    // A bare number or word ends before its delimiter,
                    // which belongs to the array.
                    done = true;
                    break;
                }
                used += 1;
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        done = depth == 0 && !scalar;
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            done = depth == 0;
                        }
                        _ => {}
                    }
                }
                if done {
                    break;
                }
            }
            if !oversize {
                if kept.len() + used > MAX_RECORD_BYTES {
                    oversize = true;
                    kept = Vec::new();
                } else {
                    kept.extend_from_slice(&buf[..used]);
                }
            }
            self.input.consume(used);
            if done {
                break;
            }
        }
        self.input.mark();
        Ok((!oversize).then_some(kept))
    }
}

fn malformed(line: u64, message: impl Into<String>) -> ScanError {
    ScanError::new(line, ErrorKind::Malformed, message)
}

/// The record an object describes, or why it cannot be used.
fn json_record(object: &Map<String, Value>, line: u64) -> Result<AssetRecord, String> {
    let mut draft = Draft::default();
    for (key, value) in object {
        let Some(field) = Field::for_name(key) else {
            continue;
        };
        draft
            .set_json(field, value)
            .map_err(|e| format!("key {}: {e}", quote(key)))?;
    }
    draft.finish(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_aliases_and_template_agree() {
        assert_eq!(COLUMNS.len(), ALIASES.len());
        for ((name, description), (_, aliases)) in COLUMNS.iter().zip(ALIASES) {
            assert_eq!(*name, aliases[0], "COLUMNS and ALIASES are in one order");
            for alias in &aliases[1..] {
                // Aliases that differ only by the ignored characters need
                // no mention; every other one is documented.
                let squeezed: String = alias.chars().filter(|c| *c != '_').collect();
                let canonical: String = name.chars().filter(|c| *c != '_').collect();
                if squeezed != canonical {
                    assert!(
                        description.contains(&format!("`{alias}`")),
                        "{name}: alias {alias} is not in its description"
                    );
                }
            }
        }
        for row in TEMPLATE_ROWS {
            assert_eq!(row.len(), COLUMNS.len());
        }
        let types = COLUMNS[7].1;
        for t in AssetType::ALL {
            assert!(types.contains(t.as_str()), "type {t} is documented");
        }
    }

    #[test]
    fn names_match_ignoring_case_spaces_underscores_and_hyphens() {
        for (given, want) in [
            ("Host Name", Some(Field::Hostname)),
            ("IP-Address", Some(Field::Ip)),
            ("  Data_Classification ", Some(Field::Sensitivity)),
            ("INTERNET FACING", Some(Field::InternetExposed)),
            ("Package", Some(Field::SoftwareName)),
            ("architecture", None),
            ("", None),
        ] {
            assert_eq!(Field::for_name(given), want, "{given}");
        }
    }

    #[test]
    fn services_and_booleans() {
        let svc = parse_service("443/TCP:https").expect("service");
        assert_eq!(
            (svc.port, svc.protocol.as_str(), svc.name.as_deref()),
            (443, "tcp", Some("https"))
        );
        for bad in ["443", "0/tcp", "70000/tcp", "53/icmp", "/tcp", "x/udp"] {
            assert!(parse_service(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_bool("Y"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn the_separator_is_taken_from_the_header_line() {
        assert_eq!(detect_separator(b"host;ip;\"a,b,c\"\nx,y,z,w"), b';');
        assert_eq!(detect_separator(b"host,ip\n"), b',');
        assert_eq!(detect_separator(b"hostname\n"), b',');
    }

    #[test]
    fn the_feed_follows_csv_grammar() {
        let mut state = CsvState::StartRecord;
        let mut ends = 0;
        for &b in b"a,\"x\"\"\n,\"\n\r\nb\"c,d\r\n" {
            let before = state;
            state = state.step(b, b',');
            if before != CsvState::StartRecord && state == CsvState::StartRecord {
                ends += 1;
            }
        }
        assert_eq!(ends, 2);
    }

    #[test]
    fn long_text_is_capped_by_characters() {
        let long = "é".repeat(300);
        let capped = cap_text(&long);
        assert!(capped.starts_with(&"é".repeat(256)));
        assert!(capped.ends_with("[truncated]"));
        assert_eq!(quote("a\u{7}b"), "`a\\u{7}b`");
    }
}
