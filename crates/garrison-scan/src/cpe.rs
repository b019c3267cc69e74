//! CPE names, version order, and matching installed software against the
//! `cpeMatch` criteria of NVD configurations.
//!
//! Parsing accepts CPE 2.3 formatted strings (`cpe:2.3:a:vendor:product:...`,
//! eleven components after the prefix, `\`-escapes, `*` for ANY and `-` for
//! NA) and CPE 2.2 URIs (`cpe:/a:vendor:product:version`, percent-encoded,
//! trailing components optional, packed `~` editions unpacked).
//!
//! Matching ([`matches()`]) prefers missing a match to inventing one: a false
//! "affected" sends people patching what is not broken and teaches them to
//! ignore the findings, while a missed match is what the scanners are for.
//! The rules are documented on [`matches()`] and [`compare_versions`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::model::Software;

/// One attribute of a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Component {
    /// `*`: any value.
    Any,
    /// `-`: the attribute does not apply.
    Na,
    /// A literal value, unescaped (`node\.js` is held as `node.js`).
    Value(String),
}

impl Component {
    /// The literal value, or `None` for ANY and NA.
    #[must_use]
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::Value(v) => Some(v),
            Self::Any | Self::Na => None,
        }
    }

    /// Whether this is ANY (`*`).
    #[must_use]
    pub fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

/// A parsed CPE name (the eleven attributes of the CPE 2.3 model).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cpe {
    /// `a` (application), `o` (operating system) or `h` (hardware).
    pub part: char,
    /// Who makes it (`tukaani`).
    pub vendor: Component,
    /// What it is (`xz`).
    pub product: Component,
    /// The release (`5.6.0`); `*` in NVD criteria that give a range.
    pub version: Component,
    /// A qualifier of the release (`p1`, `beta`, `sp2`).
    pub update: Component,
    /// Legacy edition (CPE 2.2).
    pub edition: Component,
    /// Interface language (RFC 5646 tag).
    pub language: Component,
    /// Market edition (`enterprise`).
    pub sw_edition: Component,
    /// The software it runs in or on (`wordpress`, `jenkins`, `android`).
    pub target_sw: Component,
    /// The hardware it runs on (`x64`).
    pub target_hw: Component,
    /// Anything else.
    pub other: Component,
}

/// Why a string is not a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CPE `{input}`: {reason}")]
pub struct CpeError {
    /// The input, shortened when it is long.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CpeError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        // Long inputs are cut so that one absurd value cannot flood a log.
        let input = if input.chars().count() > 120 {
            let mut cut: String = input.chars().take(120).collect();
            cut.push('…');
            cut
        } else {
            input.to_owned()
        };
        Self {
            input,
            reason: reason.into(),
        }
    }
}

impl Cpe {
    /// Parses a CPE 2.3 formatted string or a CPE 2.2 URI, told apart by
    /// their prefixes (`cpe:2.3:` and `cpe:/`).
    ///
    /// # Errors
    ///
    /// When the prefix is neither, the part is not `a`, `o` or `h`, the
    /// number of components is wrong, an escape or percent-encoding is
    /// broken, or a value holds a wildcard inside it (`foo*`), which this
    /// reader does not support.
    pub fn parse(s: &str) -> Result<Self, CpeError> {
        let trimmed = s.trim();
        let lower_prefix = trimmed
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if lower_prefix == "cpe:2.3:" {
            parse_formatted(trimmed, &trimmed[8..])
        } else if trimmed
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("cpe:/"))
        {
            parse_uri(trimmed, &trimmed[5..])
        } else {
            Err(CpeError::new(
                s,
                "expected a CPE 2.3 string starting with `cpe:2.3:` or a CPE 2.2 URI starting with `cpe:/`",
            ))
        }
    }

    /// The attributes after `part`, in CPE 2.3 order.
    fn attributes(&self) -> [&Component; 10] {
        [
            &self.vendor,
            &self.product,
            &self.version,
            &self.update,
            &self.edition,
            &self.language,
            &self.sw_edition,
            &self.target_sw,
            &self.target_hw,
            &self.other,
        ]
    }
}

