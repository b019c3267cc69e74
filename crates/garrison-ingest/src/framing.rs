//! Syslog framing over a byte stream (RFC 6587), incrementally: feed the
//! [`Decoder`] the chunks a socket hands over, in any sizes, and take out
//! the complete frames.
//!
//! Each frame's framing is detected on its own, so a sender may mix them:
//!
//! - **octet counting**: `MSG-LEN SP MSG`, a length of 1 to 10 digits (not
//!   starting with `0`), one space, then exactly that many bytes;
//! - **non-transparent framing**: the message up to a terminator, LF as the
//!   RFC says, and NUL as some senders use; a CR before the LF is dropped
//!   (CRLF senders). Empty lines are skipped.
//!
//! A line that starts with digits not followed by a space (`2024-…`,
//! `12345\n`) is a non-transparent line like any other.
//!
//! **Limits.** A frame longer than `max` bytes is, by [`Policy`], cut to its
//! first `max` bytes (an incomplete UTF-8 character at the cut is dropped;
//! the rest is discarded up to the frame's end) or refused whole. An octet
//! count above `max` is handled the same way as it arrives, without
//! buffering the frame. The decoder holds at most `max + 1` bytes (a
//! pending CR) whatever it is fed.
//!
//! **Text.** Frames become `String`s; bytes that are not UTF-8 become
//! U+FFFD and the frame is flagged [`Frame::lossy`].
//!
//! Decoding is a pure function of the byte stream: however it is split into
//! chunks, the same frames come out (property-tested).

use std::borrow::Cow;

/// The smallest maximum frame length a [`Decoder`] accepts (smaller values
/// are raised to it): room for any octet count's digits.
pub const MIN_MAX_FRAME: usize = 16;

/// The longest octet count, in digits (10 digits: up to 9,999,999,999).
const MAX_DIGITS: usize = 10;

/// What happens to a frame longer than the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Keep its first `max` bytes, discard the rest; flagged and counted.
    #[default]
    Truncate,
    /// Discard it whole; counted.
    Refuse,
}

impl Policy {
    /// The name used in configuration.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Truncate => "truncate",
            Self::Refuse => "refuse",
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "truncate" => Ok(Self::Truncate),
            "refuse" | "drop" => Ok(Self::Refuse),
            other => Err(format!(
                "unknown over-long line policy {other:?}; expected truncate or refuse"
            )),
        }
    }
}

/// One message out of the stream, without its framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub line: String,
    /// Longer than the maximum and cut (or cut short by the end of the
    /// stream inside an octet-counted frame).
    pub truncated: bool,
    /// Bytes that were not UTF-8 were replaced by U+FFFD.
    pub lossy: bool,
}

impl Frame {
    /// A frame of `bytes`, decoded lossily.
    #[must_use]
    pub fn from_bytes(bytes: &[u8], truncated: bool) -> Self {
        let (line, lossy) = lossy_utf8(bytes);
        Self {
            line,
            truncated,
            lossy,
        }
    }
}

/// `bytes` as text, invalid UTF-8 sequences replaced by U+FFFD, and whether
/// any were. `str::from_utf8` first: its validation is several times
/// faster than `String::from_utf8_lossy`'s on the valid lines that nearly
/// every line is.
#[must_use]
pub fn lossy_utf8(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => match String::from_utf8_lossy(bytes) {
            Cow::Borrowed(s) => (s.to_owned(), false),
            Cow::Owned(s) => (s, true),
        },
    }
}

/// What the decoder has seen since counts were last taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub frames: u64,
    pub truncated: u64,
    pub refused: u64,
    pub lossy: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames.
    Start,
    /// `buf` holds the digits of what may be an octet count.
    Digits,
    /// Reading an octet-counted frame: `remaining` bytes still belong to
    /// it, of which the first `keep` go into `buf` (the rest is what
    /// truncation discards).
    Counted { keep: usize, remaining: u64 },
    /// Discarding the rest of an octet-counted frame.
    SkipCounted { remaining: u64 },
    /// Reading a non-transparent frame into `buf`.
    Line,
    /// Discarding up to the next terminator.
    SkipLine,
}

/// The incremental RFC 6587 decoder; see the module documentation.
#[derive(Debug, Clone)]
pub struct Decoder {
    max: usize,
    policy: Policy,
    buf: Vec<u8>,
    state: State,
    counts: Counts,
}

impl Decoder {
    /// A decoder of frames up to `max` bytes (at least [`MIN_MAX_FRAME`]).
    #[must_use]
    pub fn new(max: usize, policy: Policy) -> Self {
        Self {
            max: max.max(MIN_MAX_FRAME),
            policy,
            buf: Vec::new(),
            state: State::Start,
            counts: Counts::default(),
        }
    }

    /// The maximum frame length in bytes.
    #[must_use]
    pub fn max(&self) -> usize {
        self.max
    }

