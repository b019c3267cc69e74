//! Reading the times devices write: RFC 3339, BSD syslog (`Nov  3
//! 10:00:00`, with or without a year), epoch numbers, and the Java
//! `SimpleDateFormat` patterns LEEF names in `devTimeFormat`. Work on
//! bytes, allocate nothing, never panic.
//!
//! Times without a zone are read as UTC. A time without a year takes the
//! year of the receive time, or the year before when that would put it
//! more than a day after the receive time (a December line received in
//! January).

const DAY_MS: i64 = 86_400_000;

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year of an epoch-millisecond time.
pub(crate) const fn year_of(ms: i64) -> i64 {
    let days = ms.div_euclid(DAY_MS);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    if m <= 2 { y + 1 } else { y }
}

const fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

const fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A civil date and time of day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: Option<i64>,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub milli: i64,
    /// Offset east of UTC in seconds; `None` when the text had no zone.
    pub offset: Option<i64>,
}

impl Civil {
    /// Epoch milliseconds, `received` supplying a missing year.
    pub(crate) fn to_millis(self, received_ms: i64) -> Option<i64> {
        match self.year {
            Some(y) => self.with_year(y),
            None => {
                let y = year_of(received_ms);
                let this = self.with_year(y);
                match this {
                    Some(t) if t > received_ms.saturating_add(DAY_MS) => {
                        self.with_year(y - 1).or(this)
                    }
                    // 29 February in a year without one: try the year before.
                    None => self.with_year(y - 1),
                    t => t,
                }
            }
        }
    }

    fn with_year(self, y: i64) -> Option<i64> {
        if !(1..=9999).contains(&y)
            || !(1..=12).contains(&self.month)
            || self.day < 1
            || self.day > days_in_month(y, self.month)
            || !(0..=23).contains(&self.hour)
            || !(0..=59).contains(&self.minute)
            // 60: a leap second, read as the next second.
            || !(0..=60).contains(&self.second)
        {
            return None;
        }
        let days = days_from_civil(y, self.month, self.day);
        let secs = days * 86_400 + self.hour * 3600 + self.minute * 60 + self.second
            - self.offset.unwrap_or(0);
        Some(secs * 1000 + self.milli)
    }
}

/// Reads `n` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    let mut v = 0_i64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Reads 1 to `max` digits at `at`: the value and how many were read.
fn var_digits(b: &[u8], at: usize, max: usize) -> Option<(i64, usize)> {
    let mut v = 0_i64;
    let mut n = 0;
    while n < max {
        match b.get(at + n) {
            Some(c) if c.is_ascii_digit() => {
                v = v * 10 + i64::from(c - b'0');
                n += 1;
            }
            _ => break,
        }
    }
    (n > 0).then_some((v, n))
}

/// A fraction of a second at `at` (after the dot): milliseconds and length.
fn fraction(b: &[u8], at: usize) -> (i64, usize) {
    let mut ms = 0_i64;
    let mut n = 0;
    while let Some(c) = b.get(at + n).filter(|c| c.is_ascii_digit()) {
        if n < 3 {
            ms = ms * 10 + i64::from(c - b'0');
        }
        n += 1;
    }
    let mut k = n;
    while k < 3 {
        ms *= 10;
        k += 1;
    }
    (ms, n)
}

