//! Threat-intelligence indicators: the value kinds Garrison matches events
//! against, how each value is normalised and validated, TLP 2.0 markings,
//! and the indicator record with its scope (one tenant, or MSSP-wide).
//!
//! Normalisation makes one spelling of each value, so that a feed
//! re-imported with different case or notation updates the same row and an
//! event matches however its sensor spelled the value: domains lower-case
//! without the trailing dot, hashes lower-case hex, addresses in their
//! canonical text, CIDRs with host bits cleared, URLs with lower-case
//! scheme and host. The index in `garrison-detect` applies the same rules
//! to event values (through [`UrlView`], [`normalize_domain_into`]).
//!
//! The kind names (`ipv4`, `domain`, `sha256`, ...) are part of the CSV
//! format and the API: they do not change.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, IndicatorId, TenantId};
use crate::time::Timestamp;

/// The longest value accepted, in bytes (URLs are the long ones).
pub const MAX_VALUE_LEN: usize = 2048;
/// The longest source name and tag.
pub const MAX_SOURCE_LEN: usize = 200;
pub const MAX_TAG_LEN: usize = 100;
pub const MAX_TAGS: usize = 50;

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    Ipv4,
    Ipv6,
    /// A network (IPv4 or IPv6) with a prefix shorter than a single host.
    Cidr,
    Domain,
    Url,
    Md5,
    Sha1,
    Sha256,
    Email,
    /// A TLS client fingerprint (32 hex digits: the MD5 of the JA3 string).
    Ja3,
    /// A JA4 TLS client fingerprint (`t13d1516h2_8daaf6152771_b186095e22b6`).
    Ja4,
}

impl IndicatorKind {
    pub const ALL: [Self; 11] = [
        Self::Ipv4,
        Self::Ipv6,
        Self::Cidr,
        Self::Domain,
        Self::Url,
        Self::Md5,
        Self::Sha1,
        Self::Sha256,
        Self::Email,
        Self::Ja3,
        Self::Ja4,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Cidr => "cidr",
            Self::Domain => "domain",
            Self::Url => "url",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Email => "email",
            Self::Ja3 => "ja3",
            Self::Ja4 => "ja4",
        }
    }

    /// Normalises and validates `raw` as a value of this kind. The kind may
    /// change: a single-host CIDR becomes an address, an IPv4-mapped IPv6
    /// address becomes IPv4.
    ///
    /// # Errors
    /// When `raw` is not a value of this kind; the error says why.
    pub fn normalize(self, raw: &str) -> Result<(Self, String), IndicatorError> {
        let v = precheck(raw)?;
        match self {
            Self::Ipv4 => match v.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) => Ok((Self::Ipv4, a.to_string())),
                Ok(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                    Some(a) => Ok((Self::Ipv4, a.to_string())),
                    None => Err(IndicatorError::Invalid(self, "an IPv6 address, not IPv4")),
                },
                Err(_) => Err(IndicatorError::Invalid(self, "not an IPv4 address")),
            },
            Self::Ipv6 => match v.parse::<IpAddr>() {
                Ok(IpAddr::V6(a)) => Ok(match a.to_ipv4_mapped() {
                    Some(m) => (Self::Ipv4, m.to_string()),
                    None => (Self::Ipv6, a.to_string()),
                }),
                Ok(IpAddr::V4(_)) => {
                    Err(IndicatorError::Invalid(self, "an IPv4 address, not IPv6"))
                }
                Err(_) => Err(IndicatorError::Invalid(self, "not an IPv6 address")),
            },
            Self::Cidr => normalize_cidr(v),
            Self::Domain => {
                let mut out = String::with_capacity(v.len());
                normalize_domain_into(v, &mut out)
                    .map_err(|why| IndicatorError::Invalid(self, why))?;
                Ok((Self::Domain, out))
            }
            Self::Url => {
                let with_scheme;
                let v = if v.contains("://") {
                    v
                } else {
                    with_scheme = format!("http://{v}");
                    &with_scheme
                };
                let url = UrlView::parse(v).map_err(|why| IndicatorError::Invalid(self, why))?;
                let mut out = String::with_capacity(v.len());
                url.write_to(|s, lower| {
                    if lower {
                        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
                    } else {
                        out.push_str(s);
                    }
                });
                Ok((Self::Url, out))
            }
            Self::Md5 | Self::Sha1 | Self::Sha256 | Self::Ja3 => {
                let want = match self {
                    Self::Sha1 => 40,
                    Self::Sha256 => 64,
                    _ => 32,
                };
                if v.len() != want || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(IndicatorError::Invalid(
                        self,
                        match want {
                            40 => "not 40 hexadecimal digits",
                            64 => "not 64 hexadecimal digits",
                            _ => "not 32 hexadecimal digits",
                        },
                    ));
                }
                Ok((self, v.to_ascii_lowercase()))
            }
            Self::Email => normalize_email(v),
            Self::Ja4 => {
                let lower = v.to_ascii_lowercase();
                if is_ja4(&lower) {
                    Ok((Self::Ja4, lower))
                } else {
                    Err(IndicatorError::Invalid(
                        self,
                        "not a JA4 fingerprint (a_b_c: 10 characters such as t13d1516h2, then two groups of 12 hexadecimal digits)",
                    ))
                }
            }
        }
    }

    /// Tells the kind of a value from its shape and normalises it. 32 hex
    /// digits are taken for MD5 (a JA3 list must say `ja3`).
    ///
    /// # Errors
    /// When the value fits no kind.
    pub fn detect(raw: &str) -> Result<(Self, String), IndicatorError> {
        let v = precheck(raw)?;
        if v.contains("://") {
            return Self::Url.normalize(v);
        }
        if let Ok(ip) = v.parse::<IpAddr>() {
            return match ip {
                IpAddr::V4(_) => Self::Ipv4.normalize(v),
                IpAddr::V6(_) => Self::Ipv6.normalize(v),
            };
        }
        if let Some((a, _)) = v.split_once('/')
            && a.parse::<IpAddr>().is_ok()
        {
            return Self::Cidr.normalize(v);
        }
        if v.contains('@') {
            return Self::Email.normalize(v);
        }
        if v.bytes().all(|b| b.is_ascii_hexdigit()) {
            match v.len() {
                32 => return Self::Md5.normalize(v),
                40 => return Self::Sha1.normalize(v),
                64 => return Self::Sha256.normalize(v),
                _ => {}
            }
        }
        if is_ja4(&v.to_ascii_lowercase()) {
            return Self::Ja4.normalize(v);
        }
        if let Ok(found) = Self::Domain.normalize(v) {
            return Ok(found);
        }
        if v.contains('/') && !v.starts_with('/') {
            return Self::Url.normalize(v);
        }
        Err(IndicatorError::Undetected)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a feed's `type` column says: one kind, or a family whose member the
/// value's shape decides (`ip`, `hash`), or nothing (detect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindHint {
    Exact(IndicatorKind),
    AnyIp,
    AnyHash,
    Detect,
}

