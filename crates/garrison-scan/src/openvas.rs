//! OpenVAS / Greenbone (GVM) XML reports, streamed one result at a time.
//!
//! A GVM report lists its results flat, not grouped by host, so each
//! `<result>` becomes a [`ScannedHost`] holding that one finding; the
//! importer merges hosts that share an address. Each `<host>` section at the
//! end of the report (address, operating system, MAC, CPEs) becomes a host
//! without findings. Nothing is collected across records, so memory stays
//! bounded whatever the report's size.
//!
//! Choices the format leaves open:
//! - `False Positive` results are skipped without a word: the analyst has
//!   already ruled them out. `Log` and `Debug` results are kept as
//!   [`Severity::Info`]. An empty or unknown threat (older exports leave it
//!   blank) falls back to the result's severity score.
//! - A score whose vector starts `CVSS:3` is CVSS v3, `CVSS:4` v4, anything
//!   else (including no vector at all, as in GVM 9 exports whose
//!   `cvss_base` is v2) is CVSS v2.
//! - A host that is not an IP address is a target scanned by name and
//!   becomes the host name; a host that is neither, a port that is not a
//!   number or a result naming no NVT is rejected, naming its line.

use std::io::BufRead;
use std::net::IpAddr;

use garrison_core::Timestamp;

use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::{
    self, Cvss, ScanItem, ScannedFinding, ScannedHost, Scanner, Severity, Software,
};
use crate::xml::{Limits, Xml, XmlSource};

/// Plugin output kept per finding.
const MAX_EVIDENCE: usize = 64 * 1024;
/// CVE ids kept per finding; an NVT naming more is almost certainly junk.
const MAX_CVES: usize = 4096;
/// MAC addresses and CPEs kept per host section.
const MAX_HOST_DETAILS: usize = 1024;

/// Streams an OpenVAS/GVM XML report as [`ScanItem`]s.
pub struct OpenvasReader<R: BufRead> {
    tree: Tree<R>,
    limits: Limits,
    started: bool,
    done: bool,
}

