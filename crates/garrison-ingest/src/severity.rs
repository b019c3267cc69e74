//! Mapping each source's severity scale onto Garrison's 0–100.
//!
//! | source | value | 0–100 |
//! |---|---|---|
//! | syslog | 0 emerg | 100 |
//! | syslog | 1 alert | 90 |
//! | syslog | 2 crit | 80 |
//! | syslog | 3 err | 70 |
//! | syslog | 4 warning | 50 |
//! | syslog | 5 notice | 30 |
//! | syslog | 6 info | 20 |
//! | syslog | 7 debug | 10 |
//! | CEF | 0–10 (integer, or a decimal such as `5.0`) | value × 10 |
//! | CEF | `Unknown` | 0 |
//! | CEF | `Low` | 30 |
//! | CEF | `Medium` | 50 |
//! | CEF | `High` | 80 |
//! | CEF | `Very-High` (also `Very High`, `VeryHigh`) | 100 |
//! | LEEF | `sev` 1–10 | value × 10 |
//!
//! A value outside its scale (CEF 11, LEEF 0, free text) maps to nothing:
//! the parser keeps the raw value in `event.severity` and leaves the
//! event's severity at 0.

/// Syslog severity code (0–7) to 0–100; codes above 7 are read as debug.
#[must_use]
pub const fn from_syslog(code: u8) -> u8 {
    match code {
        0 => 100,
        1 => 90,
        2 => 80,
        3 => 70,
        4 => 50,
        5 => 30,
        6 => 20,
        _ => 10,
    }
}

/// The keyword of a syslog severity code (RFC 5424 table 2, as rsyslog
/// names them).
#[must_use]
pub const fn syslog_severity_name(code: u8) -> &'static str {
    match code {
        0 => "emerg",
        1 => "alert",
        2 => "crit",
        3 => "err",
        4 => "warning",
        5 => "notice",
        6 => "info",
        _ => "debug",
    }
}

/// The keyword of a syslog facility code (RFC 5424 table 1, as rsyslog
/// names them); `None` above 23.
#[must_use]
pub const fn syslog_facility_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "kern",
        1 => "user",
        2 => "mail",
        3 => "daemon",
        4 => "auth",
        5 => "syslog",
        6 => "lpr",
        7 => "news",
        8 => "uucp",
        9 => "cron",
        10 => "authpriv",
        11 => "ftp",
        12 => "ntp",
        13 => "security",
        14 => "console",
        15 => "solaris-cron",
        16 => "local0",
        17 => "local1",
        18 => "local2",
        19 => "local3",
        20 => "local4",
        21 => "local5",
        22 => "local6",
        23 => "local7",
        _ => return None,
    })
}

/// A CEF header severity (`0`–`10`, or `Unknown`/`Low`/`Medium`/`High`/
/// `Very-High`, case-insensitive) to 0–100.
#[must_use]
pub fn from_cef(raw: &str) -> Option<u8> {
    let raw = raw.trim();
    if let Some(n) = small_number(raw) {
        return (n <= 10).then_some(n * 10);
    }
    let mut buf = [0_u8; 12];
    let mut len = 0;
    for b in raw.bytes().filter(|b| !matches!(b, b'-' | b' ' | b'_')) {
        if len == buf.len() {
            return None;
        }
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    match buf.get(..len)? {
        b"unknown" => Some(0),
        b"low" => Some(30),
        b"medium" => Some(50),
        b"high" => Some(80),
        b"veryhigh" => Some(100),
        _ => None,
    }
}

/// A LEEF `sev` (1–10) to 0–100.
#[must_use]
pub fn from_leef(raw: &str) -> Option<u8> {
    small_number(raw.trim())
        .filter(|n| (1..=10).contains(n))
        .map(|n| n * 10)
}

/// `7`, `07` or `7.0` (the fraction is dropped); at most three digits.
fn small_number(s: &str) -> Option<u8> {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    if int.is_empty()
        || int.len() > 3
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    int.parse::<u16>().ok().and_then(|n| u8::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_scale() {
        let mapped: Vec<u8> = (0..8).map(from_syslog).collect();
        assert_eq!(mapped, [100, 90, 80, 70, 50, 30, 20, 10]);
        assert_eq!(syslog_severity_name(4), "warning");
        assert_eq!(syslog_facility_name(10), Some("authpriv"));
        assert_eq!(syslog_facility_name(24), None);
    }

    #[test]
    fn cef_scale() {
        assert_eq!(from_cef("10"), Some(100));
        assert_eq!(from_cef("0"), Some(0));
        assert_eq!(from_cef(" 5.0 "), Some(50));
        assert_eq!(from_cef("11"), None);
        assert_eq!(from_cef("Very-High"), Some(100));
        assert_eq!(from_cef("very high"), Some(100));
        assert_eq!(from_cef("low"), Some(30));
        assert_eq!(from_cef("Unknown"), Some(0));
        assert_eq!(from_cef("Severity"), None);
        assert_eq!(from_cef(""), None);
        assert_eq!(from_cef("-1"), None);
        assert_eq!(from_cef("extraordinarily-high"), None);
    }

    #[test]
    fn leef_scale() {
        assert_eq!(from_leef("5"), Some(50));
        assert_eq!(from_leef("10"), Some(100));
        assert_eq!(from_leef("0"), None);
        assert_eq!(from_leef("x"), None);
    }
}
