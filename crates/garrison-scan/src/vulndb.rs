//! Offline vulnerability data: NVD CVE records (CVE API 2.0 JSON), the CISA
//! Known Exploited Vulnerabilities catalog (JSON) and FIRST EPSS scores
//! (CSV).
//!
//! NVD files can be hundreds of megabytes, so [`read_nvd`] never holds the
//! document: it walks the top-level object with serde and hands each element
//! of `vulnerabilities` to a callback as soon as it is read, keeping only
//! that one record in memory. [`read_epss`] streams line by line for the
//! same reason. The KEV catalog is a few megabytes and is read whole, up to
//! [`MAX_KEV_BYTES`].
//!
//! A record that is wrong in itself (no id, a score that is not a number)
//! is skipped and listed with its position and the reason, and the rest go
//! on; a file that is not the format at all, or ends early, is a
//! [`ScanError`]. Records delivered before such an error stand.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::cpe::{Cpe, CpeMatch};
use crate::error::{ErrorKind, Rejection, ScanError};
use crate::input::Counted;
use crate::model::Cvss;

/// How many skipped records are listed with their reasons; past this they
/// are only counted, so that a file of nothing but bad records cannot grow
/// the list without bound.
pub const MAX_LISTED_SKIPS: usize = 1000;

/// The largest KEV catalog [`read_kev`] reads (the real one is about 1 MB).
pub const MAX_KEV_BYTES: u64 = 64 * 1024 * 1024;

/// The longest line [`read_epss`] accepts (real lines are about 30 bytes).
pub const MAX_EPSS_LINE_BYTES: u64 = 4096;

/// A record that was skipped, by its position in the file's array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// 0-based position in the `vulnerabilities` array.
    pub index: u64,
    /// The CVE id, when the record has a readable one.
    pub id: Option<String>,
    /// What is wrong with the record.
    pub reason: String,
}

impl fmt::Display for SkippedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "record {} ({id}): {}", self.index, self.reason),
            None => write!(f, "record {}: {}", self.index, self.reason),
        }
    }
}

/// One CVE as NVD describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdRecord {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub id: String,
    /// As NVD writes it (`2024-03-29T17:15:21.150`, UTC without an offset).
    pub published: Option<String>,
    /// Same form as `published`.
    pub last_modified: Option<String>,
    /// NVD's analysis status (`Analyzed`, `Modified`, `Deferred`, ...).
    pub status: Option<String>,
    /// The English description.
    pub description: Option<String>,
    /// Each CVSS version's Primary (NVD's own) metric, else the first given.
    pub cvss2: Option<Cvss>,
    /// CVSS 3.1, else 3.0.
    pub cvss3: Option<Cvss>,
    /// CVSS 4.0.
    pub cvss4: Option<Cvss>,
    /// `CWE-NNN` ids, without duplicates (NVD's `NVD-CWE-noinfo` and
    /// `NVD-CWE-Other` placeholders are left out).
    pub cwes: Vec<String>,
    /// The vulnerable criteria of every configuration, flattened and without
    /// duplicates. Negated nodes and `vulnerable: false` entries (the
    /// platform an application runs on) are left out.
    pub matches: Vec<CpeMatch>,
    /// When CISA added the CVE to KEV, if NVD says so (`cisaExploitAdd`).
    pub cisa_exploit_add: Option<String>,
}

/// What [`read_nvd`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NvdStats {
    /// Records delivered.
    pub records: u64,
    /// Records skipped.
    pub skipped: u64,
    /// The first [`MAX_LISTED_SKIPS`] skipped records and why.
    pub skips: Vec<SkippedRecord>,
    /// The response's `totalResults`, when given (an API page holds at most
    /// `resultsPerPage` of them).
    pub total_results: Option<u64>,
}

/// Reads an NVD CVE API 2.0 response (`{"format": "NVD_CVE", ...,
/// "vulnerabilities": [{"cve": {...}}, ...]}`), calling `on_record` for
/// each CVE as it is read. A file holding a single `{"cve": {...}}` is read
/// too.
///
/// # Errors
///
/// When the input is not JSON, not an object, has a `format` other than
/// `NVD_CVE`, has no `vulnerabilities` array (an NVD 1.1 `CVE_Items` feed
/// is named as such), or ends early ([`ErrorKind::Truncated`]); records
/// already delivered stand.
pub fn read_nvd<R: Read>(
    input: R,
    mut on_record: impl FnMut(NvdRecord),
) -> Result<NvdStats, ScanError> {
    let mut stats = NvdStats::default();
    let mut sink = Sink {
        on_record: &mut on_record,
        stats: &mut stats,
        next_index: 0,
    };
    // serde_json reads an `io::Read` byte by byte, so it gets a buffer.
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(input));
    Document(&mut sink)
        .deserialize(&mut de)
        .map_err(|e| json_error(&e, "NVD CVE file"))?;
    de.end().map_err(|e| json_error(&e, "NVD CVE file"))?;
    Ok(stats)
}