    /// Bytes held for an incomplete frame (at most `max + 1`).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whether the decoder is between frames (nothing partial held).
    #[must_use]
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Start)
    }

    /// The counts since the last call, which resets them.
    pub fn take_counts(&mut self) -> Counts {
        std::mem::take(&mut self.counts)
    }

    /// Decodes `chunk`, appending the frames it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Frame>) {
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            let rest = &chunk[i..];
            i += match self.state {
                State::Start => {
                    if b == b'\n' || b == 0 {
                        // An empty line (or the LF after a counted frame).
                    } else if (b'1'..=b'9').contains(&b) {
                        self.buf.push(b);
                        self.state = State::Digits;
                    } else {
                        self.state = State::Line;
                        self.line_byte(b, out);
                    }
                    1
                }
                State::Digits => {
                    if b.is_ascii_digit() && self.buf.len() < MAX_DIGITS {
                        self.buf.push(b);
                    } else if b == b' ' {
                        self.start_counted();
                    } else {
                        // Not an octet count: the digits begin a line.
                        self.state = State::Line;
                        self.line_byte(b, out);
                    }
                    1
                }
                State::Counted { keep, remaining } => {
                    let room = keep.saturating_sub(self.buf.len());
                    let take = rest.len().min(room);
                    self.buf.extend_from_slice(&rest[..take]);
                    if self.buf.len() >= keep {
                        let skip = remaining.saturating_sub(as_u64(keep));
                        let truncated = skip > 0;
                        self.emit(truncated, out);
                        self.state = if truncated {
                            State::SkipCounted { remaining: skip }
                        } else {
                            State::Start
                        };
                    }
                    take
                }
                State::SkipCounted { remaining } => {
                    let take = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    let left = remaining.saturating_sub(as_u64(take));
                    self.state = if left == 0 {
                        State::Start
                    } else {
                        State::SkipCounted { remaining: left }
                    };
                    take
                }
                State::Line => {
                    // Copy the run up to the next terminator in one go
                    // while it fits, byte by byte near the limit.
                    let run = rest
                        .iter()
                        .position(|&b| b == b'\n' || b == 0 || b == b'\r')
                        .unwrap_or(rest.len());
                    let fits = self.max.saturating_sub(self.buf.len()).min(run);
                    if fits > 0 {
                        self.buf.extend_from_slice(&rest[..fits]);
                        fits
                    } else {
                        self.line_byte(b, out);
                        1
                    }
                }
                State::SkipLine => match rest.iter().position(|&b| b == b'\n' || b == 0) {
                    Some(p) => {
                        self.state = State::Start;
                        p + 1
                    }
                    None => rest.len(),
                },
            };
        }
    }

    /// The end of the stream: a partial line becomes a frame (a last line
    /// without its terminator), a partial octet-counted frame a truncated
    /// one; the decoder is ready for a new stream.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        match self.state {
            State::Digits | State::Line => {
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                self.emit(false, out);
            }
            State::Counted { .. } => self.emit(true, out),
            State::Start | State::SkipCounted { .. } | State::SkipLine => {}
        }
        self.buf.clear();
        self.state = State::Start;
    }

    /// A byte of a non-transparent frame.
    fn line_byte(&mut self, b: u8, out: &mut Vec<Frame>) {
        if b == b'\n' || b == 0 {
            if b == b'\n' && self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            self.emit(false, out);
            self.state = State::Start;
        } else if self.buf.len() < self.max
            || (b == b'\r' && self.buf.len() == self.max && self.buf.last() != Some(&b'\r'))
        {
            // One CR beyond the maximum may be the first half of CRLF.
            self.buf.push(b);
        } else {
            self.overflow(out);
            self.state = State::SkipLine;
        }
    }

    /// A non-transparent frame outgrew the maximum.
    fn overflow(&mut self, out: &mut Vec<Frame>) {
        match self.policy {
            Policy::Truncate => {
                self.buf.truncate(self.max);
                self.emit(true, out);
            }
            Policy::Refuse => {
                self.buf.clear();
                self.counts.refused += 1;
            }
        }
    }

    /// The space after an octet count.
    fn start_counted(&mut self) {
        let len = std::str::from_utf8(&self.buf)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        self.buf.clear();
        self.state = if len <= as_u64(self.max) {
            State::Counted {
                keep: usize::try_from(len).unwrap_or(self.max),
                remaining: len,
            }
        } else {
            match self.policy {
                Policy::Truncate => State::Counted {
                    keep: self.max,
                    remaining: len,
                },
                Policy::Refuse => {
                    self.counts.refused += 1;
                    State::SkipCounted { remaining: len }
                }
            }
        };
    }

    /// Hands out `buf` as a frame (empty frames are skipped).
    fn emit(&mut self, truncated: bool, out: &mut Vec<Frame>) {
        if truncated {
            trim_partial_char(&mut self.buf);
        }
        if !self.buf.is_empty() {
            let frame = Frame::from_bytes(&self.buf, truncated);
            self.counts.frames += 1;
            self.counts.truncated += u64::from(frame.truncated);
            self.counts.lossy += u64::from(frame.lossy);
            out.push(frame);
        }
        self.buf.clear();
    }
}

