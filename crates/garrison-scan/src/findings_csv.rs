//! Scanner findings exported as CSV, one row per finding: Nessus and
//! Tenable.io / Tenable.sc exports, OpenVAS / Greenbone, Qualys (scan
//! reports and VMDR lists) and "generic" findings lists such as
//! DefectDojo's.
//!
//! One reader serves them all. Column names are looked up in one table of
//! aliases ([`ALIASES`]), compared ignoring case, surrounding white space,
//! inner spaces, underscores and hyphens (`Plugin ID`, `plugin_id` and
//! `PLUGIN-ID` are one name). Columns the table does not know are ignored.
//!
//! # The header
//!
//! The header is the first line, among the first [`MAX_PREAMBLE_LINES`]
//! lines and the first MiB, that names a host column (IP, host, host name,
//! FQDN, DNS, NetBIOS or URL) and a finding column (a plugin id, QID or NVT
//! OID, or a title; a bare `Name` counts only beside a severity, CVE, CVSS,
//! solution or output column, since asset lists have a `name` too). Lines
//! before it are a preamble and skipped: Qualys writes the report's title,
//! company and user there. A byte order mark is dropped, and the separator
//! is `;` when the header line has more semicolons than commas outside
//! quotes, else `,`. [`sniff`] applies the same test to the first bytes of
//! a file, which is how [`crate::detect()`] tells a findings CSV from an
//! asset list.
//!
//! # Dialects
//!
//! The header also tells which scanner wrote the file ([`Dialect`]): an
//! `NVT OID` or `NVT Name` column means OpenVAS, a `QID` column Qualys, a
//! `Plugin ID` or `Plugin` column Nessus, or Tenable when a column only the
//! Tenable platforms write is there too (`Repository`, `Vulnerability
//! State`, `Plugin Family ID`, `Host Scan ID`); anything else is a generic
//! list. The dialect decides the scanner the findings are filed under
//! ([`Dialect::scanner`], the same as the XML readers', so that a CSV and an
//! XML export of one scan give the same findings) and how a numeric
//! severity reads: Qualys levels 1 to 5, Nessus levels 0 to 4, otherwise a
//! CVSS-like score from 0 to 10.
//!
//! # Rows
//!
//! A row is one finding on one host. It is rejected, with its line and the
//! reason, and the rest of the file goes on, when it names no host; when an
//! IP column holds something that is not an IP address, or a host, FQDN or
//! DNS column something that is neither an address nor a host name (names
//! in host name and NetBIOS columns are display names and only ignored when
//! malformed); when its port is not a port number (the finding would be
//! filed under the wrong key, so it is not kept with the port dropped);
//! when it has neither a title nor a plugin id, or a plugin id longer than
//! 256 bytes; when it has more cells than the header, is longer than 1 MiB,
//! or opens a quote that never closes. Rows whose cells are all empty are
//! skipped silently. A row whose status says the finding is fixed, closed
//! or a false positive still reports its host, but not the finding, as the
//! Qualys and OpenVAS XML readers do.
//!
//! Without a plugin id column (generic lists), the title is the plugin id.
//! Without a port column, a URL's port (or its scheme's, 80 or 443) is the
//! port, over TCP. Port 0 and `general` mean a finding on the host itself
//! (no port), as in the XML reports.
//!
//! # Hosts
//!
//! Consecutive rows naming the same host (same addresses, MACs, host name
//! and FQDN) are one [`ScannedHost`], yielded when a row names another host
//! or the file ends; only that host is held, so memory stays bounded
//! whatever the file's size. Within it, rows of the same plugin on the same
//! port and protocol are one finding (Tenable writes one row per CVE): their
//! CVEs are joined, and empty fields filled. A host that comes back later in
//! the file, after another host, yields another item for the same host, and
//! so does a host past [`Limits::max_findings_per_host`] findings: the
//! importer merges items by the host's identity.
//!
//! # Values
//!
//! Cells are attacker-controlled text. Bytes that are not UTF-8 are replaced
//! (U+FFFD). Titles are made one line and capped at 1 KiB, descriptions,
//! solutions and evidence at 64 KiB, the OS at 256 bytes, CVE ids at
//! 10 000 per finding. Nothing is interpreted beyond that: a cell that looks
//! like a spreadsheet formula (`=HYPERLINK(...)`) is kept as the text it
//! is, and whoever shows or exports it escapes it.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{BufRead, Read};
use std::net::IpAddr;

use garrison_core::Timestamp;

use crate::assets::{
    CsvFeed, MAX_RECORD_BYTES, Source, UTF8_BOM, detect_separator, io_error, oversize_reason,
    quote, read_record, take_start,
};
use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::{
    Cvss, ScanItem, ScannedFinding, ScannedHost, Scanner, Service, Severity, cap, cves_in,
    normalise_mac,
};
use crate::xml::Limits;

/// Lines read, at most, looking for the header.
pub const MAX_PREAMBLE_LINES: usize = 64;

/// Descriptions, solutions and evidence are cut after this many bytes.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Titles are cut after this many bytes.
const MAX_TITLE_BYTES: usize = 1024;

/// A longer plugin id is not an id: the row is rejected.
const MAX_ID_BYTES: usize = 256;

/// Operating system names and CVSS vectors are cut after this many bytes.
const MAX_SHORT_BYTES: usize = 256;

/// CVE ids kept per finding; a row listing more is rejected.
const MAX_CVES: usize = 10_000;

/// The longest DNS name.
const MAX_NAME_BYTES: usize = 253;

/// Which scanner wrote a findings CSV, as its header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Nessus,
    /// Tenable.io or Tenable.sc: Nessus plugins, more columns.
    Tenable,
    Openvas,
    Qualys,
    /// No scanner Garrison knows.
    Generic,
}

