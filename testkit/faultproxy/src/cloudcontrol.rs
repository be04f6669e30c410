//! A local AWS Cloud Control API (`ListResources`) for tests: no emulator has one.
//!
//! It follows the API reference: AWS JSON 1.0 (`POST /`, `X-Amz-Target:
//! CloudApiService.ListResources`, `Content-Type: application/x-amz-json-1.0`), a request
//! with `TypeName`, `ResourceModel`, `MaxResults` and `NextToken`, an answer with
//! `TypeName`, `ResourceDescriptions[{Identifier, Properties}]` and `NextToken`, and
//! errors as HTTP 400 (500 for service faults) with `{"__type": ..., "Message": ...}`.
//! The region comes from the request's SigV4 credential scope, as at AWS, where every
//! region has its own endpoint.
//!
//! It runs on a [`FaultProxy`] without upstream, so every other fault of the proxy
//! (resets, hangs, delays) can be layered on top; dropping it is a killed endpoint.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::{Fault, FaultProxy, Request, Responder, Times};

/// An error the mock answers instead of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcError {
    /// 400 `AccessDeniedException` (the type's own list permission is missing).
    AccessDenied,
    /// 400 `ThrottlingException`.
    Throttling,
    /// 400 `UnsupportedActionException`: the type has no list handler.
    UnsupportedAction,
    /// 400 `TypeNotFoundException`: the type is not offered in this region.
    TypeNotFound,
    /// 500 `ServiceInternalErrorException`.
    Internal,
}

impl CcError {
    fn answer(self, type_name: &str, region: &str) -> (u16, Value) {
        let (status, code, msg) = match self {
            CcError::AccessDenied => (
                400,
                "AccessDeniedException",
                format!("User is not authorized to perform the list handler of {type_name}"),
            ),
            CcError::Throttling => (400, "ThrottlingException", "Rate exceeded".to_string()),
            CcError::UnsupportedAction => (
                400,
                "UnsupportedActionException",
                format!("Resource type {type_name} does not support LIST action"),
            ),
            CcError::TypeNotFound => (
                400,
                "TypeNotFoundException",
                format!("The type {type_name} cannot be found in {region}"),
            ),
            CcError::Internal => (
                500,
                "ServiceInternalErrorException",
                "Internal failure".to_string(),
            ),
        };
        // Qualified as AWS sends it; the SDK keeps what follows the '#'.
        (
            status,
            json!({"__type": format!("com.amazon.cloudapiservice#{code}"), "Message": msg}),
        )
    }
}

/// (region, type, parent identifier or "").
type Key = (String, String, String);
/// (identifier, properties JSON).
type Listed = (String, Option<String>);

#[derive(Default)]
struct Estate {
    /// Resources per (region, type, parent).
    resources: BTreeMap<Key, Vec<Listed>>,
    /// (region, type) -> (error, remaining times; u32::MAX = always).
    errors: BTreeMap<(String, String), (CcError, u32)>,
    page_size: usize,
}

/// A running Cloud Control mock.
pub struct CloudControlMock {
    proxy: FaultProxy,
    estate: Arc<Mutex<Estate>>,
    latency_ms: Arc<AtomicU32>,
}

impl std::fmt::Debug for CloudControlMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudControlMock")
            .field("url", &self.proxy.url())
            .finish_non_exhaustive()
    }
}

/// The region of a SigV4-signed request (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).
pub fn signed_region(req: &Request) -> Option<String> {
    let auth = req.header("authorization")?;
    let cred = auth.split("Credential=").nth(1)?;
    cred.split('/').nth(2).map(str::to_string)
}

impl CloudControlMock {
    /// Starts an empty mock on 127.0.0.1 answering pages of `page_size` resources.
    pub async fn start(page_size: usize) -> std::io::Result<CloudControlMock> {
        let proxy = FaultProxy::start(None).await?;
        let estate = Arc::new(Mutex::new(Estate {
            page_size: page_size.max(1),
            ..Estate::default()
        }));
        let st = estate.clone();
        let latency_ms = Arc::new(AtomicU32::new(0));
        proxy.inject(
            "cloudcontrol",
            |r| r.header("x-amz-target") == Some("CloudApiService.ListResources"),
            Fault::Respond(Responder(
                Arc::new(move |req| answer(&st, req)),
                latency_ms.clone(),
            )),
            Times::Always,
        );
        Ok(CloudControlMock {
            proxy,
            estate,
            latency_ms,
        })
    }

