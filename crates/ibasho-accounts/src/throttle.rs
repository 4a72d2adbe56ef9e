//! Sign-in throttling: after a few failures, each further attempt for the same key (an
//! account, or an address) must wait longer — 1 s, 2 s, 4 s … up to a ceiling. A success
//! clears the key. Driven by the caller's clock, so tests need no sleeping.

use std::collections::HashMap;
use std::hash::Hash;

/// Throttle settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before delays start.
    pub free_failures: u32,
    /// The first delay, in milliseconds; each further failure doubles it.
    pub base_delay_ms: u64,
    /// The longest delay, in milliseconds.
    pub max_delay_ms: u64,
    /// Keys untouched for this long are forgotten, in milliseconds.
    pub forget_after_ms: u64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            base_delay_ms: 1_000,
            max_delay_ms: 15 * 60_000,
            forget_after_ms: 24 * 3_600_000,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    /// No attempt before this time.
    blocked_until: i64,
    last: i64,
}

/// Failure counts per key.
#[derive(Debug)]
pub struct Throttle<K> {
    policy: ThrottlePolicy,
    entries: HashMap<K, Entry>,
}

impl<K: Eq + Hash + Clone> Throttle<K> {
    /// An empty throttle.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            entries: HashMap::new(),
        }
    }

    /// `Err(ms)` if `key` must wait `ms` more milliseconds before its next attempt.
    pub fn check(&self, key: &K, now: i64) -> Result<(), u64> {
        match self.entries.get(key) {
            Some(e) if e.blocked_until > now => {
                Err(u64::try_from(e.blocked_until - now).unwrap_or(0))
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt; returns the wait now imposed (0 if none).
    pub fn fail(&mut self, key: &K, now: i64) -> u64 {
        let policy = self.policy;
        if self.entries.len() > 100_000 {
            self.entries.retain(|_, e| {
                now - e.last < i64::try_from(policy.forget_after_ms).unwrap_or(i64::MAX)
            });
        }
        let e = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            blocked_until: 0,
            last: now,
        });
        e.failures += 1;
        e.last = now;
        if e.failures <= policy.free_failures {
            return 0;
        }
        let doublings = (e.failures - policy.free_failures - 1).min(30);
        let delay = policy
            .base_delay_ms
            .saturating_mul(1 << doublings)
            .min(policy.max_delay_ms);
        e.blocked_until = now + i64::try_from(delay).unwrap_or(i64::MAX);
        delay
    }

    /// Clears `key` after a successful sign-in.
    pub fn succeed(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_reset_on_success() {
        let mut t = Throttle::new(ThrottlePolicy::default());
        let k = "hana".to_string();
        for _ in 0..3 {
            assert_eq!(t.check(&k, 0), Ok(()));
            assert_eq!(t.fail(&k, 0), 0);
        }
        assert_eq!(t.fail(&k, 0), 1_000);
        assert_eq!(t.check(&k, 500), Err(500));
        assert_eq!(t.fail(&k, 1_000), 2_000);
        assert_eq!(t.fail(&k, 3_000), 4_000);
        for i in 0..20 {
            t.fail(&k, 10_000 + i);
        }
        assert_eq!(t.check(&k, 10_019), Err(15 * 60_000));
        t.succeed(&k);
        assert_eq!(t.check(&k, 10_020), Ok(()));
    }
}