impl Dialect {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nessus => "nessus",
            Self::Tenable => "tenable",
            Self::Openvas => "openvas",
            Self::Qualys => "qualys",
            Self::Generic => "csv",
        }
    }

    /// The scanner the findings are filed under. Tenable.io and Tenable.sc
    /// report Nessus plugins by their Nessus ids, so their findings are
    /// Nessus's: the same check on the same port is one finding whether it
    /// came in a `.nessus` file or in either CSV export.
    #[must_use]
    pub const fn scanner(self) -> Scanner {
        match self {
            Self::Nessus | Self::Tenable => Scanner::Nessus,
            Self::Openvas => Scanner::Openvas,
            Self::Qualys => Scanner::Qualys,
            Self::Generic => Scanner::Csv,
        }
    }

    /// A title for a finding the file gives only an id for, worded as the
    /// XML readers word it.
    fn untitled(self, id: &str) -> String {
        match self {
            Self::Nessus | Self::Tenable => format!("Nessus plugin {id}"),
            Self::Openvas => format!("NVT {id}"),
            Self::Qualys => format!("QID {id}"),
            Self::Generic => id.to_owned(),
        }
    }

    /// A numeric severity on the common scale.
    fn numeric_severity(self, value: &str) -> Option<Severity> {
        match self {
            Self::Qualys => Some(match value {
                "1" => Severity::Info,
                "2" => Severity::Low,
                "3" => Severity::Medium,
                "4" => Severity::High,
                "5" => Severity::Critical,
                _ => return None,
            }),
            Self::Nessus | Self::Tenable => Some(match value {
                "0" => Severity::Info,
                "1" => Severity::Low,
                "2" => Severity::Medium,
                "3" => Severity::High,
                "4" => Severity::Critical,
                _ => return None,
            }),
            Self::Openvas | Self::Generic => score(value).map(Severity::from_cvss),
        }
    }
}

// ---------------------------------------------------------------------------
// Columns

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// IP addresses, several separated by `,`, `;` or spaces.
    Ip,
    /// An address or a host name.
    Host,
    /// A short (or display) host name.
    Hostname,
    /// A DNS name.
    Fqdn,
    /// A URL whose host is the finding's host (generic lists).
    Url,
    Mac,
    Os,
    Port,
    Protocol,
    Service,
    PluginId,
    Title,
    /// `Name`: a title, but too common a column to mark a findings list.
    Name,
    Cves,
    Severity,
    /// Qualys's kind of detection: `Ig`/`Information` are informational.
    Kind,
    Status,
    /// A CVSS score of no stated version (v2 unless its vector says else).
    Cvss,
    CvssVector,
    Cvss2,
    Cvss2Vector,
    Cvss3,
    Cvss3Vector,
    Cvss4,
    Cvss4Vector,
    Description,
    Solution,
    Evidence,
    /// When the host was scanned or the finding last seen.
    SeenAt,
    /// When the finding was first seen; the scan time when nothing else is.
    FirstSeen,
}

/// How many fields there are.
const FIELDS: usize = Field::FirstSeen as usize + 1;

/// The column names of each field, best first: when a file has two
/// columns for one field, a row takes the value of the better one that is
/// not empty (and for IP addresses and CVE ids, the values of all).
pub const ALIASES: &[(&str, &[&str])] = &[
    (
        "ip",
        &[
            "ip",
            "ip address",
            "ips",
            "ip addresses",
            "host ip",
            "asset ipv4",
            "asset ipv6",
            "asset ip",
            "ipv4",
            "ipv4 address",
            "ipv6",
            "ipv6 address",
            "target ip",
        ],
    ),
    ("host", &["host", "target", "asset"]),
    (
        "hostname",
        &[
            "hostname",
            "netbios",
            "netbios name",
            "asset name",
            "computer name",
        ],
    ),
    (
        "fqdn",
        &["fqdn", "dns", "dns name", "host fqdn", "dns hostname"],
    ),
    ("url", &["url", "uri", "endpoint"]),
    ("mac", &["mac", "mac address", "mac addresses"]),
    ("os", &["os", "operating system", "os name"]),
    ("port", &["port"]),
    ("protocol", &["protocol", "port protocol", "proto"]),
    ("service", &["service", "service name", "svc name"]),
    (
        "plugin_id",
        &[
            "plugin id",
            "plugin",
            "qid",
            "nvt oid",
            "oid",
            "vulnerability id",
            "vuln id",
            "check id",
        ],
    ),
    (
        "title",
        &[
            "title",
            "plugin name",
            "nvt name",
            "vulnerability",
            "vulnerability name",
            "vulnerability title",
            "vuln title",
            "finding",
            "issue",
        ],
    ),
    ("name", &["name"]),
    ("cves", &["cve", "cves", "cve id", "cve ids", "cve list"]),
    (
        "severity",
        &[
            "risk",
            "severity",
            "risk factor",
            "severity level",
            "threat level",
        ],
    ),
    ("kind", &["type", "type detected"]),
    (
        "status",
        &[
            "status",
            "vuln status",
            "vulnerability state",
            "vulnerability status",
            "finding status",
        ],
    ),
    (
        "cvss",
        &["cvss", "cvss score", "cvss base score", "cvss base"],
    ),
    ("cvss_vector", &["cvss vector", "cvss base vector"]),
    (
        "cvss2",
        &[
            "cvss v2.0 base score",
            "cvss v2 base score",
            "cvss2 base score",
            "cvssv2 base (nvd)",
            "cvss2 base",
            "cvss v2",
            "cvss2",
        ],
    ),
    (
        "cvss2_vector",
        &["cvss v2 vector", "cvss v2.0 vector", "cvss2 vector"],
    ),
    (
        "cvss3",
        &[
            "cvss v3.0 base score",
            "cvss v3.1 base score",
            "cvss v3 base score",
            "cvss3 base score",
            "cvssv3.1 base (nvd)",
            "cvssv3 base (nvd)",
            "cvss3.1 base",
            "cvss3 base",
            "cvss v3",
            "cvss3",
        ],
    ),
    (
        "cvss3_vector",
        &[
            "cvss v3 vector",
            "cvss v3.0 vector",
            "cvss v3.1 vector",
            "cvss3 vector",
        ],
    ),
    (
        "cvss4",
        &[
            "cvss v4.0 base score",
            "cvss v4 base score",
            "cvss4 base score",
            "cvss4",
        ],
    ),
    (
        "cvss4_vector",
        &["cvss v4 vector", "cvss v4.0 vector", "cvss4 vector"],
    ),
    (
        "description",
        &[
            "description",
            "synopsis",
            "summary",
            "threat",
            "vulnerability insight",
            "details",
        ],
    ),
    (
        "solution",
        &[
            "solution",
            "mitigation",
            "remediation",
            "recommendation",
            "fix",
        ],
    ),
    (
        "evidence",
        &[
            "plugin output",
            "plugin text",
            "specific result",
            "results",
            "result",
            "evidence",
            "proof",
            "output",
        ],
    ),
    (
        "seen_at",
        &[
            "last detected",
            "last found",
            "last observed",
            "last seen",
            "host end",
            "scan date",
            "scan time",
            "timestamp",
            "date",
        ],
    ),
    (
        "first_seen",
        &[
            "first detected",
            "first found",
            "first discovered",
            "first seen",
            "host start",
        ],
    ),
];

