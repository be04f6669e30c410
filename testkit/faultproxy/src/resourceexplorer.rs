//! A local AWS Resource Explorer (`resource-explorer-2`) for tests: no emulator has one.
//!
//! It follows the API reference: REST-JSON (`POST /ListIndexes`, `/GetDefaultView`,
//! `/GetView`, `/ListSupportedResourceTypes`, `/ListResources`, `Content-Type:
//! application/json`), `NextToken` paging, and errors with the `x-amzn-ErrorType`
//! header and a `{"Message": ...}` body: 403 `AccessDeniedException`, 429
//! `ThrottlingException`, 401 `UnauthorizedException` (no default view), 400
//! `ValidationException`, 404 `ResourceNotFoundException`, 500 `InternalServerException`.
//! The region comes from the request's SigV4 credential scope, as at AWS.
//!
//! One trap of the real service is reproduced on purpose: `ListResources` with
//! `MaxResults` = 1000 answers the first 1000 resources and no `NextToken`.
//!
//! It runs on a [`FaultProxy`] without upstream, so the proxy's other faults can be
//! layered on top; dropping it is a killed endpoint.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::cloudcontrol::signed_region;
use crate::{Fault, FaultProxy, Request, Responder, Times};

/// The operations the mock answers (the request path without `/`).
pub const OPERATIONS: &[&str] = &[
    "ListIndexes",
    "GetDefaultView",
    "GetView",
    "ListSupportedResourceTypes",
    "ListResources",
];

/// An error the mock answers instead of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReError {
    /// 403 `AccessDeniedException`.
    AccessDenied,
    /// 429 `ThrottlingException`.
    Throttling,
    /// 401 `UnauthorizedException`.
    Unauthorized,
    /// 500 `InternalServerException`.
    Internal,
}

impl ReError {
    fn answer(self, op: &str) -> crate::Answer {
        let (status, code, msg) = match self {
            ReError::AccessDenied => (
                403,
                "AccessDeniedException",
                format!("User is not authorized to perform: resource-explorer-2:{op}"),
            ),
            ReError::Throttling => (429, "ThrottlingException", "Rate exceeded".to_string()),
            ReError::Unauthorized => (
                401,
                "UnauthorizedException",
                "The request is not authorized".to_string(),
            ),
            ReError::Internal => (
                500,
                "InternalServerException",
                "Internal service error".to_string(),
            ),
        };
        error_answer(status, code, &msg)
    }
}

/// One resource in the index.
#[derive(Debug, Clone)]
struct Indexed {
    arn: String,
    account: String,
    region: String,
    resource_type: String,
    service: String,
    tags: Vec<(String, String)>,
}

#[derive(Default)]
struct Estate {
    account: String,
    /// Region -> "LOCAL" | "AGGREGATOR".
    indexes: BTreeMap<String, String>,
    /// The default view's filter string ("" = none) and whether it includes tags.
    filter: String,
    tags_included: bool,
    /// Supported (service, resource type) pairs.
    supported: Vec<(String, String)>,
    resources: Vec<Indexed>,
    /// Operation -> (error, remaining times; u32::MAX = always).
    errors: BTreeMap<String, (ReError, u32)>,
    page_size: usize,
}

/// A running Resource Explorer mock.
pub struct ResourceExplorerMock {
    proxy: FaultProxy,
    estate: Arc<Mutex<Estate>>,
    latency_ms: Arc<AtomicU32>,
}

impl std::fmt::Debug for ResourceExplorerMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceExplorerMock")
            .field("url", &self.proxy.url())
            .finish_non_exhaustive()
    }
}

impl ResourceExplorerMock {
    /// Starts a mock for `account` with no index, answering pages of at most
    /// `page_size` resources. The supported types are those given to
    /// [`ResourceExplorerMock::support`].
    pub async fn start(account: &str, page_size: usize) -> std::io::Result<Self> {
        let proxy = FaultProxy::start(None).await?;
        let estate = Arc::new(Mutex::new(Estate {
            account: account.to_string(),
            tags_included: true,
            page_size: page_size.max(1),
            ..Estate::default()
        }));
        let st = estate.clone();
        let latency_ms = Arc::new(AtomicU32::new(0));
        proxy.inject(
            "resource-explorer-2",
            |r| r.method == "POST",
            Fault::Respond(Responder(
                Arc::new(move |req| answer(&st, req)),
                latency_ms.clone(),
            )),
            Times::Always,
        );
        Ok(ResourceExplorerMock {
            proxy,
            estate,
            latency_ms,
        })
    }

    /// Delays every answer by `ms` milliseconds.
    pub fn set_latency_ms(&self, ms: u32) {
        self.latency_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    fn with<T>(&self, f: impl FnOnce(&mut Estate) -> T) -> T {
        let mut e = self.estate.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut e)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// The proxy underneath.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxy
    }

    /// A local index in `region`; `aggregator` makes it the account's aggregator index
    /// (with a default view of every resource).
    pub fn index(&self, region: &str, aggregator: bool) {
        let kind = if aggregator { "AGGREGATOR" } else { "LOCAL" };
        self.with(|e| e.indexes.insert(region.to_string(), kind.to_string()));
    }