    /// Delays every answer by `ms` milliseconds (as a far region would).
    pub fn set_latency_ms(&self, ms: u32) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// The proxy underneath, to layer faults or read the request log.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxy
    }

    /// Adds a resource of `type_name` in `region`; `parent` is the identifier of the
    /// resource it is listed under (a Glue table's database), if any.
    pub fn add(
        &self,
        region: &str,
        type_name: &str,
        parent: Option<&str>,
        identifier: &str,
        properties: Option<Value>,
    ) {
        let mut e = self.estate.lock().unwrap_or_else(|p| p.into_inner());
        e.resources
            .entry((
                region.to_string(),
                type_name.to_string(),
                parent.unwrap_or_default().to_string(),
            ))
            .or_default()
            .push((identifier.to_string(), properties.map(|p| p.to_string())));
    }

    /// Answers `times` requests for `type_name` in `region` with `error`
    /// (`None`: every request).
    pub fn fail(&self, region: &str, type_name: &str, error: CcError, times: Option<u32>) {
        let mut e = self.estate.lock().unwrap_or_else(|p| p.into_inner());
        e.errors.insert(
            (region.to_string(), type_name.to_string()),
            (error, times.unwrap_or(u32::MAX)),
        );
    }

    /// The `ListResources` requests served so far.
    pub fn calls(&self) -> usize {
        self.proxy
            .requests()
            .iter()
            .filter(|r| r.header("x-amz-target") == Some("CloudApiService.ListResources"))
            .count()
    }
}

/// A JSON 1.0 answer with the headers AWS sends.
fn json_answer(status: u16, body: Value) -> crate::Answer {
    (
        status,
        vec![
            (
                "Content-Type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
            ("x-amzn-RequestId".to_string(), "mock-request".to_string()),
        ],
        body.to_string(),
    )
}

fn answer(estate: &Mutex<Estate>, req: &Request) -> crate::Answer {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return json_answer(
                400,
                json!({"__type": "SerializationException", "Message": "body is not JSON"}),
            );
        }
    };
    let Some(type_name) = body.get("TypeName").and_then(Value::as_str) else {
        return json_answer(
            400,
            json!({"__type": "ValidationException", "Message": "1 validation error detected: Value null at 'typeName' failed to satisfy constraint: Member must not be null"}),
        );
    };
    let region = signed_region(req).unwrap_or_else(|| "us-east-1".into());
    let mut e = estate.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((err, left)) = e.errors.get_mut(&(region.clone(), type_name.to_string()))
        && *left > 0
    {
        if *left != u32::MAX {
            *left -= 1;
        }
        let (status, body) = err.answer(type_name, &region);
        return json_answer(status, body);
    }
    // A ResourceModel names the parent; the mock matches any of its string values.
    let model: Option<Value> = body
        .get("ResourceModel")
        .and_then(Value::as_str)
        .and_then(|m| serde_json::from_str(m).ok());
    let parent_values: Vec<String> = model
        .as_ref()
        .and_then(Value::as_object)
        .map(|o| {
            o.values()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let all: Vec<Listed> = e
        .resources
        .iter()
        .filter(|((r, t, parent), _)| {
            r == &region
                && t == type_name
                && (parent.is_empty() == parent_values.is_empty())
                && (parent.is_empty() || parent_values.iter().any(|v| v == parent))
        })
        .flat_map(|(_, v)| v.iter().cloned())
        .collect();
    let size = body
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map(|m| m as usize)
        .unwrap_or(100)
        .min(e.page_size);
    let start = match body.get("NextToken").and_then(Value::as_str) {
        None => 0,
        Some(t) => match t
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => {
                return json_answer(
                    400,
                    json!({"__type": "InvalidRequestException", "Message": "Invalid NextToken"}),
                );
            }
        },
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(size)
        .map(|(id, props)| match props {
            Some(p) => json!({"Identifier": id, "Properties": p}),
            None => json!({"Identifier": id}),
        })
        .collect();
    let mut out = json!({"TypeName": type_name, "ResourceDescriptions": page});
    if start + size < all.len() {
        out["NextToken"] = json!(format!("page-{}", start + size));
    }
    json_answer(200, out)
}