impl KindHint {
    /// Reads a type name: ours (`ipv4`, `sha256`, ...), STIX's
    /// (`ipv4-addr`, `domain-name`, `file:hashes.'SHA-256'`, `email-addr`)
    /// and MISP's (`ip-src`, `ip-dst`, `hostname`, `link`, `email-src`).
    /// `None` for a name it does not know.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let mut n: String = name
            .trim()
            .chars()
            .filter(|c| !matches!(c, '\'' | '"' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        for prefix in ["file:hashes.", "hashes.", "x509-certificate:hashes."] {
            if let Some(rest) = n.strip_prefix(prefix) {
                n = rest.to_owned();
            }
        }
        if let Some(rest) = n.strip_suffix(":value") {
            n = rest.to_owned();
        }
        use IndicatorKind as K;
        Some(match n.as_str() {
            "" | "auto" => Self::Detect,
            "ip" | "ip-src" | "ip-dst" | "ip_address" | "ipaddress" | "address" => Self::AnyIp,
            "ipv4" | "ipv4-addr" | "ip4" => Self::Exact(K::Ipv4),
            "ipv6" | "ipv6-addr" | "ip6" => Self::Exact(K::Ipv6),
            "cidr" | "network" | "net" | "subnet" | "ip-range" => Self::Exact(K::Cidr),
            "domain" | "domain-name" | "hostname" | "host" | "fqdn" | "dns" => {
                Self::Exact(K::Domain)
            }
            "url" | "uri" | "link" => Self::Exact(K::Url),
            "md5" => Self::Exact(K::Md5),
            "sha1" | "sha-1" => Self::Exact(K::Sha1),
            "sha256" | "sha-256" => Self::Exact(K::Sha256),
            "hash" | "filehash" | "file-hash" => Self::AnyHash,
            "email" | "email-addr" | "email-src" | "email-dst" | "e-mail" | "mail" => {
                Self::Exact(K::Email)
            }
            "ja3" | "ja3-fingerprint-md5" => Self::Exact(K::Ja3),
            "ja4" => Self::Exact(K::Ja4),
            _ => return None,
        })
    }

    /// Normalises `raw` as this hint allows.
    ///
    /// # Errors
    /// As [`IndicatorKind::normalize`] and [`IndicatorKind::detect`].
    pub fn normalize(self, raw: &str) -> Result<(IndicatorKind, String), IndicatorError> {
        match self {
            Self::Exact(k) => k.normalize(raw),
            Self::Detect => IndicatorKind::detect(raw),
            Self::AnyIp => match precheck(raw)?.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => IndicatorKind::Ipv4.normalize(raw),
                Ok(IpAddr::V6(_)) => IndicatorKind::Ipv6.normalize(raw),
                Err(_) if raw.contains('/') => IndicatorKind::Cidr.normalize(raw),
                Err(_) => Err(IndicatorError::Invalid(
                    IndicatorKind::Ipv4,
                    "not an IP address",
                )),
            },
            Self::AnyHash => match precheck(raw)?.len() {
                40 => IndicatorKind::Sha1.normalize(raw),
                64 => IndicatorKind::Sha256.normalize(raw),
                _ => IndicatorKind::Md5.normalize(raw),
            },
        }
    }
}