    /// Gives the default view a filter (`"service:ec2"`); `tags` false leaves tags out
    /// of the view's included properties.
    pub fn view(&self, filter: &str, tags: bool) {
        self.with(|e| {
            e.filter = filter.to_string();
            e.tags_included = tags;
        });
    }

    /// Declares resource types Resource Explorer supports (`("redshift", "redshift:cluster")`).
    pub fn support(&self, types: &[(&str, &str)]) {
        self.with(|e| {
            e.supported
                .extend(types.iter().map(|(s, t)| (s.to_string(), t.to_string())))
        });
    }

    /// Adds a resource to the index. Its region and type come from the ARN, as the
    /// service reports them (`global` for an ARN without a region); `account` is its
    /// owning account (a multi-account view reports other accounts' resources too).
    pub fn add(&self, account: &str, arn: &str, tags: &[(&str, &str)]) {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let service = parts.get(2).copied().unwrap_or_default().to_string();
        let region = match parts.get(3).copied().unwrap_or_default() {
            "" => "global".to_string(),
            r => r.to_string(),
        };
        let resource = parts.get(5).copied().unwrap_or_default();
        let kind = resource
            .split(['/', ':'])
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let resource_type = if kind.is_empty() || kind == resource {
            service.clone()
        } else {
            format!("{service}:{kind}")
        };
        let r = Indexed {
            arn: arn.to_string(),
            account: account.to_string(),
            region,
            resource_type,
            service,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        self.with(|e| e.resources.push(r));
    }

    /// Answers `times` calls of `op` (`"ListResources"`) with `error` (`None`: every call).
    pub fn fail(&self, op: &str, error: ReError, times: Option<u32>) {
        self.with(|e| {
            e.errors
                .insert(op.to_string(), (error, times.unwrap_or(u32::MAX)))
        });
    }

    /// Calls of `op` served so far.
    pub fn calls(&self, op: &str) -> usize {
        let path = format!("/{op}");
        self.proxy
            .requests()
            .iter()
            .filter(|r| r.target == path)
            .count()
    }
}

fn error_answer(status: u16, code: &str, message: &str) -> crate::Answer {
    (
        status,
        vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("x-amzn-ErrorType".to_string(), code.to_string()),
            ("x-amzn-RequestId".to_string(), "mock-request".to_string()),
        ],
        json!({ "Message": message }).to_string(),
    )
}

fn ok(body: Value) -> crate::Answer {
    (
        200,
        vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("x-amzn-RequestId".to_string(), "mock-request".to_string()),
        ],
        body.to_string(),
    )
}

fn view_arn(e: &Estate, region: &str) -> String {
    format!(
        "arn:aws:resource-explorer-2:{region}:{}:view/all-resources/0d5f3b6e-1c2a-4e7b-9f00-2a1b3c4d5e6f",
        e.account
    )
}

/// The page `[start, start + size)` of `n` items and the token for the next one.
fn page(body: &Value, n: usize, size: usize) -> Result<(usize, usize, Option<String>), String> {
    let start = match body.get("NextToken").and_then(Value::as_str) {
        None => 0,
        Some(t) => t
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| "The NextToken is not valid".to_string())?,
    };
    let end = (start + size).min(n);
    let next = (end < n).then(|| format!("page-{end}"));
    Ok((start, end, next))
}

