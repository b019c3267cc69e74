//! Qualys XML reports, streamed one host at a time: VM scan reports
//! (`ASSET_DATA_REPORT`), infrastructure scans exported from the web GUI
//! (`SCAN`) and the API's host detection list
//! (`HOST_LIST_VM_DETECTION_OUTPUT`).
//!
//! - A VM scan report lists its knowledge base (`GLOSSARY`) after the
//!   hosts, so its findings carry placeholders (title `QID <n>`, severity
//!   Info) and each `VULN_DETAILS` is yielded afterwards as a
//!   [`FindingDefinition`] that the importer applies by QID. The detection
//!   list has no knowledge base at all; its findings carry the severity
//!   the list gives.
//! - An infrastructure scan is self-contained per `<IP>`. `VULNS`
//!   (confirmed) and `PRACTICES` (potential vulnerabilities, which carry
//!   CVEs and real severities) become findings with the severity Qualys
//!   gives; `INFOS` and `SERVICES` (information gathered) become Info
//!   findings, as the information-gathered items of a VM report do.
//! - Detections whose status is `Fixed` are skipped: they describe the
//!   past.
//! - A host whose address is not an IP address is rejected whole; a
//!   finding with a bad QID or port is rejected alone, naming its line, and
//!   the host keeps its other findings.
//!
//! Every Qualys export declares an external DTD
//! (`<!DOCTYPE SCAN SYSTEM "https://.../scan-1.dtd">`); the XML layer skips
//! it without fetching it, and refuses any internal subset.

use std::collections::VecDeque;
use std::io::BufRead;
use std::net::IpAddr;

use garrison_core::Timestamp;

use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::{
    self, Cvss, FindingDefinition, ScanItem, ScannedFinding, ScannedHost, Scanner, Severity,
};
use crate::openvas::{Ev, Tree, host_names, push_capped, timestamp};
use crate::xml::{Limits, Xml, XmlSource};

/// Detection output kept per finding.
const MAX_EVIDENCE: usize = 64 * 1024;
/// CVE ids kept per finding or definition.
const MAX_CVES: usize = 4096;

/// Streams a Qualys XML report as [`ScanItem`]s.
pub struct QualysReader<R: BufRead> {
    tree: Tree<R>,
    limits: Limits,
    kind: Option<Kind>,
    /// Items of the last host read: the host, then its rejected findings.
    queue: VecDeque<ScanItem>,
    /// When an infrastructure scan ran, from its header.
    scan_date: Option<Timestamp>,
    done: bool,
}

impl<R: BufRead> std::fmt::Debug for QualysReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QualysReader")
            .field("line", &self.tree.line())
            .field("queued", &self.queue.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Which of the three Qualys documents is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    VmReport,
    InfraScan,
    Detections,
}

/// Reads a Qualys XML report (root `<ASSET_DATA_REPORT>`, `<SCAN>` or
/// `<HOST_LIST_VM_DETECTION_OUTPUT>`).
pub fn read<R: BufRead>(input: Counted<R>, limits: Limits) -> QualysReader<R> {
    QualysReader {
        tree: Tree::new(XmlSource::new(input, limits)),
        limits,
        kind: None,
        queue: VecDeque::new(),
        scan_date: None,
        done: false,
    }
}