/// The fields in the order of [`ALIASES`].
const FIELD_ORDER: [Field; FIELDS] = [
    Field::Ip,
    Field::Host,
    Field::Hostname,
    Field::Fqdn,
    Field::Url,
    Field::Mac,
    Field::Os,
    Field::Port,
    Field::Protocol,
    Field::Service,
    Field::PluginId,
    Field::Title,
    Field::Name,
    Field::Cves,
    Field::Severity,
    Field::Kind,
    Field::Status,
    Field::Cvss,
    Field::CvssVector,
    Field::Cvss2,
    Field::Cvss2Vector,
    Field::Cvss3,
    Field::Cvss3Vector,
    Field::Cvss4,
    Field::Cvss4Vector,
    Field::Description,
    Field::Solution,
    Field::Evidence,
    Field::SeenAt,
    Field::FirstSeen,
];

/// Columns only the Tenable platforms write (normalised names).
const TENABLE_ONLY: &[&str] = &[
    "repository",
    "vulnerabilitystate",
    "pluginfamilyid",
    "hostscanid",
];

/// A column name without case, spaces, underscores or hyphens.
fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a column name stands for, with the alias's rank (0 best).
fn field_for(name: &str) -> Option<(Field, usize)> {
    let name = normalise(name);
    if name.is_empty() {
        return None;
    }
    ALIASES
        .iter()
        .zip(FIELD_ORDER)
        .find_map(|((_, aliases), field)| {
            aliases
                .iter()
                .position(|a| normalise(a) == name)
                .map(|rank| (field, rank))
        })
}

/// A recognised header: which columns hold what.
#[derive(Debug)]
struct Header {
    dialect: Dialect,
    /// Column names as the file writes them, for messages.
    labels: Vec<String>,
    /// Per field (by `Field as usize`), its columns, best first.
    columns: Vec<Vec<usize>>,
}

impl Header {
    /// The header these cells make, if they are a findings header.
    fn from_cells<S: AsRef<str>>(cells: &[S]) -> Option<Self> {
        let mut ranked: Vec<Vec<(usize, usize)>> = vec![Vec::new(); FIELDS];
        let mut names = Vec::with_capacity(cells.len());
        for (i, cell) in cells.iter().enumerate() {
            let cell = cell.as_ref();
            names.push(normalise(cell));
            if let Some((field, rank)) = field_for(cell) {
                ranked[field as usize].push((rank, i));
            }
        }
        let has = |f: Field| !ranked[f as usize].is_empty();
        let has_host = [
            Field::Ip,
            Field::Host,
            Field::Hostname,
            Field::Fqdn,
            Field::Url,
        ]
        .into_iter()
        .any(has);
        let finding_only = [
            Field::Severity,
            Field::Cves,
            Field::Cvss,
            Field::Cvss2,
            Field::Cvss3,
            Field::Cvss4,
            Field::Solution,
            Field::Evidence,
        ]
        .into_iter()
        .any(has);
        let has_finding =
            has(Field::PluginId) || has(Field::Title) || (has(Field::Name) && finding_only);
        if !has_host || !has_finding {
            return None;
        }
        let named = |n: &str| names.iter().any(|x| x == n);
        let dialect = if named("nvtoid") || named("nvtname") {
            Dialect::Openvas
        } else if named("qid") {
            Dialect::Qualys
        } else if named("pluginid") || named("plugin") {
            if TENABLE_ONLY.iter().any(|n| named(n)) {
                Dialect::Tenable
            } else {
                Dialect::Nessus
            }
        } else {
            Dialect::Generic
        };
        let columns = ranked
            .into_iter()
            .map(|mut cols| {
                cols.sort_unstable();
                cols.into_iter().map(|(_, i)| i).collect()
            })
            .collect();
        let labels = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let label = c.as_ref().trim();
                if label.is_empty() {
                    format!("#{}", i + 1)
                } else {
                    cap(label, 64)
                }
            })
            .collect();
        Some(Self {
            dialect,
            labels,
            columns,
        })
    }

    /// The header one line of the file makes, if it is a findings header.
    fn from_line(line: &[u8]) -> Option<Self> {
        Self::from_cells(&line_cells(line))
    }
}

/// The cells of one line, read as CSV with the separator its text
/// suggests.
fn line_cells(line: &[u8]) -> Vec<String> {
    let line = line.strip_prefix(UTF8_BOM).unwrap_or(line);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(detect_separator(line))
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = csv::ByteRecord::new();
    match csv.read_byte_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether the start of a file is a findings CSV: one of its first
/// [`MAX_PREAMBLE_LINES`] lines is a findings header. Returns the dialect
/// that header shows.
#[must_use]
pub fn sniff(head: &[u8]) -> Option<Dialect> {
    head.split(|b| *b == b'\n')
        .take(MAX_PREAMBLE_LINES)
        .find_map(|line| Header::from_line(line).map(|h| h.dialect))
}

// ---------------------------------------------------------------------------
// The reader

/// Reads a findings CSV from `input`, one host at a time; see the module
/// documentation.
#[must_use]
pub fn read<R: BufRead>(input: Counted<R>, limits: Limits) -> FindingsCsvReader<R> {
    FindingsCsvReader {
        input: Some(input),
        csv: None,
        header: None,
        row: csv::ByteRecord::new(),
        limits,
        open: None,
        ready: VecDeque::new(),
        done: false,
    }
}

/// An iterator over the hosts of a findings CSV; see [`read`].
///
/// It yields a [`ScanItem::Host`] per run of rows of one host, a
/// [`ScanItem::Rejected`] per row that cannot be used, and at most one
/// error, after which it ends.
pub struct FindingsCsvReader<R: BufRead> {
    /// The input until the header is found.
    input: Option<Counted<R>>,
    csv: Option<csv::Reader<CsvFeed<R>>>,
    header: Option<Header>,
    row: csv::ByteRecord,
    limits: Limits,
    /// The host whose rows are being read.
    open: Option<OpenHost>,
    ready: VecDeque<Result<ScanItem, ScanError>>,
    done: bool,
}

impl<R: BufRead> fmt::Debug for FindingsCsvReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingsCsvReader")
            .field("header", &self.header)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Iterator for FindingsCsvReader<R> {
    type Item = Result<ScanItem, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    self.flush();
                }
                Err(e) => {
                    // The parser cannot go on after an error: what was read
                    // stands, then the error, once.
                    self.done = true;
                    self.flush();
                    self.ready.push_back(Err(e));
                }
            }
        }
    }
}