impl FromStr for Cpe {
    type Err = CpeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Cpe {
    /// Writes the CPE 2.3 formatted string, escaping punctuation in values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpe:2.3:{}", self.part)?;
        for component in self.attributes() {
            f.write_str(":")?;
            match component {
                Component::Any => f.write_str("*")?,
                Component::Na => f.write_str("-")?,
                Component::Value(v) => {
                    for c in v.chars() {
                        // The standard quotes all punctuation but `_`;
                        // NVD leaves `.` and `-` bare, and so does this,
                        // so that names compare equal to NVD's text. A
                        // value that is only `-` is still quoted, or it
                        // would read back as NA.
                        let bare = c == '_' || c == '.' || (c == '-' && v.len() > 1);
                        if c.is_ascii_punctuation() && !bare {
                            write!(f, "\\{c}")?;
                        } else {
                            write!(f, "{c}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parses the eleven components after `cpe:2.3:`.
fn parse_formatted(input: &str, rest: &str) -> Result<Cpe, CpeError> {
    let mut fields = Vec::with_capacity(11);
    let mut current = String::new();
    let mut chars = rest.chars();
    // Each field keeps its raw text (escapes intact) so that `\*` can be
    // told from `*` when the value is decoded.
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    return Err(CpeError::new(input, "ends with a lone `\\`"));
                };
                current.push('\\');
                current.push(next);
            }
            ':' => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    fields.push(current);
    if fields.len() != 11 {
        return Err(CpeError::new(
            input,
            format!(
                "has {} components after `cpe:2.3:`, a CPE 2.3 name has 11 (part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other)",
                fields.len()
            ),
        ));
    }
    let part = parse_part(input, &fields[0])?;
    let names = [
        "vendor",
        "product",
        "version",
        "update",
        "edition",
        "language",
        "sw_edition",
        "target_sw",
        "target_hw",
        "other",
    ];
    let mut components = Vec::with_capacity(10);
    for (raw, name) in fields[1..].iter().zip(names) {
        components.push(formatted_component(input, name, raw)?);
    }
    Ok(assemble(part, components))
}

/// Decodes one formatted-string component.
fn formatted_component(input: &str, name: &str, raw: &str) -> Result<Component, CpeError> {
    match raw {
        "" => {
            return Err(CpeError::new(
                input,
                format!("{name} is empty (use `*` for any value)"),
            ));
        }
        "*" => return Ok(Component::Any),
        "-" => return Ok(Component::Na),
        _ => {}
    }
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    value.push(next);
                }
            }
            '*' | '?' => {
                return Err(CpeError::new(
                    input,
                    format!(
                        "{name} `{raw}` holds a wildcard inside a value, which is not supported"
                    ),
                ));
            }
            c if c.is_whitespace() || c.is_control() => {
                return Err(CpeError::new(
                    input,
                    format!("{name} `{raw}` holds whitespace or a control character"),
                ));
            }
            c => value.push(c),
        }
    }
    Ok(Component::Value(value))
}

/// Parses what follows `cpe:/`: up to seven `:`-separated, percent-encoded
/// components, the missing ones being ANY.
fn parse_uri(input: &str, rest: &str) -> Result<Cpe, CpeError> {
    let fields: Vec<&str> = rest.split(':').collect();
    if fields.len() > 7 {
        return Err(CpeError::new(
            input,
            format!(
                "has {} components after `cpe:/`, a CPE 2.2 URI has at most 7 (part, vendor, product, version, update, edition, language)",
                fields.len()
            ),
        ));
    }
    let part = parse_part(input, fields[0])?;
    let names = [
        "vendor", "product", "version", "update", "edition", "language",
    ];
    let mut components = Vec::with_capacity(10);
    for (i, name) in names.iter().enumerate() {
        let raw = fields.get(i + 1).copied().unwrap_or("");
        if *name == "edition" && raw.starts_with('~') {
            // The 2.2/2.3 bridge packs five attributes into the edition:
            // `~edition~sw_edition~target_sw~target_hw~other`.
            let packed: Vec<&str> = raw[1..].split('~').collect();
            if packed.len() != 5 {
                return Err(CpeError::new(
                    input,
                    format!(
                        "packed edition `{raw}` has {} parts, expected 5 (edition, sw_edition, target_sw, target_hw, other)",
                        packed.len()
                    ),
                ));
            }
            for (piece, piece_name) in
                packed
                    .iter()
                    .zip(["edition", "sw_edition", "target_sw", "target_hw", "other"])
            {
                components.push(uri_component(input, piece_name, piece)?);
            }
        } else {
            components.push(uri_component(input, name, raw)?);
            if *name == "edition" {
                components.extend([
                    Component::Any,
                    Component::Any,
                    Component::Any,
                    Component::Any,
                ]);
            }
        }
    }
    // The packed form puts language after the four unpacked attributes;
    // put it back where the 2.3 model has it.
    let language = components.remove(9);
    components.insert(5, language);
    Ok(assemble(part, components))
}

/// Decodes one URI component: empty is ANY, `-` is NA, `%xx` a byte.
fn uri_component(input: &str, name: &str, raw: &str) -> Result<Component, CpeError> {
    match raw {
        "" => return Ok(Component::Any),
        "-" => return Ok(Component::Na),
        _ => {}
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = raw
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
            let Some(decoded) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                return Err(CpeError::new(
                    input,
                    format!("{name} `{raw}` has a broken percent-encoding"),
                ));
            };
            // `%01` and `%02` are the URI spellings of the `?` and `*`
            // wildcards.
            if decoded == 1 || decoded == 2 {
                return Err(CpeError::new(
                    input,
                    format!(
                        "{name} `{raw}` holds a wildcard inside a value, which is not supported"
                    ),
                ));
            }
            out.push(decoded);
            i += 3;
        } else if b.is_ascii_whitespace() || b.is_ascii_control() {
            return Err(CpeError::new(
                input,
                format!("{name} `{raw}` holds whitespace or a control character"),
            ));
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Component::Value)
        .map_err(|_| CpeError::new(input, format!("{name} `{raw}` decodes to invalid UTF-8")))
}

fn parse_part(input: &str, raw: &str) -> Result<char, CpeError> {
    match raw {
        "a" | "A" => Ok('a'),
        "o" | "O" => Ok('o'),
        "h" | "H" => Ok('h'),
        _ => Err(CpeError::new(
            input,
            format!(
                "part `{raw}` is not `a` (application), `o` (operating system) or `h` (hardware)"
            ),
        )),
    }
}

/// Builds a [`Cpe`] from the ten attributes after `part`, in 2.3 order.
fn assemble(part: char, components: Vec<Component>) -> Cpe {
    let mut it = components.into_iter();
    let mut next = || it.next().unwrap_or(Component::Any);
    Cpe {
        part,
        vendor: next(),
        product: next(),
        version: next(),
        update: next(),
        edition: next(),
        language: next(),
        sw_edition: next(),
        target_sw: next(),
        target_hw: next(),
        other: next(),
    }
}

/// Orders two version strings.
///
/// The rules, in order:
///
/// 1. Surrounding whitespace is ignored, and so is a leading `v` or `V`
///    before a digit (`v1.2` is `1.2`). Letters compare without case.
/// 2. A Debian epoch (`1:9.2p1`, digits before the first `:`) is compared
///    first, numerically; a version without one has epoch 0, so
///    `1:1.0 > 2.0`.
/// 3. The rest is compared as Debian's `dpkg` does: alternating runs of
///    non-digits and digits. Digit runs compare as numbers of any length
///    (`1.10 > 1.9`, `7.88.1 < 7.88.10`). Non-digit runs compare character
///    by character with `~` before everything, even the end of the string
///    (`2.0~rc1 < 2.0`), then the end, then letters, then other characters
///    (`1.0 < 1.0a`, `1.1.1w > 1.1.1`, `9.2p1 > 9.2`).
/// 4. Two adjustments for upstream versions, which are not Debian's: a
///    pre-release word (`alpha`, `beta`, `rc`, `pre`) right after a digit,
///    with or without a `.`, `-` or `_` before it, is read as if it started
///    with `~`, so `1.0rc1`, `1.0-rc1` and `1.0~rc1` all sort before `1.0`;
///    and trailing zero components do not count, so `1.0 == 1.0.0`.
///
/// This is a total order on the normalised strings, but distinct strings
/// may compare equal (`v1.2`, `1.2` and `1.2.0`).
#[must_use]
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (epoch_a, rest_a) = split_epoch(a.trim());
    let (epoch_b, rest_b) = split_epoch(b.trim());
    compare_digits(epoch_a, epoch_b)
        .then_with(|| compare_dpkg(&normalise_version(rest_a), &normalise_version(rest_b)))
}