impl<R: BufRead> Iterator for QualysReader<R> {
    type Item = Result<ScanItem, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.queue.pop_front() {
            return Some(Ok(item));
        }
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<R: BufRead> QualysReader<R> {
    fn step(&mut self) -> Result<Option<ScanItem>, ScanError> {
        let kind = match self.kind {
            Some(kind) => kind,
            None => {
                let kind = self.root()?;
                self.kind = Some(kind);
                kind
            }
        };
        loop {
            let Some(ev) = self.tree.next()? else {
                return Ok(None);
            };
            let Xml::Start { name, line, .. } = &ev else {
                continue;
            };
            let line = *line;
            match (kind, name.as_str(), self.tree.parent()) {
                (Kind::VmReport, "HOST", Some("HOST_LIST")) => self.vm_host(line)?,
                (Kind::VmReport, "VULN_DETAILS", Some("VULN_DETAILS_LIST")) => {
                    return self.definition(line, ev.attr("id")).map(Some);
                }
                (Kind::InfraScan, "KEY", Some("HEADER")) if ev.attr("value") == Some("DATE") => {
                    let date = self.text()?;
                    self.scan_date = timestamp(&date);
                }
                (Kind::InfraScan, "IP", Some("SCAN")) => self.scan_ip(&ev, line)?,
                (Kind::Detections, "HOST", Some("HOST_LIST")) => self.detection_host(line)?,
                _ => {}
            }
            if let Some(item) = self.queue.pop_front() {
                return Ok(Some(item));
            }
        }
    }

    fn root(&mut self) -> Result<Kind, ScanError> {
        let line = self.tree.line();
        let Some(Xml::Start { name, line, .. }) = self.tree.next()? else {
            return Err(ScanError::new(
                line,
                ErrorKind::Malformed,
                "the document does not start with an element: not a Qualys report",
            ));
        };
        match name.as_str() {
            "ASSET_DATA_REPORT" => Ok(Kind::VmReport),
            "SCAN" => Ok(Kind::InfraScan),
            "HOST_LIST_VM_DETECTION_OUTPUT" => Ok(Kind::Detections),
            other => Err(ScanError::new(
                line,
                ErrorKind::Malformed,
                format!(
                    "the root element is <{other}>: a Qualys report starts with <ASSET_DATA_REPORT>, <SCAN> or <HOST_LIST_VM_DETECTION_OUTPUT>"
                ),
            )),
        }
    }

    /// The text directly inside the element that has just started.
    fn text(&mut self) -> Result<String, ScanError> {
        let max = self.limits.max_text_bytes;
        let mut out = String::new();
        self.tree.walk(|path, ev| {
            if let (Ev::Text(text), []) = (ev, path) {
                push_capped(&mut out, text, max);
            }
        })?;
        Ok(out.trim().to_owned())
    }

    /// One `<HOST>` of a VM scan report, with its `VULN_INFO`s.
    fn vm_host(&mut self, line: u64) -> Result<(), ScanError> {
        let max = self.limits.max_text_bytes;
        let mut ids = HostIds::default();
        let mut os = String::new();
        let mut items = Items::new(self.limits.max_findings_per_host);
        let mut cur = RawDetection::default();
        let mut last_seen: Option<Timestamp> = None;
        self.tree.walk(|path, ev| match ev {
            Ev::Start(start) => {
                if path == ["VULN_INFO_LIST", "VULN_INFO"] {
                    cur = RawDetection::at(start);
                }
            }
            Ev::Text(text) => {
                let field = match path {
                    ["IP"] => &mut ids.ip,
                    ["IPV6"] => &mut ids.ipv6,
                    ["DNS"] => &mut ids.dns,
                    ["NETBIOS"] => &mut ids.netbios,
                    ["OPERATING_SYSTEM"] => &mut os,
                    ["VULN_INFO_LIST", "VULN_INFO", field] => match cur.field(field) {
                        Some(field) => field,
                        None => return,
                    },
                    _ => return,
                };
                push_capped(field, text, max);
            }
            Ev::End => {
                if path == ["VULN_INFO_LIST", "VULN_INFO"] {
                    let raw = std::mem::take(&mut cur);
                    if let Some(seen) = timestamp(&raw.last_found) {
                        last_seen = last_seen.max(Some(seen));
                    }
                    items.add(raw.finish(false));
                }
            }
        })?;
        let host = ScannedHost {
            line,
            os: non_empty(&os),
            scanned_at: last_seen,
            ..ScannedHost::default()
        };
        self.queue_host(host, &ids, items);
        Ok(())
    }

    /// One `<HOST>` of the API's detection list.
    fn detection_host(&mut self, line: u64) -> Result<(), ScanError> {
        let max = self.limits.max_text_bytes;
        let mut ids = HostIds::default();
        let mut os = String::new();
        let mut scanned = String::new();
        let mut items = Items::new(self.limits.max_findings_per_host);
        let mut cur = RawDetection::default();
        self.tree.walk(|path, ev| match ev {
            Ev::Start(start) => {
                if path == ["DETECTION_LIST", "DETECTION"] {
                    cur = RawDetection::at(start);
                }
            }
            Ev::Text(text) => {
                let field = match path {
                    ["IP"] => &mut ids.ip,
                    ["IPV6"] => &mut ids.ipv6,
                    ["DNS"] => &mut ids.dns,
                    ["DNS_DATA", "FQDN"] => &mut ids.fqdn,
                    ["DNS_DATA", "HOSTNAME"] => &mut ids.short,
                    ["NETBIOS"] => &mut ids.netbios,
                    ["OS"] => &mut os,
                    ["LAST_SCAN_DATETIME"] => &mut scanned,
                    ["DETECTION_LIST", "DETECTION", field] => match cur.field(field) {
                        Some(field) => field,
                        None => return,
                    },
                    _ => return,
                };
                push_capped(field, text, max);
            }
            Ev::End => {
                if path == ["DETECTION_LIST", "DETECTION"] {
                    items.add(std::mem::take(&mut cur).finish(true));
                }
            }
        })?;
        let host = ScannedHost {
            line,
            os: non_empty(&os),
            scanned_at: timestamp(&scanned),
            ..ScannedHost::default()
        };
        self.queue_host(host, &ids, items);
        Ok(())
    }

    /// One `<IP>` of an infrastructure scan, with everything found on it.
    fn scan_ip(&mut self, start: &Xml, line: u64) -> Result<(), ScanError> {
        let max = self.limits.max_text_bytes;
        let ids = HostIds {
            ip: start.attr("value").unwrap_or_default().to_owned(),
            dns: start.attr("name").unwrap_or_default().to_owned(),
            ..HostIds::default()
        };
        let mut os = String::new();
        let mut items = Items::new(self.limits.max_findings_per_host);
        let mut cat = (String::new(), String::new());
        let mut cur = RawScanItem::default();
        self.tree.walk(|path, ev| match ev {
            Ev::Start(start) => match path {
                [section, "CAT"] if Section::of(section).is_some() => {
                    cat = (
                        start.attr("port").unwrap_or_default().to_owned(),
                        start.attr("protocol").unwrap_or_default().to_owned(),
                    );
                }
                [section, "CAT", item] => {
                    if let Some(section) = Section::of(section).filter(|s| s.item() == *item) {
                        cur = RawScanItem::at(start, section, &cat);
                    }
                }
                _ => {}
            },
            Ev::Text(text) => {
                let field = match path {
                    ["OS"] => &mut os,
                    [_, "CAT", _, field] => match cur.field(field) {
                        Some(field) => field,
                        None => return,
                    },
                    [_, "CAT", _, "CVE_ID_LIST", "CVE_ID", "ID"] => {
                        add_cves(&mut cur.cves, text);
                        return;
                    }
                    _ => return,
                };
                push_capped(field, text, max);
            }
            Ev::End => {
                if let [section, "CAT", item] = path
                    && Section::of(section).is_some_and(|s| s.item() == *item)
                {
                    items.add(std::mem::take(&mut cur).finish().map(Some));
                }
            }
        })?;
        let host = ScannedHost {
            line,
            os: non_empty(&os),
            scanned_at: self.scan_date,
            ..ScannedHost::default()
        };
        self.queue_host(host, &ids, items);
        Ok(())
    }

    /// One `VULN_DETAILS` of a VM scan report's knowledge base.
    fn definition(&mut self, line: u64, id: Option<&str>) -> Result<ScanItem, ScanError> {
        let max = self.limits.max_text_bytes;
        let mut raw = RawDefinition {
            qid: id
                .map(|id| id.trim_start_matches("qid_").to_owned())
                .unwrap_or_default(),
            ..RawDefinition::default()
        };
        let mut qid_text = String::new();
        self.tree.walk(|path, ev| {
            let Ev::Text(text) = ev else {
                return;
            };
            let field = match path {
                ["QID"] => &mut qid_text,
                ["TITLE"] => &mut raw.title,
                ["SEVERITY"] => &mut raw.severity,
                ["THREAT"] => &mut raw.threat,
                ["IMPACT"] => &mut raw.impact,
                ["SOLUTION"] => &mut raw.solution,
                ["CVSS_SCORE", "CVSS_BASE"] | ["CVSS_BASE"] => &mut raw.cvss2,
                ["CVSS3_SCORE", "CVSS3_BASE"] | ["CVSS3_BASE"] => &mut raw.cvss3,
                ["CVE_ID_LIST", "CVE_ID", "ID"] => {
                    add_cves(&mut raw.cves, text);
                    return;
                }
                _ => return,
            };
            push_capped(field, text, max);
        })?;
        if !qid_text.trim().is_empty() {
            raw.qid = qid_text;
        }
        let qid = match qid(&raw.qid) {
            Ok(qid) => qid,
            Err(reason) => {
                return Ok(ScanItem::Rejected(Rejection::new(
                    line,
                    format!("knowledge base entry: {reason}"),
                )));
            }
        };
        Ok(ScanItem::Definition(Box::new(FindingDefinition {
            scanner: Scanner::Qualys,
            plugin_id: qid,
            title: non_empty(&one_line(&raw.title)),
            severity: level(&raw.severity),
            cves: raw.cves,
            cvss2: cvss(&raw.cvss2),
            cvss3: cvss(&raw.cvss3),
            description: join_texts(&raw.threat, &raw.impact),
            solution: meaningful(&raw.solution),
        })))
    }

    /// Queues a host (or its rejection) and its rejected findings.
    fn queue_host(&mut self, mut host: ScannedHost, ids: &HostIds, items: Items) {
        let line = host.line;
        let (ip, ipv6) = (ids.ip.trim(), ids.ipv6.trim());
        let primary = if ip.is_empty() { ipv6 } else { ip };
        if primary.is_empty() {
            self.queue.push_back(ScanItem::Rejected(Rejection::new(
                line,
                "the host has no IP address",
            )));
            return;
        }
        let Ok(addr) = primary.parse::<IpAddr>() else {
            self.queue.push_back(ScanItem::Rejected(Rejection::new(
                line,
                format!("the host's IP {primary:?} is not an IP address"),
            )));
            return;
        };
        host.ips.push(addr);
        if let Ok(v6) = ipv6.parse::<IpAddr>()
            && !host.ips.contains(&v6)
        {
            host.ips.push(v6);
        }
        (host.hostname, host.fqdn) = ids.names();
        host.findings = items.findings;
        self.queue.push_back(ScanItem::Host(Box::new(host)));
        self.queue
            .extend(items.rejected.into_iter().map(ScanItem::Rejected));
        if items.dropped > 0 {
            self.queue.push_back(ScanItem::Rejected(Rejection::new(
                line,
                format!(
                    "{} more findings of this host were dropped: at most {} are kept per host",
                    items.dropped, items.max
                ),
            )));
        }
    }
}

/// The names and addresses a host section gives.
#[derive(Default)]
struct HostIds {
    ip: String,
    ipv6: String,
    dns: String,
    fqdn: String,
    short: String,
    netbios: String,
}

impl HostIds {
    /// Short name and FQDN: from the DNS name, else the detection list's
    /// DNS data, else the NetBIOS name.
    fn names(&self) -> (Option<String>, Option<String>) {
        [&self.dns, &self.fqdn, &self.short, &self.netbios]
            .into_iter()
            .map(|name| host_names(name))
            .find(|(short, _)| short.is_some())
            .unwrap_or_default()
    }
}

/// A host's findings and rejected findings, within the per-host limit.
struct Items {
    findings: Vec<ScannedFinding>,
    rejected: Vec<Rejection>,
    dropped: u64,
    max: usize,
}

impl Items {
    fn new(max: usize) -> Self {
        Self {
            findings: Vec::new(),
            rejected: Vec::new(),
            dropped: 0,
            max,
        }
    }