impl<R: BufRead> std::fmt::Debug for OpenvasReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenvasReader")
            .field("line", &self.tree.line())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Reads an OpenVAS/GVM XML report (root `<report>` or
/// `<get_reports_response>`).
pub fn read<R: BufRead>(input: Counted<R>, limits: Limits) -> OpenvasReader<R> {
    OpenvasReader {
        tree: Tree::new(XmlSource::new(input, limits)),
        limits,
        started: false,
        done: false,
    }
}

impl<R: BufRead> Iterator for OpenvasReader<R> {
    type Item = Result<ScanItem, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
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

impl<R: BufRead> OpenvasReader<R> {
    fn step(&mut self) -> Result<Option<ScanItem>, ScanError> {
        if !self.started {
            self.started = true;
            self.root()?;
        }
        loop {
            let Some(ev) = self.tree.next()? else {
                return Ok(None);
            };
            let Xml::Start { name, line, .. } = &ev else {
                continue;
            };
            match (name.as_str(), self.tree.parent()) {
                ("result", Some("results")) => {
                    if let Some(item) = self.result(*line)? {
                        return Ok(Some(item));
                    }
                }
                ("host", Some("report")) => return self.host_section(*line).map(Some),
                _ => {}
            }
        }
    }

    fn root(&mut self) -> Result<(), ScanError> {
        let line = self.tree.line();
        let ev = self.tree.next()?;
        let Some(start @ Xml::Start { name, line, .. }) = &ev else {
            return Err(ScanError::new(
                line,
                ErrorKind::Malformed,
                "the document does not start with an element: not an OpenVAS/GVM report",
            ));
        };
        match name.as_str() {
            "report" => Ok(()),
            // A GMP error response holds no report; saying why beats
            // yielding nothing.
            "get_reports_response" => match start.attr("status") {
                Some(status) if !status.starts_with('2') => Err(ScanError::new(
                    *line,
                    ErrorKind::Malformed,
                    format!(
                        "the GVM response failed with status {status}: {}",
                        start.attr("status_text").unwrap_or("no reason given")
                    ),
                )),
                _ => Ok(()),
            },
            other => Err(ScanError::new(
                *line,
                ErrorKind::Malformed,
                format!(
                    "the root element is <{other}>: an OpenVAS/GVM report starts with <report> or <get_reports_response>"
                ),
            )),
        }
    }

    /// Reads one `<result>`; `None` for a result that is skipped on purpose.
    fn result(&mut self, line: u64) -> Result<Option<ScanItem>, ScanError> {
        let max = self.limits.max_text_bytes;
        let mut raw = RawResult::default();
        self.tree.walk(|path, ev| match ev {
            Ev::Start(start) => match path {
                ["nvt"] => raw.oid = start.attr("oid").map(str::to_owned),
                ["nvt", "refs", "ref"] => {
                    let is_cve = start
                        .attr("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("cve"));
                    if let (true, Some(id)) = (is_cve, start.attr("id")) {
                        for cve in model::cves_in(id) {
                            if raw.cves.len() < MAX_CVES && !raw.cves.contains(&cve) {
                                raw.cves.push(cve);
                            }
                        }
                    }
                }
                _ => {}
            },
            Ev::Text(text) => {
                let field = match path {
                    ["name"] => &mut raw.name,
                    ["host"] => &mut raw.host,
                    ["host", "hostname"] => &mut raw.hostname,
                    ["port"] => &mut raw.port,
                    ["nvt", "name"] => &mut raw.nvt_name,
                    ["nvt", "cvss_base"] => &mut raw.cvss_base,
                    ["nvt", "severities", "severity", "value"] if !raw.vector_done => {
                        &mut raw.vector
                    }
                    ["nvt", "tags"] => &mut raw.tags,
                    ["nvt", "solution"] => &mut raw.solution,
                    // Older exports list CVEs as comma-separated text.
                    ["nvt", "cve"] => &mut raw.cve_text,
                    ["threat"] => &mut raw.threat,
                    ["severity"] => &mut raw.severity,
                    ["description"] => &mut raw.description,
                    _ => return,
                };
                push_capped(field, text, max);
            }
            Ev::End => {
                // Only the first severity entry's vector is kept: GVM lists
                // the one its score comes from first.
                if path == ["nvt", "severities", "severity"] && !raw.vector.is_empty() {
                    raw.vector_done = true;
                }
            }
        })?;
        Ok(match raw.finish(line) {
            Ok(Some(host)) => Some(ScanItem::Host(Box::new(host))),
            Ok(None) => None,
            Err(reason) => Some(ScanItem::Rejected(Rejection::new(line, reason))),
        })
    }

    /// Reads one report-level `<host>` section.
    fn host_section(&mut self, line: u64) -> Result<ScanItem, ScanError> {
        let max = self.limits.max_text_bytes;
        let mut ip = String::new();
        let mut start = String::new();
        let mut detail = (String::new(), String::new());
        let mut host = ScannedHost {
            line,
            ..ScannedHost::default()
        };
        let mut os_cpe = None;
        self.tree.walk(|path, ev| match ev {
            Ev::Start(_) => {
                if path == ["detail"] {
                    detail = (String::new(), String::new());
                }
            }
            Ev::Text(text) => {
                let field = match path {
                    ["ip"] => &mut ip,
                    ["start"] => &mut start,
                    ["detail", "name"] => &mut detail.0,
                    ["detail", "value"] => &mut detail.1,
                    _ => return,
                };
                push_capped(field, text, max);
            }
            Ev::End => {
                if path == ["detail"] {
                    apply_detail(&mut host, &mut os_cpe, detail.0.trim(), detail.1.trim());
                }
            }
        })?;
        let ip = ip.trim();
        match ip.parse::<IpAddr>() {
            Ok(addr) => host.ips.push(addr),
            Err(_) => match target_names(ip) {
                // A target scanned by name.
                Some((name, fqdn)) => {
                    host.hostname = host.hostname.take().or(name);
                    host.fqdn = host.fqdn.take().or(fqdn);
                }
                None => {
                    return Ok(ScanItem::Rejected(Rejection::new(
                        line,
                        if ip.is_empty() {
                            "the report's host section has no <ip>".to_owned()
                        } else {
                            format!(
                                "the report's host section has ip {ip:?}, which is neither an IP address nor a host name"
                            )
                        },
                    )));
                }
            },
        }
        if host.os.is_none() {
            host.os = os_cpe;
        }
        host.scanned_at = timestamp(&start);
        Ok(ScanItem::Host(Box::new(host)))
    }
}

/// Applies one `<detail>` of a host section (`name`, `value`) to the host.
fn apply_detail(host: &mut ScannedHost, os_cpe: &mut Option<String>, name: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    match name {
        "hostname" if host.hostname.is_none() => {
            let (short, fqdn) = host_names(value);
            host.hostname = short;
            host.fqdn = fqdn;
        }
        "best_os_txt" => host.os = Some(value.to_owned()),
        "best_os_cpe" | "App" => {
            if name == "best_os_cpe" {
                *os_cpe = Some(value.to_owned());
            }
            if let Some(sw) = software_from_cpe(value)
                && host.software.len() < MAX_HOST_DETAILS
                && !host.software.contains(&sw)
            {
                host.software.push(sw);
            }
        }
        "MAC" => {
            if let Some(mac) = model::normalise_mac(value)
                && host.macs.len() < MAX_HOST_DETAILS
                && !host.macs.contains(&mac)
            {
                host.macs.push(mac);
            }
        }
        _ => {}
    }
}

/// The text of one `<result>`, gathered before it is checked.
#[derive(Default)]
struct RawResult {
    name: String,
    host: String,
    hostname: String,
    port: String,
    oid: Option<String>,
    nvt_name: String,
    cvss_base: String,
    vector: String,
    vector_done: bool,
    tags: String,
    solution: String,
    cves: Vec<String>,
    cve_text: String,
    threat: String,
    severity: String,
    description: String,
}

impl RawResult {
    /// Checks the result; `Ok(None)` for a false positive, `Err` with the
    /// reason for a malformed one.
    fn finish(self, line: u64) -> Result<Option<ScannedHost>, String> {
        let threat = self.threat.trim();
        if threat.eq_ignore_ascii_case("false positive") {
            return Ok(None);
        }
        let host = self.host.trim();
        if host.is_empty() {
            return Err("the result names no host".to_owned());
        }
        // GVM targets can be names as well as addresses: a host that is not
        // an address identifies the asset by name.
        let ip = host.parse::<IpAddr>().ok();
        let target_name = match ip {
            Some(_) => None,
            None => Some(target_names(host).ok_or_else(|| {
                format!("the result's host {host:?} is neither an IP address nor a host name")
            })?),
        };
        let oid = self.oid.as_deref().map(str::trim).unwrap_or_default();
        if oid.is_empty() {
            return Err("the result names no NVT (<nvt oid>)".to_owned());
        }
        let (port, protocol) = parse_port(&self.port)?;

        let score = score(&self.severity).or_else(|| score(&self.cvss_base));
        let severity = match threat.to_ascii_lowercase().as_str() {
            "log" | "debug" => Severity::Info,
            other => Severity::parse(other)
                .unwrap_or_else(|| score.map_or(Severity::Info, Severity::from_cvss)),
        };

        let tags = split_tags(&self.tags);
        let vector = non_empty(&self.vector)
            .or_else(|| tag(&tags, "cvss_base_vector"))
            .filter(|v| !v.eq_ignore_ascii_case("none"))
            .map(str::to_owned);
        let (mut cvss2, mut cvss3, mut cvss4) = (None, None, None);
        if let Some(score) = score {
            let slot = match vector.as_deref() {
                Some(v) if v.starts_with("CVSS:3") => &mut cvss3,
                Some(v) if v.starts_with("CVSS:4") => &mut cvss4,
                _ => &mut cvss2,
            };
            *slot = Some(Cvss { score, vector });
        }

        let mut cves = self.cves;
        for cve in model::cves_in(&self.cve_text) {
            if cves.len() < MAX_CVES && !cves.contains(&cve) {
                cves.push(cve);
            }
        }

        let description = match (tag(&tags, "summary"), tag(&tags, "insight")) {
            (Some(summary), Some(insight)) => Some(format!("{summary}\n\n{insight}")),
            (Some(text), None) | (None, Some(text)) => Some(text.to_owned()),
            (None, None) => None,
        };
        let solution = non_empty(&self.solution)
            .or_else(|| tag(&tags, "solution"))
            .map(str::to_owned);
        let title = [self.nvt_name.as_str(), self.name.as_str(), oid]
            .into_iter()
            .map(one_line)
            .find(|t| !t.is_empty())
            .unwrap_or_default();

        let finding = ScannedFinding {
            line,
            scanner: Scanner::Openvas,
            plugin_id: oid.to_owned(),
            title,
            port,
            protocol,
            cves,
            severity,
            cvss2,
            cvss3,
            cvss4,
            description,
            solution,
            evidence: non_empty(&self.description).map(|d| model::cap(d, MAX_EVIDENCE)),
        };
        let (hostname, fqdn) = match target_name {
            Some(names) => names,
            None => host_names(&self.hostname),
        };
        Ok(Some(ScannedHost {
            line,
            ips: ip.into_iter().collect(),
            hostname,
            fqdn,
            findings: vec![finding],
            ..ScannedHost::default()
        }))
    }
}

/// Port and protocol from `80/tcp`, `general/tcp`, `package` or the older
/// `http (80/tcp)`.
fn parse_port(text: &str) -> Result<(Option<u16>, Option<String>), String> {
    let text = text.trim();
    let inner = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    let (number, protocol) = inner.split_once('/').unwrap_or((inner, ""));
    let number = number.trim();
    let port = if number.is_empty()
        || number.eq_ignore_ascii_case("general")
        || number.eq_ignore_ascii_case("package")
    {
        None
    } else {
        match number.parse::<u16>() {
            Ok(port) if number.bytes().all(|b| b.is_ascii_digit()) => Some(port),
            _ => return Err(format!("the port {text:?} is not a port number")),
        }
    };
    let protocol = protocol.trim().to_ascii_lowercase();
    let protocol = matches!(protocol.as_str(), "tcp" | "udp").then_some(protocol);
    Ok((port, protocol))
}

/// A CVSS score in 0..=10 (exclusive of 0, which GVM uses for "none").
fn score(text: &str) -> Option<f32> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 10.0)
}

/// Splits GVM's `key=value|key=value` tags. A `|` only separates when a
/// `key=` follows it, since the free text of a value may hold a `|`.
fn split_tags(text: &str) -> Vec<(&str, &str)> {
    let starts_pair = |rest: &str| {
        let key_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        key_len > 0 && rest.as_bytes().get(key_len) == Some(&b'=')
    };
    let mut bounds = vec![0];
    bounds.extend(
        text.match_indices('|')
            .map(|(i, _)| i)
            .filter(|i| starts_pair(&text[i + 1..])),
    );
    bounds.push(text.len());
    bounds
        .windows(2)
        .filter_map(|w| {
            let piece = text[w[0]..w[1]].trim_start_matches('|');
            piece.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
        })
        .collect()
}

fn tag<'a>(tags: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
}

