//! Reading what sensors send: one line (or JSON record) at a time into the
//! normalised event schema of `garrison_core::event`.
//!
//! Every parser is a pure function of the line and a [`Context`] (the
//! receive time, for formats that omit the year or the zone): no IO, no
//! allocation beyond the event's own fields where it can be helped, and
//! never a panic on any input (fuzzed and property-tested). A line that
//! cannot be read is a [`ParseError`] naming the format and the reason; the
//! caller counts it and keeps it for inspection.
//!
//! Besides the parsers: [`bus`], the bus between pipeline stages (its
//! semantics are documented there), [`framing`], RFC 6587 framing of
//! syslog streams, and [`listen`], the UDP, TCP and TLS syslog listeners
//! that publish raw lines on the bus.
#![forbid(unsafe_code)]

pub mod bus;
pub mod cef;
pub mod detect;
pub mod framing;
pub mod json;
pub mod leef;
pub mod listen;
mod pull;
pub mod severity;
pub mod suricata;
pub mod syslog;
pub mod windows;
pub mod zeek;

use garrison_core::Timestamp;
pub use garrison_core::event::{Fields, Parsed, Value};

pub use detect::detect;

/// The formats Garrison reads. `Auto` detects the format line by line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Auto,
    /// Syslog with an RFC 5424 or RFC 3164 header (the header decides); a
    /// CEF or LEEF message inside is parsed as such.
    Syslog,
    Rfc5424,
    Rfc3164,
    Cef,
    Leef,
    /// Any JSON object, flattened under `labels.` unless a mapping names
    /// its fields.
    Json,
    SuricataEve,
    Zeek,
    /// Windows event logs as JSON: Winlogbeat, NXLog, and the
    /// `Event.System`/`Event.EventData` shape of evtx_dump and SigmaHQ.
    WindowsJson,
}

impl Format {
    /// The name used in configuration, on the command line and in
    /// `event.parser`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Syslog => "syslog",
            Self::Rfc5424 => "rfc5424",
            Self::Rfc3164 => "rfc3164",
            Self::Cef => "cef",
            Self::Leef => "leef",
            Self::Json => "json",
            Self::SuricataEve => "suricata",
            Self::Zeek => "zeek",
            Self::WindowsJson => "windows",
        }
    }

    /// Every format, for `--help` and validation messages.
    pub const ALL: [Self; 10] = [
        Self::Auto,
        Self::Syslog,
        Self::Rfc5424,
        Self::Rfc3164,
        Self::Cef,
        Self::Leef,
        Self::Json,
        Self::SuricataEve,
        Self::Zeek,
        Self::WindowsJson,
    ];
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .or(match s.as_str() {
                "eve" => Some(Self::SuricataEve),
                "winlogbeat" | "nxlog" | "evtx" => Some(Self::WindowsJson),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "unknown event format {s:?}; expected one of: {}",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }
}

/// What a parser may need besides the line.
#[derive(Debug, Clone)]
pub struct Context {
    /// When the line was received: the year of an RFC 3164 timestamp and
    /// the time of a record without one come from it.
    pub received: Timestamp,
    /// Field mapping for generic JSON (`Format::Json`).
    pub json_mapping: json::Mapping,
}

impl Context {
    #[must_use]
    pub fn at(received: Timestamp) -> Self {
        Self {
            received,
            json_mapping: json::Mapping::default(),
        }
    }
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {reason}")]
pub struct ParseError {
    /// The format that was tried (`auto` when none matched).
    pub format: &'static str,
    pub reason: String,
}

impl ParseError {
    #[must_use]
    pub fn new(format: Format, reason: impl Into<String>) -> Self {
        Self {
            format: format.as_str(),
            reason: reason.into(),
        }
    }
}

/// Parses one line (without its line terminator) as `format`; `Auto`
/// detects it first. Returns the format that read it, which becomes the
/// event's `parser`.
///
/// # Errors
/// A [`ParseError`] when the line is not in the format.
pub fn parse(format: Format, line: &str, ctx: &Context) -> Result<(Format, Parsed), ParseError> {
    let format = match format {
        Format::Auto => detect(line).ok_or_else(|| {
            ParseError::new(
                Format::Auto,
                "not a format Garrison recognises (syslog, CEF, LEEF, JSON)",
            )
        })?,
        f => f,
    };
    let parsed = match format {
        Format::Auto => unreachable!("resolved above"),
        Format::Syslog => return syslog::parse_any(line, ctx),
        Format::Rfc5424 => syslog::parse_5424(line, ctx)?,
        Format::Rfc3164 => syslog::parse_3164(line, ctx)?,
        Format::Cef => cef::parse(line, ctx)?,
        Format::Leef => leef::parse(line, ctx)?,
        Format::Json => json::parse(line, ctx)?,
        Format::SuricataEve => suricata::parse(line, ctx)?,
        Format::Zeek => zeek::parse(line, ctx)?,
        Format::WindowsJson => windows::parse(line, ctx)?,
    };
    Ok((format, parsed))
}