/// What became of a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datagram {
    Frame(Frame),
    /// Nothing but terminators.
    Empty,
    /// Over-long, under [`Policy::Refuse`].
    Refused,
}

/// One datagram as one frame (RFC 5426): trailing LFs, CRs and NULs are
/// dropped; an over-long datagram is cut or refused by `policy`.
#[must_use]
pub fn datagram(bytes: &[u8], max: usize, policy: Policy) -> Datagram {
    let mut bytes = bytes;
    while let [rest @ .., b'\n' | b'\r' | 0] = bytes {
        bytes = rest;
    }
    if bytes.is_empty() {
        return Datagram::Empty;
    }
    let max = max.max(MIN_MAX_FRAME);
    if bytes.len() <= max {
        return Datagram::Frame(Frame::from_bytes(bytes, false));
    }
    match policy {
        Policy::Refuse => Datagram::Refused,
        Policy::Truncate => {
            let mut cut = bytes[..max].to_vec();
            trim_partial_char(&mut cut);
            Datagram::Frame(Frame::from_bytes(&cut, true))
        }
    }
}

/// Drops an incomplete UTF-8 sequence at the end of `buf` (what a cut at a
/// byte count leaves), so truncation alone does not make a frame lossy.
fn trim_partial_char(buf: &mut Vec<u8>) {
    let n = buf.len();
    for back in 1..=n.min(3) {
        let at = n - back;
        let b = buf[at];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back
        }
        let want = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1,
        };
        if back < want {
            buf.truncate(at);
        }
        return;
    }
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_chunks(max: usize, policy: Policy, chunks: &[&[u8]]) -> (Vec<Frame>, Counts) {
        let mut d = Decoder::new(max, policy);
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out);
            assert!(d.buffered() <= d.max() + 1);
        }
        d.finish(&mut out);
        (out, d.take_counts())
    }

    fn lines(frames: &[Frame]) -> Vec<&str> {
        frames.iter().map(|f| f.line.as_str()).collect()
    }

    #[test]
    fn both_framings_interleave() {
        let input = b"<13>one\n10 <13>two\nxx\r\n<13>three\x009 <13>four\n\n\n5 <13>5\n";
        let (frames, counts) = decode_chunks(1024, Policy::Truncate, &[input]);
        assert_eq!(
            lines(&frames),
            ["<13>one", "<13>two\nxx", "<13>three", "<13>four\n", "<13>5"]
        );
        assert_eq!(counts.frames, 5);
        assert!(frames.iter().all(|f| !f.truncated && !f.lossy));
    }

    #[test]
    fn digits_without_a_space_are_a_line() {
        let (frames, _) = decode_chunks(64, Policy::Truncate, &[b"12345\n2024-01-01 x\n"]);
        assert_eq!(lines(&frames), ["12345", "2024-01-01 x"]);
        let (frames, _) = decode_chunks(64, Policy::Truncate, &[b"01 ab\n12345678901 x\n"]);
        assert_eq!(lines(&frames), ["01 ab", "12345678901 x"]);
    }

    #[test]
    fn over_long_lines_are_truncated_or_refused() {
        let input = b"0123456789abcdefXYZ\nok\n";
        let (frames, counts) = decode_chunks(16, Policy::Truncate, &[input]);
        assert_eq!(lines(&frames), ["0123456789abcdef", "ok"]);
        assert!(frames[0].truncated && !frames[1].truncated);
        assert_eq!((counts.truncated, counts.refused), (1, 0));

        let (frames, counts) = decode_chunks(16, Policy::Refuse, &[input]);
        assert_eq!(lines(&frames), ["ok"]);
        assert_eq!((counts.truncated, counts.refused), (0, 1));

        // Exactly the maximum, with CRLF: not over-long.
        let (frames, counts) = decode_chunks(16, Policy::Refuse, &[b"0123456789abcdef\r\n"]);
        assert_eq!(lines(&frames), ["0123456789abcdef"]);
        assert_eq!(counts.refused, 0);
    }

    #[test]
    fn absurd_octet_counts_are_not_buffered() {
        let mut d = Decoder::new(16, Policy::Refuse);
        let mut out = Vec::new();
        d.feed(b"9999999999 ", &mut out);
        for _ in 0..1000 {
            d.feed(&[b'a'; 1000], &mut out);
            assert_eq!(d.buffered(), 0);
        }
        assert!(out.is_empty());
        assert_eq!(d.take_counts().refused, 1);

        let mut d = Decoder::new(16, Policy::Truncate);
        d.feed(b"40 0123456789abcdefghijklmnopqrstuvwxyz0123", &mut out);
        d.feed(b"2 ok", &mut out);
        assert_eq!(lines(&out), ["0123456789abcdef", "ok"]);
        assert!(out[0].truncated);
    }

    #[test]
    fn non_utf8_is_replaced_and_flagged() {
        let (frames, counts) = decode_chunks(64, Policy::Truncate, &[b"a\xffb\nok\n"]);
        assert_eq!(lines(&frames), ["a\u{fffd}b", "ok"]);
        assert!(frames[0].lossy && !frames[1].lossy);
        assert_eq!(counts.lossy, 1);
    }

    #[test]
    fn truncation_does_not_split_a_character() {
        // 15 ASCII bytes then a 3-byte character: the cut at 16 drops it.
        let (frames, _) = decode_chunks(16, Policy::Truncate, &["012345678901234€€\n".as_bytes()]);
        assert_eq!(lines(&frames), ["012345678901234"]);
        assert!(frames[0].truncated && !frames[0].lossy);
    }

    #[test]
    fn end_of_stream_flushes_a_partial_frame() {
        let (frames, _) = decode_chunks(64, Policy::Truncate, &[b"a\nlast"]);
        assert_eq!(lines(&frames), ["a", "last"]);
        let (frames, _) = decode_chunks(64, Policy::Truncate, &[b"10 abc"]);
        assert_eq!(lines(&frames), ["abc"]);
        assert!(frames[0].truncated);
    }

    #[test]
    fn datagrams() {
        assert_eq!(
            datagram(b"<13>x\r\n", 64, Policy::Refuse),
            Datagram::Frame(Frame::from_bytes(b"<13>x", false))
        );
        assert_eq!(datagram(b"\n", 64, Policy::Refuse), Datagram::Empty);
        assert_eq!(datagram(&[b'a'; 20], 16, Policy::Refuse), Datagram::Refused);
        let Datagram::Frame(f) = datagram(&[b'a'; 20], 16, Policy::Truncate) else {
            panic!("a frame");
        };
        assert_eq!((f.line.len(), f.truncated), (16, true));
    }

    fn encode_counted(msgs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            out.extend_from_slice(format!("{} ", m.len()).as_bytes());
            out.extend_from_slice(m);
        }
        out
    }

    /// Splits `bytes` at the given cut points.
    fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = cuts
            .iter()
            .map(|c| {
                if bytes.is_empty() {
                    0
                } else {
                    c % (bytes.len() + 1)
                }
            })
            .collect();
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut at = 0;
        for c in cuts {
            out.push(&bytes[at..c]);
            at = c;
        }
        out.push(&bytes[at..]);
        out
    }

    /// Streams made of syslog-ish pieces, so both framings, terminators
    /// and limits are all exercised.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(vec![0u8]),
            Just(b"<13>hello".to_vec()),
            (1usize..60).prop_map(|n| format!("{n} ").into_bytes()),
            Just(b"99999999999 ".to_vec()),
            Just("é€😀".as_bytes().to_vec()),
        ];
        proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_split_gives_the_same_frames(
            bytes in stream(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            max in 16usize..48,
            refuse in any::<bool>(),
        ) {
            let policy = if refuse { Policy::Refuse } else { Policy::Truncate };
            let whole = decode_chunks(max, policy, &[&bytes]);
            let pieces = split(&bytes, &cuts);
            let parts = decode_chunks(max, policy, &pieces);
            prop_assert_eq!(&whole, &parts);
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(&whole, &decode_chunks(max, policy, &bytewise));
        }

        #[test]
        fn octet_counted_messages_round_trip(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..20),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let bytes = encode_counted(&msgs);
            let (frames, counts) = decode_chunks(256, Policy::Refuse, &split(&bytes, &cuts));
            let expected: Vec<Frame> = msgs.iter().map(|m| Frame::from_bytes(m, false)).collect();
            prop_assert_eq!(frames, expected);
            prop_assert_eq!(counts.refused + counts.truncated, 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_memory_stays_bounded(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
            max in 0usize..64,
            refuse in any::<bool>(),
        ) {
            let policy = if refuse { Policy::Refuse } else { Policy::Truncate };
            let mut d = Decoder::new(max, policy);
            let mut out = Vec::new();
            for piece in split(&bytes, &cuts) {
                d.feed(piece, &mut out);
                prop_assert!(d.buffered() <= d.max() + 1);
            }
            d.finish(&mut out);
            for f in &out {
                prop_assert!(f.line.len() <= 3 * d.max(), "{} > 3 × {}", f.line.len(), d.max());
                prop_assert!(!f.line.is_empty());
            }
            let _ = datagram(&bytes, max, policy);
        }
    }
}
