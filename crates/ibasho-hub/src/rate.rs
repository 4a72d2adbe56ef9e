//! Token buckets for per-connection rate limits, driven by the injected clock.

use ibasho_protocol::Millis;

/// A token bucket: `burst` tokens at most, refilled at `per_second`.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    /// Tokens now, in thousandths, so that refills need no floating point.
    milli_tokens: u64,
    /// Capacity in thousandths.
    capacity: u64,
    /// Refill per millisecond, in thousandths of a token (= tokens per second).
    per_second: u64,
    /// When the bucket was last refilled.
    last: Millis,
}

impl TokenBucket {
    pub(crate) fn new(per_second: u32, burst: u32, now: Millis) -> Self {
        let capacity = u64::from(burst.max(1)) * 1000;
        Self {
            milli_tokens: capacity,
            capacity,
            per_second: u64::from(per_second.max(1)),
            last: now,
        }
    }

    /// Takes one token, or says how many milliseconds until one is there.
    pub(crate) fn take(&mut self, now: Millis) -> Result<(), u64> {
        let elapsed = u64::try_from(now.saturating_sub(self.last)).unwrap_or(0);
        self.last = self.last.max(now);
        self.milli_tokens = (self.milli_tokens + elapsed * self.per_second).min(self.capacity);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            Ok(())
        } else {
            Err((1000 - self.milli_tokens).div_ceil(self.per_second))
        }
    }
}

/// Counts refused frames per minute, to close connections that keep sending garbage.
#[derive(Debug, Clone)]
pub(crate) struct AbuseMeter {
    window_start: Millis,
    count: u32,
    max_per_minute: u32,
}

impl AbuseMeter {
    pub(crate) fn new(max_per_minute: u32, now: Millis) -> Self {
        Self {
            window_start: now,
            count: 0,
            max_per_minute,
        }
    }

    /// Records one refused frame; `true` when the connection has crossed the line.
    pub(crate) fn record(&mut self, now: Millis) -> bool {
        if now - self.window_start >= 60_000 {
            self.window_start = now;
            self.count = 0;
        }
        self.count += 1;
        self.count > self.max_per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills() {
        let mut b = TokenBucket::new(5, 10, 0);
        for _ in 0..10 {
            assert!(b.take(0).is_ok());
        }
        let wait = b.take(0).unwrap_err();
        assert_eq!(wait, 200);
        assert!(b.take(199).is_err());
        assert!(b.take(200).is_ok());
        // A long pause refills only up to the burst.
        for _ in 0..10 {
            assert!(b.take(100_000).is_ok());
        }
        assert!(b.take(100_000).is_err());
    }

    #[test]
    fn abuse_meter_resets_each_minute() {
        let mut m = AbuseMeter::new(3, 0);
        assert!(!m.record(1) && !m.record(2) && !m.record(3));
        assert!(m.record(4));
        assert!(!m.record(60_001));
    }
}