/// Splits `epoch:rest`, the epoch being `0` when there is none.
fn split_epoch(v: &str) -> (&str, &str) {
    match v.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            (epoch, rest)
        }
        _ => ("0", v),
    }
}

/// Lower-cases, drops a leading `v`, and marks pre-release words with `~`.
fn normalise_version(v: &str) -> Vec<u8> {
    let lower = v.to_ascii_lowercase();
    let mut bytes = lower.as_bytes();
    if bytes.first() == Some(&b'v') && bytes.get(1).is_some_and(u8::is_ascii_digit) {
        bytes = &bytes[1..];
    }
    let mut out = Vec::with_capacity(bytes.len() + 2);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let after_digit = i > 0 && bytes[i - 1].is_ascii_digit();
        if after_digit && !b.is_ascii_digit() {
            let skip = usize::from(matches!(b, b'.' | b'-' | b'_'));
            let word = &bytes[i + skip..];
            if [&b"alpha"[..], b"beta", b"rc", b"pre"]
                .iter()
                .any(|w| word.starts_with(w))
            {
                // The separator, if any, becomes the `~`; the word's
                // first letter is copied now so the check does not fire
                // on it again.
                out.push(b'~');
                i += skip;
                out.push(bytes[i]);
                i += 1;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Whether what is left of a version is only zero components (`.0.0`).
fn zero_tail(rest: &[u8]) -> bool {
    rest.iter().all(|b| *b == b'.' || *b == b'0') && rest.first().is_none_or(|b| *b == b'.')
}

fn char_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares two digit strings as numbers of any length.
fn compare_digits(a: &str, b: &str) -> Ordering {
    compare_digit_bytes(a.as_bytes(), b.as_bytes())
}

fn compare_digit_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let a = trim_zeros(a);
    let b = trim_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let start = d.iter().position(|b| *b != b'0').unwrap_or(d.len());
    &d[start..]
}

/// dpkg's `verrevcmp`, plus trailing zero components counting for nothing.
fn compare_dpkg(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    loop {
        if zero_tail(&a[i..]) && zero_tail(&b[j..]) {
            return Ordering::Equal;
        }
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let ca = a.get(i).copied();
            let cb = b.get(j).copied();
            let (oa, ob) = (char_order(ca), char_order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            // Equal orders mean equal non-digit characters here, so both
            // sides move on together.
            i += 1;
            j += 1;
        }
        let start_a = i;
        while a.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let start_b = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let ord = compare_digit_bytes(&a[start_a..i], &b[start_b..j]);
        if ord != Ordering::Equal {
            return ord;
        }
        if i >= a.len() && j >= b.len() {
            return Ordering::Equal;
        }
    }
}

/// One `cpeMatch` entry of an NVD configuration: the product (and maybe
/// version) it names, and the version range it covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpeMatch {
    /// The CPE the entry is about; its version is `*` when a range is given.
    pub criteria: Cpe,
    /// Covered versions start at this one.
    pub version_start_including: Option<String>,
    /// Covered versions start after this one.
    pub version_start_excluding: Option<String>,
    /// Covered versions end at this one.
    pub version_end_including: Option<String>,
    /// Covered versions end before this one (usually the fixed release).
    pub version_end_excluding: Option<String>,
    /// `false` for platform entries (the OS an application runs on), which
    /// are not themselves affected.
    pub vulnerable: bool,
    /// NVD's id for the criteria (`matchCriteriaId`), when given.
    pub match_criteria_id: Option<String>,
}

impl CpeMatch {
    /// Whether the entry names a version or a range at all; without one,
    /// every version is covered.
    #[must_use]
    pub fn has_version_constraint(&self) -> bool {
        self.criteria.version.value().is_some()
            || self.version_start_including.is_some()
            || self.version_start_excluding.is_some()
            || self.version_end_including.is_some()
            || self.version_end_excluding.is_some()
    }
}

/// How sure a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Certainty {
    /// The software and its upstream version are covered, and nothing in
    /// the version suggests a patched distribution build.
    Affected,
    /// The upstream version is covered but the package carries a
    /// distribution revision (`-1`, `+deb12u1`, `ubuntu`, `.el9`, ...): the
    /// distribution may have back-ported the fix, which only its own
    /// advisories can tell.
    Possible,
}