fn non_empty(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// Collapses the line breaks and indentation of pretty-printed XML, for
/// titles that are meant to be one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Software from a CPE: the product and version, with the CPE itself in
/// 2.3 formatted-string form.
fn software_from_cpe(cpe: &str) -> Option<Software> {
    let formatted = cpe23(cpe)?;
    let fields = split_cpe23(&formatted);
    let unescape = |s: &str| s.replace('\\', "");
    let product = fields.get(4).filter(|p| !matches!(**p, "*" | "-"))?;
    let version = fields
        .get(5)
        .filter(|v| !matches!(**v, "*" | "-"))
        .map(|v| unescape(v));
    Some(Software {
        name: unescape(product),
        version,
        cpe: Some(formatted),
    })
}

/// Splits a CPE 2.3 formatted string at the colons that are not escaped.
fn split_cpe23(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ':' => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A CPE as a 2.3 formatted string: 2.3 strings are kept, 2.2 URIs
/// (`cpe:/a:vendor:product:version`, what GVM reports) are converted.
fn cpe23(cpe: &str) -> Option<String> {
    let cpe = cpe.trim();
    if cpe.len() > 1024 {
        return None;
    }
    let lower = cpe.to_ascii_lowercase();
    if lower.starts_with("cpe:2.3:") {
        return (split_cpe23(&lower).len() == 13).then_some(lower);
    }
    let uri = lower.strip_prefix("cpe:/")?;
    let mut parts: Vec<String> = uri.split(':').map(uri_component).collect::<Option<_>>()?;
    if parts.is_empty() || parts.len() > 7 || !matches!(parts[0].as_str(), "a" | "o" | "h") {
        return None;
    }
    parts.resize(7, "*".to_owned());
    // A packed edition (`~edition~sw_edition~target_sw~target_hw~other`)
    // carries the five extended attributes of CPE 2.3.
    let mut extended = vec!["*".to_owned(); 4];
    let edition = uri.split(':').nth(5).unwrap_or_default();
    if let Some(packed) = edition.strip_prefix('~') {
        let fields: Vec<&str> = packed.split('~').collect();
        if fields.len() != 5 {
            return None;
        }
        let decoded: Vec<String> = fields
            .into_iter()
            .map(uri_component)
            .collect::<Option<_>>()?;
        parts[5] = decoded[0].clone();
        extended = decoded[1..].to_vec();
    }
    let [part, vendor, product, version, update, edition, language] = &parts[..] else {
        return None;
    };
    let [sw_edition, target_sw, target_hw, other] = &extended[..] else {
        return None;
    };
    Some(format!(
        "cpe:2.3:{part}:{vendor}:{product}:{version}:{update}:{edition}:{language}:{sw_edition}:{target_sw}:{target_hw}:{other}"
    ))
}

/// One CPE 2.2 URI component in formatted-string form: empty is ANY (`*`),
/// `-` is NA, percent escapes are decoded and punctuation other than `.`,
/// `-` and `_` is quoted with a backslash. `None` for a malformed escape.
fn uri_component(c: &str) -> Option<String> {
    if c.is_empty() {
        return Some("*".to_owned());
    }
    if c == "-" {
        return Some("-".to_owned());
    }
    let bytes = c.as_bytes();
    let mut out = String::with_capacity(c.len());
    let mut i = 0;
    while i < bytes.len() {
        let ch = if bytes[i] == b'%' {
            let hex = c.get(i + 1..i + 3)?;
            i += 3;
            match u8::from_str_radix(hex, 16).ok()? {
                0x01 => {
                    out.push('?');
                    continue;
                }
                0x02 => {
                    out.push('*');
                    continue;
                }
                b if b.is_ascii_graphic() => char::from(b),
                _ => return None,
            }
        } else {
            i += 1;
            char::from(bytes[i - 1])
        };
        if !ch.is_ascii_graphic() {
            return None;
        }
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_')) {
            out.push('\\');
        }
        out.push(ch);
    }
    Some(out)
}

/// Short host name and FQDN from a DNS name: a name with a dot is the FQDN
/// (lower case) and its first label the host name. Addresses, names with
/// spaces ("No registered hostname") and empty text give neither.
pub(crate) fn host_names(name: &str) -> (Option<String>, Option<String>) {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty()
        || name.len() > 253
        || name.parse::<IpAddr>().is_ok()
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return (None, None);
    }
    match name.split_once('.') {
        Some((first, _)) if !first.is_empty() => (Some(first.to_owned()), Some(name)),
        Some(_) => (None, None),
        None => (Some(name), None),
    }
}

