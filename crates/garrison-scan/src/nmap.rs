//! A streaming reader of Nmap XML output (`nmap -oX`).
//!
//! The reader walks `<nmaprun>` and yields one [`ScannedHost`] per `<host>`
//! that is up, as soon as its end tag is read, so at most one host is held
//! in memory. Open ports become services; only script output that reports
//! vulnerabilities (the `vulners` script, or any script saying
//! `VULNERABLE`) becomes findings, since Nmap is not a vulnerability
//! scanner.
//!
//! Nmap writes a bare `<!DOCTYPE nmaprun>` at the top of every file; the
//! XML layer skips such declarations and refuses internal subsets.

use std::collections::HashSet;
use std::io::BufRead;
use std::net::IpAddr;

use garrison_core::Timestamp;

use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::{
    Cvss, ScanItem, ScannedFinding, ScannedHost, Scanner, Service, Severity, cap, cves_in,
    normalise_mac,
};
use crate::xml::{Limits, Xml, XmlSource};

/// The root element of Nmap XML output.
const ROOT: &str = "nmaprun";

/// Script output kept per finding; the rest is cut and marked.
const MAX_EVIDENCE_BYTES: usize = 64 * 1024;

/// Reads Nmap XML output from `input`, one host at a time.
#[must_use]
pub fn read<R: BufRead>(input: Counted<R>, limits: Limits) -> NmapReader<R> {
    NmapReader {
        src: XmlSource::new(input, limits),
        limits,
        run_start: None,
        root_checked: false,
        done: false,
    }
}

/// An iterator over the hosts of an Nmap XML report; see [`read`].
///
/// It yields a [`ScanItem::Host`] per host that is up, a
/// [`ScanItem::Rejected`] per up host that cannot be used, and at most one
/// error, after which it ends. Hosts that are down are skipped.
pub struct NmapReader<R: BufRead> {
    src: XmlSource<R>,
    limits: Limits,
    /// The `start` of `<nmaprun>`, for hosts without a `starttime`.
    run_start: Option<Timestamp>,
    root_checked: bool,
    done: bool,
}

