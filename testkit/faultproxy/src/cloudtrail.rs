//! A local AWS CloudTrail event history (`LookupEvents`) for tests: moto has none.
//!
//! It follows the API reference: AWS JSON 1.1 (`POST /`, `Content-Type:
//! application/x-amz-json-1.1`, `X-Amz-Target: CloudTrail_20131101.LookupEvents` as the
//! Rust SDK sends it, or with the `com.amazonaws.cloudtrail.v20131101.` prefix other SDKs
//! send), a request with `LookupAttributes` (at most one), `StartTime` and `EndTime`
//! (epoch seconds), `MaxResults` (1–50, default 50) and `NextToken`, and an answer with
//! `Events[{EventId, EventName, ReadOnly, AccessKeyId, EventTime, EventSource, Username,
//! Resources[{ResourceType, ResourceName}], CloudTrailEvent}]` newest first and a
//! `NextToken` while more remain. `CloudTrailEvent` is the whole record as a JSON string
//! (`userIdentity`, `eventTime`, `errorCode` of a failed call, …). Events older than the
//! history's 90 days are never returned. A token only continues the query that issued it
//! (`InvalidNextTokenException` otherwise), as at AWS.
//!
//! Errors are HTTP 400 (500 for a service fault) with `{"__type": ..., "message": ...}`:
//! `AccessDeniedException`, `ThrottlingException` (with or without `Retry-After`),
//! `InvalidLookupAttributesException`, `InvalidMaxResultsException`,
//! `InvalidTimeRangeException`, `InvalidNextTokenException`. With
//! [`CloudTrailMock::limit_rate`] it enforces the service's rate limit (2 requests per
//! second per account and region) with a token bucket per region and answers
//! `ThrottlingException` beyond it, counting each. The region comes from the request's
//! SigV4 credential scope, as at AWS, where every region has its own endpoint.
//!
//! It runs on a [`FaultProxy`] without upstream, so the proxy's other faults can be
//! layered on top; dropping it is a killed endpoint.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::cloudcontrol::signed_region;
use crate::{Fault, FaultProxy, Request, Responder, Times};

/// The `X-Amz-Target` of `LookupEvents` without a namespace (what the Rust SDK sends).
pub const TARGET: &str = "CloudTrail_20131101.LookupEvents";

/// How long the event history keeps events.
pub const RETENTION_DAYS: i64 = 90;

/// An error the mock answers instead of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtError {
    /// 400 `AccessDeniedException`: the identity lacks `cloudtrail:LookupEvents`.
    AccessDenied,
    /// 400 `ThrottlingException`, with a `Retry-After` header of that many seconds or none.
    Throttling {
        /// `Retry-After` in seconds, if sent.
        retry_after: Option<u32>,
    },
    /// 500 `InternalFailure`.
    Internal,
}

impl CtError {
    fn answer(self) -> crate::Answer {
        match self {
            CtError::AccessDenied => json_answer(
                400,
                json!({
                    "__type": "AccessDeniedException",
                    "Message": "User is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action"
                }),
            ),
            CtError::Throttling { retry_after } => {
                let mut a = json_answer(
                    400,
                    json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
                );
                if let Some(s) = retry_after {
                    a.1.push(("Retry-After".to_string(), s.to_string()));
                }
                a
            }
            CtError::Internal => json_answer(
                500,
                json!({"__type": "InternalFailure", "message": "An internal error occurred"}),
            ),
        }
    }
}

/// Who made a call, as the record's `userIdentity` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An assumed-role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole {
        /// The account.
        account: String,
        /// The role name.
        role: String,
        /// The session name (often the person, for SSO sessions).
        session: String,
    },
    /// An IAM user (`arn:aws:iam::ACCOUNT:user/NAME`).
    User {
        /// The account.
        account: String,
        /// The user name.
        name: String,
    },
    /// An AWS service acting on its own (`invokedBy`, no ARN).
    Service(String),
}

