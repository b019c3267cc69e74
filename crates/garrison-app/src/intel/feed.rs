//! Reading indicator feeds: CSV with a header, and plain text (one value a
//! line). Pure: an iterator over a `BufRead`, so the CLI, the API and the
//! portal read files the same way.
//!
//! Every line that cannot be used is reported with its number and the
//! reason, and the reader goes on with the next. Lines are capped at
//! [`MAX_LINE_BYTES`] (the rest of a longer line is skipped without being
//! held in memory) and files at [`MAX_FILE_BYTES`]. A CSV record is one
//! line (feeds do not put line breaks in fields).

use std::collections::VecDeque;
use std::io::BufRead;

use garrison_core::IndicatorId;
use garrison_core::Timestamp;
use garrison_core::indicator::{KindHint, MAX_SOURCE_LEN, Tlp, clean_tags};
use garrison_store::IndicatorWrite;
use serde::Serialize;

/// The longest line read; longer lines are rejected.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// The largest file read; the rest of a larger one is not read.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    Csv,
    Txt,
}

impl FeedFormat {
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Some(Self::Csv),
            "txt" | "text" | "plain" | "list" => Some(Self::Txt),
            _ => None,
        }
    }

    /// CSV for `.csv`/`.tsv` files, plain text otherwise.
    #[must_use]
    pub fn for_file_name(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") || lower.ends_with(".tsv") {
            Self::Csv
        } else {
            Self::Txt
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Txt => "txt",
        }
    }
}

/// What a line does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedDefaults {
    pub source: String,
    pub confidence: u8,
    pub tlp: Tlp,
    /// The type of values without one (`--type`; detected by default).
    pub kind: KindHint,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub tags: Vec<String>,
}

impl FeedDefaults {
    /// Defaults for a feed named `source`: confidence 50, TLP:AMBER, types
    /// detected, no validity bounds.
    #[must_use]
    pub fn new(source: &str) -> Self {
        Self {
            source: clean_source(source),
            confidence: 50,
            tlp: Tlp::Amber,
            kind: KindHint::Detect,
            valid_from: None,
            valid_until: None,
            tags: Vec::new(),
        }
    }
}

/// A line that was not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedRejection {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for FeedRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What the reader yields, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    Indicator { line: u64, write: IndicatorWrite },
    Rejected(FeedRejection),
}

/// A source name as stored: control characters removed, cut to
/// [`MAX_SOURCE_LEN`] characters, `unnamed` when empty.
#[must_use]
pub fn clean_source(s: &str) -> String {
    let s: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SOURCE_LEN)
        .collect();
    if s.is_empty() {
        "unnamed".to_owned()
    } else {
        s
    }
}

/// A value quoted for a message: at most 60 characters, control
/// characters escaped.
fn shown(v: &str) -> String {
    let mut s: String = v.chars().take(60).flat_map(char::escape_debug).collect();
    if v.chars().count() > 60 {
        s.push('…');
    }
    format!("`{s}`")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Value,
    Type,
    Confidence,
    ValidFrom,
    ValidUntil,
    Source,
    Tlp,
    Tags,
    /// A column of values of one type (`md5`, `ip-dst`, ...).
    ValuesOf(KindHint),
    Ignored,
}

fn column(name: &str) -> Option<Column> {
    let n = name
        .trim()
        .trim_matches('"')
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_");
    Some(match n.as_str() {
        "value" | "indicator" | "ioc" | "observable" | "ioc_value" | "indicator_value" => {
            Column::Value
        }
        "type" | "kind" | "indicator_type" | "ioc_type" | "attribute_type" => Column::Type,
        "confidence" => Column::Confidence,
        "valid_from" | "first_seen" => Column::ValidFrom,
        "valid_until" | "expires" | "expiration" | "last_valid" => Column::ValidUntil,
        "source" | "feed" => Column::Source,
        "tlp" => Column::Tlp,
        "tags" | "tag" | "labels" => Column::Tags,
        _ => return None,
    })
}