impl<R: BufRead> std::fmt::Debug for NmapReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NmapReader")
            .field("src", &self.src)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Iterator for NmapReader<R> {
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

/// A host element's findings and services while it is read.
#[derive(Default)]
struct HostParts {
    services: Vec<Service>,
    findings: Vec<ScannedFinding>,
    /// The first reason the host cannot be used.
    problem: Option<String>,
}

impl HostParts {
    /// Keeps `finding` unless the host already holds `max` findings, in
    /// which case the host is marked as unusable.
    fn add_finding(&mut self, finding: ScannedFinding, max: usize) {
        if self.problem.is_some() {
            return;
        }
        if self.findings.len() >= max {
            self.problem = Some(format!("the host has more than {max} findings"));
            // The host is dropped, so nothing more of it need be kept.
            self.findings = Vec::new();
            self.services = Vec::new();
            return;
        }
        self.findings.push(finding);
    }
}

impl<R: BufRead> NmapReader<R> {
    /// The next host (or rejection); `None` at the end of the document.
    fn next_item(&mut self) -> Result<Option<ScanItem>, ScanError> {
        if !self.root_checked {
            self.check_root()?;
            self.root_checked = true;
        }
        loop {
            match self.src.next_event()? {
                None => return Ok(None),
                Some(Xml::Start { name, attrs, line }) => {
                    if name == "host" {
                        if let Some(item) = self.read_host(&attrs, line)? {
                            return Ok(Some(item));
                        }
                    } else {
                        // Scan information, run statistics and pre- or
                        // post-scan scripts say nothing about one host.
                        self.src.skip_element()?;
                    }
                }
                Some(Xml::End { .. } | Xml::Text(_)) => {}
            }
        }
    }

    /// Refuses a document that is not Nmap XML output.
    fn check_root(&mut self) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, attrs, line }) => {
                    if name == ROOT {
                        self.run_start = attr(&attrs, "start").and_then(parse_epoch_seconds);
                        return Ok(());
                    }
                    return Err(ScanError::new(
                        line,
                        ErrorKind::Malformed,
                        format!(
                            "not an Nmap XML report: the root element is <{name}>, not <{ROOT}>"
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(ScanError::new(
                        self.src.line(),
                        ErrorKind::Malformed,
                        "not an Nmap XML report: the document has no root element",
                    ));
                }
            }
        }
    }

    /// Reads one `<host>` whose start tag has just been read; `None` for a
    /// host that is not up.
    fn read_host(
        &mut self,
        host_attrs: &[(String, String)],
        line: u64,
    ) -> Result<Option<ScanItem>, ScanError> {
        let mut up = false;
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut macs: Vec<String> = Vec::new();
        let mut user_name: Option<String> = None;
        let mut any_name: Option<String> = None;
        let mut os: Option<(u32, String)> = None;
        let mut parts = HostParts::default();
        loop {
            match self.src.next_event()? {
                Some(Xml::Start {
                    name,
                    attrs,
                    line: child_line,
                }) => match name.as_str() {
                    "status" => {
                        up = attr(&attrs, "state") == Some("up");
                        self.src.skip_element()?;
                        if !up {
                            // Nothing of a host that is down is kept, so
                            // the rest of it is skipped unread.
                            self.src.skip_element()?;
                            return Ok(None);
                        }
                    }
                    "address" => {
                        let addr = attr(&attrs, "addr").unwrap_or_default().trim();
                        match attr(&attrs, "addrtype").unwrap_or("ipv4") {
                            "mac" => {
                                if let Some(mac) = normalise_mac(addr)
                                    && !macs.contains(&mac)
                                {
                                    macs.push(mac);
                                }
                            }
                            _ => match addr.parse::<IpAddr>() {
                                Ok(ip) => {
                                    if !ips.contains(&ip) {
                                        ips.push(ip);
                                    }
                                }
                                Err(_) => {
                                    parts.problem.get_or_insert_with(|| {
                                        format!(
                                            "the address \"{addr}\" at line {child_line} is not an IP address"
                                        )
                                    });
                                }
                            },
                        }
                        self.src.skip_element()?;
                    }
                    "hostnames" => self.read_hostnames(&mut user_name, &mut any_name)?,
                    "ports" => self.read_ports(&mut parts)?,
                    "os" => self.read_os(&mut os)?,
                    "hostscript" => self.read_hostscripts(&mut parts)?,
                    _ => self.src.skip_element()?,
                },
                // Every child is read to its end tag by the calls above, so
                // the first end tag seen here is </host>.
                Some(Xml::End { .. }) | None => break,
                Some(Xml::Text(_)) => {}
            }
        }
        if !up {
            return Ok(None);
        }
        if let Some(reason) = parts.problem {
            return Ok(Some(reject(line, &ips, &reason)));
        }
        if ips.is_empty() {
            return Ok(Some(reject(
                line,
                &ips,
                "no usable IP address: the host has no ipv4 or ipv6 address",
            )));
        }
        let name = user_name
            .or(any_name)
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty() && n.parse::<IpAddr>().is_err());
        let (hostname, fqdn) = match name {
            Some(n) if n.contains('.') => {
                let short = n
                    .split('.')
                    .next()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned);
                (short, Some(n))
            }
            Some(n) => (Some(n), None),
            None => (None, None),
        };
        let scanned_at = attr(host_attrs, "starttime")
            .and_then(parse_epoch_seconds)
            .or(self.run_start);
        Ok(Some(ScanItem::Host(Box::new(ScannedHost {
            line,
            ips,
            macs,
            hostname,
            fqdn,
            os: os.map(|(_, name)| name),
            services: parts.services,
            software: Vec::new(),
            findings: parts.findings,
            scanned_at,
        }))))
    }

    /// Reads `<hostnames>` (just started), keeping the first name of type
    /// `user` (the name the scan was asked for) and the first of any type.
    fn read_hostnames(
        &mut self,
        user_name: &mut Option<String>,
        any_name: &mut Option<String>,
    ) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, attrs, .. }) => {
                    let named = attr(&attrs, "name").filter(|n| !n.trim().is_empty());
                    if name == "hostname"
                        && let Some(n) = named
                    {
                        if attr(&attrs, "type") == Some("user") && user_name.is_none() {
                            *user_name = Some(n.to_owned());
                        }
                        if any_name.is_none() {
                            *any_name = Some(n.to_owned());
                        }
                    }
                    self.src.skip_element()?;
                }
                Some(Xml::End { .. }) | None => return Ok(()),
                Some(Xml::Text(_)) => {}
            }
        }
    }

    /// Reads `<os>` (just started), keeping the most accurate match.
    fn read_os(&mut self, best: &mut Option<(u32, String)>) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, attrs, .. }) => {
                    if name == "osmatch" {
                        let accuracy = attr(&attrs, "accuracy")
                            .and_then(|a| a.trim().parse::<u32>().ok())
                            .unwrap_or(0);
                        let os_name = attr(&attrs, "name").unwrap_or_default().trim();
                        let better = best.as_ref().is_none_or(|(a, _)| accuracy > *a);
                        if !os_name.is_empty() && better {
                            *best = Some((accuracy, os_name.to_owned()));
                        }
                    }
                    self.src.skip_element()?;
                }
                Some(Xml::End { .. }) | None => return Ok(()),
                Some(Xml::Text(_)) => {}
            }
        }
    }

    /// Reads `<ports>` (just started) into `parts`.
    fn read_ports(&mut self, parts: &mut HostParts) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, attrs, line }) => {
                    if name == "port" && parts.problem.is_none() {
                        self.read_port(&attrs, line, parts)?;
                    } else {
                        self.src.skip_element()?;
                    }
                }
                Some(Xml::End { .. }) | None => return Ok(()),
                Some(Xml::Text(_)) => {}
            }
        }
    }

    /// Reads one `<port>` (just started) into `parts`.
    fn read_port(
        &mut self,
        attrs: &[(String, String)],
        line: u64,
        parts: &mut HostParts,
    ) -> Result<(), ScanError> {
        let portid = attr(attrs, "portid").unwrap_or_default().trim();
        let Ok(port) = portid.parse::<u16>() else {
            parts.problem = Some(format!(
                "the port at line {line} has portid \"{portid}\", which is not a port number"
            ));
            return self.src.skip_element();
        };
        let protocol = attr(attrs, "protocol")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if protocol.is_empty() {
            parts.problem = Some(format!("the port at line {line} has no protocol"));
            return self.src.skip_element();
        }
        let mut state = String::new();
        let mut service: Option<Service> = None;
        loop {
            match self.src.next_event()? {
                Some(Xml::Start {
                    name,
                    attrs: child_attrs,
                    line: child_line,
                }) => {
                    match name.as_str() {
                        "state" => {
                            state = attr(&child_attrs, "state").unwrap_or_default().to_owned();
                        }
                        "service" => service = Some(service_of(&child_attrs, port, &protocol)),
                        "script" => {
                            let at = Some((port, protocol.as_str()));
                            for finding in self.read_script(&child_attrs, child_line, at)? {
                                parts.add_finding(finding, self.limits.max_findings_per_host);
                            }
                            // The script has been read to its end tag.
                            continue;
                        }
                        _ => {}
                    }
                    self.src.skip_element()?;
                }
                Some(Xml::End { .. }) | None => break,
                Some(Xml::Text(_)) => {}
            }
        }
        // Nmap cannot tell an open UDP port from a filtered one that drops
        // probes, so for UDP "open|filtered" is as good as it gets.
        let open = state == "open" || (protocol == "udp" && state == "open|filtered");
        let known = parts
            .services
            .iter()
            .any(|s| s.port == port && s.protocol == protocol);
        if open && !known && parts.problem.is_none() {
            parts.services.push(service.unwrap_or(Service {
                port,
                protocol,
                name: None,
                product: None,
                version: None,
            }));
        }
        Ok(())
    }

    /// Reads `<hostscript>` (just started) into `parts`.
    fn read_hostscripts(&mut self, parts: &mut HostParts) -> Result<(), ScanError> {
        loop {
            match self.src.next_event()? {
                Some(Xml::Start { name, attrs, line }) => {
                    if name == "script" {
                        for finding in self.read_script(&attrs, line, None)? {
                            parts.add_finding(finding, self.limits.max_findings_per_host);
                        }
                    } else {
                        self.src.skip_element()?;
                    }
                }
                Some(Xml::End { .. }) | None => return Ok(()),
                Some(Xml::Text(_)) => {}
            }
        }
    }

    /// Reads one `<script>` (just started, at `line`) and turns it into
    /// findings when it reports vulnerabilities. `at` is the port and
    /// protocol it ran on; `None` for host scripts.
    fn read_script(
        &mut self,
        attrs: &[(String, String)],
        line: u64,
        at: Option<(u16, &str)>,
    ) -> Result<Vec<ScannedFinding>, ScanError> {
        let id = attr(attrs, "id").unwrap_or_default().trim().to_owned();
        let output = attr(attrs, "output").unwrap_or_default().to_owned();
        let vulners = id == "vulners";
        // Entries beyond this count would make the host rejected anyway, so
        // no more are kept.
        let max_entries = self.limits.max_findings_per_host.saturating_add(1);
        let mut tables: Vec<TableEntry> = Vec::new();
        let mut entries: Vec<TableEntry> = Vec::new();
        let mut scores = ScriptScores::default();
        loop {
            match self.src.next_event()? {
                Some(Xml::Start {
                    name,
                    attrs: child_attrs,
                    ..
                }) => match name.as_str() {
                    "table" => tables.push(TableEntry::default()),
                    "elem" => {
                        let key = attr(&child_attrs, "key").unwrap_or_default().to_owned();
                        let value = self.src.text_until_end()?;
                        if vulners {
                            if let Some(table) = tables.last_mut() {
                                table.set(&key, value);
                            }
                        } else {
                            scores.note(&key, &value);
                        }
                    }
                    _ => self.src.skip_element()?,
                },
                Some(Xml::End { .. }) | None => {
                    // Elements other than tables are read to their end tags
                    // above, so an end tag closes a table or the script.
                    let Some(table) = tables.pop() else { break };
                    if vulners && table.id.is_some() && entries.len() < max_entries {
                        entries.push(table);
                    }
                }
                Some(Xml::Text(_)) => {}
            }
        }
        let evidence = Some(cap(&output, MAX_EVIDENCE_BYTES)).filter(|e| !e.trim().is_empty());
        let port = at.map(|(p, _)| p);
        let protocol = at.map(|(_, p)| p.to_owned());
        if vulners {
            if entries.is_empty() {
                // Older versions of the script give only the text output.
                entries = vulners_text_entries(&output, max_entries);
            }
            let mut seen = HashSet::new();
            let mut findings = Vec::new();
            for entry in entries {
                let Some(cve) = entry.cve() else { continue };
                if !seen.insert(cve.clone()) {
                    continue;
                }
                let score = entry
                    .cvss
                    .as_deref()
                    .and_then(|s| s.trim().parse::<f32>().ok())
                    .filter(|s| (0.0..=10.0).contains(s));
                findings.push(ScannedFinding {
                    line,
                    scanner: Scanner::Nmap,
                    plugin_id: format!("vulners:{cve}"),
                    title: format!("{cve} (reported by the vulners script)"),
                    port,
                    protocol: protocol.clone(),
                    cves: vec![cve],
                    severity: score.map_or(Severity::Medium, Severity::from_cvss),
                    cvss2: score.map(|score| Cvss {
                        score,
                        vector: None,
                    }),
                    cvss3: None,
                    cvss4: None,
                    description: None,
                    solution: None,
                    evidence: evidence.clone(),
                });
            }
            return Ok(findings);
        }
        if !reports_vulnerable(&output) {
            return Ok(Vec::new());
        }
        let cvss2 = scores
            .cvss2
            .or_else(|| score_after(&output, &["CVSSv2:", "CVSS:"]));
        let cvss3 = scores.cvss3.or_else(|| score_after(&output, &["CVSSv3:"]));
        let severity = cvss3
            .or(cvss2)
            .map_or(Severity::Medium, Severity::from_cvss);
        Ok(vec![ScannedFinding {
            line,
            scanner: Scanner::Nmap,
            plugin_id: format!("nmap:{id}"),
            title: script_title(&output).unwrap_or_else(|| format!("Nmap script {id}")),
            port,
            protocol,
            cves: cves_in(&output),
            severity,
            cvss2: cvss2.map(|score| Cvss {
                score,
                vector: None,
            }),
            cvss3: cvss3.map(|score| Cvss {
                score,
                vector: None,
            }),
            cvss4: None,
            description: None,
            solution: None,
            evidence,
        }])
    }
}

