//! Measurements: latency percentiles, and the server's memory and CPU time from `/proc`.

use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch. Sender and receivers run on one machine, so their
/// clocks agree.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// Percentiles of `samples` (microseconds).
pub fn percentiles(mut samples: Vec<u64>) -> Percentiles {
    if samples.is_empty() {
        return Percentiles::default();
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(samples.len() - 1);
        samples[i] as f64 / 1000.0
    };
    Percentiles {
        count: samples.len(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        p999_ms: at(0.999),
        max_ms: samples[samples.len() - 1] as f64 / 1000.0,
    }
}

/// The server process's resident memory and CPU time, when its pid is known.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct ProcessSample {
    /// Resident set size, KiB.
    pub rss_kib: u64,
    /// User + system CPU time, seconds.
    pub cpu_secs: f64,
}

/// Reads `/proc/<pid>/status` and `/proc/<pid>/stat`.
pub fn sample_process(pid: u32) -> Option<ProcessSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the ')'.
    let clock_ticks = 100.0; // USER_HZ on Linux
    let cpu_secs = (ticks(11) + ticks(12)) as f64 / clock_ticks;
    Some(ProcessSample { rss_kib, cpu_secs })
}

/// The send time a broadcast message carries in its body (`"body":"t<micros>"`).
pub fn sent_time(frame: &str) -> Option<u64> {
    if !frame.starts_with("{\"type\":\"event\"") {
        return None;
    }
    let start = frame.find("\"body\":\"t")? + "\"body\":\"t".len();
    let digits: String = frame[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_set() {
        let p = percentiles((1..=1000).map(|i| i * 1000).collect());
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50_ms, 500.0);
        assert_eq!(p.p99_ms, 990.0);
        assert_eq!(p.p999_ms, 999.0);
        assert_eq!(p.max_ms, 1000.0);
        assert_eq!(percentiles(Vec::new()), Percentiles::default());
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample_process(std::process::id()).expect("/proc is readable");
        assert!(s.rss_kib > 0);
    }
}