impl<R: BufRead> FindingsCsvReader<R> {
    /// The dialect of the file, once its header has been read (after the
    /// first call to `next`).
    #[must_use]
    pub fn dialect(&self) -> Option<Dialect> {
        self.header.as_ref().map(|h| h.dialect)
    }

    /// The scanner the findings are filed under, once the header has been
    /// read.
    #[must_use]
    pub fn scanner(&self) -> Option<Scanner> {
        self.dialect().map(Dialect::scanner)
    }

    /// Reads one row; `false` at the end of the file.
    fn step(&mut self) -> Result<bool, ScanError> {
        if let Some(input) = self.input.take() {
            self.open_file(input)?;
        }
        let (Some(csv), Some(header)) = (self.csv.as_mut(), self.header.as_ref()) else {
            return Ok(false);
        };
        if !read_record(csv, &mut self.row)? {
            return Ok(false);
        }
        let start = take_start(csv, &self.row);
        let line = start.line;
        if start.oversize {
            self.reject(line, oversize_reason(start.to_end));
            return Ok(true);
        }
        if start.to_end {
            self.reject(
                line,
                "a quoted value lacks its closing quote: the record runs to the end of the file",
            );
            return Ok(true);
        }
        if self.row.iter().all(|cell| cell.trim_ascii().is_empty()) {
            return Ok(true);
        }
        if self.row.len() > header.labels.len() {
            let reason = format!(
                "the row has {} fields but the header has {}: a value holding the separator must be quoted",
                self.row.len(),
                header.labels.len()
            );
            self.reject(line, reason);
            return Ok(true);
        }
        match read_row(header, &self.row, line) {
            Ok(row) => self.push(row, line),
            Err(reason) => self.reject(line, reason),
        }
        Ok(true)
    }

    /// Finds the header, skipping the preamble, and sets up the reader of
    /// the rows after it.
    fn open_file(&mut self, mut input: Counted<R>) -> Result<(), ScanError> {
        let mut read_bytes = 0_usize;
        let mut first_line: Option<(u64, Vec<String>)> = None;
        for index in 0..MAX_PREAMBLE_LINES {
            let line = input.line();
            let mut buf = Vec::new();
            input
                .by_ref()
                .take(MAX_RECORD_BYTES as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| io_error(line, &e))?;
            input.mark();
            if buf.is_empty() {
                break;
            }
            if index == 0 && buf.starts_with(UTF8_BOM) {
                buf.drain(..UTF8_BOM.len());
            }
            read_bytes += buf.len();
            if buf.len() > MAX_RECORD_BYTES {
                return Err(ScanError::new(
                    line,
                    ErrorKind::TooLarge,
                    "the line is longer than 1 MiB, and no header came before it",
                ));
            }
            if let Some(header) = Header::from_line(&buf) {
                return self.start_rows(header, buf, input, line);
            }
            if first_line.is_none() && !buf.trim_ascii().is_empty() {
                first_line = Some((line, line_cells(&buf)));
            }
            if read_bytes > MAX_RECORD_BYTES {
                break;
            }
        }
        let Some((line, cells)) = first_line else {
            return Err(ScanError::new(
                1,
                ErrorKind::Malformed,
                "the file is empty: a findings CSV starts with a header row",
            ));
        };
        let found: Vec<String> = cells.iter().take(20).map(|c| quote(c.trim())).collect();
        Err(ScanError::new(
            line,
            ErrorKind::Malformed,
            format!(
                "no header row in the first {MAX_PREAMBLE_LINES} lines: a findings CSV needs a host column (IP, Host, Hostname, FQDN, DNS, NetBIOS or URL) and a finding column (Plugin ID, QID, NVT OID, Title, Plugin Name, NVT Name or Vulnerability); the first line has: {}",
                found.join(", ")
            ),
        ))
    }

    /// Reads the header line (given back to csv) and readies the rows.
    fn start_rows(
        &mut self,
        header: Header,
        head: Vec<u8>,
        input: Counted<R>,
        line: u64,
    ) -> Result<(), ScanError> {
        let separator = detect_separator(&head);
        let feed = CsvFeed::new(Source::new(head, input), separator, line);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(false)
            .flexible(true)
            .from_reader(feed);
        let mut record = csv::ByteRecord::new();
        if !read_record(&mut csv, &mut record)? {
            return Err(ScanError::new(
                line,
                ErrorKind::Malformed,
                "the header row could not be read",
            ));
        }
        let start = take_start(&mut csv, &record);
        if start.oversize {
            return Err(ScanError::new(
                start.line,
                ErrorKind::TooLarge,
                "the header row is longer than 1 MiB",
            ));
        }
        // The header as csv reads it (a quoted name may span lines), which
        // is the line as read above in every file seen so far.
        let cells: Vec<String> = record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.header = Some(Header::from_cells(&cells).unwrap_or(header));
        self.csv = Some(csv);
        Ok(())
    }

    fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.ready
            .push_back(Ok(ScanItem::Rejected(Rejection::new(line, reason))));
    }

    /// Adds a row to the open host, or yields that host and opens another.
    fn push(&mut self, row: Row, line: u64) {
        let same = self.open.as_ref().is_some_and(|o| o.ident == row.ident);
        let full = self.open.as_ref().is_some_and(|o| {
            o.host.findings.len() >= self.limits.max_findings_per_host
                && row
                    .finding
                    .as_ref()
                    .is_some_and(|f| !o.keys.contains_key(&key_of(f)))
        });
        if !same || full {
            self.flush();
            self.open = Some(OpenHost::new(row.ident.clone(), line));
        }
        if let Some(open) = self.open.as_mut() {
            open.add(row);
        }
    }

    /// Yields the open host.
    fn flush(&mut self) {
        if let Some(open) = self.open.take() {
            self.ready
                .push_back(Ok(ScanItem::Host(Box::new(open.host))));
        }
    }
}

