//! A streaming reader of Nessus v2 reports (`.nessus` files).
//!
//! The reader walks `<NessusClientData_v2>` and yields one [`ScannedHost`]
//! per `<ReportHost>` as soon as its end tag is read, so at most one host is
//! held in memory whatever the size of the report. The scan policy and
//! anything else outside the hosts is skipped without being kept.

use std::collections::HashSet;
use std::io::BufRead;
use std::net::IpAddr;

use garrison_core::Timestamp;

use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::{
    Cvss, ScanItem, ScannedFinding, ScannedHost, Scanner, Service, Severity, Software, cap,
    normalise_mac,
};
use crate::xml::{Limits, Xml, XmlSource};

/// The root element of a Nessus v2 report.
const ROOT: &str = "NessusClientData_v2";

/// Plugin output kept per finding; the rest is cut and marked.
const MAX_EVIDENCE_BYTES: usize = 64 * 1024;

/// CVE ids kept per finding. Real plugins list a few hundred at most, so a
/// larger count means a hostile or broken file and the host is rejected.
const MAX_CVES_PER_FINDING: usize = 10_000;

/// Reads a Nessus v2 report from `input`, one host at a time.
#[must_use]
pub fn read<R: BufRead>(input: Counted<R>, limits: Limits) -> NessusReader<R> {
    NessusReader {
        src: XmlSource::new(input, limits),
        limits,
        root_checked: false,
        done: false,
    }
}

/// An iterator over the hosts of a Nessus v2 report; see [`read`].
///
/// It yields a [`ScanItem::Host`] per usable host, a [`ScanItem::Rejected`]
/// per host that cannot be used, and at most one error, after which it
/// ends.
pub struct NessusReader<R: BufRead> {
    src: XmlSource<R>,
    limits: Limits,
    root_checked: bool,
    done: bool,
}