/// Whether `installed` is covered by `m`.
///
/// Identification:
///
/// - Entries with `vulnerable: false` never match.
/// - When the software has a CPE that parses, it alone identifies it: part,
///   vendor and product must equal the criteria's (case-insensitively,
///   `-` and `_` alike); a criteria `*` matches anything, but a `*` in the
///   software's own CPE does not match a named criteria vendor or product.
///   For edition, language, sw_edition, target_sw, target_hw and other, a
///   `*` on either side matches, otherwise the values must be equal. The
///   version is the CPE's version (joined with its update, as in `9.2p1`),
///   or the software's `version` when the CPE's is `*`.
/// - Otherwise the name is compared with the criteria product, never with
///   hardware (`h`) criteria, and only when the criteria's edition,
///   language, sw_edition, target_sw, target_hw and other are `*` or `-`
///   (so a Jenkins `git` plugin entry, target_sw `jenkins`, does not match
///   the `git` package). The name is lower-cased, spaces and `-` read as
///   `_`, a trailing `:arch` (dpkg multiarch) and `(...)` (Windows
///   installers) dropped. It matches when it equals the product, or
///   `vendor_product` (`Apache Tomcat` for `apache:tomcat`), or its Debian
///   library form: a `lib...` name less its `t64` suffix and soname
///   (`libwebp7` → `libwebp`, `libx11-6` → `libx11`; `libxml2` and
///   `libbz2` keep their digits) equals the product. A short table maps
///   well-known package names whose product differs (`libssl3` →
///   openssl:openssl, `liblzma5`/`xz-utils` → tukaani:xz, `openssh-client`
///   → openbsd:openssh, `libcurl4` → haxx:curl, ...); there the vendor must
///   agree too. Nothing fuzzier: `-dev`, `-doc` and similar packages, or
///   names that merely contain the product, do not match.
///
/// Version:
///
/// - The installed version is reduced to its upstream part: the epoch is
///   dropped, then a trailing revision (after the last `-`, when it starts
///   with a digit, as in `-1`, `-0.2+deb12u1`, `-4.el9`, `-r0`), then
///   anything from a `+` (`+dfsg`, `+deb12u1`, build metadata; but
///   `1.2+really1.1` is `1.1`) or a distribution marker (`~deb12u2`,
///   `~bpo`, `ubuntu`, `.el9`, `.fc39`).
/// - A named criteria version must equal the upstream version under
///   [`compare_versions`] (joined with a named update: `9.2` + `p1`); the
///   range bounds must all hold. A criteria with neither covers every
///   version, even an unknown one; otherwise an unknown version does not
///   match.
/// - A match is [`Certainty::Possible`] when a revision or distribution
///   marker was removed, else [`Certainty::Affected`].
#[must_use]
pub fn matches(installed: &Software, m: &CpeMatch) -> Option<Certainty> {
    if !m.vulnerable {
        return None;
    }
    let own_cpe = installed.cpe.as_deref().and_then(|c| Cpe::parse(c).ok());
    let version: Option<String> = match own_cpe {
        Some(cpe) => {
            if !same_by_cpe(&cpe, &m.criteria) {
                return None;
            }
            match (cpe.version.value(), cpe.update.value()) {
                (Some(v), Some(u)) => Some(format!("{v}{u}")),
                (Some(v), None) => Some(v.to_owned()),
                (None, _) => installed.version.clone(),
            }
        }
        None => {
            if !same_by_name(&installed.name, &m.criteria) {
                return None;
            }
            installed.version.clone()
        }
    };
    let version = version.filter(|v| !v.trim().is_empty());
    if !m.has_version_constraint() {
        let distro = version.as_deref().is_some_and(|v| upstream_version(v).1);
        return Some(if distro {
            Certainty::Possible
        } else {
            Certainty::Affected
        });
    }
    let (upstream, distro) = upstream_version(version.as_deref()?);
    if !in_range(&upstream, m) {
        return None;
    }
    Some(if distro {
        Certainty::Possible
    } else {
        Certainty::Affected
    })
}