// ---------------------------------------------------------------------------
// Hosts

/// What names a host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ident {
    ips: Vec<IpAddr>,
    macs: Vec<String>,
    hostname: Option<String>,
    fqdn: Option<String>,
}

/// A finding's place within its host.
type Key = (String, Option<u16>, Option<String>);

fn key_of(f: &ScannedFinding) -> Key {
    (f.plugin_id.clone(), f.port, f.protocol.clone())
}

/// The host whose rows are being read.
struct OpenHost {
    ident: Ident,
    host: ScannedHost,
    /// Where each finding is in `host.findings`.
    keys: HashMap<Key, usize>,
}

impl OpenHost {
    fn new(ident: Ident, line: u64) -> Self {
        let host = ScannedHost {
            line,
            ips: ident.ips.clone(),
            macs: ident.macs.clone(),
            hostname: ident.hostname.clone(),
            fqdn: ident.fqdn.clone(),
            ..ScannedHost::default()
        };
        Self {
            ident,
            host,
            keys: HashMap::new(),
        }
    }

    fn add(&mut self, row: Row) {
        let host = &mut self.host;
        if host.os.is_none() {
            host.os = row.os;
        }
        host.scanned_at = match (host.scanned_at, row.seen_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let Some(finding) = row.finding else {
            return;
        };
        if let (Some(port), Some(protocol)) = (finding.port, finding.protocol.as_deref())
            && matches!(protocol, "tcp" | "udp")
        {
            match host
                .services
                .iter_mut()
                .find(|s| s.port == port && s.protocol == protocol)
            {
                Some(service) => {
                    if service.name.is_none() {
                        service.name = row.service;
                    }
                }
                None => host.services.push(Service {
                    port,
                    protocol: protocol.to_owned(),
                    name: row.service,
                    product: None,
                    version: None,
                }),
            }
        }
        let key = key_of(&finding);
        match self.keys.get(&key) {
            Some(&at) => merge(&mut host.findings[at], finding),
            None => {
                self.keys.insert(key, host.findings.len());
                host.findings.push(finding);
            }
        }
    }
}

/// Adds a later row of the same finding: CVEs joined, the higher severity,
/// empty fields filled, and evidence that differs appended.
fn merge(into: &mut ScannedFinding, row: ScannedFinding) {
    for cve in row.cves {
        if into.cves.len() < MAX_CVES && !into.cves.contains(&cve) {
            into.cves.push(cve);
        }
    }
    into.severity = into.severity.max(row.severity);
    into.cvss2 = into.cvss2.take().or(row.cvss2);
    into.cvss3 = into.cvss3.take().or(row.cvss3);
    into.cvss4 = into.cvss4.take().or(row.cvss4);
    into.description = into.description.take().or(row.description);
    into.solution = into.solution.take().or(row.solution);
    match (&mut into.evidence, row.evidence) {
        (Some(kept), Some(more)) => {
            if kept.len() < MAX_TEXT_BYTES && !kept.contains(&more) {
                kept.push_str("\n\n");
                kept.push_str(&more);
                *kept = cap(kept, MAX_TEXT_BYTES);
            }
        }
        (slot @ None, more) => *slot = more,
        (Some(_), None) => {}
    }
}

// ---------------------------------------------------------------------------
// Rows

/// What one row says.
struct Row {
    ident: Ident,
    os: Option<String>,
    seen_at: Option<Timestamp>,
    service: Option<String>,
    /// `None` when the row reports a fixed finding or a false positive.
    finding: Option<ScannedFinding>,
}

/// The cells of one row, by field.
struct Cells<'a> {
    header: &'a Header,
    row: &'a csv::ByteRecord,
}

impl Cells<'_> {
    /// The non-empty, trimmed values of `field`, best column first, with
    /// their column's label.
    fn all(&self, field: Field) -> Vec<(&str, String)> {
        self.header.columns[field as usize]
            .iter()
            .filter_map(|&i| {
                let cell = self.row.get(i)?;
                let text = String::from_utf8_lossy(cell);
                let text = text.trim();
                (!text.is_empty()).then(|| (self.header.labels[i].as_str(), text.to_owned()))
            })
            .collect()
    }

    /// The first non-empty value of `field`.
    fn first(&self, field: Field) -> Option<String> {
        self.all(field).into_iter().next().map(|(_, v)| v)
    }
}

