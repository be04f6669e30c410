//! Turning Google API failures into retry decisions and coverage statuses.
//!
//! Google reports errors in one model (AIP-193): an HTTP code, a canonical `status`
//! (`PERMISSION_DENIED`, `RESOURCE_EXHAUSTED`, ...) and `details`, where an `ErrorInfo`
//! `reason` says *why* (`SERVICE_DISABLED` for an API that is not enabled). The Cloud
//! Storage JSON API still also uses the older `errors[].reason` list
//! (`accessNotConfigured`, `rateLimitExceeded`). Both the SDK clients and the raw JSON
//! client classify through [`classify`], so the same failure gets the same coverage
//! status whichever path saw it.

use cloudcensus_core::CoverageStatus;
use cloudcensus_core::retry::{Attempt, RetryError, parse_retry_after_seconds};

/// One failed API call, ready to become a coverage entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiFailure {
    /// The coverage status this failure means if it is final.
    pub status: CoverageStatus,
    /// What the server or transport said.
    pub message: String,
    /// For a disabled API: the project it is disabled in (`ErrorInfo.metadata.consumer`,
    /// `projects/ID` or `projects/NUMBER`), when the server said.
    pub consumer: Option<String>,
}

impl ApiFailure {
    pub(crate) fn error(message: impl Into<String>) -> Self {
        ApiFailure {
            status: CoverageStatus::Error,
            message: message.into(),
            consumer: None,
        }
    }

    /// The final failure after the shared retry layer gave up.
    pub(crate) fn from_retry(e: RetryError<ApiFailure>) -> Self {
        let mut f = e.error;
        if e.throttled {
            f.status = CoverageStatus::Throttled;
            f.message = format!("{} (gave up after {} attempts)", f.message, e.attempts);
        } else if e.attempts > 1 {
            f.message = format!("{} (after {} attempts)", f.message, e.attempts);
        }
        f
    }
}

/// What one error response says, whichever client saw it.
#[derive(Debug, Default)]
pub(crate) struct ErrorParts<'a> {
    /// HTTP status code.
    pub http: Option<u16>,
    /// Canonical status name (`PERMISSION_DENIED`).
    pub status: Option<&'a str>,
    /// `ErrorInfo.reason` values and legacy `errors[].reason` values.
    pub reasons: Vec<&'a str>,
    /// The `Retry-After` header.
    pub retry_after: Option<&'a str>,
    /// The server's message.
    pub message: &'a str,
    /// `ErrorInfo.metadata.consumer` of a `SERVICE_DISABLED` error.
    pub consumer: Option<&'a str>,
}

/// Classifies an error response into a retry decision carrying its [`ApiFailure`].
pub(crate) fn classify<T>(api: &str, p: ErrorParts<'_>) -> Attempt<T, ApiFailure> {
    let code = p
        .status
        .map(str::to_string)
        .or_else(|| p.http.map(|h| format!("HTTP {h}")))
        .unwrap_or_else(|| "error".to_string());
    let reason_note = if p.reasons.is_empty() {
        String::new()
    } else {
        format!(" [{}]", p.reasons.join(", "))
    };
    let message = format!("{api}: {code}{reason_note}: {}", p.message.trim());
    let has_reason = |names: &[&str]| p.reasons.iter().any(|r| names.contains(r));
    let retry_after = p.retry_after.and_then(parse_retry_after_seconds);

    if has_reason(&["SERVICE_DISABLED", "accessNotConfigured", "API_DISABLED"]) {
        return Attempt::Fail(ApiFailure {
            status: CoverageStatus::NotEnabled,
            message,
            consumer: p.consumer.map(str::to_string),
        });
    }
    if p.http == Some(429)
        || p.status == Some("RESOURCE_EXHAUSTED")
        || has_reason(&[
            "RATE_LIMIT_EXCEEDED",
            "rateLimitExceeded",
            "userRateLimitExceeded",
        ])
    {
        return Attempt::Retry {
            error: ApiFailure {
                status: CoverageStatus::Throttled,
                message,
                consumer: None,
            },
            retry_after,
            throttled: true,
        };
    }
    if p.http == Some(403) || p.status == Some("PERMISSION_DENIED") {
        return fail(CoverageStatus::Denied, message);
    }
    let transient_status = matches!(
        p.status,
        Some("UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED")
    );
    if transient_status || p.http.is_some_and(|h| (500..600).contains(&h)) {
        return Attempt::Retry {
            error: ApiFailure::error(message),
            retry_after,
            throttled: false,
        };
    }
    fail(CoverageStatus::Error, message)
}

