//! The one way this crate calls an API: bounded by `max_concurrency`, retried by the
//! shared layer in `cloudcensus_core::retry`.
//!
//! The SDK clients are built with `NeverRetry`, so there is exactly one retry loop —
//! the shared one, which honours `Retry-After`, caps waits and tells us whether it gave
//! up on throttling (→ `throttled` coverage).

use std::future::Future;
use std::sync::Arc;

use cloudcensus_core::Catalog;
use cloudcensus_core::retry::{Attempt, Jitter, RetryPolicy};
use tokio::sync::Semaphore;

use crate::error::{ApiFailure, classify_http, error_chain, timeout, transport};

/// Shared per-connector call context.
pub(crate) struct Ctx {
    pub retry: RetryPolicy,
    /// `request_timeout_secs`, named in the message of a call that timed out.
    pub timeout_secs: u64,
    pub jitter: Arc<dyn Jitter>,
    pub limit: Arc<Semaphore>,
    pub catalog: Arc<Catalog>,
}

impl Ctx {
    /// Runs one API call (one page) with a concurrency permit per attempt and the shared
    /// retry policy.
    pub(crate) async fn call<T, F, Fut>(&self, mut op: F) -> Result<T, ApiFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt<T, ApiFailure>>,
    {
        let limit = &self.limit;
        self.retry
            .run(self.jitter.as_ref(), |_| {
                let attempt = op();
                async move {
                    // The semaphore is never closed, so acquiring cannot fail.
                    let _permit = limit.acquire().await.ok();
                    attempt.await
                }
            })
            .await
            .map_err(|e| {
                let mut f = ApiFailure::from_retry(e);
                f.message = f.message.replace(
                    crate::error::TIMEOUT_MARK,
                    &format!("request_timeout_secs = {} s", self.timeout_secs),
                );
                f
            })
    }

    /// A location as the product of `asset_type` reports it, in the catalog's spelling.
    /// The product is part of the lookup: `eur5` is another place in Spanner than in
    /// Cloud Storage, so a Spanner instance in `eur5` is stored as `spanner/eur5`.
    pub(crate) fn location(&self, asset_type: &str, raw: &str) -> Option<String> {
        let raw = raw.trim();
        (!raw.is_empty()).then(|| {
            self.catalog
                .normalise_for_type(cloudcensus_core::Provider::Gcp, asset_type, raw)
        })
    }
}

/// Names the failed page of a list when it was not the first: the resources of the
/// earlier pages are dropped (the coverage entry says the list failed), and the message
/// says how many, so nobody reads the gap as "there were only that many".
pub(crate) fn failed_page(mut f: ApiFailure, page: u32, dropped: usize) -> ApiFailure {
    if page > 1 {
        f.message = format!(
            "page {page} failed; the {dropped} resources of the {} earlier page(s) are not \
             recorded: {}",
            page - 1,
            f.message
        );
    }
    f
}

/// Guards a paging loop against a server that hands back the token it was given.
pub(crate) fn next_token(
    api: &str,
    current: &str,
    next: String,
) -> Result<Option<String>, ApiFailure> {
    if next.is_empty() {
        Ok(None)
    } else if next == current {
        Err(ApiFailure::error(format!(
            "{api}: the server returned the same page token '{next}' again; stopped paging"
        )))
    } else {
        Ok(Some(next))
    }
}

/// Converts a protobuf timestamp.
pub(crate) fn timestamp(
    ts: Option<&google_cloud_wkt::Timestamp>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let ts = ts?;
    chrono::DateTime::from_timestamp(ts.seconds(), u32::try_from(ts.nanos()).unwrap_or(0))
}

/// Sends one request of a Google JSON API (with the credentials' headers when there are
/// any) and decodes the answer; an error answer or transport failure is classified for
/// the shared retry layer. `what` names the expected answer in a decode error.
pub(crate) async fn send_json<T: serde::de::DeserializeOwned>(
    service: &str,
    what: &str,
    credentials: Option<&google_cloud_auth::credentials::Credentials>,
    mut req: reqwest::RequestBuilder,
) -> Attempt<T, ApiFailure> {
    use google_cloud_auth::credentials::CacheableResource;
    if let Some(creds) = credentials {
        match creds.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => req = req.headers(data),
            Ok(CacheableResource::NotModified) => {}
            Err(e) if e.is_transient() => return transport(service, format!("credentials: {e}")),
            Err(e) => {
                return Attempt::Fail(ApiFailure::error(format!("{service}: credentials: {e}")));
            }
        }
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return timeout(service),
        Err(e) => return transport(service, error_chain(&e)),
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) if e.is_timeout() => return timeout(service),
        Err(e) => return transport(service, error_chain(&e)),
    };
    if !status.is_success() {
        return classify_http(service, status.as_u16(), retry_after.as_deref(), &body);
    }
    match serde_json::from_slice(&body) {
        Ok(v) => Attempt::Done(v),
        Err(e) => Attempt::Fail(ApiFailure::error(format!(
            "{service}: unexpected {what} ({e})"
        ))),
    }
}