/// Reads one row, or says why it cannot be used.
fn read_row(header: &Header, record: &csv::ByteRecord, line: u64) -> Result<Row, String> {
    let cells = Cells {
        header,
        row: record,
    };
    let dialect = header.dialect;
    let (ident, url_port) = read_ident(&cells)?;
    let os = cells
        .first(Field::Os)
        .and_then(|os| {
            os.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        })
        .map(|os| cap(&os, MAX_SHORT_BYTES));
    let seen_at = cells
        .all(Field::SeenAt)
        .iter()
        .chain(cells.all(Field::FirstSeen).iter())
        .find_map(|(_, v)| parse_time(v));
    let service = cells
        .first(Field::Service)
        .map(|s| one_line(&s))
        .filter(|s| !s.is_empty())
        .map(|s| cap(&s, MAX_SHORT_BYTES));
    let row = Row {
        ident,
        os,
        seen_at,
        service,
        finding: None,
    };

    let plugin_id = cells.first(Field::PluginId).map(|id| one_line(&id));
    if let Some(id) = plugin_id.as_ref().filter(|id| id.len() > MAX_ID_BYTES) {
        return Err(format!(
            "the plugin id {} is longer than {MAX_ID_BYTES} bytes",
            quote(id)
        ));
    }
    let title = cells
        .first(Field::Title)
        .or_else(|| cells.first(Field::Name))
        .map(|t| one_line(&t))
        .filter(|t| !t.is_empty())
        .map(|t| cap(&t, MAX_TITLE_BYTES));
    let (plugin_id, title) = match (plugin_id, title) {
        (Some(id), Some(title)) => (id, title),
        (Some(id), None) => {
            let title = dialect.untitled(&id);
            (id, title)
        }
        // A generic list names its findings only by title.
        (None, Some(title)) => (cap(&title, MAX_ID_BYTES), title),
        (None, None) => {
            return Err(
                "the row has neither a title nor a plugin id, so it names no finding".to_owned(),
            );
        }
    };

    // Fixed findings and false positives: the host was seen, the finding
    // is not reported.
    let status = cells.first(Field::Status).unwrap_or_default();
    let dismissed = |s: &str| {
        let s = s.to_ascii_lowercase();
        matches!(
            s.as_str(),
            "fixed" | "closed" | "false positive" | "falsepositive" | "mitigated" | "resolved"
        )
    };
    let severities = cells.all(Field::Severity);
    if dismissed(&status) || severities.iter().any(|(_, s)| dismissed(s)) {
        return Ok(row);
    }

    let (mut port, mut protocol) = match cells.all(Field::Port).into_iter().next() {
        Some((label, value)) => {
            parse_port(&value).map_err(|e| format!("column {}: {e}", quote(label)))?
        }
        None => (None, None),
    };
    if let Some(p) = cells
        .first(Field::Protocol)
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| {
            !p.is_empty()
                && p.len() <= 16
                && p.bytes().all(|b| b.is_ascii_alphanumeric())
                && (matches!(p.as_str(), "tcp" | "udp")
                    || matches!(dialect, Dialect::Nessus | Dialect::Tenable))
        })
    {
        protocol = Some(p);
    }
    if port.is_none()
        && protocol.is_none()
        && cells.all(Field::Port).is_empty()
        && let Some(p) = url_port
    {
        port = Some(p);
        protocol = Some("tcp".to_owned());
    }

    let mut cves = Vec::new();
    // OpenVAS's CVE scanner files its results under the CVE id itself.
    if cves_in(&plugin_id) == [plugin_id.to_ascii_uppercase()] {
        cves.push(plugin_id.to_ascii_uppercase());
    }
    for (label, value) in cells.all(Field::Cves) {
        for cve in cves_in(&value) {
            if !cves.contains(&cve) {
                if cves.len() >= MAX_CVES {
                    return Err(format!(
                        "column {}: more than {MAX_CVES} CVE ids",
                        quote(label)
                    ));
                }
                cves.push(cve);
            }
        }
    }

    let versioned = |score_field: Field, vector_field: Field| {
        let vector = cells.first(vector_field);
        cells
            .all(score_field)
            .iter()
            .find_map(|(_, v)| parse_cvss(v, vector.as_deref()))
    };
    let mut cvss2 = versioned(Field::Cvss2, Field::Cvss2Vector);
    let mut cvss3 = versioned(Field::Cvss3, Field::Cvss3Vector);
    let mut cvss4 = versioned(Field::Cvss4, Field::Cvss4Vector);
    if let Some(cvss) = versioned(Field::Cvss, Field::CvssVector) {
        let slot = match cvss.vector.as_deref() {
            Some(v) if v.starts_with("CVSS:3") => &mut cvss3,
            Some(v) if v.starts_with("CVSS:4") => &mut cvss4,
            _ => &mut cvss2,
        };
        slot.get_or_insert(cvss);
    }

    let informational = cells.first(Field::Kind).is_some_and(|k| {
        matches!(
            k.to_ascii_lowercase().as_str(),
            "ig" | "info" | "information" | "information gathered"
        )
    });
    let severity = if informational {
        Severity::Info
    } else {
        severities
            .iter()
            .find_map(|(_, s)| Severity::parse(s).or_else(|| dialect.numeric_severity(s)))
            .or_else(|| {
                [&cvss3, &cvss2, &cvss4]
                    .into_iter()
                    .flatten()
                    .next()
                    .map(|c| Severity::from_cvss(c.score))
            })
            .unwrap_or(Severity::Info)
    };

    let text = |field: Field| {
        cells
            .first(field)
            .filter(|t| !t.eq_ignore_ascii_case("n/a"))
            .map(|t| cap(&t, MAX_TEXT_BYTES))
    };
    let evidence = text(Field::Evidence).or_else(|| text(Field::Url));

    Ok(Row {
        finding: Some(ScannedFinding {
            line,
            scanner: dialect.scanner(),
            plugin_id,
            title,
            port,
            protocol,
            cves,
            severity,
            cvss2,
            cvss3,
            cvss4,
            description: text(Field::Description),
            solution: text(Field::Solution),
            evidence,
        }),
        ..row
    })
}