fn answer(estate: &Mutex<Estate>, req: &Request) -> crate::Answer {
    let op = req.target.trim_start_matches('/').to_string();
    if !OPERATIONS.contains(&op.as_str()) {
        return error_answer(404, "UnknownOperationException", &format!("unknown {op}"));
    }
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return error_answer(400, "ValidationException", "body is not JSON"),
        }
    };
    let region = signed_region(req).unwrap_or_else(|| "us-east-1".into());
    let mut e = estate.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((err, left)) = e.errors.get_mut(&op)
        && *left > 0
    {
        if *left != u32::MAX {
            *left -= 1;
        }
        return err.answer(&op);
    }
    let max = |default: usize| {
        body.get("MaxResults")
            .and_then(Value::as_u64)
            .map_or(default, |m| m as usize)
    };
    if let Some(m) = body.get("MaxResults").and_then(Value::as_u64)
        && !(1..=1000).contains(&m)
    {
        return error_answer(
            400,
            "ValidationException",
            "MaxResults must be between 1 and 1000",
        );
    }
    let aggregator = e
        .indexes
        .iter()
        .find(|(_, k)| *k == "AGGREGATOR")
        .map(|(r, _)| r.clone());
    match op.as_str() {
        "ListIndexes" => {
            let want_type = body.get("Type").and_then(Value::as_str);
            let all: Vec<Value> = e
                .indexes
                .iter()
                .filter(|(_, k)| want_type.is_none_or(|t| t == k.as_str()))
                .map(|(r, k)| {
                    json!({
                        "Region": r,
                        "Type": k,
                        "Arn": format!("arn:aws:resource-explorer-2:{r}:{}:index/7c4b2e10-5d3a-4f1e-8b2c-{:012x}", e.account, r.len()),
                    })
                })
                .collect();
            let size = max(100).min(e.page_size);
            match page(&body, all.len(), size) {
                Ok((s, end, next)) => {
                    let mut out = json!({"Indexes": all[s..end]});
                    if let Some(n) = next {
                        out["NextToken"] = json!(n);
                    }
                    ok(out)
                }
                Err(m) => error_answer(400, "ValidationException", &m),
            }
        }
        "GetDefaultView" => {
            if aggregator.as_deref() == Some(region.as_str()) {
                ok(json!({"ViewArn": view_arn(&e, &region)}))
            } else {
                ok(json!({}))
            }
        }
        "GetView" => {
            let arn = body.get("ViewArn").and_then(Value::as_str).unwrap_or("");
            if aggregator.as_deref() != Some(region.as_str()) || arn != view_arn(&e, &region) {
                return error_answer(
                    404,
                    "ResourceNotFoundException",
                    &format!("The view {arn} does not exist"),
                );
            }
            let mut view = json!({
                "ViewArn": arn,
                "ViewName": "all-resources",
                "Owner": e.account,
                "Scope": format!("arn:aws:iam::{}:root", e.account),
                "LastUpdatedAt": "2026-11-02T09:15:00.000Z",
                "Filters": {"FilterString": e.filter},
                "IncludedProperties": if e.tags_included { json!([{"Name": "tags"}]) } else { json!([]) },
            });
            if e.filter.is_empty() {
                view.as_object_mut().map(|o| o.remove("Filters"));
            }
            ok(json!({"View": view, "Tags": {}}))
        }
        "ListSupportedResourceTypes" => {
            let all: Vec<Value> = e
                .supported
                .iter()
                .map(|(s, t)| json!({"Service": s, "ResourceType": t}))
                .collect();
            let size = max(100).min(e.page_size);
            match page(&body, all.len(), size) {
                Ok((s, end, next)) => {
                    let mut out = json!({"ResourceTypes": all[s..end]});
                    if let Some(n) = next {
                        out["NextToken"] = json!(n);
                    }
                    ok(out)
                }
                Err(m) => error_answer(400, "ValidationException", &m),
            }
        }
        _ => {
            // ListResources: without a view, the region's default view; a region
            // without one answers 401 as the service does.
            let arn = body
                .get("ViewArn")
                .and_then(Value::as_str)
                .map(str::to_string);
            let default = aggregator.as_deref() == Some(region.as_str());
            let valid = match &arn {
                Some(a) => default && *a == view_arn(&e, &region),
                None => default,
            };
            if !valid {
                return error_answer(
                    401,
                    "UnauthorizedException",
                    "The request is not authorized: no default view in this Region",
                );
            }
            let filter = e.filter.clone();
            let listed: Vec<&Indexed> = e
                .resources
                .iter()
                .filter(|r| e.indexes.contains_key(&r.region) || r.region == "global")
                .filter(|r| matches_filter(&filter, r))
                .collect();
            let requested = max(100);
            let size = requested.min(e.page_size);
            let (s, end, mut next) = match page(&body, listed.len(), size) {
                Ok(p) => p,
                Err(m) => return error_answer(400, "ValidationException", &m),
            };
            if requested == 1000 {
                next = None;
            }
            let resources: Vec<Value> = listed[s..end]
                .iter()
                .map(|r| {
                    let mut props = Vec::new();
                    if e.tags_included {
                        let tags: Vec<Value> = r
                            .tags
                            .iter()
                            .map(|(k, v)| json!({"Key": k, "Value": v}))
                            .collect();
                        props.push(json!({
                            "Name": "tags",
                            "LastReportedAt": "2026-11-30T22:04:11.000Z",
                            "Data": tags,
                        }));
                    }
                    json!({
                        "Arn": r.arn,
                        "OwningAccountId": r.account,
                        "Region": r.region,
                        "ResourceType": r.resource_type,
                        "Service": r.service,
                        "LastReportedAt": "2026-11-30T22:04:11.000Z",
                        "Properties": props,
                    })
                })
                .collect();
            let mut out = json!({"Resources": resources, "ViewArn": view_arn(&e, &region)});
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            ok(out)
        }
    }
}

/// The filter prefixes the mock understands (`service:`, `resourcetype:`, `region:`),
/// space-separated and ANDed, as in the service's query syntax.
fn matches_filter(filter: &str, r: &Indexed) -> bool {
    filter.split_whitespace().all(|term| {
        let (neg, term) = match term.strip_prefix('-') {
            Some(t) => (true, t),
            None => (false, term),
        };
        let hit = match term.split_once(':') {
            Some(("service", v)) => r.service == v,
            Some(("resourcetype", v)) => r.resource_type == v,
            Some(("region", v)) => match v.strip_suffix('*') {
                Some(prefix) => r.region.starts_with(prefix),
                None => r.region == v,
            },
            _ => true,
        };
        hit != neg
    })
}