impl FromStr for IndicatorKind {
    type Err = IndicatorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match KindHint::parse(s) {
            Some(KindHint::Exact(k)) => Ok(k),
            _ => Err(IndicatorError::UnknownKind(s.chars().take(64).collect())),
        }
    }
}

/// Why a value, kind or marking was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("the value is empty")]
    Empty,
    #[error("the value is longer than {MAX_VALUE_LEN} bytes")]
    TooLong,
    #[error("the value contains control characters or spaces")]
    BadCharacters,
    #[error("not a valid {0}: {1}")]
    Invalid(IndicatorKind, &'static str),
    #[error("cannot tell the type of the value (give the type explicitly)")]
    Undetected,
    #[error(
        "unknown type `{0}`; expected one of ipv4, ipv6, cidr, domain, url, md5, sha1, sha256, email, ja3, ja4"
    )]
    UnknownKind(String),
    #[error("unknown TLP `{0}`; expected clear, green, amber, amber+strict or red")]
    UnknownTlp(String),
    #[error("confidence must be a whole number from 0 to 100")]
    Confidence,
}

/// Trims and refuses what no kind accepts: nothing, too long, control
/// characters or inner spaces.
fn precheck(raw: &str) -> Result<&str, IndicatorError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(IndicatorError::Empty);
    }
    if v.len() > MAX_VALUE_LEN {
        return Err(IndicatorError::TooLong);
    }
    if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IndicatorError::BadCharacters);
    }
    Ok(v)
}

fn normalize_cidr(v: &str) -> Result<(IndicatorKind, String), IndicatorError> {
    let bad = |why| IndicatorError::Invalid(IndicatorKind::Cidr, why);
    let Some((addr, prefix)) = v.split_once('/') else {
        return match v.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => IndicatorKind::Ipv4.normalize(v),
            Ok(IpAddr::V6(_)) => IndicatorKind::Ipv6.normalize(v),
            Err(_) => Err(bad("not an address with a /prefix")),
        };
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad("the address is not valid"))?;
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the prefix is not a number"));
    }
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| bad("the prefix is not a number"))?;
    match addr {
        IpAddr::V4(a) => {
            if prefix > 32 {
                return Err(bad("an IPv4 prefix is at most 32"));
            }
            if prefix == 32 {
                return Ok((IndicatorKind::Ipv4, a.to_string()));
            }
            let mask = u32::MAX.checked_shl(u32::from(32 - prefix)).unwrap_or(0);
            let net = Ipv4Addr::from(u32::from(a) & mask);
            Ok((IndicatorKind::Cidr, format!("{net}/{prefix}")))
        }
        IpAddr::V6(a) => {
            if prefix > 128 {
                return Err(bad("an IPv6 prefix is at most 128"));
            }
            if prefix == 128 {
                return IndicatorKind::Ipv6.normalize(&a.to_string());
            }
            let mask = u128::MAX.checked_shl(u32::from(128 - prefix)).unwrap_or(0);
            let net = Ipv6Addr::from(u128::from(a) & mask);
            Ok((IndicatorKind::Cidr, format!("{net}/{prefix}")))
        }
    }
}