/// Whether the upstream version satisfies the criteria version and bounds.
fn in_range(upstream: &str, m: &CpeMatch) -> bool {
    if let Some(exact) = m.criteria.version.value() {
        let wanted = match m.criteria.update.value() {
            Some(update) => format!("{exact}{update}"),
            None => exact.to_owned(),
        };
        if compare_versions(upstream, &wanted) != Ordering::Equal {
            return false;
        }
    }
    let holds = |bound: &Option<String>, ok: fn(Ordering) -> bool| {
        bound
            .as_deref()
            .is_none_or(|b| ok(compare_versions(upstream, b)))
    };
    holds(&m.version_start_including, |o| o != Ordering::Less)
        && holds(&m.version_start_excluding, |o| o == Ordering::Greater)
        && holds(&m.version_end_including, |o| o != Ordering::Greater)
        && holds(&m.version_end_excluding, |o| o == Ordering::Less)
}

/// Splits a package version into its upstream part and whether a
/// distribution revision or marker was removed. See [`matches()`].
fn upstream_version(version: &str) -> (String, bool) {
    let (_, mut v) = split_epoch(version.trim());
    let mut distro = false;
    if let Some((head, revision)) = v.rsplit_once('-') {
        let mut rev = revision.chars();
        let first = rev.next();
        let is_revision = first.is_some_and(|c| c.is_ascii_digit())
            || (first == Some('r') && rev.next().is_some_and(|c| c.is_ascii_digit()));
        if is_revision && !head.is_empty() {
            v = head;
            distro = true;
        }
    }
    let mut upstream = v.to_owned();
    if let Some((_, real)) = upstream.split_once("+really") {
        // `1.2+really1.1` is how Debian ships an older upstream under a
        // higher version number: the code is 1.1.
        upstream = real.to_owned();
        distro = true;
    }
    if let Some(plus) = upstream.find('+') {
        let suffix = upstream[plus + 1..].to_ascii_lowercase();
        let bin_nmu = suffix
            .strip_prefix('b')
            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()));
        if bin_nmu || DISTRO_MARKERS.iter().any(|m| suffix.starts_with(m)) {
            distro = true;
        }
        upstream.truncate(plus);
    }
    let lower = upstream.to_ascii_lowercase();
    let cut = ["~deb", "~bpo", "~ubuntu", "ubuntu"]
        .iter()
        .filter_map(|m| lower.find(m))
        .chain(rpm_dist_tag(&lower))
        .min();
    if let Some(cut) = cut.filter(|c| *c > 0) {
        upstream.truncate(cut);
        distro = true;
    }
    (upstream, distro)
}

/// Suffixes after `+` that only distributions add.
const DISTRO_MARKERS: [&str; 7] = ["deb", "dfsg", "ds", "repack", "ubuntu", "bpo", "rpi"];