    fn add(&mut self, item: Result<Option<ScannedFinding>, Rejection>) {
        let item = match item {
            Ok(Some(finding)) => Ok(finding),
            Ok(None) => return,
            Err(rejection) => Err(rejection),
        };
        if self.findings.len() + self.rejected.len() >= self.max {
            self.dropped += 1;
            return;
        }
        match item {
            Ok(finding) => self.findings.push(finding),
            Err(rejection) => self.rejected.push(rejection),
        }
    }
}

/// A `VULN_INFO` of a VM report or a `DETECTION` of the detection list.
#[derive(Default)]
struct RawDetection {
    line: u64,
    qid: String,
    kind: String,
    severity: String,
    port: String,
    protocol: String,
    result: String,
    status: String,
    last_found: String,
}

impl RawDetection {
    fn at(start: &Xml) -> Self {
        Self {
            line: start_line(start),
            ..Self::default()
        }
    }

    fn field(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "QID" => &mut self.qid,
            "TYPE" => &mut self.kind,
            "SEVERITY" => &mut self.severity,
            "PORT" => &mut self.port,
            "PROTOCOL" => &mut self.protocol,
            "RESULT" | "RESULTS" => &mut self.result,
            "VULN_STATUS" | "STATUS" => &mut self.status,
            "LAST_FOUND" | "LAST_FOUND_DATETIME" => &mut self.last_found,
            _ => return None,
        })
    }

    /// The finding; `None` for a fixed one. Only the detection list gives
    /// a severity (`with_severity`); a VM report's comes with its
    /// definition.
    fn finish(self, with_severity: bool) -> Result<Option<ScannedFinding>, Rejection> {
        if self.status.trim().eq_ignore_ascii_case("fixed") {
            return Ok(None);
        }
        let reject = |reason: String| Rejection::new(self.line, reason);
        let qid = qid(&self.qid).map_err(reject)?;
        let port = port(&self.port).map_err(reject)?;
        let severity = if with_severity && !self.kind.trim().eq_ignore_ascii_case("info") {
            level(&self.severity).unwrap_or(Severity::Info)
        } else {
            Severity::Info
        };
        Ok(Some(ScannedFinding {
            line: self.line,
            scanner: Scanner::Qualys,
            title: format!("QID {qid}"),
            plugin_id: qid,
            port,
            protocol: protocol(&self.protocol),
            cves: Vec::new(),
            severity,
            cvss2: None,
            cvss3: None,
            cvss4: None,
            description: None,
            solution: None,
            evidence: non_empty(&self.result).map(|r| model::cap(&r, MAX_EVIDENCE)),
        }))
    }
}

