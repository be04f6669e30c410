//! Helpers shared by the test modules.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudcensus_core::retry::{FixedJitter, RetryPolicy};
use cloudcensus_core::{
    Category, Connector, Coverage, CoverageStatus, Observation, Provider, Resource, Scope,
};
use cloudcensus_gcp::{CredentialsKind, GcpConnector, GcpSourceConfig};
use futures::StreamExt;
use wiremock::ResponseTemplate;

/// A fixture file's content.
pub fn fixture(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A JSON response with a fixture body.
pub fn json(status: u16, rel: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(rel), "application/json")
}

/// A source config pointing every API at local servers, without credentials.
pub fn local_config(scope: &str, api: &str, storage: &str) -> GcpSourceConfig {
    let mut cfg = GcpSourceConfig::new("test-gcp", scope);
    cfg.credentials = CredentialsKind::Anonymous;
    cfg.asset_endpoint = Some(api.to_string());
    cfg.resourcemanager_endpoint = Some(api.to_string());
    cfg.storage_endpoint = Some(storage.to_string());
    cfg.logging_endpoint = Some(api.to_string());
    cfg.max_concurrency = 4;
    cfg
}

/// A short retry policy: 3 attempts, waits capped at 2 s (so a `Retry-After: 1` is
/// honoured in full).
pub fn test_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
    }
}

/// Connects with the test retry policy, fixed jitter and Cloud Logging requests 5 ms
/// apart (the production spacing of one second is tested apart).
pub async fn connect(cfg: &GcpSourceConfig) -> GcpConnector {
    cloudcensus_gcp::connect(cfg)
        .await
        .expect("connect")
        .with_retry_policy(test_retry())
        .with_jitter(Arc::new(FixedJitter(0.5)))
        .with_logging_interval(Duration::from_millis(5))
}

/// Collects a scope's inventory into resources and coverage.
pub async fn inventory(c: &GcpConnector, scope: &Scope) -> (Vec<Resource>, Vec<Coverage>) {
    let mut resources = Vec::new();
    let mut coverage = Vec::new();
    let mut s = c.inventory(scope);
    while let Some(item) = s.next().await {
        match item.expect("inventory item") {
            Observation::Resource(r) => resources.push(r),
            Observation::Coverage(cv) => coverage.push(cv),
            other => panic!("unexpected observation {other:?}"),
        }
    }
    (resources, coverage)
}

/// Builds an expected resource.
#[allow(clippy::too_many_arguments)]
pub fn resource(
    scope: &str,
    id: &str,
    resource_type: &str,
    category: Category,
    name: &str,
    location: Option<&str>,
    replicas: &[&str],
    tags: &[(&str, &str)],
    created: Option<&str>,
) -> Resource {
    Resource {
        provider: Provider::Gcp,
        scope_id: scope.into(),
        id: id.into(),
        resource_type: resource_type.into(),
        category,
        name: name.into(),
        location: location.map(str::to_string),
        replica_locations: replicas.iter().map(|s| s.to_string()).collect(),
        resource_group: None,
        tags: tags_of(tags),
        created_at: created.map(|c| c.parse::<DateTime<Utc>>().expect("timestamp")),
    }
}

/// A tag map.
pub fn tags_of(tags: &[(&str, &str)]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Coverage without its message, for exact comparison; messages are checked apart.
pub fn statuses(cov: &[Coverage]) -> Vec<(String, String, String, CoverageStatus)> {
    cov.iter()
        .map(|c| {
            (
                c.scope_id.clone(),
                c.region.clone(),
                c.service.clone(),
                c.status,
            )
        })
        .collect()
}

/// Shorthand for one expected status row.
pub fn row(
    scope: &str,
    service: &str,
    status: CoverageStatus,
) -> (String, String, String, CoverageStatus) {
    (scope.into(), "*".into(), service.into(), status)
}
