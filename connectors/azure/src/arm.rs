//! A small Resource Manager client: GET/POST JSON with retries, and `nextLink` paging.
//!
//! There is no maintained Rust crate for Resource Manager or Resource Graph, so this is
//! reqwest plus the shared retry layer of `cloudcensus-core`: 429 waits for
//! `Retry-After` (or Resource Graph's `x-ms-user-quota-resets-after`), 5xx and transport
//! errors back off with jitter, everything else fails at once. A semaphore bounds the
//! requests in flight to the source's `max_concurrency`. Error bodies follow the ARM
//! shape `{"error":{"code":..,"message":..}}` and are kept for coverage messages.

use std::sync::Arc;
use std::time::Duration;

use cloudcensus_core::CoverageStatus;
use cloudcensus_core::retry::{Attempt, ClockJitter, Jitter, RetryError, RetryPolicy};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use crate::credential::TokenSource;

/// A failed Resource Manager call.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ArmError {
    /// The service answered with an error status.
    #[error("HTTP {status} {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
    },
    /// No HTTP answer (connection refused or reset, TLS).
    #[error("request failed: {0}")]
    Transport(String),
    /// No complete answer within `request_timeout_secs`.
    #[error("no answer within request_timeout_secs = {0} s")]
    Timeout(u64),
    /// The answer was not the JSON we expected.
    #[error("invalid response: {0}")]
    Decode(String),
    /// No token could be obtained.
    #[error("cannot get a token: {0}")]
    Token(String),
    /// A `nextLink` pointed at another host; it is not followed (the token would leak).
    #[error("refusing to follow nextLink to another host: {0}")]
    ForeignLink(String),
}

/// The final failure of a call after retries.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    pub error: ArmError,
    pub throttled: bool,
    pub attempts: u32,
    /// The page of a list operation that failed, when it was not the first: the items
    /// of the earlier pages were delivered, the list is incomplete.
    pub page: Option<u32>,
}

impl From<RetryError<ArmError>> for CallError {
    fn from(e: RetryError<ArmError>) -> Self {
        CallError {
            error: e.error,
            throttled: e.throttled,
            attempts: e.attempts,
            page: None,
        }
    }
}

impl CallError {
    /// The coverage status this failure means.
    pub(crate) fn status(&self) -> CoverageStatus {
        if self.throttled {
            return CoverageStatus::Throttled;
        }
        match &self.error {
            ArmError::Status { status, code, .. } => match (*status, code.as_str()) {
                (401 | 403, _) => CoverageStatus::Denied,
                (_, "MissingSubscriptionRegistration") => CoverageStatus::NotEnabled,
                (_, "SubscriptionNotFound") => CoverageStatus::Denied,
                _ => CoverageStatus::Error,
            },
            ArmError::Token(_) => CoverageStatus::Denied,
            _ => CoverageStatus::Error,
        }
    }

    /// The coverage message.
    pub(crate) fn message(&self) -> String {
        match self.page {
            Some(n) => format!(
                "page {n} of the list failed, the items of the {} earlier page(s) are kept \
                 but the list is incomplete: {}",
                n - 1,
                self.call_message()
            ),
            None => self.call_message(),
        }
    }

    fn call_message(&self) -> String {
        if self.throttled {
            format!(
                "{} (throttled; gave up after {} attempts)",
                self.error, self.attempts
            )
        } else if self.attempts > 1 {
            format!("{} (after {} attempts)", self.error, self.attempts)
        } else {
            self.error.to_string()
        }
    }
}

