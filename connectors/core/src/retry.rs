//! Retries, backoff and `Retry-After`, in one place.
//!
//! Providers never sleep in their own loops. They classify a failed attempt as
//! [`Attempt::Retry`] (throttled, 5xx, connection reset) or [`Attempt::Fail`], and
//! [`RetryPolicy::run`] decides how long to wait: the server's `Retry-After` when it
//! gave one (capped), otherwise exponential backoff with full jitter. The random
//! source is injectable so tests are deterministic.
//!
//! APIs with a published request rate (CloudTrail `LookupEvents`: 2/s per account and
//! region; Cloud Logging `entries.list`: 60/min per project) are paced *before* they
//! throttle, by one [`Pacer`] per connector.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// When the last request under one key was let go.
type Slot = Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>;

/// Spaces requests under the same key at least `interval` apart, across every caller
/// sharing the pacer; waiters of one key queue in arrival order, keys do not wait for
/// each other.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Pacer {
    /// A pacer letting one request per key go every `interval`.
    pub fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// A pacer allowing `per_second` requests per second per key.
    pub fn per_second(per_second: u32) -> Self {
        Pacer::new(Duration::from_secs(1) / per_second.max(1))
    }

    /// Waits until a request under `key` may be sent, and claims the slot.
    pub async fn wait(&self, key: &str) {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(key.to_string()).or_default().clone()
        };
        let mut last = slot.lock().await;
        if let Some(t) = *last {
            tokio::time::sleep_until(t + self.interval).await;
        }
        *last = Some(tokio::time::Instant::now());
    }
}

/// What a single attempt produced.
#[derive(Debug)]
pub enum Attempt<T, E> {
    /// Success.
    Done(T),
    /// A transient failure: try again, after `retry_after` if the server said so.
    Retry {
        /// The error, returned if retries run out.
        error: E,
        /// Server-provided delay (`Retry-After`, `x-ms-ratelimit-*`).
        retry_after: Option<Duration>,
        /// Whether the failure was throttling (429 / Throttling / RESOURCE_EXHAUSTED).
        throttled: bool,
    },
    /// A permanent failure: do not retry.
    Fail(E),
}

/// The final outcome of a retried operation that did not succeed.
#[derive(Debug)]
pub struct RetryError<E> {
    /// The last error.
    pub error: E,
    /// Attempts made.
    pub attempts: u32,
    /// Whether the last failure was throttling with retries exhausted.
    pub throttled: bool,
}

/// A pseudo-random source in `[0, 1)`; injectable for tests.
pub trait Jitter: Send + Sync {
    /// The next number in `[0, 1)`.
    fn next_unit(&self) -> f64;
}

/// Jitter from a small xorshift generator seeded from the clock.
#[derive(Debug)]
pub struct ClockJitter(std::sync::atomic::AtomicU64);

impl Default for ClockJitter {
    fn default() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        ClockJitter(std::sync::atomic::AtomicU64::new(seed))
    }
}