/// Names for a scan target given by name. A dotted name whose labels are
/// all digits (such as `192.168.1.1001`, a mistyped address) is kept whole
/// as the host name, so that the asset carries what the scanner reported.
fn target_names(target: &str) -> Option<(Option<String>, Option<String>)> {
    let t = target.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !t.is_empty()
        && t.len() <= 253
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
    if !valid {
        return None;
    }
    if t.split('.')
        .all(|label| label.chars().all(|c| c.is_ascii_digit()))
    {
        return Some((Some(t), None));
    }
    Some(host_names(&t))
}

/// An RFC 3339 time (`2023-09-26T10:50:34Z`, `+02:00` offsets too).
pub(crate) fn timestamp(text: &str) -> Option<Timestamp> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| Timestamp::from_millis(t.as_millisecond()))
}

/// Appends `text` to `dst`, keeping `dst` within `max` bytes.
pub(crate) fn push_capped(dst: &mut String, text: &str, max: usize) {
    let room = max.saturating_sub(dst.len());
    if text.len() <= room {
        dst.push_str(text);
    } else {
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        dst.push_str(&text[..end]);
    }
}

/// What [`Tree::walk`] shows of each event inside a record.
pub(crate) enum Ev<'a> {
    /// An element starts (with its attributes and line).
    Start(&'a Xml),
    /// Text directly inside the element at the path.
    Text(&'a str),
    /// The element at the path ends.
    End,
}

/// An [`XmlSource`] that keeps its own stack of open elements, in step with
/// the events handed out. The source's own stack runs ahead of its events
/// (text is handed out after the next tag has been read), so it cannot say
/// which element a text belongs to.
pub(crate) struct Tree<R: BufRead> {
    src: XmlSource<R>,
    stack: Vec<String>,
}

impl<R: BufRead> Tree<R> {
    pub(crate) fn new(src: XmlSource<R>) -> Self {
        Self {
            src,
            stack: Vec::new(),
        }
    }

    pub(crate) fn line(&self) -> u64 {
        self.src.line()
    }

    /// The next event, with the stack updated for it.
    pub(crate) fn next(&mut self) -> Result<Option<Xml>, ScanError> {
        let ev = self.src.next_event()?;
        match &ev {
            Some(Xml::Start { name, .. }) => self.stack.push(name.clone()),
            Some(Xml::End { .. }) => {
                self.stack.pop();
            }
            _ => {}
        }
        Ok(ev)
    }

    /// The parent of the element that has just started.
    pub(crate) fn parent(&self) -> Option<&str> {
        let n = self.stack.len();
        (n >= 2).then(|| self.stack[n - 2].as_str())
    }

    /// Walks the rest of the element that has just started, calling `f` with
    /// each event and the path below that element (empty for its own
    /// text), and returns after its end tag.
    pub(crate) fn walk(&mut self, mut f: impl FnMut(&[&str], Ev<'_>)) -> Result<(), ScanError> {
        let base = self.stack.len();
        loop {
            let Some(ev) = self.next()? else {
                return Err(ScanError::new(
                    self.line(),
                    ErrorKind::Truncated,
                    "the file ends inside a record",
                ));
            };
            match &ev {
                Xml::Start { .. } => {
                    let path: Vec<&str> = self.stack[base..].iter().map(String::as_str).collect();
                    f(&path, Ev::Start(&ev));
                }
                Xml::Text(text) => {
                    let path: Vec<&str> = self.stack[base..].iter().map(String::as_str).collect();
                    f(&path, Ev::Text(text));
                }
                Xml::End { name } => {
                    if self.stack.len() < base {
                        return Ok(());
                    }
                    // The stack has already dropped the element; the path
                    // names it again so that ends match their starts.
                    let mut path: Vec<&str> =
                        self.stack[base..].iter().map(String::as_str).collect();
                    path.push(name);
                    f(&path, Ev::End);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_port("80/tcp"), Ok((Some(80), Some("tcp".into()))));
        assert_eq!(parse_port("general/tcp"), Ok((None, Some("tcp".into()))));
        assert_eq!(parse_port("general/icmp"), Ok((None, None)));
        assert_eq!(parse_port("package"), Ok((None, None)));
        assert_eq!(parse_port(""), Ok((None, None)));
        assert_eq!(
            parse_port("http (8080/tcp)"),
            Ok((Some(8080), Some("tcp".into())))
        );
        assert!(parse_port("eighty/tcp").is_err());
        assert!(parse_port("70000/udp").is_err());
        assert!(parse_port("+80/udp").is_err());
    }

    #[test]
    fn tags_split_only_before_keys() {
        let tags = split_tags("cvss_base_vector=AV:N|summary=a | b|insight=|solution=fix it");
        assert_eq!(
            tags,
            [
                ("cvss_base_vector", "AV:N"),
                ("summary", "a | b"),
                ("insight", ""),
                ("solution", "fix it")
            ]
        );
        assert_eq!(tag(&tags, "insight"), None);
        assert!(split_tags("").is_empty());
    }

    #[test]
    fn cpes_become_formatted_strings() {
        assert_eq!(
            cpe23("cpe:/a:apache:http_server:2.4.7").as_deref(),
            Some("cpe:2.3:a:apache:http_server:2.4.7:*:*:*:*:*:*:*")
        );
        assert_eq!(
            cpe23("cpe:/o:microsoft:windows_10:-:-:~~~~x64~").as_deref(),
            Some("cpe:2.3:o:microsoft:windows_10:-:-:*:*:*:*:x64:*")
        );
        assert_eq!(
            cpe23("cpe:/a:foo:bar%21baz:1.0").as_deref(),
            Some("cpe:2.3:a:foo:bar\\!baz:1.0:*:*:*:*:*:*:*")
        );
        assert_eq!(cpe23("not a cpe"), None);
        assert_eq!(cpe23("cpe:/x:foo"), None);
        let sw = software_from_cpe("cpe:/a:openbsd:openssh:4.7p1").expect("software");
        assert_eq!(sw.name, "openssh");
        assert_eq!(sw.version.as_deref(), Some("4.7p1"));
        let sw = software_from_cpe("cpe:/o:canonical:ubuntu_linux:8.04").expect("software");
        assert_eq!(sw.name, "ubuntu_linux");
    }

    #[test]
    fn names() {
        assert_eq!(
            host_names("Host01.Example.com"),
            (Some("host01".into()), Some("host01.example.com".into()))
        );
        assert_eq!(host_names("server99"), (Some("server99".into()), None));
        assert_eq!(host_names("192.0.2.12"), (None, None));
        assert_eq!(host_names("No registered hostname"), (None, None));
        assert_eq!(host_names(""), (None, None));
    }
}