/// The four lists of an infrastructure scan's `<IP>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Section {
    #[default]
    Vulns,
    Practices,
    Infos,
    Services,
}

impl Section {
    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "VULNS" => Self::Vulns,
            "PRACTICES" => Self::Practices,
            "INFOS" => Self::Infos,
            "SERVICES" => Self::Services,
            _ => return None,
        })
    }

    /// The element each item of the list is.
    const fn item(self) -> &'static str {
        match self {
            Self::Vulns => "VULN",
            Self::Practices => "PRACTICE",
            Self::Infos => "INFO",
            Self::Services => "SERVICE",
        }
    }
}

/// One `VULN`, `PRACTICE`, `INFO` or `SERVICE` of an infrastructure scan.
#[derive(Default)]
struct RawScanItem {
    line: u64,
    section: Section,
    number: String,
    severity: String,
    port: String,
    protocol: String,
    title: String,
    diagnosis: String,
    consequence: String,
    solution: String,
    result: String,
    cvss2: String,
    cvss3: String,
    cves: Vec<String>,
}

impl RawScanItem {
    fn at(start: &Xml, section: Section, cat: &(String, String)) -> Self {
        let mut cves = Vec::new();
        add_cves(&mut cves, start.attr("cveid").unwrap_or_default());
        Self {
            line: start_line(start),
            section,
            number: start.attr("number").unwrap_or_default().to_owned(),
            severity: start.attr("severity").unwrap_or_default().to_owned(),
            port: cat.0.clone(),
            protocol: cat.1.clone(),
            cves,
            ..Self::default()
        }
    }