impl<R: BufRead> std::fmt::Debug for NessusReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NessusReader")
            .field("src", &self.src)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Iterator for NessusReader<R> {
    type Item = Result<ScanItem, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_item() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                // The event source cannot go on after an error, so the
                // error is reported once and the iteration ends.
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<R: BufRead> NessusReader<R> {
    /// The next host (or rejection); `None` at the end of the document.
    fn next_item(&mut self) -> Result<Option<ScanItem>, ScanError> {
        if !self.root_checked {
            self.check_root()?;
            self.root_checked = true;
        }
        loop {
            match self.src.next_event()? {
                None => return Ok(None),
                Some(Xml::Start { name, attrs, line }) => match name.as_str() {
                    // The hosts live inside <Report>: go into it.
                    "Report" => {}
                    "ReportHost" => return self.read_host(&attrs, line).map(Some),
                    // The policy (often most of the file) and anything
                    // unknown carry nothing about hosts.
                    _ => self.src.skip_element()?,
                },
                Some(Xml::End { .. } | Xml::Text(_)) => {}
            }
        }
    }

    /// Refuses a document that is not a Nessus v2 report.
    fn check_root(&mut self) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, line, .. }) => {
                    if name == ROOT {
                        return Ok(());
                    }
                    return Err(ScanError::new(
                        line,
                        ErrorKind::Malformed,
                        format!(
                            "not a Nessus v2 report: the root element is <{name}>, not <{ROOT}>"
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(ScanError::new(
                        self.src.line(),
                        ErrorKind::Malformed,
                        "not a Nessus v2 report: the document has no root element",
                    ));
                }
            }
        }
    }

    /// Reads one `<ReportHost>` whose start tag has just been read.
    fn read_host(&mut self, attrs: &[(String, String)], line: u64) -> Result<ScanItem, ScanError> {
        let name = attr(attrs, "name").unwrap_or_default().trim().to_owned();
        let mut props = HostProperties::default();
        let mut findings = Vec::new();
        let mut services = Vec::new();
        let mut seen_services = HashSet::new();
        // The first reason the host cannot be used; once set, the rest of
        // the host is skipped rather than parsed.
        let mut problem: Option<String> = None;
        loop {
            match self.src.next_event()? {
                Some(Xml::Start {
                    name: child,
                    attrs: item_attrs,
                    line: item_line,
                }) => match child.as_str() {
                    "HostProperties" => self.read_properties(&mut props)?,
                    "ReportItem" if problem.is_none() => {
                        match self.read_item(&item_attrs, item_line)? {
                            Ok(finding) => {
                                if findings.len() >= self.limits.max_findings_per_host {
                                    problem = Some(format!(
                                        "the host has more than {} findings",
                                        self.limits.max_findings_per_host
                                    ));
                                    // The host is dropped, so its findings
                                    // need not be kept while the rest is read.
                                    findings = Vec::new();
                                    services = Vec::new();
                                    continue;
                                }
                                if let (Some(port), Some(protocol)) =
                                    (finding.port, finding.protocol.clone())
                                {
                                    let service_name = attr(&item_attrs, "svc_name")
                                        .map(|s| s.trim().trim_end_matches('?').to_owned())
                                        .filter(|s| !s.is_empty());
                                    let key = (port, protocol.clone(), service_name.clone());
                                    if seen_services.insert(key) {
                                        services.push(Service {
                                            port,
                                            protocol,
                                            name: service_name,
                                            product: None,
                                            version: None,
                                        });
                                    }
                                }
                                findings.push(finding);
                            }
                            Err(reason) => problem = Some(reason),
                        }
                    }
                    _ => self.src.skip_element()?,
                },
                // Every child is read to its end tag by the calls above, so
                // the first end tag seen here is </ReportHost>.
                Some(Xml::End { .. }) | None => break,
                Some(Xml::Text(_)) => {}
            }
        }
        if let Some(reason) = problem.or_else(|| props.problem.take()) {
            return Ok(reject(line, &name, &reason));
        }
        let ip = props
            .host_ip
            .as_deref()
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
            .or_else(|| name.parse::<IpAddr>().ok());
        let Some(ip) = ip else {
            let reason = match &props.host_ip {
                Some(bad) => format!(
                    "no usable IP address: host-ip \"{}\" is not one",
                    bad.trim()
                ),
                None => format!(
                    "no usable IP address: there is no host-ip tag and the name \"{name}\" is not an IP address"
                ),
            };
            return Ok(reject(line, &name, &reason));
        };
        let fqdn = props
            .fqdn
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty());
        let hostname = [&props.hostname, &props.netbios_name]
            .into_iter()
            .flatten()
            .chain(fqdn.as_ref())
            .find_map(|s| short_name(s));
        let scanned_at = props
            .start_timestamp
            .as_deref()
            .and_then(parse_epoch_seconds)
            .or_else(|| props.start.as_deref().and_then(parse_host_start));
        Ok(ScanItem::Host(Box::new(ScannedHost {
            line,
            ips: vec![ip],
            macs: props.macs,
            hostname,
            fqdn,
            os: props.os,
            services,
            software: props.software,
            findings,
            scanned_at,
        })))
    }

    /// Reads `<HostProperties>` (just started) into `props`.
    fn read_properties(&mut self, props: &mut HostProperties) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, attrs, .. }) => {
                    if name == "tag" {
                        let key = attr(&attrs, "name").unwrap_or_default().to_owned();
                        let value = self.src.text_until_end()?;
                        props.apply(&key, value, self.limits.max_findings_per_host);
                    } else {
                        self.src.skip_element()?;
                    }
                }
                Some(Xml::End { .. }) | None => return Ok(()),
                Some(Xml::Text(_)) => {}
            }
        }
    }

    /// Reads one `<ReportItem>` (just started). The outer `Err` is a fatal
    /// read error; the inner one the reason the host must be rejected.
    fn read_item(
        &mut self,
        attrs: &[(String, String)],
        line: u64,
    ) -> Result<Result<ScannedFinding, String>, ScanError> {
        let head = match item_head(attrs, line) {
            Ok(head) => head,
            Err(reason) => {
                self.src.skip_element()?;
                return Ok(Err(reason));
            }
        };
        let mut cves = Vec::new();
        let mut seen_cves = HashSet::new();
        let mut texts = ItemTexts::default();
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, .. }) => {
                    let Some(slot) = texts.slot(&name) else {
                        if name == "cve" {
                            let cve = self.src.text_until_end()?.to_ascii_uppercase();
                            if !cve.is_empty() && seen_cves.insert(cve.clone()) {
                                if cves.len() >= MAX_CVES_PER_FINDING {
                                    self.src.skip_element()?;
                                    return Ok(Err(format!(
                                        "the ReportItem at line {line} lists more than {MAX_CVES_PER_FINDING} CVE ids"
                                    )));
                                }
                                cves.push(cve);
                            }
                        } else {
                            self.src.skip_element()?;
                        }
                        continue;
                    };
                    let text = self.src.text_until_end()?;
                    *slot = Some(text).filter(|t| !t.is_empty());
                }
                Some(Xml::End { .. }) | None => break,
                Some(Xml::Text(_)) => {}
            }
        }
        let title = head
            .title
            .or(texts.plugin_name.take())
            .unwrap_or_else(|| format!("Nessus plugin {}", head.plugin_id));
        Ok(Ok(ScannedFinding {
            line,
            scanner: Scanner::Nessus,
            plugin_id: head.plugin_id,
            title,
            port: head.port,
            protocol: head.protocol,
            cves,
            severity: head.severity,
            cvss2: cvss(texts.cvss2_score, texts.cvss2_vector),
            cvss3: cvss(texts.cvss3_score, texts.cvss3_vector),
            cvss4: cvss(texts.cvss4_score, texts.cvss4_vector),
            description: texts.description.or(texts.synopsis),
            solution: texts.solution.filter(|s| !s.eq_ignore_ascii_case("n/a")),
            evidence: texts.plugin_output.map(|s| cap(&s, MAX_EVIDENCE_BYTES)),
        }))
    }
}