/// A month's three-letter English abbreviation, any case.
pub(crate) fn month(b: &[u8]) -> Option<i64> {
    let m = b.get(..3)?;
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    Some(match &lower {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// `HH:MM:SS[.fff]` at `at`; the time and the bytes read.
fn clock(b: &[u8], at: usize, c: &mut Civil) -> Option<usize> {
    let (h, hn) = var_digits(b, at, 2)?;
    let mut i = at + hn;
    if b.get(i) != Some(&b':') {
        return None;
    }
    c.hour = h;
    c.minute = digits(b, i + 1, 2)?;
    i += 3;
    if b.get(i) != Some(&b':') {
        return None;
    }
    c.second = digits(b, i + 1, 2)?;
    i += 3;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let (ms, n) = fraction(b, i + 1);
        c.milli = ms;
        i += 1 + n;
    }
    Some(i - at)
}

/// A zone suffix at `at`: `Z`, `+HH:MM`, `+HHMM`, `+HH`; the offset and the
/// bytes read.
fn zone(b: &[u8], at: usize) -> Option<(i64, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((0, 1)),
        &s @ (b'+' | b'-') => {
            let sign = if s == b'-' { -1 } else { 1 };
            let h = digits(b, at + 1, 2)?;
            let (m, n) = if b.get(at + 3) == Some(&b':') {
                (digits(b, at + 4, 2)?, 6)
            } else if let Some(m) = digits(b, at + 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            (h <= 23 && m <= 59).then_some((sign * (h * 3600 + m * 60), n))
        }
        _ => None,
    }
}

/// RFC 3339 / ISO 8601 at the start of `b`: `YYYY-MM-DD(T| )HH:MM:SS[.f][zone]`
/// (a space only before a time). The time and the bytes read.
pub(crate) fn iso(b: &[u8]) -> Option<(Civil, usize)> {
    let mut c = Civil {
        year: Some(digits(b, 0, 4)?),
        ..Civil::default()
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    c.month = digits(b, 5, 2)?;
    c.day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let mut i = 11 + clock(b, 11, &mut c)?;
    if let Some((off, n)) = zone(b, i) {
        c.offset = Some(off);
        i += n;
    }
    Some((c, i))
}

/// A BSD syslog time at the start of `b`: `Mmm dd HH:MM:SS[.fff]`, the day
/// padded with a space or not, optionally with a year before the time
/// (`Nov 3 2026 10:00:00`) and ` UTC`/` GMT` after it.
pub(crate) fn bsd(b: &[u8]) -> Option<(Civil, usize)> {
    let mut c = Civil {
        month: month(b)?,
        ..Civil::default()
    };
    let mut i = 3;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let (day, n) = var_digits(b, i, 2)?;
    c.day = day;
    i += n;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    if let Some(y) = digits(b, i, 4).filter(|_| b.get(i + 4) == Some(&b' ')) {
        c.year = Some(y);
        i += 5;
    }
    i += clock(b, i, &mut c)?;
    for tz in [b" UTC", b" GMT"] {
        if b.get(i..i + 4).is_some_and(|s| s.eq_ignore_ascii_case(tz)) {
            c.offset = Some(0);
            i += 4;
            break;
        }
    }
    Some((c, i))
}

/// An epoch number: milliseconds, or seconds when it is too small to be
/// a time after 1973 in milliseconds (fewer than 12 digits).
fn epoch(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() > 15 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = int.parse().ok()?;
    Some(if int.len() < 12 {
        n * 1000 + fraction(frac.as_bytes(), 0).0
    } else {
        n
    })
}

/// A device time as CEF (`rt`, `start`, `end`) and LEEF (`devTime`)
/// carry it: epoch milliseconds (or seconds), `MMM dd yyyy HH:mm:ss`
/// (with optional `.SSS` and zone name), `MMM dd HH:mm:ss`, or RFC 3339.
pub(crate) fn device_time(s: &str, received_ms: i64) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = epoch(s) {
        return Some(ms);
    }
    let b = s.as_bytes();
    let (c, n) = bsd(b).or_else(|| iso(b))?;
    let mut c = c;
    let rest = s.get(n..).unwrap_or("").trim();
    if c.offset.is_none()
        && let Some((off, len)) = zone(rest.as_bytes(), 0)
        && len == rest.len()
    {
        c.offset = Some(off);
    }
    c.to_millis(received_ms)
}

/// Reads `value` with a Java `SimpleDateFormat` pattern (`yyyy`, `yy`,
/// `MMM`, `MM`, `M`, `dd`, `d`, `HH`, `H`, `hh`, `h`, `a`, `mm`, `ss`,
/// `SSS`, `z`, `Z`, `X`, quoted literals; other letters unsupported).
pub(crate) fn java_format(value: &str, pattern: &str, received_ms: i64) -> Option<i64> {
    let v = value.trim().as_bytes();
    let p = pattern.trim().as_bytes();
    let mut c = Civil::default();
    let (mut vi, mut pi) = (0, 0);
    let mut pm: Option<bool> = None;
    while pi < p.len() {
        let ch = p[pi];
        let mut run = 1;
        while p.get(pi + run) == Some(&ch) {
            run += 1;
        }
        if ch == b'\'' {
            // Quoted literal; '' is a quote.
            let mut j = pi + 1;
            if p.get(j) == Some(&b'\'') {
                if v.get(vi) != Some(&b'\'') {
                    return None;
                }
                vi += 1;
                pi += 2;
                continue;
            }
            while j < p.len() && p[j] != b'\'' {
                if v.get(vi) != Some(&p[j]) {
                    return None;
                }
                vi += 1;
                j += 1;
            }
            pi = j + 1;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            if v.get(vi) != Some(&ch) {
                return None;
            }
            vi += 1;
            pi += 1;
            continue;
        }
        let fixed = |n: usize| if run >= 2 { n.max(run) } else { n };
        match ch {
            b'y' => {
                let (y, n) = if run == 2 {
                    (2000 + digits(v, vi, 2)?, 2)
                } else {
                    var_digits(v, vi, 4)?
                };
                c.year = Some(y);
                vi += n;
            }
            b'M' if run >= 3 => {
                c.month = month(v.get(vi..)?)?;
                vi += 3;
                // A full month name: skip its remaining letters.
                while v.get(vi).is_some_and(u8::is_ascii_alphabetic) {
                    vi += 1;
                }
            }
            b'M' | b'd' | b'H' | b'h' | b'k' | b'm' | b's' => {
                let (x, n) = var_digits(v, vi, fixed(2))?;
                vi += n;
                match ch {
                    b'M' => c.month = x,
                    b'd' => c.day = x,
                    b'H' => c.hour = x,
                    b'k' => c.hour = x % 24,
                    b'h' => c.hour = x % 12,
                    b'm' => c.minute = x,
                    _ => c.second = x,
                }
            }
            b'S' => {
                let (ms, n) = fraction(v, vi);
                if n == 0 {
                    return None;
                }
                c.milli = ms;
                vi += n;
            }
            b'a' => {
                let s = v.get(vi..vi + 2)?;
                pm = Some(s.eq_ignore_ascii_case(b"pm"));
                vi += 2;
            }
            b'E' => {
                while v.get(vi).is_some_and(u8::is_ascii_alphabetic) {
                    vi += 1;
                }
            }
            b'z' | b'Z' | b'X' => {
                if let Some((off, n)) = zone(v, vi) {
                    c.offset = Some(off);
                    vi += n;
                } else {
                    let rest = v.get(vi..)?;
                    let n = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
                    match rest.get(..n) {
                        Some(b"UTC" | b"GMT" | b"utc" | b"gmt") => c.offset = Some(0),
                        _ => return None,
                    }
                    vi += n;
                }
            }
            _ => return None,
        }
        pi += run;
    }
    if pm == Some(true) && c.hour < 12 {
        c.hour += 12;
    }
    if c.month == 0 || c.day == 0 {
        return None;
    }
    c.to_millis(received_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        garrison_core::Timestamp::parse(s)
            .expect("reference time")
            .as_millis()
    }

    #[test]
    fn civil_arithmetic_matches_a_reference() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56Z",
            "2026-11-22T21:34:50Z",
            "1969-12-31T23:59:59Z",
            "2400-12-31T00:00:00Z",
        ] {
            let (c, n) = iso(s.as_bytes()).expect(s);
            assert_eq!(n, s.len());
            assert_eq!(c.to_millis(0), Some(ms(s)), "{s}");
            assert_eq!(year_of(ms(s)), i64::from(s[..4].parse::<i32>().expect("y")));
        }
    }

    #[test]
    fn iso_with_fraction_and_offset() {
        let (c, n) = iso(b"2026-11-22T21:34:50.486337+02:00 vm").expect("iso");
        assert_eq!(n, 32);
        assert_eq!(c.to_millis(0), Some(ms("2026-11-22T19:34:50.486Z")));
        let (c, _) = iso(b"2026-11-22 21:34:50").expect("space");
        assert_eq!(c.offset, None);
        assert!(
            iso(b"2026-13-22T21:34:50Z")
                .and_then(|(c, _)| c.to_millis(0))
                .is_none()
        );
        assert!(iso(b"2026-11-22").is_none());
    }

    #[test]
    fn bsd_year_rule() {
        let received = ms("2027-01-01T00:10:00Z");
        let (c, n) = bsd(b"Dec 31 23:59:59 host").expect("bsd");
        assert_eq!(n, 15);
        assert_eq!(c.to_millis(received), Some(ms("2026-12-31T23:59:59Z")));
        let (c, _) = bsd(b"Jan  1 00:00:01").expect("bsd");
        assert_eq!(c.to_millis(received), Some(ms("2027-01-01T00:00:01Z")));
        // Up to a day ahead (clock skew) stays in this year.
        let (c, _) = bsd(b"Jan  1 20:00:00").expect("bsd");
        assert_eq!(c.to_millis(received), Some(ms("2027-01-01T20:00:00Z")));
        let (c, _) = bsd(b"Jan  3 20:00:00").expect("bsd");
        assert_eq!(c.to_millis(received), Some(ms("2026-01-03T20:00:00Z")));
        let (c, n) = bsd(b"Nov 3 2026 10:00:00.123 UTC: x").expect("bsd");
        assert_eq!(n, 27);
        assert_eq!(c.to_millis(0), Some(ms("2026-11-03T10:00:00.123Z")));
        assert!(
            bsd(b"Nov 33 10:00:00")
                .and_then(|(c, _)| c.to_millis(0))
                .is_none()
        );
        assert!(bsd(b"Foo  3 10:00:00").is_none());
        assert!(bsd(b"Nov  3 10:00").is_none());
    }

    #[test]
    fn device_times() {
        let r = ms("2026-06-01T00:00:00Z");
        assert_eq!(device_time("1579250329000", r), Some(1_579_250_329_000));
        assert_eq!(device_time("1579250329", r), Some(1_579_250_329_000));
        assert_eq!(
            device_time("Jan 17 2020 08:52:10", r),
            Some(ms("2020-01-17T08:52:10Z"))
        );
        assert_eq!(
            device_time("Jan 17 2020 08:52:10.250 +01:00", r),
            Some(ms("2020-01-17T07:52:10.250Z"))
        );
        assert_eq!(
            device_time("2020-01-17T08:52:10Z", r),
            Some(ms("2020-01-17T08:52:10Z"))
        );
        assert_eq!(device_time("$cef-formatted-receive_time", r), None);
        assert_eq!(device_time("", r), None);
    }

    #[test]
    fn java_patterns() {
        let r = ms("2026-06-01T00:00:00Z");
        assert_eq!(
            java_format("Jan 17 2020 08:52:10", "MMM dd yyyy HH:mm:ss", r),
            Some(ms("2020-01-17T08:52:10Z"))
        );
        assert_eq!(
            java_format(
                "2020-01-17T08:52:10.123+0100",
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                r
            ),
            Some(ms("2020-01-17T07:52:10.123Z"))
        );
        assert_eq!(
            java_format("17/01/20 08:52:10 PM", "dd/MM/yy hh:mm:ss a", r),
            Some(ms("2020-01-17T20:52:10Z"))
        );
        assert_eq!(java_format("garbage", "MMM dd yyyy HH:mm:ss", r), None);
        assert_eq!(java_format("2020", "yyyy Q", r), None);
    }
}