impl Identity {
    fn user_identity(&self, time: &str) -> Value {
        match self {
            Identity::AssumedRole {
                account,
                role,
                session,
            } => json!({
                "type": "AssumedRole",
                "principalId": format!("AROAEXAMPLEROLEID0001:{session}"),
                "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                "accountId": account,
                "accessKeyId": "ASIAEXAMPLEKEY000001",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": "AROAEXAMPLEROLEID0001",
                        "arn": format!("arn:aws:iam::{account}:role/{role}"),
                        "accountId": account,
                        "userName": role
                    },
                    "attributes": {"creationDate": time, "mfaAuthenticated": "false"}
                }
            }),
            Identity::User { account, name } => json!({
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLEUSERID001",
                "arn": format!("arn:aws:iam::{account}:user/{name}"),
                "accountId": account,
                "accessKeyId": "AKIAEXAMPLEKEY000001",
                "userName": name
            }),
            Identity::Service(s) => json!({"type": "AWSService", "invokedBy": s}),
        }
    }

    /// The event's `Username` as event history shows it.
    fn username(&self) -> Option<String> {
        match self {
            Identity::AssumedRole { session, .. } => Some(session.clone()),
            Identity::User { name, .. } => Some(name.clone()),
            Identity::Service(_) => None,
        }
    }
}

/// One event in the history.
#[derive(Debug, Clone)]
pub struct TrailEvent {
    /// `EventName` (`CreateBucket`).
    pub name: String,
    /// `EventSource` (`s3.amazonaws.com`).
    pub source: String,
    /// `EventTime`.
    pub time: DateTime<Utc>,
    /// Who made the call.
    pub identity: Identity,
    /// `Resources[]`: (ResourceType, ResourceName); a type of `None` is left out.
    pub resources: Vec<(Option<String>, String)>,
    /// `errorCode` of a call that failed (it is recorded all the same).
    pub error_code: Option<String>,
}

impl TrailEvent {
    /// An event made by `identity` at `time`, naming no resource yet.
    pub fn new(name: &str, source: &str, time: DateTime<Utc>, identity: Identity) -> Self {
        TrailEvent {
            name: name.to_string(),
            source: source.to_string(),
            time,
            identity,
            resources: Vec::new(),
            error_code: None,
        }
    }

    /// Adds a resource of CloudTrail type `ty` (`AWS::S3::Bucket`) named `name`.
    pub fn resource(mut self, ty: &str, name: &str) -> Self {
        self.resources
            .push((Some(ty.to_string()), name.to_string()));
        self
    }

    /// Adds a resource without a `ResourceType`.
    pub fn untyped_resource(mut self, name: &str) -> Self {
        self.resources.push((None, name.to_string()));
        self
    }

    /// Marks the call as failed with this `errorCode`.
    pub fn failed(mut self, code: &str) -> Self {
        self.error_code = Some(code.to_string());
        self
    }
}