/// Where records go while the document is walked.
struct Sink<'a, F> {
    on_record: &'a mut F,
    stats: &'a mut NvdStats,
    next_index: u64,
}

impl<F: FnMut(NvdRecord)> Sink<'_, F> {
    fn take(&mut self, entry: &Value) {
        let index = self.next_index;
        self.next_index += 1;
        match nvd_record(entry) {
            Ok(record) => {
                self.stats.records += 1;
                (self.on_record)(record);
            }
            Err(reason) => {
                self.stats.skipped += 1;
                if self.stats.skips.len() < MAX_LISTED_SKIPS {
                    let id = entry
                        .get("cve")
                        .and_then(|c| c.get("id"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    self.stats.skips.push(SkippedRecord { index, id, reason });
                }
            }
        }
    }
}

/// The top-level object of an NVD file.
struct Document<'s, 'a, F>(&'s mut Sink<'a, F>);

impl<'de, F: FnMut(NvdRecord)> DeserializeSeed<'de> for Document<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(NvdRecord)> Visitor<'de> for Document<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an NVD CVE API 2.0 response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.0;
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "vulnerabilities" => {
                    map.next_value_seed(Vulnerabilities(&mut *sink))?;
                    found = true;
                }
                "cve" => {
                    // A single record saved on its own: `{"cve": {...}}`.
                    let cve: Value = map.next_value()?;
                    let mut entry = Map::new();
                    entry.insert("cve".to_owned(), cve);
                    sink.take(&Value::Object(entry));
                    found = true;
                }
                "format" => {
                    let format: Value = map.next_value()?;
                    if let Some(format) = format.as_str().filter(|f| *f != "NVD_CVE") {
                        return Err(de::Error::custom(format!(
                            "`format` is `{format}`, expected `NVD_CVE`"
                        )));
                    }
                }
                "totalResults" => {
                    let total: Value = map.next_value()?;
                    sink.stats.total_results = total.as_u64();
                }
                "CVE_Items" => {
                    return Err(de::Error::custom(
                        "this is an NVD JSON 1.1 feed (`CVE_Items`); only the CVE API 2.0 format (`vulnerabilities`) is read",
                    ));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if found {
            Ok(())
        } else {
            Err(de::Error::custom(
                "no `vulnerabilities` array: not an NVD CVE API 2.0 response",
            ))
        }
    }
}

/// The `vulnerabilities` array, read one element at a time.
struct Vulnerabilities<'s, 'a, F>(&'s mut Sink<'a, F>);

impl<'de, F: FnMut(NvdRecord)> DeserializeSeed<'de> for Vulnerabilities<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(NvdRecord)> Visitor<'de> for Vulnerabilities<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CVE records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Each element is read as a generic value first, so that a field of
        // the wrong type skips that record instead of derailing the parser.
        while let Some(entry) = seq.next_element::<Value>()? {
            self.0.take(&entry);
        }
        Ok(())
    }
}

/// Turns a serde_json error into a [`ScanError`] at its line.
fn json_error(e: &serde_json::Error, what: &str) -> ScanError {
    let line = u64::try_from(e.line()).unwrap_or(u64::MAX).max(1);
    // serde_json appends the position to its message; the line goes in the
    // ScanError's own field, so only the column is kept in the text.
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&position).unwrap_or(&full);
    let column = e.column();
    match e.classify() {
        serde_json::error::Category::Eof => ScanError::new(
            line,
            ErrorKind::Truncated,
            format!("the {what} ends before its JSON document does ({message}, column {column})"),
        ),
        serde_json::error::Category::Io => ScanError::new(
            line,
            ErrorKind::Io,
            format!("reading the {what} failed: {message}"),
        ),
        serde_json::error::Category::Syntax => ScanError::new(
            line,
            ErrorKind::Malformed,
            format!("the {what} is not valid JSON: {message} (column {column})"),
        ),
        serde_json::error::Category::Data => ScanError::new(
            line,
            ErrorKind::Malformed,
            format!("not a valid {what}: {message} (column {column})"),
        ),
    }
}