    fn field(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "TITLE" => &mut self.title,
            "DIAGNOSIS" => &mut self.diagnosis,
            "CONSEQUENCE" => &mut self.consequence,
            "SOLUTION" => &mut self.solution,
            "RESULT" => &mut self.result,
            "CVSS_BASE" => &mut self.cvss2,
            "CVSS3_BASE" => &mut self.cvss3,
            _ => return None,
        })
    }

    fn finish(self) -> Result<ScannedFinding, Rejection> {
        let reject = |reason: String| Rejection::new(self.line, reason);
        let qid = qid(&self.number).map_err(reject)?;
        let port = port(&self.port).map_err(reject)?;
        let severity = match self.section {
            Section::Vulns | Section::Practices => level(&self.severity).unwrap_or(Severity::Info),
            Section::Infos | Section::Services => Severity::Info,
        };
        Ok(ScannedFinding {
            line: self.line,
            scanner: Scanner::Qualys,
            title: non_empty(&one_line(&self.title)).unwrap_or_else(|| format!("QID {qid}")),
            plugin_id: qid,
            port,
            protocol: protocol(&self.protocol),
            cves: self.cves,
            severity,
            cvss2: cvss(&self.cvss2),
            cvss3: cvss(&self.cvss3),
            cvss4: None,
            description: join_texts(&self.diagnosis, &self.consequence),
            solution: meaningful(&self.solution),
            evidence: non_empty(&self.result).map(|r| model::cap(&r, MAX_EVIDENCE)),
        })
    }
}