/// One `LookupEvents` request the mock received.
#[derive(Debug, Clone)]
pub struct Call {
    /// The region it was signed for.
    pub region: String,
    /// When it arrived.
    pub at: Instant,
    /// Its lookup attribute (key, value), if any.
    pub attribute: Option<(String, String)>,
    /// Whether it carried a `NextToken`.
    pub continued: bool,
    /// `StartTime` and `EndTime` as sent (epoch seconds).
    pub window: (Option<f64>, Option<f64>),
    /// The HTTP status answered.
    pub status: u16,
    /// Whether the rate limit refused it.
    pub throttled: bool,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
struct History {
    /// (region, insertion number, event).
    events: Vec<(String, u64, Value, TrailEvent)>,
    /// (region, error, remaining; u32::MAX = always).
    errors: Vec<(String, CtError, u32)>,
    /// (requests per second, burst) when the rate limit is enforced.
    rate: Option<(f64, f64)>,
    buckets: BTreeMap<String, Bucket>,
    calls: Vec<Call>,
    page_size: usize,
}

/// A running CloudTrail event-history mock.
pub struct CloudTrailMock {
    proxy: FaultProxy,
    history: Arc<Mutex<History>>,
    latency_ms: Arc<AtomicU32>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for CloudTrailMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudTrailMock")
            .field("url", &self.proxy.url())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CloudTrailMock {
    /// Starts an empty history on 127.0.0.1 answering pages of at most `page_size` events
    /// (the API's own maximum is 50).
    pub async fn start(page_size: usize) -> std::io::Result<CloudTrailMock> {
        let proxy = FaultProxy::start(None).await?;
        let history = Arc::new(Mutex::new(History {
            page_size: page_size.clamp(1, 50),
            ..History::default()
        }));
        let h = history.clone();
        let latency_ms = Arc::new(AtomicU32::new(0));
        proxy.inject(
            "cloudtrail",
            |r| r.header("x-amz-target").is_some_and(is_lookup_events),
            Fault::Respond(Responder(
                Arc::new(move |req| answer(&h, req)),
                latency_ms.clone(),
            )),
            Times::Always,
        );
        Ok(CloudTrailMock {
            proxy,
            history,
            latency_ms,
            next_id: AtomicU64::new(1),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// The proxy underneath, to layer faults or read the raw request log.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxy
    }

    /// Delays every answer by `ms` milliseconds.
    pub fn set_latency_ms(&self, ms: u32) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Records `event` in `region`'s history.
    pub fn add(&self, region: &str, event: TrailEvent) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let shown = render(region, n, &event);
        lock(&self.history)
            .events
            .push((region.to_string(), n, shown, event));
    }

    /// Answers the next `times` requests in `region` with `error` (`None`: every one).
    pub fn fail(&self, region: &str, error: CtError, times: Option<u32>) {
        lock(&self.history)
            .errors
            .push((region.to_string(), error, times.unwrap_or(u32::MAX)));
    }

    /// Enforces at most `per_second` requests per second per region, with bursts of up to
    /// `burst` (a token bucket per region that starts full); a request beyond it gets
    /// `ThrottlingException` and is counted in [`throttled`](Self::throttled).
    pub fn limit_rate(&self, per_second: f64, burst: f64) {
        lock(&self.history).rate = Some((per_second, burst.max(1.0)));
    }

    /// Every `LookupEvents` request so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.history).calls.clone()
    }

    /// How many requests the rate limit refused.
    pub fn throttled(&self) -> usize {
        lock(&self.history)
            .calls
            .iter()
            .filter(|c| c.throttled)
            .count()
    }
}

fn is_lookup_events(target: &str) -> bool {
    target == TARGET || target == format!("com.amazonaws.cloudtrail.v20131101.{TARGET}")
}

/// The event as `LookupEvents` shows it, with the record as a JSON string.
fn render(region: &str, n: u64, e: &TrailEvent) -> Value {
    let time = e.time.to_rfc3339_opts(SecondsFormat::Secs, true);
    let event_id = format!("{n:08x}-5c1e-4e6b-9a1d-{n:012x}");
    let account = match &e.identity {
        Identity::AssumedRole { account, .. } | Identity::User { account, .. } => account.clone(),
        Identity::Service(_) => "123456789012".to_string(),
    };
    let mut record = json!({
        "eventVersion": "1.10",
        "userIdentity": e.identity.user_identity(&time),
        "eventTime": time,
        "eventSource": e.source,
        "eventName": e.name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.17.0 md/command#create",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{n:012x}"),
        "eventID": event_id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management"
    });
    if let Some(code) = &e.error_code {
        record["errorCode"] = json!(code);
        record["errorMessage"] = json!(format!("{code}: the request failed"));
    }
    let resources: Vec<Value> = e
        .resources
        .iter()
        .map(|(ty, name)| match ty {
            Some(t) => json!({"ResourceType": t, "ResourceName": name}),
            None => json!({"ResourceName": name}),
        })
        .collect();
    let mut shown = json!({
        "EventId": event_id,
        "EventName": e.name,
        "ReadOnly": "false",
        "AccessKeyId": record["userIdentity"]["accessKeyId"].as_str().unwrap_or("ASIAEXAMPLESERVICE01"),
        "EventTime": e.time.timestamp_millis() as f64 / 1000.0,
        "EventSource": e.source,
        "Resources": resources,
        "CloudTrailEvent": record.to_string()
    });
    if let Some(u) = e.identity.username() {
        shown["Username"] = json!(u);
    }
    shown
}

/// A JSON 1.1 answer with the headers AWS sends.
fn json_answer(status: u16, body: Value) -> crate::Answer {
    (
        status,
        vec![
            (
                "Content-Type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
            ("x-amzn-RequestId".to_string(), "mock-request".to_string()),
        ],
        body.to_string(),
    )
}

fn error(code: &str, message: &str) -> crate::Answer {
    json_answer(400, json!({"__type": code, "message": message}))
}

fn answer(history: &Mutex<History>, req: &Request) -> crate::Answer {
    let region = signed_region(req).unwrap_or_else(|| "us-east-1".into());
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let attribute = body
        .get("LookupAttributes")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .map(|a| {
            (
                a.get("AttributeKey")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                a.get("AttributeValue")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        });
    let window = (
        body.get("StartTime").and_then(Value::as_f64),
        body.get("EndTime").and_then(Value::as_f64),
    );
    let mut h = lock(history);
    let mut call = Call {
        region: region.clone(),
        at: Instant::now(),
        attribute: attribute.clone(),
        continued: body.get("NextToken").is_some(),
        window,
        status: 200,
        throttled: false,
    };
    let out = respond(&mut h, &region, &body, &mut call);
    call.status = out.0;
    h.calls.push(call);
    out
}

fn respond(h: &mut History, region: &str, body: &Value, call: &mut Call) -> crate::Answer {
    if let Some((per_second, burst)) = h.rate {
        let now = call.at;
        let b = h.buckets.entry(region.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_second).min(burst);
        b.at = now;
        if b.tokens < 1.0 {
            call.throttled = true;
            return CtError::Throttling { retry_after: None }.answer();
        }
        b.tokens -= 1.0;
    }
    if let Some(e) = h
        .errors
        .iter_mut()
        .find(|(r, _, left)| r == region && *left > 0)
    {
        if e.2 != u32::MAX {
            e.2 -= 1;
        }
        return e.1.answer();
    }
    if !body.is_object() {
        return error(
            "SerializationException",
            "the request body is not a JSON object",
        );
    }
    let attrs = body
        .get("LookupAttributes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if attrs.len() > 1 {
        return error(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        );
    }
    const KEYS: [&str; 8] = [
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    ];
    let filter = match attrs.first() {
        None => None,
        Some(a) => {
            let key = a.get("AttributeKey").and_then(Value::as_str).unwrap_or("");
            let value = a.get("AttributeValue").and_then(Value::as_str);
            match value {
                Some(v) if KEYS.contains(&key) && !v.is_empty() => {
                    Some((key.to_string(), v.to_string()))
                }
                _ => {
                    return error(
                        "InvalidLookupAttributesException",
                        "The lookup attribute is not valid.",
                    );
                }
            }
        }
    };
    let size = match body.get("MaxResults").map(Value::as_i64) {
        None => 50,
        Some(Some(n)) if (1..=50).contains(&n) => n as usize,
        Some(_) => {
            return error(
                "InvalidMaxResultsException",
                "MaxResults must be between 1 and 50.",
            );
        }
    }
    .min(h.page_size);
    let now = Utc::now();
    let oldest = now - Duration::days(RETENTION_DAYS);
    let secs = |v: Option<f64>, default: DateTime<Utc>| {
        v.and_then(|s| DateTime::from_timestamp_millis((s * 1000.0) as i64))
            .unwrap_or(default)
    };
    let start = secs(call.window.0, oldest);
    let end = secs(call.window.1, now);
    if start > end {
        return error(
            "InvalidTimeRangeException",
            "Start time must be before end time.",
        );
    }
    let mut hits: Vec<&(String, u64, Value, TrailEvent)> = h
        .events
        .iter()
        .filter(|(r, _, _, e)| r == region && e.time >= start && e.time <= end && e.time >= oldest)
        .filter(|(_, _, shown, e)| match &filter {
            None => true,
            Some((key, v)) => match key.as_str() {
                "ResourceName" => e.resources.iter().any(|(_, n)| n == v),
                "ResourceType" => e.resources.iter().any(|(t, _)| t.as_deref() == Some(v)),
                "EventName" => &e.name == v,
                "EventSource" => &e.source == v,
                other => shown.get(other).and_then(Value::as_str) == Some(v),
            },
        })
        .collect();
    // Newest first, as the service answers.
    hits.sort_by(|a, b| b.3.time.cmp(&a.3.time).then(b.1.cmp(&a.1)));
    let fingerprint = {
        let mut s = std::collections::hash_map::DefaultHasher::new();
        format!(
            "{region}|{filter:?}|{:?}|{:?}",
            call.window.0, call.window.1
        )
        .hash(&mut s);
        format!("{:016x}", s.finish())
    };
    let from = match body.get("NextToken").and_then(Value::as_str) {
        None => 0,
        Some(t) => match t
            .split_once(':')
            .filter(|(f, _)| *f == fingerprint)
            .and_then(|(_, n)| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => {
                return error(
                    "InvalidNextTokenException",
                    "A token that is not valid, or a token that was previously used in a request with different parameters.",
                );
            }
        },
    };
    let page: Vec<Value> = hits
        .iter()
        .skip(from)
        .take(size)
        .map(|(_, _, shown, _)| shown.clone())
        .collect();
    let mut out = json!({ "Events": page });
    if from + size < hits.len() {
        out["NextToken"] = json!(format!("{fingerprint}:{}", from + size));
    }
    json_answer(200, out)
}