type Object = Map<String, Value>;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn as_object<'v>(v: &'v Value, path: &str) -> Result<&'v Object, String> {
    v.as_object()
        .ok_or_else(|| format!("{path}: expected an object, found {}", kind(v)))
}

/// An optional string field; `null` counts as absent.
fn opt_str(obj: &Object, key: &str, path: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "{path}.{key}: expected a string, found {}",
            kind(other)
        )),
    }
}

fn req_str(obj: &Object, key: &str, path: &str) -> Result<String, String> {
    opt_str(obj, key, path)?.ok_or_else(|| format!("{path}.{key} is missing"))
}

fn opt_bool(obj: &Object, key: &str, path: &str) -> Result<Option<bool>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!(
            "{path}.{key}: expected a boolean, found {}",
            kind(other)
        )),
    }
}

/// An optional array field; absent and `null` read as empty.
fn array<'v>(obj: &'v Object, key: &str, path: &str) -> Result<&'v [Value], String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "{path}.{key}: expected an array, found {}",
            kind(other)
        )),
    }
}

fn opt_object<'v>(obj: &'v Object, key: &str, path: &str) -> Result<Option<&'v Object>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_object(v, &format!("{path}.{key}")).map(Some),
    }
}

/// Whether `s` is `CVE-YYYY-NNNN` (four or more digits at the end), in
/// either case.
fn is_cve_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 13
        && b[..4].eq_ignore_ascii_case(b"CVE-")
        && b[4..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'-'
        && b[9..].iter().all(u8::is_ascii_digit)
}

/// Reads one element of `vulnerabilities`.
fn nvd_record(entry: &Value) -> Result<NvdRecord, String> {
    let entry = as_object(entry, "record")?;
    let cve = opt_object(entry, "cve", "record")?.ok_or("the record has no `cve` object")?;
    let id = req_str(cve, "id", "cve")?;
    if !is_cve_id(&id) {
        return Err(format!("cve.id `{id}` is not a CVE id (CVE-YYYY-NNNN)"));
    }
    let mut description = None;
    for (i, d) in array(cve, "descriptions", "cve")?.iter().enumerate() {
        let path = format!("cve.descriptions[{i}]");
        let d = as_object(d, &path)?;
        let lang = opt_str(d, "lang", &path)?.unwrap_or_default();
        if lang.eq_ignore_ascii_case("en") || lang.to_ascii_lowercase().starts_with("en-") {
            description = Some(req_str(d, "value", &path)?);
            break;
        }
    }
    let (mut cvss2, mut cvss3, mut cvss4) = (None, None, None);
    if let Some(metrics) = opt_object(cve, "metrics", "cve")? {
        cvss4 = pick_cvss(metrics, "cvssMetricV40")?;
        cvss3 = match pick_cvss(metrics, "cvssMetricV31")? {
            Some(v31) => Some(v31),
            None => pick_cvss(metrics, "cvssMetricV30")?,
        };
        cvss2 = pick_cvss(metrics, "cvssMetricV2")?;
    }
    let mut cwes: Vec<String> = Vec::new();
    for (i, w) in array(cve, "weaknesses", "cve")?.iter().enumerate() {
        let path = format!("cve.weaknesses[{i}]");
        let w = as_object(w, &path)?;
        for (j, d) in array(w, "description", &path)?.iter().enumerate() {
            let path = format!("{path}.description[{j}]");
            let value = req_str(as_object(d, &path)?, "value", &path)?;
            if value.starts_with("CWE-") && !cwes.contains(&value) {
                cwes.push(value);
            }
        }
    }
    Ok(NvdRecord {
        id: id.to_ascii_uppercase(),
        published: opt_str(cve, "published", "cve")?,
        last_modified: opt_str(cve, "lastModified", "cve")?,
        status: opt_str(cve, "vulnStatus", "cve")?,
        description,
        cvss2,
        cvss3,
        cvss4,
        cwes,
        matches: configurations(cve)?,
        cisa_exploit_add: opt_str(cve, "cisaExploitAdd", "cve")?,
    })
}