/// The host a row names, and the port of its URL if a URL named it.
fn read_ident(cells: &Cells<'_>) -> Result<(Ident, Option<u16>), String> {
    let mut ident = Ident::default();
    // Names in the order they are trusted: a DNS column, a host column, a
    // host name (or NetBIOS) column, a URL.
    let mut dotted: Vec<String> = Vec::new();
    let mut short: Vec<String> = Vec::new();
    for (label, value) in cells.all(Field::Ip) {
        for part in value
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            let ip = part.parse::<IpAddr>().map_err(|_| {
                format!(
                    "column {}: {} is not an IP address",
                    quote(label),
                    quote(part)
                )
            })?;
            add_ip(&mut ident.ips, ip);
        }
    }
    let mut fqdn_names = Vec::new();
    for (label, value) in cells.all(Field::Fqdn) {
        if let Ok(ip) = value.parse::<IpAddr>() {
            add_ip(&mut ident.ips, ip);
        } else {
            fqdn_names.push(dns_name(&value).ok_or_else(|| {
                format!(
                    "column {}: {} is neither an IP address nor a host name",
                    quote(label),
                    quote(&value)
                )
            })?);
        }
    }
    let mut host_names = Vec::new();
    for (label, value) in cells.all(Field::Host) {
        if let Ok(ip) = value.parse::<IpAddr>() {
            add_ip(&mut ident.ips, ip);
        } else {
            host_names.push(dns_name(&value).ok_or_else(|| {
                format!(
                    "column {}: {} is neither an IP address nor a host name",
                    quote(label),
                    quote(&value)
                )
            })?);
        }
    }
    let mut display_names = Vec::new();
    for (_, value) in cells.all(Field::Hostname) {
        if let Ok(ip) = value.parse::<IpAddr>() {
            add_ip(&mut ident.ips, ip);
        } else if let Some(name) = dns_name(&value) {
            display_names.push(name);
        }
    }
    for name in fqdn_names.into_iter().chain(host_names) {
        if name.contains('.') {
            dotted.push(name);
        } else {
            short.push(name);
        }
    }
    // A host name column's own value comes before any name cut from a DNS
    // name, as in the Nessus reader.
    for name in display_names {
        if name.contains('.') {
            short.insert(0, first_label(&name));
            dotted.push(name);
        } else {
            short.insert(0, name);
        }
    }
    for (_, value) in cells.all(Field::Mac) {
        for mac in value.split([',', ';', ' ', '\n']).filter_map(normalise_mac) {
            if !ident.macs.contains(&mac) {
                ident.macs.push(mac);
            }
        }
    }

    let mut url_port = None;
    if ident.ips.is_empty()
        && dotted.is_empty()
        && short.is_empty()
        && let Some((label, value)) = cells.all(Field::Url).into_iter().next()
    {
        let (host, port) = url_host(&value)
            .ok_or_else(|| format!("column {}: {} names no host", quote(label), quote(&value)))?;
        url_port = port;
        if let Ok(ip) = host.parse::<IpAddr>() {
            add_ip(&mut ident.ips, ip);
        } else {
            let name = dns_name(host).ok_or_else(|| {
                format!(
                    "column {}: the host of {} is not a host name",
                    quote(label),
                    quote(&value)
                )
            })?;
            if name.contains('.') {
                dotted.push(name);
            } else {
                short.push(name);
            }
        }
    }

    ident.fqdn = dotted.first().cloned();
    ident.hostname = short
        .into_iter()
        .next()
        .or_else(|| ident.fqdn.as_deref().map(first_label));
    if ident.ips.is_empty()
        && ident.macs.is_empty()
        && ident.hostname.is_none()
        && ident.fqdn.is_none()
    {
        let host_columns: Vec<String> = [
            Field::Ip,
            Field::Host,
            Field::Hostname,
            Field::Fqdn,
            Field::Url,
            Field::Mac,
        ]
        .into_iter()
        .flat_map(|f| cells.header.columns[f as usize].iter())
        .map(|&i| quote(&cells.header.labels[i]))
        .collect();
        return Err(format!(
            "the row names no host: its {} {} empty",
            host_columns.join(", "),
            if host_columns.len() == 1 { "is" } else { "are" }
        ));
    }
    Ok((ident, url_port))
}

fn add_ip(ips: &mut Vec<IpAddr>, ip: IpAddr) {
    if !ips.contains(&ip) {
        ips.push(ip);
    }
}

/// A host or DNS name in lower case without a final dot: letters, digits,
/// dots, hyphens and underscores, not all labels numbers. `None` if the
/// value cannot be one.
fn dns_name(value: &str) -> Option<String> {
    let name = value.trim().trim_end_matches('.').to_lowercase();
    // A name whose labels are all numbers is a mistyped address.
    let numeric = name
        .split('.')
        .all(|label| label.bytes().all(|b| b.is_ascii_digit()));
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.starts_with('.')
        && !numeric
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    ok.then_some(name)
}

fn first_label(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_owned()
}

/// The host of a URL and its port (given, or the scheme's for http and
/// https).
fn url_host(url: &str) -> Option<(&str, Option<u16>)> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => match scheme.as_deref() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        },
    };
    Some((host, port))
}

/// Port and protocol from `443`, `443/tcp`, `general/tcp`, `http (80/tcp)`
/// or `0`; no port for 0, `general` and `package`.
fn parse_port(text: &str) -> Result<(Option<u16>, Option<String>), String> {
    let inner = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    let (number, protocol) = inner.split_once('/').unwrap_or((inner, ""));
    let number = number.trim();
    let port = if number.is_empty()
        || ["general", "package", "n/a"]
            .iter()
            .any(|w| number.eq_ignore_ascii_case(w))
    {
        None
    } else {
        match number.parse::<u16>() {
            Ok(port) if number.bytes().all(|b| b.is_ascii_digit()) => (port > 0).then_some(port),
            _ => {
                return Err(format!("{} is not a port number (0 to 65535)", quote(text)));
            }
        }
    };
    let protocol = protocol.trim().to_ascii_lowercase();
    let protocol = matches!(protocol.as_str(), "tcp" | "udp").then_some(protocol);
    Ok((port, protocol))
}

/// A score from 0 to 10.
fn score(text: &str) -> Option<f32> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
}

/// A CVSS score, written `7.5` or `8.1 (AV:N/AC:H/...)` (Qualys), with the
/// vector of its own cell or of `vector`.
fn parse_cvss(text: &str, vector: Option<&str>) -> Option<Cvss> {
    let text = text.trim();
    let (number, rest) = match text.find(|c: char| c.is_whitespace() || c == '(') {
        Some(at) => (&text[..at], text[at..].trim()),
        None => (text, ""),
    };
    let score = score(number)?;
    let own = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .map(str::trim);
    let vector = own
        .or(vector)
        .map(str::trim)
        .filter(|v| {
            !v.is_empty()
                && !["null", "none", "n/a", "-"]
                    .iter()
                    .any(|w| v.eq_ignore_ascii_case(w))
        })
        .map(|v| cap(&one_line(v), MAX_SHORT_BYTES));
    Some(Cvss { score, vector })
}

