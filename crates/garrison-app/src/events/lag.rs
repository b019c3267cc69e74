//! Ingestion lag, the time from receiving a line to committing its event.
//!
//! Two measures, both per tenant and kept in memory by this process:
//!
//! - **Waiting** (a gauge): the age of the oldest batch the bus holds for
//!   the tenant, queued or being stored, from when it was published
//!   (`BusStats`' `oldest_published_at`). Zero when nothing waits. This is
//!   what grows when the workers fall behind, even before anything is
//!   committed.
//! - **Receive to commit** (a histogram, per tenant and source): observed
//!   by the pipeline's workers once a batch is committed, one observation
//!   per event, from the line's receive time to the commit. A batch
//!   committed again after a lost acknowledgement is observed again (as its
//!   lines are counted again in `parsed`).

use serde::Serialize;

use garrison_core::Timestamp;

/// The buckets' upper bounds in milliseconds; a last bucket counts what is
/// over the last bound.
pub const LAG_BUCKETS_MS: [u64; 14] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/// Receive-to-commit lags of one source's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LagHistogram {
    /// Events per bucket (not cumulative): `buckets[i]` counts lags in
    /// `(LAG_BUCKETS_MS[i-1], LAG_BUCKETS_MS[i]]`, the last one those over
    /// the last bound.
    pub buckets: [u64; LAG_BUCKETS_MS.len() + 1],
    pub count: u64,
    pub sum_ms: u64,
    /// The largest lag in the last committed batch.
    pub last_ms: u64,
    /// When the last batch was committed.
    pub last_at: Option<Timestamp>,
}

impl LagHistogram {
    /// Observes one committed batch: its events' receive times, committed
    /// at `at`.
    pub fn observe(&mut self, at: Timestamp, received: impl IntoIterator<Item = Timestamp>) {
        let mut largest = None;
        for r in received {
            let ms = u64::try_from(at.since(r).as_millis()).unwrap_or(u64::MAX);
            let i = LAG_BUCKETS_MS
                .iter()
                .position(|b| ms <= *b)
                .unwrap_or(LAG_BUCKETS_MS.len());
            self.buckets[i] += 1;
            self.count += 1;
            self.sum_ms = self.sum_ms.saturating_add(ms);
            largest = Some(largest.map_or(ms, |l: u64| l.max(ms)));
        }
        if let Some(l) = largest {
            self.last_ms = l;
            self.last_at = Some(at);
        }
    }

    /// The upper bound (ms) of the bucket holding the `q` quantile (0 to
    /// 1): "at most this"; `None` before any observation, `u64::MAX` when
    /// it is over the last bound.
    #[must_use]
    pub fn quantile_bound_ms(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        // The rank of the quantile, at least the first event.
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let rank = ((self.count as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(LAG_BUCKETS_MS.get(i).copied().unwrap_or(u64::MAX));
            }
        }
        Some(u64::MAX)
    }

    /// Adds `other`'s observations (another source's) to these.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_ms = self.sum_ms.saturating_add(other.sum_ms);
        if other.last_at > self.last_at {
            self.last_at = other.last_at;
            self.last_ms = other.last_ms;
        }
    }

    /// The observations made since `earlier`, a snapshot of the same
    /// histogram (the last batch's figures are this one's).
    #[must_use]
    pub fn minus(&self, earlier: &Self) -> Self {
        let mut d = *self;
        for (b, e) in d.buckets.iter_mut().zip(earlier.buckets) {
            *b = b.saturating_sub(e);
        }
        d.count = d.count.saturating_sub(earlier.count);
        d.sum_ms = d.sum_ms.saturating_sub(earlier.sum_ms);
        d
    }

    /// The buckets as Prometheus wants them: (upper bound in seconds,
    /// events in that bucket), the last bound infinite.
    #[must_use]
    pub fn seconds_buckets(&self) -> Vec<(f64, u64)> {
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let bound = LAG_BUCKETS_MS
                    .get(i)
                    .map_or(f64::INFINITY, |ms| Self::secs(*ms));
                (bound, *n)
            })
            .collect()
    }

    /// The sum of the lags in seconds.
    #[must_use]
    pub fn sum_seconds(&self) -> f64 {
        Self::secs(self.sum_ms)
    }

    #[allow(clippy::cast_precision_loss)]
    fn secs(ms: u64) -> f64 {
        ms as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn histograms_merge_and_subtract() {
        let at = Timestamp::from_millis(1_000_000);
        let ago = |ms: u64| at.minus(Duration::from_millis(ms));
        let mut a = LagHistogram::default();
        a.observe(at, [ago(1), ago(300)]);
        let before = a;
        a.observe(at, [ago(2_000)]);
        let since = a.minus(&before);
        assert_eq!(since.count, 1);
        assert_eq!(since.quantile_bound_ms(0.99), Some(2_500));
        let mut b = LagHistogram::default();
        b.observe(at.plus(Duration::from_secs(1)), [at]);
        b.merge(&a);
        assert_eq!(b.count, 4);
        assert_eq!(b.sum_ms, 1 + 300 + 2_000 + 1_000);
        assert_eq!(b.last_at, Some(at.plus(Duration::from_secs(1))));
    }

    #[test]
    fn lags_fall_in_their_buckets_and_the_last_batch_is_kept() {
        let at = Timestamp::from_millis(1_000_000);
        let mut h = LagHistogram::default();
        assert_eq!(h.quantile_bound_ms(0.5), None);
        let ago = |ms: u64| at.minus(Duration::from_millis(ms));
        h.observe(at, [ago(0), ago(5), ago(6), ago(900)]);
        assert_eq!(h.count, 4);
        assert_eq!(h.sum_ms, 911);
        assert_eq!((h.buckets[0], h.buckets[1], h.buckets[7]), (2, 1, 1));
        assert_eq!((h.last_ms, h.last_at), (900, Some(at)));
        assert_eq!(h.quantile_bound_ms(0.5), Some(5));
        assert_eq!(h.quantile_bound_ms(0.99), Some(1_000));
        // Over the last bound, and a receive time after the commit (a
        // clock step) counts as no lag.
        let later = at.plus(Duration::from_secs(3600));
        h.observe(later, [at, later.plus(Duration::from_secs(1))]);
        assert_eq!(h.buckets[LAG_BUCKETS_MS.len()], 1);
        assert_eq!(h.buckets[0], 3);
        assert_eq!(h.last_ms, 3_600_000);
        assert_eq!(h.quantile_bound_ms(1.0), Some(u64::MAX));
        let b = h.seconds_buckets();
        assert_eq!(b.len(), LAG_BUCKETS_MS.len() + 1);
        assert!((b[0].0 - 0.005).abs() < f64::EPSILON);
        assert!(b[LAG_BUCKETS_MS.len()].0.is_infinite());
        // An empty batch changes nothing.
        let before = h;
        h.observe(later, []);
        assert_eq!(h, before);
    }
}