/// A `VULN_DETAILS` of the knowledge base.
#[derive(Default)]
struct RawDefinition {
    qid: String,
    title: String,
    severity: String,
    threat: String,
    impact: String,
    solution: String,
    cvss2: String,
    cvss3: String,
    cves: Vec<String>,
}

fn start_line(start: &Xml) -> u64 {
    match start {
        Xml::Start { line, .. } => *line,
        _ => 0,
    }
}

/// A QID is a number; it is kept as text, as every scanner's plugin id is.
fn qid(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the finding has no QID".to_owned());
    }
    if text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the QID {text:?} is not a number"));
    }
    Ok(text.to_owned())
}

fn port(text: &str) -> Result<Option<u16>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u16>() {
        Ok(port) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(port)),
        _ => Err(format!("the port {text:?} is not a port number")),
    }
}

fn protocol(text: &str) -> Option<String> {
    let protocol = text.trim().to_ascii_lowercase();
    matches!(protocol.as_str(), "tcp" | "udp").then_some(protocol)
}

/// Qualys severity levels 1 to 5 on the common scale.
fn level(text: &str) -> Option<Severity> {
    Some(match text.trim() {
        "1" => Severity::Info,
        "2" => Severity::Low,
        "3" => Severity::Medium,
        "4" => Severity::High,
        "5" => Severity::Critical,
        _ => return None,
    })
}

/// A Qualys CVSS field: `5`, `9.3 (AV:N/AC:M/Au:N/C:C/I:C/A:C)`; empty, `-`
/// or `—` means none.
fn cvss(text: &str) -> Option<Cvss> {
    let text = text.trim();
    let (number, rest) = text
        .find(|c: char| c.is_whitespace() || c == '(')
        .map_or((text, ""), |i| text.split_at(i));
    let score = number
        .parse::<f32>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))?;
    let vector = rest
        .trim()
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    Some(Cvss { score, vector })
}

fn add_cves(cves: &mut Vec<String>, text: &str) {
    for cve in model::cves_in(text) {
        if cves.len() < MAX_CVES && !cves.contains(&cve) {
            cves.push(cve);
        }
    }
}

fn non_empty(text: &str) -> Option<String> {
    Some(text.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Collapses line breaks and indentation, for titles.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Knowledge-base text without Qualys' placeholders (`N/A`, `Not
/// applicable.`), and with its paragraph and line tags as line breaks.
fn meaningful(text: &str) -> Option<String> {
    let words = one_line(text).to_ascii_lowercase();
    if matches!(
        words.trim_end_matches('.'),
        "" | "n/a" | "na" | "-" | "—" | "not applicable"
    ) {
        return None;
    }
    let mut out = text.trim().to_owned();
    for tag in [
        "<P>", "<p>", "<BR>", "<br>", "<BR/>", "<br/>", "<BR />", "<br />",
    ] {
        out = out.replace(tag, "\n");
    }
    non_empty(&out)
}

/// A description from a main text and a consequence, either may be absent.
fn join_texts(main: &str, then: &str) -> Option<String> {
    match (meaningful(main), meaningful(then)) {
        (Some(main), Some(then)) => Some(format!("{main}\n\n{then}")),
        (one, None) | (None, one) => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        assert_eq!(
            cvss("9.3 (AV:N/AC:M/Au:N/C:C/I:C/A:C)"),
            Some(Cvss {
                score: 9.3,
                vector: Some("AV:N/AC:M/Au:N/C:C/I:C/A:C".into())
            })
        );
        assert_eq!(
            cvss("5"),
            Some(Cvss {
                score: 5.0,
                vector: None
            })
        );
        assert_eq!(cvss(""), None);
        assert_eq!(cvss("-"), None);
        assert_eq!(cvss("—"), None);
        assert_eq!(cvss("11"), None);
    }

    #[test]
    fn placeholders_are_no_text() {
        assert_eq!(meaningful("N/A"), None);
        assert_eq!(meaningful("Not  applicable."), None);
        assert_eq!(meaningful("a<P>b").as_deref(), Some("a\nb"));
        assert_eq!(join_texts("why", "NA").as_deref(), Some("why"));
    }
}