/// The Primary metric of one CVSS version, else the first one.
fn pick_cvss(metrics: &Object, key: &str) -> Result<Option<Cvss>, String> {
    let list = array(metrics, key, "cve.metrics")?;
    let primary = list
        .iter()
        .position(|m| m.get("type").and_then(Value::as_str) == Some("Primary"));
    let Some(index) = primary.or(if list.is_empty() { None } else { Some(0) }) else {
        return Ok(None);
    };
    let path = format!("cve.metrics.{key}[{index}]");
    let metric = as_object(&list[index], &path)?;
    let data = opt_object(metric, "cvssData", &path)?
        .ok_or_else(|| format!("{path}.cvssData is missing"))?;
    let path = format!("{path}.cvssData");
    let score = match data.get("baseScore") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(other) => {
            return Err(format!(
                "{path}.baseScore: expected a number, found {}",
                kind(other)
            ));
        }
        None => return Err(format!("{path}.baseScore is missing")),
    };
    if !(0.0..=10.0).contains(&score) {
        return Err(format!("{path}.baseScore {score} is outside 0 to 10"));
    }
    // A CVSS score has one decimal, which f32 holds closely enough.
    let score = score as f32;
    Ok(Some(Cvss {
        score,
        vector: opt_str(data, "vectorString", &path)?,
    }))
}

/// The vulnerable `cpeMatch` entries of every configuration.
fn configurations(cve: &Object) -> Result<Vec<CpeMatch>, String> {
    let mut out: Vec<CpeMatch> = Vec::new();
    for (c, config) in array(cve, "configurations", "cve")?.iter().enumerate() {
        let path = format!("cve.configurations[{c}]");
        let config = as_object(config, &path)?;
        if opt_bool(config, "negate", &path)?.unwrap_or(false) {
            continue;
        }
        for (n, node) in array(config, "nodes", &path)?.iter().enumerate() {
            let path = format!("{path}.nodes[{n}]");
            let node = as_object(node, &path)?;
            // A negated node lists what is NOT affected ("all but ..."):
            // its entries must not be read as affected products.
            if opt_bool(node, "negate", &path)?.unwrap_or(false) {
                continue;
            }
            for (m, entry) in array(node, "cpeMatch", &path)?.iter().enumerate() {
                let path = format!("{path}.cpeMatch[{m}]");
                let entry = as_object(entry, &path)?;
                let vulnerable = opt_bool(entry, "vulnerable", &path)?
                    .ok_or_else(|| format!("{path}.vulnerable is missing"))?;
                if !vulnerable {
                    continue;
                }
                let criteria = req_str(entry, "criteria", &path)?;
                let criteria =
                    Cpe::parse(&criteria).map_err(|e| format!("{path}.criteria: {e}"))?;
                let found = CpeMatch {
                    criteria,
                    version_start_including: opt_str(entry, "versionStartIncluding", &path)?,
                    version_start_excluding: opt_str(entry, "versionStartExcluding", &path)?,
                    version_end_including: opt_str(entry, "versionEndIncluding", &path)?,
                    version_end_excluding: opt_str(entry, "versionEndExcluding", &path)?,
                    vulnerable,
                    match_criteria_id: opt_str(entry, "matchCriteriaId", &path)?,
                };
                if !out.contains(&found) {
                    out.push(found);
                }
            }
        }
    }
    Ok(out)
}

/// The CISA Known Exploited Vulnerabilities catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevCatalog {
    /// `title`, when given.
    pub title: Option<String>,
    /// `catalogVersion`, e.g. `2025.03.03`.
    pub catalog_version: String,
    /// `dateReleased`.
    pub date_released: Timestamp,
    /// The `count` the catalog declares (compare with `entries.len()` +
    /// `skipped.len()`).
    pub count: u64,
    /// The valid entries, in file order.
    pub entries: Vec<KevEntry>,
    /// Entries that were skipped, and why.
    pub skipped: Vec<SkippedRecord>,
}

/// One KEV entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub cve_id: String,
    /// `vendorProject` (`Microsoft`).
    pub vendor_project: String,
    /// `product` (`Windows`).
    pub product: String,
    /// `vulnerabilityName`.
    pub vulnerability_name: String,
    /// `dateAdded`: when CISA listed it.
    pub date_added: Date,
    /// `shortDescription`.
    pub short_description: String,
    /// `requiredAction`.
    pub required_action: String,
    /// `dueDate`: when federal agencies must have acted.
    pub due_date: Date,
    /// `knownRansomwareCampaignUse` is `Known` (`Unknown` or absent:
    /// `false`).
    pub known_ransomware_campaign_use: bool,
    /// `notes` (links, `;`-separated).
    pub notes: Option<String>,
    /// `cwes` as given.
    pub cwes: Vec<String>,
}