fn fail<T>(status: CoverageStatus, message: String) -> Attempt<T, ApiFailure> {
    Attempt::Fail(ApiFailure {
        status,
        message,
        consumer: None,
    })
}

/// The error and its sources on one line ("connection reset by peer" sits in a source).
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
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

/// Stands for the configured timeout in a message; [`crate::api::Ctx::call`] puts in the
/// value.
pub(crate) const TIMEOUT_MARK: &str = "request_timeout_secs";

/// An attempt that got no complete answer in time: retried, then `error` naming the
/// timeout.
pub(crate) fn timeout<T>(api: &str) -> Attempt<T, ApiFailure> {
    transport(api, format!("no answer within {TIMEOUT_MARK}"))
}

/// A transport failure (connection refused, reset, timeout): retried, then `error`.
pub(crate) fn transport<T>(api: &str, what: impl std::fmt::Display) -> Attempt<T, ApiFailure> {
    Attempt::Retry {
        error: ApiFailure::error(format!("{api}: {what}")),
        retry_after: None,
        throttled: false,
    }
}

/// Classifies an error of the official SDK clients (`google-cloud-gax`).
pub(crate) fn classify_gax<T>(
    api: &str,
    e: &google_cloud_gax::error::Error,
) -> Attempt<T, ApiFailure> {
    use google_cloud_gax::error::rpc::StatusDetails;
    if let Some(status) = e.status() {
        let infos: Vec<_> = status
            .details
            .iter()
            .filter_map(|d| match d {
                StatusDetails::ErrorInfo(info) => Some(info),
                _ => None,
            })
            .collect();
        let reasons = infos.iter().map(|i| i.reason.as_str()).collect();
        let consumer = infos
            .iter()
            .find_map(|i| i.metadata.get("consumer"))
            .map(String::as_str);
        let retry_after = e
            .http_headers()
            .and_then(|h| h.get("retry-after"))
            .and_then(|v| v.to_str().ok());
        return classify(
            api,
            ErrorParts {
                http: e.http_status_code(),
                status: Some(status.code.name()),
                reasons,
                retry_after,
                message: &status.message,
                consumer,
            },
        );
    }
    if let Some(http) = e.http_status_code() {
        let retry_after = e
            .http_headers()
            .and_then(|h| h.get("retry-after"))
            .and_then(|v| v.to_str().ok());
        let body = e
            .http_payload()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return classify(
            api,
            ErrorParts {
                http: Some(http),
                retry_after,
                message: &body,
                ..ErrorParts::default()
            },
        );
    }
    if e.is_timeout() {
        return timeout(api);
    }
    if e.is_connect() || e.is_io() || e.is_transport() {
        return transport(api, error_chain(e));
    }
    if e.is_authentication() {
        return Attempt::Fail(ApiFailure::error(format!("{api}: credentials: {e}")));
    }
    Attempt::Fail(ApiFailure::error(format!("{api}: {e}")))
}

/// The body of a Google JSON error response (both the AIP-193 and the legacy shape).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub error: ErrorBodyInner,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBodyInner {
    pub code: Option<u16>,
    pub message: String,
    pub status: Option<String>,
    pub errors: Vec<LegacyError>,
    pub details: Vec<serde_json::Value>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct LegacyError {
    pub reason: String,
}