impl Jitter for ClockJitter {
    fn next_unit(&self) -> f64 {
        use std::sync::atomic::Ordering;
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Fixed jitter for tests: always the same fraction.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn next_unit(&self) -> f64 {
        self.0
    }
}

/// How often and how long to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts including the first (≥ 1).
    pub max_attempts: u32,
    /// Backoff base: attempt n waits up to `base * 2^(n-1)`.
    pub base_delay: Duration,
    /// Upper bound for any single wait, including a server's `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        jitter: &dyn Jitter,
    ) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_delay);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        // Full jitter: uniform in [0, cap], but never less than a tenth of the base.
        cap.mul_f64(jitter.next_unit()).max(self.base_delay / 10)
    }

    /// Runs `op` until it succeeds, fails permanently, or attempts run out.
    pub async fn run<T, E, F, Fut>(
        &self,
        jitter: &dyn Jitter,
        mut op: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Attempt<T, E>>,
    {
        let max = self.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            match op(attempt).await {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(error) => {
                    return Err(RetryError {
                        error,
                        attempts: attempt,
                        throttled: false,
                    });
                }
                Attempt::Retry {
                    error,
                    retry_after,
                    throttled,
                } => {
                    if attempt >= max {
                        return Err(RetryError {
                            error,
                            attempts: attempt,
                            throttled,
                        });
                    }
                    let wait = self.delay(attempt, retry_after, jitter);
                    tracing::debug!(attempt, ?wait, throttled, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }
}

impl RetryPolicy {
    /// The longest one call can take under this policy when every attempt runs into
    /// `attempt_timeout`: all attempts plus the longest wait between each two. This is
    /// the bound a hanging endpoint costs per call before it becomes coverage.
    pub fn worst_case(&self, attempt_timeout: Duration) -> Duration {
        let n = self.max_attempts.max(1);
        attempt_timeout.saturating_mul(n) + self.max_delay.saturating_mul(n - 1)
    }
}

/// Largest accepted `request_timeout_secs`.
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 3600;
/// Largest accepted `max_attempts`.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;
/// Largest accepted `retry_base_delay_ms`.
pub const MAX_RETRY_BASE_DELAY_MS: u64 = 60_000;

/// Checks the retry and timeout keys every connector shares (`request_timeout_secs`,
/// `max_attempts`, `retry_base_delay_ms`); one message per problem, naming the key.
pub fn check_retry_settings(
    request_timeout_secs: u64,
    max_attempts: u32,
    retry_base_delay_ms: u64,
) -> Vec<String> {
    let mut p = Vec::new();
    if request_timeout_secs == 0 {
        p.push(
            "`request_timeout_secs` = 0: every request would time out at once; use at least 1 \
             (seconds; default 120)"
                .to_string(),
        );
    } else if request_timeout_secs > MAX_REQUEST_TIMEOUT_SECS {
        p.push(format!(
            "`request_timeout_secs` = {request_timeout_secs}: at most {MAX_REQUEST_TIMEOUT_SECS} \
             (one hour per request)"
        ));
    }
    if max_attempts == 0 {
        p.push(
            "`max_attempts` = 0: use at least 1 (the first attempt counts; default 6)".to_string(),
        );
    } else if max_attempts > MAX_ATTEMPTS_LIMIT {
        p.push(format!(
            "`max_attempts` = {max_attempts}: at most {MAX_ATTEMPTS_LIMIT}"
        ));
    }
    if retry_base_delay_ms > MAX_RETRY_BASE_DELAY_MS {
        p.push(format!(
            "`retry_base_delay_ms` = {retry_base_delay_ms}: at most {MAX_RETRY_BASE_DELAY_MS}"
        ));
    }
    p
}

/// Parses an HTTP `Retry-After` value given in seconds (the form cloud APIs use).
pub fn parse_retry_after_seconds(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = policy();
        let j = FixedJitter(0.999_999);
        assert!(p.delay(1, None, &j) <= Duration::from_millis(100));
        assert!(p.delay(3, None, &j) > Duration::from_millis(390));
        assert_eq!(p.delay(30, None, &FixedJitter(1.0)), Duration::from_secs(5));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = policy();
        let j = FixedJitter(0.0);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2)), &j),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600)), &j),
            Duration::from_secs(5)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_then_succeeds() {
        let calls = AtomicU32::new(0);
        let out: Result<u32, RetryError<&str>> = policy()
            .run(&FixedJitter(0.5), |n| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 3 {
                        Attempt::Retry {
                            error: "503",
                            retry_after: None,
                            throttled: false,
                        }
                    } else {
                        Attempt::Done(n)
                    }
                }
            })
            .await;
        assert_eq!(out.unwrap(), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn exhausted_throttling_is_reported_as_throttled() {
        let err = policy()
            .run(&FixedJitter(0.5), |_| async {
                Attempt::<(), _>::Retry {
                    error: "429",
                    retry_after: Some(Duration::from_secs(1)),
                    throttled: true,
                }
            })
            .await
            .unwrap_err();
        assert_eq!(err.attempts, 4);
        assert!(err.throttled);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_failures_are_not_retried() {
        let calls = AtomicU32::new(0);
        let err = policy()
            .run(&FixedJitter(0.5), |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Attempt::<(), _>::Fail("403") }
            })
            .await
            .unwrap_err();
        assert_eq!(err.error, "403");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn worst_case_is_every_attempt_timing_out_plus_the_longest_waits() {
        let p = policy();
        assert_eq!(
            p.worst_case(Duration::from_secs(2)),
            Duration::from_secs(4 * 2 + 3 * 5)
        );
    }

    #[test]
    fn retry_settings_are_checked_with_their_keys() {
        assert!(check_retry_settings(120, 6, 200).is_empty());
        let p = check_retry_settings(0, 0, 60_001).join("\n");
        for key in [
            "request_timeout_secs",
            "max_attempts",
            "retry_base_delay_ms",
        ] {
            assert!(p.contains(key), "{key} missing in {p}");
        }
        assert!(p.contains("time out at once"), "{p}");
        assert_eq!(check_retry_settings(3601, 21, 0).len(), 2);
    }

    #[test]
    fn retry_after_parses_seconds() {
        assert_eq!(parse_retry_after_seconds("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after_seconds("1.5"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after_seconds("soon"), None);
        assert_eq!(parse_retry_after_seconds("-1"), None);
    }
}