/// Reads a KEV catalog (`known_exploited_vulnerabilities.json`).
///
/// # Errors
///
/// When the input is larger than [`MAX_KEV_BYTES`], not JSON, or lacks the
/// catalog's required fields (`catalogVersion`, `dateReleased`, `count`,
/// `vulnerabilities`). Entries that break the schema (a missing field, a
/// bad date or CVE id) are skipped and listed instead.
pub fn read_kev<R: Read>(input: R) -> Result<KevCatalog, ScanError> {
    let mut bytes = Vec::new();
    input
        .take(MAX_KEV_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            ScanError::new(
                1,
                ErrorKind::Io,
                format!("reading the KEV catalog failed: {e}"),
            )
        })?;
    if bytes.len() as u64 > MAX_KEV_BYTES {
        return Err(ScanError::new(
            1,
            ErrorKind::TooLarge,
            format!("the KEV catalog is larger than {MAX_KEV_BYTES} bytes"),
        ));
    }
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| json_error(&e, "KEV catalog"))?;
    let malformed = |message: String| ScanError::new(1, ErrorKind::Malformed, message);
    let top = as_object(&doc, "the KEV catalog").map_err(malformed)?;
    let catalog_version = req_str(top, "catalogVersion", "catalog").map_err(malformed)?;
    let released = req_str(top, "dateReleased", "catalog").map_err(malformed)?;
    let date_released: Timestamp = released.parse().map_err(|e| {
        malformed(format!(
            "catalog.dateReleased `{released}` is not a timestamp: {e}"
        ))
    })?;
    let count = match top.get("count") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| malformed(format!("catalog.count {n} is not a count")))?,
        Some(other) => {
            return Err(malformed(format!(
                "catalog.count: expected a number, found {}",
                kind(other)
            )));
        }
        None => return Err(malformed("catalog.count is missing".to_owned())),
    };
    let list = match top.get("vulnerabilities") {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(malformed(format!(
                "catalog.vulnerabilities: expected an array, found {}",
                kind(other)
            )));
        }
        None => {
            return Err(malformed(
                "no `vulnerabilities` array: not a KEV catalog".to_owned(),
            ));
        }
    };
    let mut entries = Vec::with_capacity(list.len());
    let mut skipped = Vec::new();
    for (index, item) in list.iter().enumerate() {
        match kev_entry(item, index) {
            Ok(entry) => entries.push(entry),
            Err(reason) => skipped.push(SkippedRecord {
                index: index as u64,
                id: item.get("cveID").and_then(Value::as_str).map(str::to_owned),
                reason,
            }),
        }
    }
    Ok(KevCatalog {
        title: opt_str(top, "title", "catalog").map_err(malformed)?,
        catalog_version,
        date_released,
        count,
        entries,
        skipped,
    })
}

fn kev_entry(item: &Value, index: usize) -> Result<KevEntry, String> {
    let path = format!("vulnerabilities[{index}]");
    let item = as_object(item, &path)?;
    let cve_id = req_str(item, "cveID", &path)?;
    if !is_cve_id(&cve_id) {
        return Err(format!("cveID `{cve_id}` is not a CVE id (CVE-YYYY-NNNN)"));
    }
    let date = |key: &str| -> Result<Date, String> {
        let raw = req_str(item, key, &path)?;
        raw.parse()
            .map_err(|_| format!("{key} `{raw}` is not a date (YYYY-MM-DD)"))
    };
    let known_ransomware_campaign_use =
        match opt_str(item, "knownRansomwareCampaignUse", &path)?.as_deref() {
            Some("Known") => true,
            Some("Unknown") | None => false,
            Some(other) => {
                return Err(format!(
                    "knownRansomwareCampaignUse `{other}` is neither `Known` nor `Unknown`"
                ));
            }
        };
    let mut cwes = Vec::new();
    for (i, cwe) in array(item, "cwes", &path)?.iter().enumerate() {
        match cwe {
            Value::String(s) => cwes.push(s.clone()),
            other => {
                return Err(format!(
                    "cwes[{i}]: expected a string, found {}",
                    kind(other)
                ));
            }
        }
    }
    Ok(KevEntry {
        cve_id: cve_id.to_ascii_uppercase(),
        vendor_project: req_str(item, "vendorProject", &path)?,
        product: req_str(item, "product", &path)?,
        vulnerability_name: req_str(item, "vulnerabilityName", &path)?,
        date_added: date("dateAdded")?,
        short_description: req_str(item, "shortDescription", &path)?,
        required_action: req_str(item, "requiredAction", &path)?,
        due_date: date("dueDate")?,
        known_ransomware_campaign_use,
        notes: opt_str(item, "notes", &path)?,
        cwes,
    })
}