/// Classifies a raw HTTP error response of a Google JSON API.
pub(crate) fn classify_http<T>(
    api: &str,
    http: u16,
    retry_after: Option<&str>,
    body: &[u8],
) -> Attempt<T, ApiFailure> {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let e = &parsed.error;
    let mut reasons: Vec<&str> = e.errors.iter().map(|l| l.reason.as_str()).collect();
    let infos: Vec<&serde_json::Value> = e
        .details
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.ends_with("google.rpc.ErrorInfo"))
        })
        .collect();
    reasons.extend(infos.iter().filter_map(|d| d.get("reason")?.as_str()));
    let consumer = infos
        .iter()
        .find_map(|d| d.get("metadata")?.get("consumer")?.as_str());
    let fallback;
    let message = if e.message.is_empty() {
        fallback = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        fallback.as_str()
    } else {
        e.message.as_str()
    };
    classify(
        api,
        ErrorParts {
            http: Some(http),
            status: e.status.as_deref(),
            reasons,
            retry_after,
            message,
            consumer,
        },
    )
}

/// The server-provided delay of a retry decision.
#[cfg(test)]
pub(crate) fn retry_after_of<T>(a: &Attempt<T, ApiFailure>) -> Option<std::time::Duration> {
    match a {
        Attempt::Retry { retry_after, .. } => *retry_after,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(a: Attempt<(), ApiFailure>) -> (CoverageStatus, bool) {
        match a {
            Attempt::Done(()) => unreachable!(),
            Attempt::Retry { error, .. } => (error.status, true),
            Attempt::Fail(e) => (e.status, false),
        }
    }

    #[test]
    fn service_disabled_reason_means_not_enabled_even_with_permission_denied() {
        let body = br#"{"error":{"code":403,"message":"Cloud Asset API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"service":"cloudasset.googleapis.com"}}]}}"#;
        assert_eq!(
            status_of(classify_http("cloudasset", 403, None, body)),
            (CoverageStatus::NotEnabled, false)
        );
    }

    #[test]
    fn legacy_storage_reasons_are_understood() {
        let disabled = br#"{"error":{"code":403,"message":"Access Not Configured.","errors":[{"domain":"usageLimits","reason":"accessNotConfigured","message":"x"}]}}"#;
        assert_eq!(
            status_of(classify_http("storage", 403, None, disabled)),
            (CoverageStatus::NotEnabled, false)
        );
        let denied = br#"{"error":{"code":403,"message":"x does not have storage.buckets.list access","errors":[{"domain":"global","reason":"forbidden","message":"x"}]}}"#;
        assert_eq!(
            status_of(classify_http("storage", 403, None, denied)),
            (CoverageStatus::Denied, false)
        );
    }

    #[test]
    fn throttling_and_server_errors_are_retried_with_retry_after() {
        let a = classify_http::<()>("storage", 429, Some("3"), b"{}");
        assert_eq!(retry_after_of(&a), Some(std::time::Duration::from_secs(3)));
        assert_eq!(status_of(a), (CoverageStatus::Throttled, true));
        assert_eq!(
            status_of(classify_http("storage", 503, None, b"oops")),
            (CoverageStatus::Error, true)
        );
        assert_eq!(
            status_of(classify_http("storage", 400, None, b"{}")),
            (CoverageStatus::Error, false)
        );
    }

    #[test]
    fn exhausted_throttling_becomes_throttled_coverage() {
        let f = ApiFailure::from_retry(RetryError {
            error: ApiFailure::error("x: HTTP 503"),
            attempts: 3,
            throttled: false,
        });
        assert_eq!(f.status, CoverageStatus::Error);
        let f = ApiFailure::from_retry(RetryError {
            error: ApiFailure {
                status: CoverageStatus::Throttled,
                message: "x: RESOURCE_EXHAUSTED".into(),
                consumer: None,
            },
            attempts: 6,
            throttled: true,
        });
        assert_eq!(f.status, CoverageStatus::Throttled);
        assert!(f.message.contains("6 attempts"));
    }
}
