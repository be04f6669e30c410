//! Turning SDK errors into coverage statuses.
//!
//! The SDK has already retried throttling (adaptive retry mode) and transient failures
//! by the time an error reaches us, so a throttling code here means retries ran out.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cloudcensus_core::CoverageStatus;

/// Error codes meaning "this identity may not do that".
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "AccessDeniedForDependencyException",
    "AllAccessDisabled",
    // Resource Explorer: no permission for the view, or the Region has no default view.
    "UnauthorizedException",
];

/// Error codes meaning "the region or service is not enabled for this account".
const NOT_ENABLED: &[&str] = &[
    "OptInRequired",
    "SubscriptionRequiredException",
    "AWSOrganizationsNotInUseException",
];

/// Error codes meaning "rate-limited" (retries exhausted by the time we see them).
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
];

/// A classified failure of one API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The coverage status this failure means.
    pub status: CoverageStatus,
    /// The error code, if the service sent one.
    pub code: Option<String>,
    /// A one-line message for the coverage entry.
    pub message: String,
}

/// Classifies an error code and HTTP status.
pub fn classify(code: Option<&str>, http_status: Option<u16>) -> CoverageStatus {
    match code {
        Some(c) if DENIED.contains(&c) => CoverageStatus::Denied,
        Some(c) if NOT_ENABLED.contains(&c) => CoverageStatus::NotEnabled,
        Some(c) if THROTTLED.contains(&c) => CoverageStatus::Throttled,
        _ => match http_status {
            Some(401) | Some(403) => CoverageStatus::Denied,
            Some(429) => CoverageStatus::Throttled,
            _ => CoverageStatus::Error,
        },
    }
}

/// Classifies an SDK error of operation `op`.
pub fn call_error<E>(op: &str, err: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, msg, http) = match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            (
                e.code().map(str::to_string),
                e.message().map(str::to_string),
                Some(se.raw().status().as_u16()),
            )
        }
        SdkError::TimeoutError(_) => (
            None,
            Some(format!(
                "no answer within request_timeout_secs ({})",
                error_chain(err)
            )),
            None,
        ),
        other => (None, Some(error_chain(other)), None),
    };
    let status = classify(code.as_deref(), http);
    let message = match (&code, msg) {
        (Some(c), Some(m)) => format!("{op}: {c}: {m}"),
        (Some(c), None) => format!("{op}: {c}"),
        (None, Some(m)) => format!("{op}: {m}"),
        (None, None) => match http {
            Some(code) => format!("{op}: HTTP {code}"),
            None => format!("{op}: failed"),
        },
    };
    CallError {
        status,
        code,
        message,
    }
}

/// The error and its sources on one line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut src = err.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify_to_coverage_statuses() {
        assert_eq!(
            classify(Some("AccessDenied"), Some(403)),
            CoverageStatus::Denied
        );
        assert_eq!(
            classify(Some("UnauthorizedOperation"), Some(403)),
            CoverageStatus::Denied
        );
        assert_eq!(
            classify(Some("OptInRequired"), Some(401)),
            CoverageStatus::NotEnabled
        );
        assert_eq!(
            classify(Some("ThrottlingException"), Some(400)),
            CoverageStatus::Throttled
        );
        assert_eq!(
            classify(Some("SlowDown"), Some(503)),
            CoverageStatus::Throttled
        );
        assert_eq!(classify(None, Some(403)), CoverageStatus::Denied);
        assert_eq!(classify(None, Some(429)), CoverageStatus::Throttled);
        assert_eq!(
            classify(Some("InternalError"), Some(500)),
            CoverageStatus::Error
        );
        assert_eq!(classify(None, None), CoverageStatus::Error);
    }
}
