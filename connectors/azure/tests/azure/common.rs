//! Shared helpers: the mock server, a JWT-shaped test token, ARM payload builders.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use cloudcensus_azure::{AzureConnector, AzureSourceConfig, CredentialKind};
use cloudcensus_core::retry::RetryPolicy;
use cloudcensus_core::{Connector, Coverage, Observation, Resource, ResourceGroup, Scope};
use futures::StreamExt as _;
use serde_json::{Value, json};

pub const SUB_A: &str = "11111111-1111-1111-1111-111111111111";
pub const SUB_B: &str = "22222222-2222-2222-2222-222222222222";
pub const SUB_C: &str = "33333333-3333-3333-3333-333333333333";

/// The variable the tests' `access_token_env` names (looked up in an injected env).
pub const TOKEN_VAR: &str = "CLOUDCENSUS_TEST_AZURE_TOKEN";

/// An unsigned JWT with application claims, as Entra ID issues for a service principal.
pub fn test_token() -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        e.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
        e.encode(
            r#"{"aud":"https://management.azure.com","appid":"0a0a0a0a-cccc-4ccc-8ccc-000000000001","oid":"0b0b0b0b-dddd-4ddd-8ddd-000000000002","tid":"0c0c0c0c-eeee-4eee-8eee-000000000003"}"#
        )
    )
}

pub fn bearer() -> String {
    format!("Bearer {}", test_token())
}

/// A `token-env` configuration against the mock.
pub fn config(arm: &str) -> AzureSourceConfig {
    let mut cfg = AzureSourceConfig::new("mock");
    cfg.credential = CredentialKind::TokenEnv;
    cfg.access_token_env = Some(TOKEN_VAR.to_string());
    cfg.arm_endpoint = Some(arm.to_string());
    cfg.max_concurrency = 4;
    cfg
}

/// Connects with an injected environment holding the test token (and `extra`).
pub async fn connect(cfg: &AzureSourceConfig, extra: &[(&str, String)]) -> AzureConnector {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert(TOKEN_VAR.to_string(), test_token());
    for (k, v) in extra {
        env.insert(k.to_string(), v.clone());
    }
    cloudcensus_azure::connect_with_env(cfg, &|k| env.get(k).cloned())
        .await
        .expect("connect")
        .with_retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        })
}

/// An ARM list page: `{"value": [...], "nextLink": ...}`.
pub fn page(value: Value, next: Option<String>) -> Value {
    match next {
        Some(n) => json!({ "value": value, "nextLink": n }),
        None => json!({ "value": value }),
    }
}

/// The ARM error body.
pub fn arm_error(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message } })
}

/// Everything a scan of the given scopes observed, split by kind.
#[derive(Debug, Default)]
pub struct Scan {
    pub resources: Vec<Resource>,
    pub groups: Vec<ResourceGroup>,
    pub coverage: Vec<Coverage>,
}

pub async fn scan(c: &AzureConnector, scopes: &[Scope]) -> Scan {
    let mut out = Scan::default();
    for s in scopes {
        let mut stream = c.inventory(s);
        while let Some(item) = stream.next().await {
            match item.expect("inventory item") {
                Observation::Resource(r) => out.resources.push(r),
                Observation::ResourceGroup(g) => out.groups.push(g),
                Observation::Coverage(cv) => out.coverage.push(cv),
            }
        }
    }
    out.coverage.sort();
    out
}

/// `(scope, service, status)` of every coverage entry, sorted.
pub fn coverage_triples(scan: &Scan) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = scan
        .coverage
        .iter()
        .map(|c| {
            assert_eq!(c.region, "*", "{c:?}");
            (c.scope_id.clone(), c.service.clone(), c.status.to_string())
        })
        .collect();
    v.sort();
    v
}

/// `(name, type, location, replicas, resource group)` of one resource.
pub type Row = (String, String, Option<String>, Vec<String>, Option<String>);

/// `(name, type, location, replicas, resource group)` of every resource, sorted by name.
pub fn resource_rows(scan: &Scan) -> Vec<Row> {
    let mut v: Vec<_> = scan
        .resources
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                r.resource_type.clone(),
                r.location.clone(),
                r.replica_locations.clone(),
                r.resource_group.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

pub fn row(name: &str, ty: &str, loc: Option<&str>, replicas: &[&str], rg: &str) -> Row {
    (
        name.into(),
        ty.into(),
        loc.map(str::to_string),
        replicas.iter().map(|s| s.to_string()).collect(),
        Some(rg.into()),
    )
}

/// A Resource Manager payload from `tests/fixtures/arm/` (each follows a Microsoft
/// example, see the README there), with `{{sub}}` and `{{base}}` filled in.
pub fn fixture(name: &str, sub: &str, base: &str) -> Value {
    let path = format!("{}/tests/fixtures/arm/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let text = text.replace("{{sub}}", sub).replace("{{base}}", base);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