/// A rejection of the host starting at `line`, named for the reader.
fn reject(line: u64, name: &str, reason: &str) -> ScanItem {
    let reason = if name.is_empty() {
        format!("ReportHost: {reason}")
    } else {
        format!("ReportHost \"{name}\": {reason}")
    };
    ScanItem::Rejected(Rejection::new(line, reason))
}

/// The value of attribute `key`.
fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// What the attributes of a `<ReportItem>` say.
struct ItemHead {
    plugin_id: String,
    title: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
    severity: Severity,
}

/// Reads and checks the attributes of the `<ReportItem>` at `line`.
fn item_head(attrs: &[(String, String)], line: u64) -> Result<ItemHead, String> {
    let plugin_id = attr(attrs, "pluginID").unwrap_or_default().trim();
    if plugin_id.is_empty() {
        return Err(format!("the ReportItem at line {line} has no pluginID"));
    }
    // Nessus writes port 0 for host-level items; a missing port means the
    // same, while a port that is there but not a number is an error.
    let port = match attr(attrs, "port").map(str::trim) {
        None | Some("") => 0,
        Some(p) => p.parse::<u16>().map_err(|_| {
            format!("the ReportItem at line {line} has port \"{p}\", which is not a port number")
        })?,
    };
    let protocol = attr(attrs, "protocol")
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty());
    if port > 0 && protocol.is_none() {
        return Err(format!(
            "the ReportItem at line {line} names port {port} without a protocol"
        ));
    }
    let severity = match attr(attrs, "severity").map(str::trim) {
        Some("0") => Severity::Info,
        Some("1") => Severity::Low,
        Some("2") => Severity::Medium,
        Some("3") => Severity::High,
        Some("4") => Severity::Critical,
        Some(other) => {
            return Err(format!(
                "the ReportItem at line {line} has severity \"{other}\"; Nessus uses 0 to 4"
            ));
        }
        None => return Err(format!("the ReportItem at line {line} has no severity")),
    };
    let title = attr(attrs, "pluginName")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    Ok(ItemHead {
        plugin_id: plugin_id.to_owned(),
        title,
        port: (port > 0).then_some(port),
        protocol,
        severity,
    })
}