/// A rejection of the host starting at `line`, named for the reader.
fn reject(line: u64, ips: &[IpAddr], reason: &str) -> ScanItem {
    let reason = match ips.first() {
        Some(ip) => format!("host {ip}: {reason}"),
        None => format!("host: {reason}"),
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

/// A service from the attributes of a `<service>` element.
fn service_of(attrs: &[(String, String)], port: u16, protocol: &str) -> Service {
    let get = |key: &str| {
        attr(attrs, key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    // Extra information ("protocol 2.0", "Ubuntu Linux") qualifies a
    // version; without a version it is not one, so it is left out.
    let version = match (get("version"), get("extrainfo")) {
        (Some(v), Some(extra)) => Some(format!("{v} ({extra})")),
        (v, _) => v,
    };
    Service {
        port,
        protocol: protocol.to_owned(),
        name: get("name"),
        product: get("product"),
        version,
    }
}

/// One `<table>` of a script, as the `vulners` script fills it.
#[derive(Default)]
struct TableEntry {
    id: Option<String>,
    cvss: Option<String>,
    kind: Option<String>,
}

impl TableEntry {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "id" => self.id = Some(value),
            "cvss" => self.cvss = Some(value),
            "type" => self.kind = Some(value),
            _ => {}
        }
    }

    /// The CVE id this entry names; `None` for the exploit and advisory
    /// ids that the script lists beside CVEs.
    fn cve(&self) -> Option<String> {
        let id = self.id.as_deref()?.trim();
        if self
            .kind
            .as_deref()
            .is_some_and(|k| !k.eq_ignore_ascii_case("cve"))
        {
            return None;
        }
        let found = cves_in(id);
        match found.as_slice() {
            [cve] if cve.eq_ignore_ascii_case(id) => Some(cve.clone()),
            _ => None,
        }
    }
}

/// Entries from the text output of the `vulners` script, one line per id:
/// `CVE-2018-15919`, a tab, `5.0`, a tab, then a vulners.com address.
fn vulners_text_entries(output: &str, max: usize) -> Vec<TableEntry> {
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let id = words.next()?;
            let cvss = words.next().map(str::to_owned);
            Some(TableEntry {
                id: Some(id.to_owned()),
                cvss,
                kind: None,
            })
        })
        .filter(|e| e.cve().is_some())
        .take(max)
        .collect()
}

