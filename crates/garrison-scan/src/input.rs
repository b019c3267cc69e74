//! A reader that counts what passes through it: bytes for progress bars,
//! lines for error messages, and a guard against one enormous token (a
//! text node or tag of hundreds of megabytes) being buffered whole.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes and lines consumed so far, shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct Progress {
    bytes: AtomicU64,
    lines: AtomicU64,
}

impl Progress {
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The 1-based line the reader is on.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.lines.load(Ordering::Relaxed) + 1
    }
}

/// Wraps a `BufRead`, counting consumed bytes and newlines. With a token
/// limit, reading fails once more than `limit` bytes pass without a call to
/// [`Counted::mark`] (the XML layer marks after every event).
#[derive(Debug)]
pub struct Counted<R> {
    inner: R,
    progress: Arc<Progress>,
    since_mark: u64,
    token_limit: Option<u64>,
}

impl<R: BufRead> Counted<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            progress: Arc::new(Progress::default()),
            since_mark: 0,
            token_limit: None,
        }
    }

    #[must_use]
    pub fn with_token_limit(mut self, limit: u64) -> Self {
        self.token_limit = Some(limit);
        self
    }

    /// Shares the counters of another reader (e.g. a progress bar's).
    #[must_use]
    pub fn with_progress(mut self, progress: Arc<Progress>) -> Self {
        self.progress = progress;
        self
    }

    #[must_use]
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    #[must_use]
    pub fn line(&self) -> u64 {
        self.progress.line()
    }

    pub fn mark(&mut self) {
        self.since_mark = 0;
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let Some(limit) = self.token_limit.filter(|l| self.since_mark > *l) {
            return Err(io::Error::other(format!(
                "a single element, tag or text is longer than {limit} bytes"
            )));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let newlines = buf[..amt.min(buf.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.progress
                .lines
                .fetch_add(newlines as u64, Ordering::Relaxed);
        }
        self.progress.bytes.fetch_add(amt as u64, Ordering::Relaxed);
        self.since_mark += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_and_lines() {
        let mut r = Counted::new(io::Cursor::new(b"a\nb\nc".to_vec()));
        let mut s = String::new();
        r.read_line(&mut s).expect("line");
        assert_eq!(r.line(), 2);
        r.read_to_string(&mut s).expect("rest");
        assert_eq!(r.progress().bytes(), 5);
        assert_eq!(r.line(), 3);
    }

    #[test]
    fn the_token_limit_stops_a_runaway_read() {
        let mut r = Counted::new(io::BufReader::with_capacity(
            8,
            io::Cursor::new(vec![b'x'; 100]),
        ))
        .with_token_limit(16);
        let mut sink = Vec::new();
        let err = r.read_to_end(&mut sink).expect_err("limit");
        assert!(err.to_string().contains("longer than"));
    }
}