/// The child texts of a `<ReportItem>` that a finding uses.
#[derive(Default)]
struct ItemTexts {
    plugin_name: Option<String>,
    description: Option<String>,
    synopsis: Option<String>,
    solution: Option<String>,
    plugin_output: Option<String>,
    cvss2_score: Option<String>,
    cvss2_vector: Option<String>,
    cvss3_score: Option<String>,
    cvss3_vector: Option<String>,
    cvss4_score: Option<String>,
    cvss4_vector: Option<String>,
}

impl ItemTexts {
    /// Where the text of child element `name` goes, if it is kept.
    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "plugin_name" => &mut self.plugin_name,
            "description" => &mut self.description,
            "synopsis" => &mut self.synopsis,
            "solution" => &mut self.solution,
            "plugin_output" => &mut self.plugin_output,
            "cvss_base_score" => &mut self.cvss2_score,
            "cvss_vector" => &mut self.cvss2_vector,
            "cvss3_base_score" => &mut self.cvss3_score,
            "cvss3_vector" => &mut self.cvss3_vector,
            "cvss4_base_score" => &mut self.cvss4_score,
            "cvss4_vector" => &mut self.cvss4_vector,
            _ => return None,
        })
    }
}

/// A CVSS score with its vector; `None` without a score that parses.
fn cvss(score: Option<String>, vector: Option<String>) -> Option<Cvss> {
    let score = score?.trim().parse::<f32>().ok()?;
    (score.is_finite() && (0.0..=10.0).contains(&score)).then(|| Cvss {
        score,
        vector: vector.filter(|v| !v.is_empty()),
    })
}

/// The `<tag>` values of `<HostProperties>` that a host uses.
#[derive(Default)]
struct HostProperties {
    host_ip: Option<String>,
    hostname: Option<String>,
    netbios_name: Option<String>,
    fqdn: Option<String>,
    macs: Vec<String>,
    os: Option<String>,
    start_timestamp: Option<String>,
    start: Option<String>,
    software: Vec<Software>,
    /// Why the host cannot be used, found among its properties.
    problem: Option<String>,
}

impl HostProperties {
    /// Takes in the tag `key` with text `value`; `max_software` bounds the
    /// software kept, as the findings are bounded.
    fn apply(&mut self, key: &str, value: String, max_software: usize) {
        match key {
            "host-ip" => self.host_ip = Some(value),
            "hostname" => self.hostname = Some(value),
            "netbios-name" => self.netbios_name = Some(value),
            "host-fqdn" => self.fqdn = Some(value),
            "mac-address" => {
                for mac in value.split_whitespace().filter_map(normalise_mac) {
                    if !self.macs.contains(&mac) {
                        self.macs.push(mac);
                    }
                }
            }
            "operating-system" => {
                // Nessus lists its candidates one per line, best first.
                self.os = value
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .map(str::to_owned);
            }
            "HOST_START_TIMESTAMP" => self.start_timestamp = Some(value),
            "HOST_START" => self.start = Some(value),
            _ => {
                let is_cpe = key
                    .strip_prefix("cpe-")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if is_cpe {
                    self.add_software(&value, max_software);
                }
            }
        }
    }