/// Where an RPM dist tag (`.el9`, `.fc39`, `.amzn2`) starts, if any.
fn rpm_dist_tag(v: &str) -> Option<usize> {
    ["el", "fc", "amzn"].iter().find_map(|tag| {
        let needle = format!(".{tag}");
        v.match_indices(&needle).map(|(i, _)| i).find(|i| {
            v[i + needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
    })
}

/// Lower-cases and reads `-` and spaces as `_`.
fn norm(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn same_value(a: &str, b: &str) -> bool {
    norm(a) == norm(b)
}

/// Identity by the software's own CPE. See [`matches()`].
fn same_by_cpe(own: &Cpe, criteria: &Cpe) -> bool {
    let identity = |own: &Component, crit: &Component| match (own, crit) {
        (_, Component::Any) => true,
        (Component::Value(a), Component::Value(b)) => same_value(a, b),
        (Component::Na, Component::Na) => true,
        _ => false,
    };
    let qualifier = |own: &Component, crit: &Component| match (own, crit) {
        (Component::Any, _) | (_, Component::Any) => true,
        (Component::Value(a), Component::Value(b)) => same_value(a, b),
        (Component::Na, Component::Na) => true,
        _ => false,
    };
    own.part == criteria.part
        && identity(&own.vendor, &criteria.vendor)
        && identity(&own.product, &criteria.product)
        && qualifier(&own.edition, &criteria.edition)
        && qualifier(&own.language, &criteria.language)
        && qualifier(&own.sw_edition, &criteria.sw_edition)
        && qualifier(&own.target_sw, &criteria.target_sw)
        && qualifier(&own.target_hw, &criteria.target_hw)
        && qualifier(&own.other, &criteria.other)
}

/// Package names whose product is named differently, with the vendor and
/// product NVD uses. Keys are normalised ([`norm`]) and, for libraries,
/// already stripped of their soname.
const ALIASES: [(&str, &str, &str); 15] = [
    ("libssl", "openssl", "openssl"),
    ("libcrypto", "openssl", "openssl"),
    ("liblzma", "tukaani", "xz"),
    ("xz_utils", "tukaani", "xz"),
    ("openssh_client", "openbsd", "openssh"),
    ("openssh_server", "openbsd", "openssh"),
    ("openssh_sftp_server", "openbsd", "openssh"),
    ("libcurl", "haxx", "curl"),
    ("libcurl3_gnutls", "haxx", "curl"),
    ("libcurl3_nss", "haxx", "curl"),
    ("libc6", "gnu", "glibc"),
    ("libc_bin", "gnu", "glibc"),
    ("zlib1g", "zlib", "zlib"),
    ("libsqlite3", "sqlite", "sqlite"),
    ("libgnutls", "gnu", "gnutls"),
];

/// Library package names whose trailing digits belong to the name.
const KEEPS_DIGITS: [&str; 2] = ["libxml2", "libbz2"];

/// Identity by name. See [`matches()`].
fn same_by_name(name: &str, criteria: &Cpe) -> bool {
    if criteria.part == 'h' {
        return false;
    }
    let qualifiers_open = [
        &criteria.edition,
        &criteria.language,
        &criteria.sw_edition,
        &criteria.target_sw,
        &criteria.target_hw,
        &criteria.other,
    ]
    .iter()
    .all(|c| c.value().is_none());
    let Some(product) = criteria.product.value() else {
        return false;
    };
    if !qualifiers_open {
        return false;
    }
    let product = norm(product);
    let vendor = criteria.vendor.value().map(norm);
    let name = package_name(name);
    if name.is_empty() {
        return false;
    }
    let mut candidates = vec![name.clone()];
    if let Some(stripped) = strip_soname(&name) {
        candidates.push(stripped);
    }
    candidates.iter().any(|candidate| {
        *candidate == product
            || vendor
                .as_ref()
                .is_some_and(|v| *candidate == format!("{v}_{product}"))
            || ALIASES.iter().any(|(alias, alias_vendor, alias_product)| {
                alias == candidate
                    && *alias_product == product
                    && vendor.as_deref().is_none_or(|v| v == *alias_vendor)
            })
    })
}

/// The key a CPE product is indexed by: lower case, `-` and spaces read as
/// `_` (the same normalisation [`matches()`] compares with).
#[must_use]
pub fn product_key(product: &str) -> String {
    norm(product)
}

/// The product keys ([`product_key`]) that [`matches()`] could identify
/// `installed` with: the product of its own CPE when that parses, else its
/// normalised package name, the name less its soname, the products of the
/// alias table, and every tail after a `_` (so that `apache_tomcat` also
/// looks for `tomcat`). Looking CVEs up by these keys finds every CVE whose
/// criteria could match; it finds some that do not, which [`matches()`] then
/// rules out.
#[must_use]
pub fn candidate_products(installed: &Software) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut push = |k: String| {
        if !k.is_empty() && !keys.contains(&k) {
            keys.push(k);
        }
    };
    if let Some(cpe) = installed.cpe.as_deref().and_then(|c| Cpe::parse(c).ok()) {
        if let Some(product) = cpe.product.value() {
            push(norm(product));
        }
        return keys;
    }
    let name = package_name(&installed.name);
    let mut names = vec![name.clone()];
    names.extend(strip_soname(&name));
    for n in &names {
        push(n.clone());
        for (alias, _, product) in ALIASES {
            if alias == n {
                push((*product).to_owned());
            }
        }
        for (i, _) in n.match_indices('_') {
            push(n[i + 1..].to_owned());
        }
    }
    keys
}

/// Normalises a package name: see [`matches()`].
fn package_name(name: &str) -> String {
    let mut name = name.trim();
    if let Some(open) = name.rfind('(').filter(|_| name.ends_with(')')) {
        name = name[..open].trim_end();
    }
    if let Some((head, arch)) = name.rsplit_once(':')
        && !arch.is_empty()
        && arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        name = head;
    }
    norm(name)
}

/// `libwebp7` → `libwebp`, `libx11_6` → `libx11`, `libssl3t64` →
/// `libssl`; `None` when the name is not a versioned library package.
fn strip_soname(name: &str) -> Option<String> {
    if !name.starts_with("lib") || KEEPS_DIGITS.contains(&name) {
        return None;
    }
    let name = name.strip_suffix("t64").unwrap_or(name);
    let (head, soname) = match name.rsplit_once('_') {
        // Debian separates the soname with `-` when the name ends in a
        // digit: `libx11-6`, `libsqlite3-0`.
        Some((head, tail))
            if head.ends_with(|c: char| c.is_ascii_digit())
                && !tail.is_empty()
                && tail.chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            (head, tail)
        }
        _ => {
            let cut = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            (cut, &name[cut.len()..])
        }
    };
    (!soname.is_empty() && head.len() > 3 && head.starts_with("lib")).then(|| head.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Component {
        Component::Value(s.to_owned())
    }

    #[test]
    fn formatted_strings_parse_with_escapes_any_and_na() {
        let cpe = Cpe::parse(r"cpe:2.3:a:nodejs:node\.js:18.0.0:-:*:*:*:*:x64:*").expect("cpe");
        assert_eq!(cpe.part, 'a');
        assert_eq!(cpe.vendor, v("nodejs"));
        assert_eq!(cpe.product, v("node.js"));
        assert_eq!(cpe.version, v("18.0.0"));
        assert_eq!(cpe.update, Component::Na);
        assert_eq!(cpe.edition, Component::Any);
        assert_eq!(cpe.target_hw, v("x64"));
        let colon = Cpe::parse(r"cpe:2.3:a:acme:a\:b:1:*:*:*:*:*:*:*").expect("escaped colon");
        assert_eq!(colon.product, v("a:b"));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "cpe:2.3:a:nodejs:node.js:18.0.0:-:*:*:*:*:x64:*",
            r"cpe:2.3:a:microsoft:visual_c\+\+:2019:*:*:*:*:*:*:*",
            "cpe:2.3:a:sourcefabric:rpi-jukebox-rfid:2.3.0:*:*:*:*:*:*:*",
            r"cpe:2.3:o:acme:a\:b:\-:*:*:*:*:*:*:*",
        ] {
            let cpe = Cpe::parse(s).expect("cpe");
            assert_eq!(cpe.to_string(), s);
            assert_eq!(Cpe::parse(&cpe.to_string()).expect("again"), cpe);
        }
    }

    #[test]
    fn bad_formatted_strings_say_what_is_wrong() {
        let cases = [
            ("cpe:2.3:a:tukaani:xz:5.6.0", "has 4 components"),
            ("cpe:2.3:x:tukaani:xz:5.6.0:*:*:*:*:*:*:*", "part `x`"),
            ("cpe:2.3:a:tukaani::5.6.0:*:*:*:*:*:*:*", "product is empty"),
            ("cpe:2.3:a:tukaani:xz*:5.6.0:*:*:*:*:*:*:*", "wildcard"),
            ("cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:\\", "lone"),
            ("xz 5.6.0", "expected a CPE"),
        ];
        for (input, needle) in cases {
            let err = Cpe::parse(input).expect_err(input);
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn uris_parse_with_percent_encoding_and_packed_editions() {
        let cpe = Cpe::parse("cpe:/a:openbsd:openssh:9.2%3Ap1").expect("uri");
        assert_eq!(cpe.version, v("9.2:p1"));
        assert_eq!(cpe.update, Component::Any);
        assert_eq!(cpe.other, Component::Any);
        let short = Cpe::parse("cpe:/o:debian:debian_linux").expect("short");
        assert_eq!(short.part, 'o');
        assert_eq!(short.version, Component::Any);
        let packed =
            Cpe::parse("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~:fr")
                .expect("packed");
        assert_eq!(packed.update, Component::Na);
        assert_eq!(packed.edition, Component::Any);
        assert_eq!(packed.sw_edition, v("online"));
        assert_eq!(packed.target_sw, v("win2003"));
        assert_eq!(packed.target_hw, v("x64"));
        assert_eq!(packed.other, Component::Any);
        assert_eq!(packed.language, v("fr"));
        assert!(Cpe::parse("cpe:/a:acme:x%zz").is_err());
        assert!(Cpe::parse("cpe:/a:acme:x%02").is_err());
        assert!(Cpe::parse("cpe:/a:b:c:d:e:f:g:h").is_err());
    }

    #[test]
    fn versions_order_sanely() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("1.10", "1.9", Greater),
            ("1.2.3", "1.2.10", Less),
            ("2.0", "2.0~rc1", Greater),
            ("5.4.1", "5.6.0", Less),
            ("1:1.0", "2.0", Greater),
            ("0:2.0", "2.0", Equal),
            ("7.88.1", "7.88.10", Less),
            ("v1.2", "1.2", Equal),
            ("1.0", "1.0.0", Equal),
            ("1.0.1", "1.0.0", Greater),
            ("1.0rc1", "1.0", Less),
            ("1.0-rc1", "1.0", Less),
            ("1.0.0-beta.2", "1.0.0-beta.10", Less),
            ("1.0-alpha", "1.0-beta", Less),
            ("1.0rc2", "1.0~rc1", Greater),
            ("1.1.1w", "1.1.1", Greater),
            ("1.1.1w", "1.1.1x", Less),
            ("9.2p1", "9.3p2", Less),
            ("9.2p1", "9.2", Greater),
            ("1.0", "1.0a", Less),
            ("1.0A", "1.0a", Equal),
            ("010", "10", Equal),
            (
                "99999999999999999999999",
                "99999999999999999999998",
                Greater,
            ),
            ("1.3.2", "1.2.4", Greater),
            ("", "0", Equal),
            ("1.0~~", "1.0~", Less),
            ("1.0+1", "1.0", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn upstream_versions_drop_epochs_revisions_and_markers() {
        let cases = [
            ("5.4.1-1", "5.4.1", true),
            ("1.2.4-0.2+deb12u1", "1.2.4", true),
            ("3.0.19-1~deb12u2", "3.0.19", true),
            ("1:9.2p1-2+deb12u6", "9.2p1", true),
            ("2.36.1~deb12u1", "2.36.1", true),
            ("2.9.14+dfsg", "2.9.14", true),
            ("1.2.3-4.el9_2", "1.2.3", true),
            ("1.2.3.el9", "1.2.3", true),
            ("1.0-0ubuntu0.22.04.1", "1.0", true),
            ("1.0ubuntu1", "1.0", true),
            ("3.5.2-r0", "3.5.2", true),
            ("1.2+really1.1-3", "1.1", true),
            ("1.2.4", "1.2.4", false),
            ("2.0.0-rc1", "2.0.0-rc1", false),
            ("1.0.0+build.5", "1.0.0", false),
            ("v3.4", "v3.4", false),
        ];
        for (input, upstream, distro) in cases {
            assert_eq!(
                upstream_version(input),
                (upstream.to_owned(), distro),
                "{input}"
            );
        }
    }

    #[test]
    fn library_package_names_lose_their_soname() {
        assert_eq!(strip_soname("libwebp7").as_deref(), Some("libwebp"));
        assert_eq!(strip_soname("libssl3t64").as_deref(), Some("libssl"));
        assert_eq!(strip_soname("libx11_6").as_deref(), Some("libx11"));
        assert_eq!(strip_soname("libsqlite3_0").as_deref(), Some("libsqlite3"));
        assert_eq!(strip_soname("libxslt1.1").as_deref(), Some("libxslt"));
        assert_eq!(strip_soname("libxml2"), None);
        assert_eq!(strip_soname("libcurl3_gnutls"), None);
        assert_eq!(strip_soname("curl"), None);
        assert_eq!(strip_soname("lib3"), None);
        assert_eq!(package_name("libc6:amd64"), "libc6");
        assert_eq!(
            package_name("Mozilla Firefox (x64 en-US)"),
            "mozilla_firefox"
        );
    }

    #[test]
    fn candidate_products_cover_every_way_a_name_can_match() {
        let sw = |name: &str, cpe: Option<&str>| Software {
            name: name.to_owned(),
            version: Some("1.0".to_owned()),
            cpe: cpe.map(str::to_owned),
        };
        let keys = candidate_products(&sw("liblzma5:amd64", None));
        assert!(keys.contains(&"liblzma5".to_owned()), "{keys:?}");
        assert!(keys.contains(&"xz".to_owned()), "{keys:?}");
        let keys = candidate_products(&sw("libxpm4", None));
        assert!(keys.contains(&"libxpm".to_owned()), "{keys:?}");
        let keys = candidate_products(&sw("Apache Tomcat", None));
        assert!(keys.contains(&"tomcat".to_owned()), "{keys:?}");
        let keys = candidate_products(&sw(
            "anything",
            Some("cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*"),
        ));
        assert_eq!(keys, ["nginx"]);
        assert_eq!(product_key("Node-JS Thing"), "node_js_thing");
        // Whatever matches, its criteria product is among the candidates.
        for (name, criteria) in [
            ("libxpm4", "cpe:2.3:a:x.org:libxpm:*:*:*:*:*:*:*:*"),
            ("xz-utils", "cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*"),
            ("libssl3t64", "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"),
            ("Apache Tomcat", "cpe:2.3:a:apache:tomcat:*:*:*:*:*:*:*:*"),
        ] {
            let m = CpeMatch {
                criteria: Cpe::parse(criteria).expect("criteria"),
                version_start_including: None,
                version_start_excluding: None,
                version_end_including: None,
                version_end_excluding: None,
                vulnerable: true,
                match_criteria_id: None,
            };
            let installed = sw(name, None);
            assert!(matches(&installed, &m).is_some(), "{name}");
            let product = product_key(m.criteria.product.value().expect("product"));
            assert!(candidate_products(&installed).contains(&product), "{name}");
        }
    }
}