/// One row of an EPSS file.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssScore {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub cve: String,
    /// Probability of exploitation in the next 30 days, 0 to 1.
    pub epss: f32,
    /// Rank among all scored CVEs, 0 to 1.
    pub percentile: f32,
}

/// What [`read_epss`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpssStats {
    /// `model_version` from the comment line (`v2023.03.01`).
    pub model_version: Option<String>,
    /// The date part of `score_date` from the comment line.
    pub score_date: Option<Date>,
    /// Rows delivered.
    pub rows: u64,
    /// Rows skipped.
    pub skipped: u64,
    /// The first [`MAX_LISTED_SKIPS`] skipped rows, by line, and why.
    pub rejections: Vec<Rejection>,
}

const EPSS_HEADER: [&str; 3] = ["cve", "epss", "percentile"];

/// Reads a FIRST EPSS CSV: an optional comment line
/// (`#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000`), the
/// header `cve,epss,percentile`, then one row per CVE, calling `on_row` for
/// each valid row. Blank lines are ignored; a bad row is skipped and
/// recorded with its line.
///
/// # Errors
///
/// When the file is gzip-compressed (decompress it first), the comment's
/// `score_date` is not a date, the header is missing or different (the
/// error names line 1 or 2 and the expected header), a line is longer than
/// [`MAX_EPSS_LINE_BYTES`], or reading fails.
pub fn read_epss<R: BufRead>(
    mut input: Counted<R>,
    mut on_row: impl FnMut(EpssScore),
) -> Result<EpssStats, ScanError> {
    let mut stats = EpssStats::default();
    let mut buf = Vec::new();
    let missing_header = |line: u64| {
        ScanError::new(
            line,
            ErrorKind::Truncated,
            "the file ends before the header `cve,epss,percentile`",
        )
    };
    let Some(mut line) = next_line(&mut input, &mut buf)? else {
        return Err(missing_header(1));
    };
    if buf.starts_with(&[0x1f, 0x8b]) {
        return Err(ScanError::new(
            line,
            ErrorKind::Malformed,
            "the file is gzip-compressed; decompress it first",
        ));
    }
    if buf.starts_with("\u{feff}".as_bytes()) {
        buf.drain(..3);
    }
    if buf.first() == Some(&b'#') {
        let comment = String::from_utf8_lossy(&buf[1..]).into_owned();
        parse_epss_comment(&comment, line, &mut stats)?;
        line = next_line(&mut input, &mut buf)?.ok_or_else(|| missing_header(line + 1))?;
    }
    let header = String::from_utf8_lossy(&buf).into_owned();
    let columns: Vec<String> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    if columns != EPSS_HEADER {
        return Err(ScanError::new(
            line,
            ErrorKind::Malformed,
            format!(
                "expected the EPSS header `cve,epss,percentile`, found `{}`",
                shorten(header.trim())
            ),
        ));
    }
    while let Some(line) = next_line(&mut input, &mut buf)? {
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match epss_row(&buf) {
            Ok(score) => {
                stats.rows += 1;
                on_row(score);
            }
            Err(reason) => {
                stats.skipped += 1;
                if stats.rejections.len() < MAX_LISTED_SKIPS {
                    stats.rejections.push(Rejection::new(line, reason));
                }
            }
        }
    }
    Ok(stats)
}

/// Reads one line into `buf` without its line ending, returning its
/// 1-based number, or `None` at the end of the input.
fn next_line<R: BufRead>(
    input: &mut Counted<R>,
    buf: &mut Vec<u8>,
) -> Result<Option<u64>, ScanError> {
    buf.clear();
    let line = input.line();
    let read = (&mut *input)
        .take(MAX_EPSS_LINE_BYTES + 1)
        .read_until(b'\n', buf)
        .map_err(|e| ScanError::new(line, ErrorKind::Io, format!("reading failed: {e}")))?;
    // The caller's token limit, if any, then applies per line.
    input.mark();
    if read == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() as u64 > MAX_EPSS_LINE_BYTES {
        return Err(ScanError::new(
            line,
            ErrorKind::TooLarge,
            format!("the line is longer than {MAX_EPSS_LINE_BYTES} bytes"),
        ));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(line))
}