struct Header {
    delimiter: u8,
    columns: Vec<Column>,
}

/// Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn split_csv(line: &str, delimiter: u8) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let d = char::from(delimiter);
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == d {
            out.push(std::mem::take(&mut cur));
            at_start = true;
            continue;
        } else if c == '"' && cur.trim().is_empty() && at_start {
            cur.clear();
            quoted = true;
        } else {
            cur.push(c);
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed");
    }
    out.push(cur);
    Ok(out)
}

fn delimiter_of(line: &str) -> u8 {
    let count = |c: char| line.matches(c).count();
    let (comma, semi, tab) = (count(','), count(';'), count('\t'));
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    }
}

/// Reads a feed; see the module documentation.
pub struct FeedReader<R> {
    input: R,
    format: FeedFormat,
    defaults: FeedDefaults,
    line: u64,
    bytes: u64,
    buf: Vec<u8>,
    header: Option<Header>,
    pending: VecDeque<FeedItem>,
    warnings: Vec<String>,
    error: Option<String>,
    done: bool,
}

impl<R> std::fmt::Debug for FeedReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedReader")
            .field("format", &self.format)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

enum Line {
    Text,
    TooLong,
    Eof,
}

impl<R: BufRead> FeedReader<R> {
    #[must_use]
    pub fn new(input: R, format: FeedFormat, defaults: FeedDefaults) -> Self {
        Self {
            input,
            format,
            defaults,
            line: 0,
            bytes: 0,
            buf: Vec::with_capacity(256),
            header: None,
            pending: VecDeque::new(),
            warnings: Vec::new(),
            error: None,
            done: false,
        }
    }

    /// Notes about the file as a whole (unknown columns).
    #[must_use]
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Why reading stopped before the end of the file, if it did.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Lines read so far.
    #[must_use]
    pub const fn lines(&self) -> u64 {
        self.line
    }

    /// Reads the next line into `buf`, at most [`MAX_LINE_BYTES`] of it.
    fn read_line(&mut self) -> std::io::Result<Line> {
        self.buf.clear();
        let mut any = false;
        let mut too_long = false;
        loop {
            let avail = self.input.fill_buf()?;
            if avail.is_empty() {
                break;
            }
            any = true;
            let (take, newline) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
            if take > room {
                too_long = true;
            }
            self.buf.extend_from_slice(&avail[..take.min(room)]);
            self.input.consume(take);
            self.bytes += take as u64;
            if newline {
                break;
            }
        }
        if !any {
            return Ok(Line::Eof);
        }
        self.line += 1;
        Ok(if too_long { Line::TooLong } else { Line::Text })
    }

    fn reject(&mut self, reason: impl Into<String>) {
        self.pending.push_back(FeedItem::Rejected(FeedRejection {
            line: self.line,
            reason: reason.into(),
        }));
    }

    /// Reads lines until one yields something (or the file ends).
    fn step(&mut self) {
        loop {
            if self.bytes > MAX_FILE_BYTES {
                self.error = Some(format!(
                    "the file is larger than {} GiB; the rest was not read",
                    MAX_FILE_BYTES >> 30
                ));
                self.done = true;
                return;
            }
            match self.read_line() {
                Err(e) => {
                    self.error = Some(format!("reading stopped at line {}: {e}", self.line + 1));
                    self.done = true;
                    return;
                }
                Ok(Line::Eof) => {
                    self.done = true;
                    return;
                }
                Ok(Line::TooLong) => {
                    self.reject(format!("the line is longer than {MAX_LINE_BYTES} bytes"));
                    return;
                }
                Ok(Line::Text) => {}
            }
            let buf = std::mem::take(&mut self.buf);
            let mut bytes: &[u8] = &buf;
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            let before = self.pending.len();
            match std::str::from_utf8(bytes) {
                Err(_) => self.reject("the line is not UTF-8 text"),
                Ok(text) => {
                    let text = text.trim();
                    if !text.is_empty() && !text.starts_with('#') {
                        match self.format {
                            FeedFormat::Txt => self.txt_line(text),
                            FeedFormat::Csv => self.csv_line(text),
                        }
                    }
                }
            }
            self.buf = buf;
            if self.pending.len() > before || self.done {
                return;
            }
        }
    }