/// CVSS scores given as `<elem key="cvss...">` in a script's structured
/// output (the `vulns` library writes them in a `scores` table).
#[derive(Default)]
struct ScriptScores {
    cvss2: Option<f32>,
    cvss3: Option<f32>,
}

impl ScriptScores {
    fn note(&mut self, key: &str, value: &str) {
        let key = key.to_ascii_lowercase();
        if !key.starts_with("cvss") {
            return;
        }
        let Some(score) = leading_score(value) else {
            return;
        };
        let slot = if key.starts_with("cvssv3") || key.starts_with("cvss3") {
            &mut self.cvss3
        } else {
            &mut self.cvss2
        };
        slot.get_or_insert(score);
    }
}

/// A score (0 to 10) at the start of `s`, as in `7.5 (HIGH)`. A CVSS
/// vector such as `3.1/AV:N/...` is not a score.
fn leading_score(s: &str) -> Option<f32> {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    if s[end..].starts_with('/') {
        return None;
    }
    s[..end]
        .parse::<f32>()
        .ok()
        .filter(|v| (0.0..=10.0).contains(v))
}

/// The first score that follows one of `labels` in free text, as in
/// `CVSSv2: 4.3 (MEDIUM)`.
fn score_after(text: &str, labels: &[&str]) -> Option<f32> {
    labels.iter().find_map(|label| {
        text.match_indices(label)
            .find_map(|(at, _)| leading_score(&text[at + label.len()..]))
    })
}