/// Whether `s` (lower case) has JA4's shape: `a_b_c` where `a` is ten
/// characters (protocol `t`/`q`/`d`, two of TLS version, `d`/`i` for SNI,
/// two digits of cipher count, two digits of extension count, two ALPN
/// characters) and `b`, `c` are 12 hexadecimal digits each.
#[must_use]
pub fn is_ja4(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 || b[10] != b'_' || b[23] != b'_' {
        return false;
    }
    let a = &b[..10];
    matches!(a[0], b't' | b'q' | b'd')
        && a[1..3].iter().all(u8::is_ascii_alphanumeric)
        && matches!(a[3], b'd' | b'i')
        && a[4..8].iter().all(u8::is_ascii_digit)
        && a[8..10].iter().all(u8::is_ascii_alphanumeric)
        && b[11..23].iter().all(u8::is_ascii_hexdigit)
        && b[24..].iter().all(u8::is_ascii_hexdigit)
}

/// Writes the normalised form of domain `raw` into `out` (appending):
/// lower case, one trailing dot and a leading `*.` removed; refuses
/// internationalised names that are not in punycode, labels outside
/// 1–63 characters of letters, digits, `-` and `_`, names over 253
/// characters, single labels and addresses.
///
/// # Errors
/// With the reason.
pub fn normalize_domain_into(raw: &str, out: &mut String) -> Result<(), &'static str> {
    let mut v = raw.trim();
    v = v.strip_prefix("*.").unwrap_or(v);
    v = v.strip_suffix('.').unwrap_or(v);
    if !v.is_ascii() {
        return Err(
            "internationalised domain names must be given in punycode (xn--...), as DNS carries them",
        );
    }
    if v.is_empty() || v.len() > 253 {
        return Err("a domain name has 1 to 253 characters");
    }
    if v.parse::<IpAddr>().is_ok() {
        return Err("an IP address, not a domain name");
    }
    let mut labels = 0;
    for label in v.split('.') {
        labels += 1;
        if label.is_empty() || label.len() > 63 {
            return Err("each label has 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("only letters, digits, '-' and '_' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label neither starts nor ends with '-'");
        }
    }
    if labels < 2 {
        return Err("a single label would match a whole top-level domain");
    }
    if v.rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the last label is a number");
    }
    out.extend(v.chars().map(|c| c.to_ascii_lowercase()));
    Ok(())
}

fn normalize_email(v: &str) -> Result<(IndicatorKind, String), IndicatorError> {
    let bad = |why| IndicatorError::Invalid(IndicatorKind::Email, why);
    let mut v = v;
    if v.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        v = &v[7..];
    }
    let v = v
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(v);
    let (local, domain) = v.rsplit_once('@').ok_or_else(|| bad("no '@'"))?;
    if local.is_empty() || local.len() > 64 {
        return Err(bad("the local part has 1 to 64 characters"));
    }
    // A leading `=`, `+`, `-` would make the stored value a spreadsheet
    // formula; such addresses are legal but not worth that risk.
    if local.starts_with(['=', '+', '-']) {
        return Err(bad("the local part starts with '=', '+' or '-'"));
    }
    if local.contains(['@', '<', '>', '"', ',', ';', '\\']) {
        return Err(bad(
            "the local part holds characters addresses do not use unquoted",
        ));
    }
    let mut out = String::with_capacity(v.len());
    out.push_str(local);
    out.push('@');
    normalize_domain_into(domain, &mut out).map_err(bad)?;
    Ok((IndicatorKind::Email, out))
}

/// A URL cut into the parts normalisation treats differently. Borrowed
/// from the text it was parsed from; [`UrlView::write_to`] writes the
/// normalised form piece by piece (so a matcher can build it in a buffer
/// of its own without allocating).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlView<'a> {
    /// Without `://`; lower-cased when written.
    pub scheme: &'a str,
    /// `user:password` before the host (kept as is), if any.
    pub userinfo: Option<&'a str>,
    /// Lower-cased when written, trailing dot removed.
    pub host: &'a str,
    /// Omitted when written if it is the scheme's default.
    pub port: Option<&'a str>,
    /// Path and query, without the fragment; `/` when empty.
    pub rest: &'a str,
}