/// Reads `model_version:...,score_date:...` into `stats`; unknown keys are
/// ignored so that FIRST can add some.
fn parse_epss_comment(comment: &str, line: u64, stats: &mut EpssStats) -> Result<(), ScanError> {
    for item in comment.split(',') {
        let Some((key, value)) = item.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "model_version" if !value.is_empty() => stats.model_version = Some(value.to_owned()),
            "score_date" => {
                // `2025-02-20T00:00:00+0000`: the offset has no colon, which
                // RFC 3339 parsers refuse, and only the day matters.
                let day = value.get(..10).unwrap_or(value);
                let date = day.parse::<Date>().map_err(|_| {
                    ScanError::new(
                        line,
                        ErrorKind::Malformed,
                        format!("score_date `{}` is not a date", shorten(value)),
                    )
                })?;
                stats.score_date = Some(date);
            }
            _ => {}
        }
    }
    Ok(())
}

fn epss_row(raw: &[u8]) -> Result<EpssScore, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the row is not valid UTF-8".to_owned())?;
    let fields: Vec<&str> = text
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect();
    let [cve, epss, percentile] = fields.as_slice() else {
        return Err(format!(
            "expected 3 fields (cve,epss,percentile), found {}",
            fields.len()
        ));
    };
    if !is_cve_id(cve) {
        return Err(format!(
            "`{}` is not a CVE id (CVE-YYYY-NNNN)",
            shorten(cve)
        ));
    }
    let probability = |name: &str, raw: &str| -> Result<f32, String> {
        let value: f32 = raw
            .parse()
            .map_err(|_| format!("{name} `{}` is not a number", shorten(raw)))?;
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err(format!("{name} {raw} is outside 0 to 1"))
        }
    };
    Ok(EpssScore {
        cve: cve.to_ascii_uppercase(),
        epss: probability("epss", epss)?,
        percentile: probability("percentile", percentile)?,
    })
}

/// Cuts text quoted in a message to a readable length.
fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        let mut cut: String = s.chars().take(80).collect();
        cut.push('…');
        cut
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_are_recognised() {
        for good in ["CVE-2024-3094", "cve-1999-0001", "CVE-2021-1234567"] {
            assert!(is_cve_id(good), "{good}");
        }
        for bad in [
            "CVE-2024-123",
            "CVE-24-1234",
            "CVE_2024_1234",
            "CVE-2024-12a4",
            "",
        ] {
            assert!(!is_cve_id(bad), "{bad}");
        }
    }

    #[test]
    fn epss_rows_are_checked() {
        let row = epss_row(b" \"cve-2024-0001\" , 0.5 ,1").expect("row");
        assert_eq!(row.cve, "CVE-2024-0001");
        assert!((row.epss - 0.5).abs() < f32::EPSILON);
        assert!(epss_row(b"CVE-2024-0001,inf,0.5").is_err());
        assert!(epss_row(b"CVE-2024-0001,0.5,0.5,0.5").is_err());
        assert!(epss_row(b"\xff,0.5,0.5").is_err());
    }

    #[test]
    fn the_epss_comment_is_read_and_unknown_keys_ignored() {
        let mut stats = EpssStats::default();
        parse_epss_comment(
            "model_version:v2025.03.14,score_date:2025-03-20T00:00:00+0000,new_key:x",
            1,
            &mut stats,
        )
        .expect("comment");
        assert_eq!(stats.model_version.as_deref(), Some("v2025.03.14"));
        assert_eq!(stats.score_date, Some(jiff::civil::date(2025, 3, 20)));
    }

    #[test]
    fn many_bad_records_are_counted_but_listed_only_up_to_the_cap() {
        let body: Vec<String> = (0..MAX_LISTED_SKIPS + 5).map(|_| "{}".to_owned()).collect();
        let doc = format!("{{\"vulnerabilities\": [{}]}}", body.join(","));
        let stats = read_nvd(doc.as_bytes(), |_| {}).expect("read");
        assert_eq!(stats.skipped, (MAX_LISTED_SKIPS + 5) as u64);
        assert_eq!(stats.skips.len(), MAX_LISTED_SKIPS);
    }
}