    /// Adds the software a `cpe-N` tag names, such as
    /// `cpe:/a:php:php:5.6.40 -> PHP PHP` (the label after the arrow is
    /// Nessus's, not part of the CPE).
    fn add_software(&mut self, value: &str, max_software: usize) {
        let cpe = value
            .split_once("->")
            .map_or(value, |(cpe, _)| cpe)
            .trim()
            .to_owned();
        if cpe.is_empty() || self.software.iter().any(|s| s.cpe.as_ref() == Some(&cpe)) {
            return;
        }
        if self.software.len() >= max_software {
            self.problem = Some(format!("the host lists more than {max_software} CPEs"));
            return;
        }
        self.software.push(Software {
            name: cpe_product(&cpe).unwrap_or(&cpe).to_owned(),
            version: None,
            cpe: Some(cpe),
        });
    }
}

/// The product part of a CPE 2.2 URI (`cpe:/a:vendor:product:...`) or a
/// CPE 2.3 string (`cpe:2.3:a:vendor:product:...`).
fn cpe_product(cpe: &str) -> Option<&str> {
    let product = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').nth(2)
    } else {
        cpe.strip_prefix("cpe:/")?.split(':').nth(2)
    }?;
    (!product.is_empty() && product != "*" && product != "-").then_some(product)
}

/// A short host name from a host name, NetBIOS name or FQDN: the first
/// label, lower case; `None` for an empty value or an IP address.
fn short_name(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s.parse::<IpAddr>().is_ok() {
        return None;
    }
    let label = s.split('.').next().unwrap_or(s);
    (!label.is_empty()).then(|| label.to_ascii_lowercase())
}

/// A time given as seconds since the Unix epoch.
fn parse_epoch_seconds(s: &str) -> Option<Timestamp> {
    let secs = s.trim().parse::<i64>().ok()?;
    secs.checked_mul(1000).map(Timestamp::from_millis)
}

/// A `HOST_START` time such as `Tue Aug 11 14:05:18 2020`. Nessus writes it
/// in the scanner's local time without a zone, so it is taken as UTC: the
/// error is hours, and `HOST_START_TIMESTAMP` is preferred when present.
fn parse_host_start(s: &str) -> Option<Timestamp> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let dt = jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %Y", &s)
        .ok()?
        .to_datetime()
        .ok()?;
    let ts = jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()?;
    Some(Timestamp::from_millis(ts.as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_start_times_parse_as_utc() {
        let t = parse_host_start("Tue Aug 11 14:05:18 2020").expect("parses");
        // 2020-08-11T14:05:18Z, by `date -u -d '2020-08-11 14:05:18' +%s`.
        assert_eq!(t.as_secs(), 1_597_154_718);
        let padded = parse_host_start("Sat Aug  1 09:00:00 2020").expect("parses");
        assert_eq!(padded.as_secs(), 1_596_272_400);
        assert_eq!(parse_host_start("yesterday"), None);
        assert_eq!(
            parse_epoch_seconds(" 1648042311 ").map(Timestamp::as_secs),
            Some(1_648_042_311)
        );
        assert_eq!(parse_epoch_seconds("soon"), None);
    }

    #[test]
    fn cpe_products() {
        assert_eq!(cpe_product("cpe:/o:microsoft:windows"), Some("windows"));
        assert_eq!(cpe_product("cpe:/a:php:php:5.6.40"), Some("php"));
        assert_eq!(
            cpe_product("cpe:2.3:a:nginx:nginx:1.19.0:*:*:*:*:*:*:*"),
            Some("nginx")
        );
        assert_eq!(cpe_product("cpe:/o:linux"), None);
        assert_eq!(cpe_product("not a cpe"), None);
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name("WEB01.Example.COM").as_deref(), Some("web01"));
        assert_eq!(short_name("10.0.0.1"), None);
        assert_eq!(short_name("  "), None);
    }

    #[test]
    fn scores_out_of_range_are_dropped() {
        assert_eq!(cvss(Some("11".into()), None), None);
        assert_eq!(cvss(Some("x".into()), Some("AV:N".into())), None);
        assert_eq!(
            cvss(Some(" 7.5 ".into()), Some(String::new())),
            Some(Cvss {
                score: 7.5,
                vector: None
            })
        );
    }
}