    fn txt_line(&mut self, text: &str) {
        // The value is the first word: lists often add a file name or a
        // detection after it.
        let value = text.split_whitespace().next().unwrap_or("");
        let kind = self.defaults.kind;
        self.value(value, kind, &Row::default());
    }

    fn csv_line(&mut self, text: &str) {
        let Some(header) = &self.header else {
            self.csv_header(text);
            return;
        };
        let delimiter = header.delimiter;
        let cells = match split_csv(text, delimiter) {
            Ok(c) => c,
            Err(why) => {
                self.reject(why);
                return;
            }
        };
        self.csv_record(&cells);
    }

    fn csv_header(&mut self, text: &str) {
        let delimiter = delimiter_of(text);
        let cells = match split_csv(text, delimiter) {
            Ok(c) => c,
            Err(why) => {
                self.error = Some(format!("line {}: the header: {why}", self.line));
                self.done = true;
                return;
            }
        };
        let mut columns = Vec::with_capacity(cells.len());
        let mut unknown = Vec::new();
        for c in &cells {
            if let Some(col) = column(c) {
                columns.push(col);
            } else if let Some(hint @ (KindHint::Exact(_) | KindHint::AnyHash | KindHint::AnyIp)) =
                KindHint::parse(c).filter(|_| !c.trim().is_empty())
            {
                columns.push(Column::ValuesOf(hint));
            } else {
                columns.push(Column::Ignored);
                unknown.push(c.as_str());
            }
        }
        let has_values = columns
            .iter()
            .any(|c| matches!(c, Column::Value | Column::ValuesOf(_)));
        let named = columns.iter().any(|c| !matches!(c, Column::Ignored));
        if !has_values {
            // No header at all: values from the first line on.
            let first = cells.first().map_or("", |c| c.trim());
            if !named && garrison_core::indicator::IndicatorKind::detect(first).is_ok() {
                self.warnings
                    .push("no header line: the first column is read as the value".to_owned());
                let mut columns = vec![Column::Ignored; cells.len()];
                columns[0] = Column::Value;
                self.header = Some(Header { delimiter, columns });
                self.csv_record(&cells);
                return;
            }
            self.error = Some(format!(
                "line {}: the header names no `value` column (nor columns named by type, such as md5 or ipv4); it names {}",
                self.line,
                cells
                    .iter()
                    .map(|c| shown(c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            self.done = true;
            return;
        }
        for u in unknown {
            self.warnings
                .push(format!("unknown column {} (ignored)", shown(u.trim())));
        }
        self.header = Some(Header { delimiter, columns });
    }

    fn csv_record(&mut self, cells: &[String]) {
        let Some(header) = &self.header else { return };
        let mut row = Row::default();
        let mut values: Vec<(String, Option<KindHint>)> = Vec::new();
        let mut kind_cell: Option<String> = None;
        for (col, cell) in header.columns.iter().zip(cells) {
            let cell = cell.trim();
            match col {
                Column::Value => values.push((cell.to_owned(), None)),
                Column::ValuesOf(h) => {
                    if !cell.is_empty() {
                        values.push((cell.to_owned(), Some(*h)));
                    }
                }
                Column::Type => kind_cell = Some(cell.to_owned()),
                Column::Confidence => row.confidence = Some(cell.to_owned()),
                Column::ValidFrom => row.valid_from = Some(cell.to_owned()),
                Column::ValidUntil => row.valid_until = Some(cell.to_owned()),
                Column::Source => row.source = Some(cell.to_owned()),
                Column::Tlp => row.tlp = Some(cell.to_owned()),
                Column::Tags => row.tags = Some(cell.to_owned()),
                Column::Ignored => {}
            }
        }
        let hint = match kind_cell.as_deref().map(str::trim) {
            None | Some("") => self.defaults.kind,
            Some(t) => match KindHint::parse(t) {
                Some(h) => h,
                None => {
                    self.reject(format!(
                        "unknown type {}; expected one of ipv4, ipv6, cidr, domain, url, md5, sha1, sha256, email, ja3, ja4",
                        shown(t)
                    ));
                    return;
                }
            },
        };
        if values.is_empty() || values.iter().all(|(v, _)| v.is_empty()) {
            self.reject("no value");
            return;
        }
        for (v, own) in values {
            self.value(&v, own.unwrap_or(hint), &row);
        }
    }

    /// Turns one value with its row into an indicator, or a rejection.
    fn value(&mut self, raw: &str, hint: KindHint, row: &Row) {
        match self.write(raw, hint, row) {
            Ok(write) => self.pending.push_back(FeedItem::Indicator {
                line: self.line,
                write,
            }),
            Err(why) => self.reject(why),
        }
    }

    fn write(&self, raw: &str, hint: KindHint, row: &Row) -> Result<IndicatorWrite, String> {
        if raw.trim().is_empty() {
            return Err("no value".to_owned());
        }
        let (kind, value) = hint
            .normalize(raw)
            .map_err(|e| format!("{}: {e}", shown(raw.trim())))?;
        let d = &self.defaults;
        let confidence = match row.confidence.as_deref().map(str::trim) {
            None | Some("") => d.confidence,
            Some(c) => c
                .trim_end_matches('%')
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|c| *c <= 100)
                .ok_or_else(|| {
                    format!(
                        "confidence {} is not a whole number from 0 to 100",
                        shown(c)
                    )
                })?,
        };
        let time = |cell: &Option<String>, what: &str| -> Result<Option<Timestamp>, String> {
            match cell.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(t) => Timestamp::parse(t).map(Some).ok_or_else(|| {
                    format!(
                        "{what} {} is not a date (YYYY-MM-DD) or an RFC 3339 time",
                        shown(t)
                    )
                }),
            }
        };
        let valid_from = time(&row.valid_from, "valid_from")?.or(d.valid_from);
        let valid_until = time(&row.valid_until, "valid_until")?.or(d.valid_until);
        if let (Some(f), Some(u)) = (valid_from, valid_until)
            && u < f
        {
            return Err("valid_until is before valid_from".to_owned());
        }
        let tlp = match row.tlp.as_deref().map(str::trim) {
            None | Some("") => d.tlp,
            Some(t) => t.parse::<Tlp>().map_err(|e| e.to_string())?,
        };
        let source = match row.source.as_deref().map(str::trim) {
            None | Some("") => d.source.clone(),
            Some(s) => clean_source(s),
        };
        let row_tags = row.tags.as_deref().unwrap_or("");
        let tags = clean_tags(
            d.tags
                .iter()
                .map(String::as_str)
                .chain(row_tags.split([';', '|', ','])),
        );
        Ok(IndicatorWrite {
            id: IndicatorId::new(),
            kind,
            value,
            confidence,
            valid_from,
            valid_until,
            source,
            tlp,
            tags,
        })
    }
}

/// The optional cells of a CSV record.
#[derive(Debug, Default)]
struct Row {
    confidence: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    source: Option<String>,
    tlp: Option<String>,
    tags: Option<String>,
}

impl<R: BufRead> Iterator for FeedReader<R> {
    type Item = FeedItem;

    fn next(&mut self) -> Option<FeedItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.step();
        }
    }
}

#[cfg(test)]
mod tests;