impl<'a> UrlView<'a> {
    /// Parses an absolute URL (`scheme://host[:port]/path?query#fragment`).
    ///
    /// # Errors
    /// With the reason.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (scheme, after) = v.split_once("://").ok_or("no scheme (such as http://)")?;
        if scheme.is_empty()
            || scheme.len() > 32
            || !scheme.as_bytes()[0].is_ascii_alphabetic()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err("the scheme is not valid");
        }
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let rest = rest.split('#').next().unwrap_or("");
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            let (h, tail) = inner.split_once(']').ok_or("an unclosed '[' in the host")?;
            h.parse::<Ipv6Addr>()
                .map_err(|_| "the bracketed host is not an IPv6 address")?;
            let port = match tail {
                "" => None,
                t => Some(t.strip_prefix(':').ok_or("junk after the IPv6 host")?),
            };
            (&hostport[..h.len() + 2], port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() {
            return Err("no host");
        }
        if !host.is_ascii() {
            return Err("internationalised host names must be given in punycode (xn--...)");
        }
        if !host.starts_with('[')
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err("the host holds characters a host name cannot");
        }
        if let Some(p) = port
            && !p.is_empty()
            && (p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("the port is not a number");
        }
        Ok(Self {
            scheme,
            userinfo,
            host,
            port: port.filter(|p| !p.is_empty()),
            rest,
        })
    }

    /// Calls `put(piece, lower_case)` for each piece of the normalised URL
    /// in order.
    pub fn write_to(&self, mut put: impl FnMut(&str, bool)) {
        put(self.scheme, true);
        put("://", false);
        if let Some(u) = self.userinfo {
            put(u, false);
            put("@", false);
        }
        put(self.host, true);
        if let Some(p) = self.port {
            let default = match self.scheme.to_ascii_lowercase().as_str() {
                "http" | "ws" => "80",
                "https" | "wss" => "443",
                "ftp" => "21",
                _ => "",
            };
            if p.trim_start_matches('0') != default {
                put(":", false);
                put(p, false);
            }
        }
        if self.rest.is_empty() {
            put("/", false);
        } else {
            if self.rest.starts_with('?') {
                put("/", false);
            }
            put(self.rest, false);
        }
    }
}

/// TLP 2.0 (FIRST): who may see what an indicator says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    pub const ALL: [Self; 5] = [
        Self::Clear,
        Self::Green,
        Self::Amber,
        Self::AmberStrict,
        Self::Red,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Green => "green",
            Self::Amber => "amber",
            Self::AmberStrict => "amber+strict",
            Self::Red => "red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = IndicatorError;
    /// Reads `clear`, `TLP:GREEN`, `amber+strict`, and TLP 1.0's `white`
    /// (now `clear`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.trim().to_ascii_lowercase();
        let n = n.strip_prefix("tlp:").unwrap_or(&n).trim();
        Ok(match n {
            "clear" | "white" => Self::Clear,
            "green" => Self::Green,
            "amber" => Self::Amber,
            "amber+strict" | "amber-strict" | "amber_strict" => Self::AmberStrict,
            "red" => Self::Red,
            _ => return Err(IndicatorError::UnknownTlp(s.chars().take(32).collect())),
        })
    }
}

/// Whose an indicator is: every tenant's (the MSSP's own intelligence) or
/// one tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "tenant_id", rename_all = "snake_case")]
pub enum IndicatorScope {
    /// Matches every tenant's events; listed to everyone who reads
    /// indicators.
    Mssp,
    /// Matches and is visible only within this tenant.
    Tenant(TenantId),
}

impl IndicatorScope {
    #[must_use]
    pub const fn tenant(self) -> Option<TenantId> {
        match self {
            Self::Mssp => None,
            Self::Tenant(t) => Some(t),
        }
    }
}

/// One indicator of compromise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub id: IndicatorId,
    pub scope: IndicatorScope,
    pub kind: IndicatorKind,
    /// Normalised ([`IndicatorKind::normalize`]).
    pub value: String,
    /// 0 to 100.
    pub confidence: u8,
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
    /// The feed or list it came from; with scope, kind and value the key of
    /// an import (a feed re-imported updates its rows).
    pub source: String,
    pub tlp: Tlp,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub revoked: bool,
}

impl Indicator {
    /// Whether it should match at `now`: not revoked, and `now` within
    /// `valid_from ..= valid_until`.
    #[must_use]
    pub fn is_live(&self, now: Timestamp) -> bool {
        !self.revoked && self.valid_from <= now && self.valid_until.is_none_or(|u| now <= u)
    }
}

/// Cleans a list of tags: trimmed, empty ones dropped, each cut to
/// [`MAX_TAG_LEN`] characters, duplicates removed (first kept), at most
/// [`MAX_TAGS`].
#[must_use]
pub fn clean_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t: String = t
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_TAG_LEN)
            .collect();
        if !t.is_empty() && !out.contains(&t) && out.len() < MAX_TAGS {
            out.push(t);
        }
    }
    out
}

/// An indicator matched an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    pub indicator_id: IndicatorId,
    pub tenant_id: TenantId,
    pub event_id: EventId,
    pub seen_at: Timestamp,
}

#[cfg(test)]
mod tests;