/// Whether script output reports a vulnerability: it says `VULNERABLE`
/// (as in `State: VULNERABLE` or `LIKELY VULNERABLE`) other than in
/// `NOT VULNERABLE`, which the `vulns` library prints in verbose mode.
fn reports_vulnerable(output: &str) -> bool {
    output
        .match_indices("VULNERABLE")
        .any(|(at, _)| !output[..at].ends_with("NOT "))
}

/// A title from script output: its first non-empty line. The `vulns`
/// library starts every report with a bare `VULNERABLE:` line and names the
/// vulnerability on the next, so that line is passed over.
fn script_title(output: &str) -> Option<String> {
    output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .find(|l| !l.trim_end_matches(':').eq_ignore_ascii_case("vulnerable"))
        .map(|l| cap(l, 512))
}

/// A time given as seconds since the Unix epoch.
fn parse_epoch_seconds(s: &str) -> Option<Timestamp> {
    let secs = s.trim().parse::<i64>().ok()?;
    secs.checked_mul(1000).map(Timestamp::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_titles() {
        assert_eq!(
            score_after("Risk factor: High  CVSSv2: 7.5 (HIGH)", &["CVSSv2:"]),
            Some(7.5)
        );
        assert_eq!(score_after("vector CVSS:3.1/AV:N/AC:L", &["CVSS:"]), None);
        assert_eq!(leading_score("10.0"), Some(10.0));
        assert_eq!(leading_score("12"), None);
        assert!(reports_vulnerable("  State: LIKELY VULNERABLE"));
        assert!(!reports_vulnerable("  State: NOT VULNERABLE"));
        assert_eq!(
            script_title("\n  VULNERABLE:\n  SSL POODLE information leak\n").as_deref(),
            Some("SSL POODLE information leak")
        );
        assert_eq!(script_title("\n \n"), None);
    }
}