/// The Resource Manager client of one source.
pub(crate) struct Arm {
    http: reqwest::Client,
    base: Url,
    scope: String,
    tokens: TokenSource,
    timeout_secs: u64,
    pub(crate) retry: RetryPolicy,
    jitter: Box<dyn Jitter>,
    limit: Arc<Semaphore>,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm")
            .field("base", &self.base.as_str())
            .field("scope", &self.scope)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Arm {
    pub(crate) fn new(
        base: Url,
        scope: String,
        tokens: TokenSource,
        max_concurrency: usize,
        timeout_secs: u64,
        retry: RetryPolicy,
    ) -> Result<Arm, String> {
        let timeout = Duration::from_secs(timeout_secs.max(1));
        let http = reqwest::Client::builder()
            .user_agent(concat!("cloudcensus/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(15)))
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Arm {
            http,
            base,
            scope,
            tokens,
            timeout_secs,
            retry,
            jitter: Box::new(ClockJitter::default()),
            limit: Arc::new(Semaphore::new(max_concurrency.max(1))),
        })
    }

    pub(crate) async fn token(&self) -> Result<azure_core::credentials::Secret, String> {
        self.tokens.token(&self.scope).await
    }

    /// `base` joined with a path and query such as `/subscriptions?api-version=...`.
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Url, CallError> {
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}")).map_err(|e| CallError {
            error: ArmError::Decode(format!("bad URL {path_and_query}: {e}")),
            throttled: false,
            attempts: 0,
            page: None,
        })
    }

    /// GET a JSON document, with retries.
    pub(crate) async fn get(&self, url: &Url) -> Result<Value, CallError> {
        self.send(reqwest::Method::GET, url, None).await
    }

    /// POST a JSON body, with retries (Resource Graph queries are reads sent as POST).
    pub(crate) async fn post(&self, url: &Url, body: &Value) -> Result<Value, CallError> {
        self.send(reqwest::Method::POST, url, Some(body)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let out = self
            .retry
            .run(self.jitter.as_ref(), |_attempt| {
                let method = method.clone();
                async move { self.attempt(method, url, body).await }
            })
            .await;
        out.map_err(CallError::from)
    }

    async fn attempt(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Attempt<Value, ArmError> {
        let _permit = match self.limit.acquire().await {
            Ok(p) => p,
            Err(e) => return Attempt::Fail(ArmError::Transport(e.to_string())),
        };
        let token = match self.token().await {
            Ok(t) => t,
            Err(e) => return Attempt::Fail(ArmError::Token(e)),
        };
        let mut auth = match HeaderValue::from_str(&format!("Bearer {}", token.secret())) {
            Ok(h) => h,
            Err(_) => {
                return Attempt::Fail(ArmError::Token(
                    "the token contains characters not allowed in a header".into(),
                ));
            }
        };
        auth.set_sensitive(true);
        let mut req = self
            .http
            .request(method, url.clone())
            .header(AUTHORIZATION, auth);
        if let Some(b) = body {
            req = req.json(b);
        }
        tracing::debug!(url = %redact(url), "azure request");
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return self.transport_failure(e),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => return self.transport_failure(e),
        };
        if (200..300).contains(&status) {
            if let Some(q) = header_str(&headers, "x-ms-user-quota-remaining") {
                tracing::debug!(quota_remaining = q, "resource graph quota");
            }
            return match serde_json::from_str(&text) {
                Ok(v) => Attempt::Done(v),
                Err(e) => Attempt::Fail(ArmError::Decode(format!(
                    "{} answered {} bytes that are not valid JSON ({e})",
                    redact(url),
                    text.len()
                ))),
            };
        }
        let (code, message) = error_body(&text);
        let error = ArmError::Status {
            status,
            code,
            message,
        };
        match status {
            429 => Attempt::Retry {
                error,
                retry_after: retry_after(&headers),
                throttled: true,
            },
            500..=599 => Attempt::Retry {
                error,
                retry_after: retry_after(&headers),
                throttled: false,
            },
            _ => Attempt::Fail(error),
        }
    }

    /// A failure without an HTTP answer: retried, with the timeout named when it was one.
    fn transport_failure(&self, e: reqwest::Error) -> Attempt<Value, ArmError> {
        let error = if e.is_timeout() {
            ArmError::Timeout(self.timeout_secs)
        } else {
            ArmError::Transport(error_chain(&e.without_url()))
        };
        Attempt::Retry {
            error,
            retry_after: None,
            throttled: false,
        }
    }

    /// GETs every page of a list operation (`value` + `nextLink` or `@nextLink`), calling `on_page`
    /// with each page's items as they arrive. On failure, the items already delivered
    /// stay delivered and the error is returned.
    pub(crate) async fn list_pages(
        &self,
        first: Url,
        mut on_page: impl FnMut(Vec<Value>),
    ) -> Result<(), CallError> {
        let mut next = Some(first);
        let mut number = 0u32;
        while let Some(url) = next.take() {
            number += 1;
            let on_page_n = |mut e: CallError| {
                if number > 1 {
                    e.page = Some(number);
                }
                e
            };
            let page = self.get(&url).await.map_err(on_page_n)?;
            let items = match page.get("value") {
                Some(Value::Array(a)) => a.clone(),
                _ => {
                    return Err(on_page_n(CallError {
                        error: ArmError::Decode(format!(
                            "{}: no `value` array in the list response",
                            redact(&url)
                        )),
                        throttled: false,
                        attempts: 1,
                        page: None,
                    }));
                }
            };
            on_page(items);
            // Most APIs page with `nextLink`; some (e.g. Microsoft.Management entities and
            // descendants in newer versions) with `@nextLink`.
            if let Some(link) = ["nextLink", "@nextLink"]
                .iter()
                .find_map(|k| page.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
            {
                next = Some(self.same_origin(link).map_err(on_page_n)?);
            }
        }
        Ok(())
    }

    /// Parses a continuation link and checks it points at the Resource Manager endpoint
    /// we send tokens to.
    fn same_origin(&self, link: &str) -> Result<Url, CallError> {
        let fail = |msg: String| CallError {
            error: ArmError::ForeignLink(msg),
            throttled: false,
            attempts: 1,
            page: None,
        };
        let url = Url::parse(link).map_err(|e| fail(format!("{e}")))?;
        if url.origin() != self.base.origin() {
            return Err(fail(format!(
                "{} (expected {})",
                url.origin().ascii_serialization(),
                self.base.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The server's requested wait: `Retry-After` (seconds), else Resource Graph's
/// `x-ms-user-quota-resets-after` (`hh:mm:ss`).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(d) = header_str(headers, RETRY_AFTER.as_str())
        .and_then(cloudcensus_core::retry::parse_retry_after_seconds)
    {
        return Some(d);
    }
    let v = header_str(headers, "x-ms-user-quota-resets-after")?;
    let mut secs = 0f64;
    for part in v.split(':') {
        secs = secs * 60.0 + part.trim().parse::<f64>().ok()?;
    }
    Some(Duration::from_secs_f64(secs.max(0.0)))
}

/// `(code, message)` from an ARM error body; the raw text (shortened) if it is not one.
fn error_body(text: &str) -> (String, String) {
    let v: Option<Value> = serde_json::from_str(text).ok();
    let err = v.as_ref().and_then(|v| v.get("error"));
    let code = err
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let message = err
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| text.chars().take(300).collect());
    (code, message)
}

/// The error and its sources on one line ("connection reset by peer" sits in a source).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut src = err.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}

/// The URL without its query (which may carry a SAS or skip token) for logs.
pub(crate) fn redact(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_reset_header_is_a_retry_delay() {
        let mut h = HeaderMap::new();
        h.insert("x-ms-user-quota-resets-after", "00:00:05".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(5)));
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    }

    #[test]
    fn arm_error_body_is_parsed() {
        let (c, m) = error_body(r#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#);
        assert_eq!((c.as_str(), m.as_str()), ("AuthorizationFailed", "no"));
        let (c, m) = error_body("gateway timeout");
        assert_eq!((c.as_str(), m.as_str()), ("", "gateway timeout"));
    }

    #[test]
    fn failures_map_to_coverage_statuses() {
        let st = |status, code: &str, throttled| {
            CallError {
                error: ArmError::Status {
                    status,
                    code: code.into(),
                    message: String::new(),
                },
                throttled,
                attempts: 1,
                page: None,
            }
            .status()
        };
        assert_eq!(
            st(403, "AuthorizationFailed", false),
            CoverageStatus::Denied
        );
        assert_eq!(
            st(401, "InvalidAuthenticationToken", false),
            CoverageStatus::Denied
        );
        assert_eq!(
            st(409, "MissingSubscriptionRegistration", false),
            CoverageStatus::NotEnabled
        );
        assert_eq!(st(429, "TooManyRequests", true), CoverageStatus::Throttled);
        assert_eq!(st(500, "InternalServerError", false), CoverageStatus::Error);
    }
}