/// Text on one line: runs of white space made one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A date and time as scanners write them: RFC 3339, `2023-06-08
/// 01:58:56`, `05/25/2021 07:36:58` (month first unless the first number
/// cannot be a month), `Jan 5, 2021 10:24:08 MST`, `Feb 03, 2026 07:00 AM`,
/// or a date alone. Times without an offset, or with a zone abbreviation,
/// are taken as UTC: the error is hours.
fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(Timestamp::from_millis(t.as_millisecond()));
    }
    // A final zone abbreviation (`MST`, `GMT`, `UTC`) is dropped.
    let text = match text.rsplit_once(' ') {
        Some((rest, zone))
            if (2..=5).contains(&zone.len()) && zone.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            if matches!(zone, "AM" | "PM") {
                text
            } else {
                rest.trim_end()
            }
        }
        _ => text,
    };
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .ok()
        .or_else(|| {
            text.parse::<jiff::civil::Date>()
                .ok()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .or_else(|| {
            let day_first = text
                .split('/')
                .next()
                .and_then(|n| n.trim().parse::<u32>().ok())
                .is_some_and(|n| n > 12);
            let formats: &[&str] = if text.contains('/') {
                if day_first {
                    &["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]
                } else {
                    &["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"]
                }
            } else {
                &[
                    "%b %d, %Y %H:%M:%S",
                    "%b %d, %Y %I:%M %p",
                    "%b %d, %Y %H:%M",
                    "%b %d, %Y",
                    "%d %b %Y %H:%M:%S",
                    "%d %b %Y",
                ]
            };
            formats
                .iter()
                .find_map(|f| jiff::fmt::strtime::parse(f, text).ok()?.to_datetime().ok())
        })?;
    let ts = jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()?;
    Some(Timestamp::from_millis(ts.as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_unique_and_in_field_order() {
        assert_eq!(ALIASES.len(), FIELDS);
        let mut seen = std::collections::HashSet::new();
        for ((_, aliases), field) in ALIASES.iter().zip(FIELD_ORDER) {
            for alias in *aliases {
                assert!(seen.insert(normalise(alias)), "{alias} is listed twice");
                assert_eq!(field_for(alias).map(|(f, _)| f), Some(field), "{alias}");
            }
        }
        for (i, field) in FIELD_ORDER.iter().enumerate() {
            assert_eq!(*field as usize, i);
        }
    }

    #[test]
    fn names_match_ignoring_case_spaces_underscores_and_hyphens() {
        for (given, want) in [
            (" PLUGIN_ID ", Some(Field::PluginId)),
            ("Plugin-Name", Some(Field::Title)),
            ("NVT OID", Some(Field::PluginId)),
            ("CVSSv3.1 Base (nvd)", Some(Field::Cvss3)),
            ("Port Protocol", Some(Field::Protocol)),
            ("Asset IPV4", Some(Field::Ip)),
            ("CVE-Description", None),
            ("Plugin Family", None),
            ("", None),
        ] {
            assert_eq!(field_for(given).map(|(f, _)| f), want, "{given}");
        }
    }

    #[test]
    fn headers_and_dialects() {
        let dialect = |line: &str| Header::from_line(line.as_bytes()).map(|h| h.dialect);
        assert_eq!(
            dialect("Plugin ID,CVE,CVSS,Risk,Host,Protocol,Port,Name"),
            Some(Dialect::Nessus)
        );
        assert_eq!(
            dialect("Plugin,Plugin Name,Severity,IP Address,Repository"),
            Some(Dialect::Tenable)
        );
        assert_eq!(
            dialect("IP,Hostname,Port,NVT Name,NVT OID"),
            Some(Dialect::Openvas)
        );
        assert_eq!(
            dialect("\"QID\",\"Title\",\"Asset IPV4\""),
            Some(Dialect::Qualys)
        );
        assert_eq!(dialect("Date;Title;Url;Severity"), Some(Dialect::Generic));
        // An asset list names hosts but no findings, even with a `name`.
        assert_eq!(dialect("hostname,ip,os,package,version"), None);
        assert_eq!(dialect("name,ip,owner,criticality"), None);
        assert_eq!(dialect("name,ip,severity"), Some(Dialect::Generic));
        // Findings without a host column are not a scan of hosts.
        assert_eq!(dialect("Title,Severity,Description"), None);
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("443"), Ok((Some(443), None)));
        assert_eq!(parse_port("443/TCP"), Ok((Some(443), Some("tcp".into()))));
        assert_eq!(parse_port("general/udp"), Ok((None, Some("udp".into()))));
        assert_eq!(parse_port("0"), Ok((None, None)));
        assert_eq!(
            parse_port("http (80/tcp)"),
            Ok((Some(80), Some("tcp".into())))
        );
        for bad in ["70000", "-1", "eighty", "4 43"] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            url_host("https://vulnerable.endpoint.com/resource1/asdf"),
            Some(("vulnerable.endpoint.com", Some(443)))
        );
        assert_eq!(
            url_host("http://user@10.0.0.1:8080/x?y"),
            Some(("10.0.0.1", Some(8080)))
        );
        assert_eq!(url_host("https://[::1]/"), Some(("::1", Some(443))));
        assert_eq!(url_host("host.example"), Some(("host.example", None)));
        assert_eq!(url_host("https:///x"), None);
        assert_eq!(url_host("https://h:99999/"), None);
    }

    #[test]
    fn scores_with_vectors() {
        assert_eq!(
            parse_cvss("8.1 (AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H)", None),
            Some(Cvss {
                score: 8.1,
                vector: Some("AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H".into())
            })
        );
        assert_eq!(
            parse_cvss("7.5", Some("CVSS:3.1/AV:N")),
            Some(Cvss {
                score: 7.5,
                vector: Some("CVSS:3.1/AV:N".into())
            })
        );
        assert_eq!(parse_cvss("50", None), None);
        assert_eq!(parse_cvss("null", None), None);
        assert_eq!(parse_cvss("5", Some("null")).and_then(|c| c.vector), None);
    }

    #[test]
    fn times() {
        let secs = |s: &str| parse_time(s).map(Timestamp::as_secs);
        // 2023-06-08T01:58:56Z, by `date -u -d '2023-06-08 01:58:56' +%s`.
        assert_eq!(secs("2023-06-08T01:58:56.166Z"), Some(1_686_189_536));
        assert_eq!(secs("2023-06-08 01:58:56"), Some(1_686_189_536));
        assert_eq!(secs("06/08/2023 01:58:56"), Some(1_686_189_536));
        assert_eq!(secs("Jun 8, 2023 01:58:56 MST"), Some(1_686_189_536));
        assert_eq!(secs("Jun 08, 2023 01:58 AM"), Some(1_686_189_480));
        // Day first when the first number cannot be a month.
        assert_eq!(secs("28/02/2021"), Some(1_614_470_400));
        assert_eq!(secs("02/28/2021"), Some(1_614_470_400));
        assert_eq!(secs("someday"), None);
    }
}
