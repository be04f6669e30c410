//! The fault matrix for Resource Manager: a fault-injecting proxy
//! (`cloudcensus-faultproxy`) in front of the wiremock Resource Manager mock injects 429
//! storms with and without `Retry-After`, 503 bursts, connection resets, answers slower
//! than `request_timeout_secs` and a truncated JSON page. Retry and timeout settings come
//! from the source configuration (`max_attempts`, `retry_base_delay_ms`,
//! `request_timeout_secs`), set small so every case runs in seconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cloudcensus_azure::{AzureConnector, service};
use cloudcensus_core::{Connector, CoverageStatus};
use cloudcensus_faultproxy::{Fault, FaultProxy, Request, Times};
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

/// The mock behind the proxy: two subscriptions, each with one resource group, two pages
/// of resources (the `nextLink` points at the proxy) and one storage account.
struct Estate {
    _mock: MockServer,
    proxy: FaultProxy,
}

fn vm(sub: &str, name: &str) -> serde_json::Value {
    json!({"id": format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}"),
           "name": name, "type": "Microsoft.Compute/virtualMachines", "location": "westeurope"})
}

async fn estate() -> Estate {
    let mock = MockServer::start().await;
    let proxy = FaultProxy::start(Some(&mock.uri())).await.unwrap();
    let base = proxy.url();
    let ok = |v: serde_json::Value| ResponseTemplate::new(200).set_body_json(v);
    Mock::given(method("GET"))
        .and(path("/subscriptions"))
        .respond_with(ok(page(
            json!([
                {"id": format!("/subscriptions/{SUB_A}"), "subscriptionId": SUB_A, "displayName": "A", "state": "Enabled"},
                {"id": format!("/subscriptions/{SUB_B}"), "subscriptionId": SUB_B, "displayName": "B", "state": "Enabled"}
            ]),
            None,
        )))
        .mount(&mock)
        .await;
    for sub in [SUB_A, SUB_B] {
        Mock::given(method("GET"))
            .and(path(format!("/subscriptions/{sub}/resourcegroups")))
            .respond_with(ok(page(
                json!([{"id": format!("/subscriptions/{sub}/resourceGroups/rg"), "name": "rg",
                        "type": "Microsoft.Resources/resourceGroups", "location": "westeurope"}]),
                None,
            )))
            .mount(&mock)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/subscriptions/{sub}/resources")))
            .and(query_param_is_missing("$skiptoken"))
            .respond_with(ok(page(
                json!([vm(sub, "vm-1"), vm(sub, "vm-2")]),
                Some(format!(
                    "{base}/subscriptions/{sub}/resources?%24expand=createdTime&api-version=2025-04-01&%24skiptoken=p2"
                )),
            )))
            .mount(&mock)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/subscriptions/{sub}/resources")))
            .and(query_param("$skiptoken", "p2"))
            .respond_with(ok(page(json!([vm(sub, "vm-3")]), None)))
            .mount(&mock)
            .await;
        Mock::given(method("GET"))
            .and(path(format!(
                "/subscriptions/{sub}/providers/Microsoft.Storage/storageAccounts"
            )))
            .respond_with(ok(page(
                json!([{"id": format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st{}", &sub[..4]),
                        "name": format!("st{}", &sub[..4]), "type": "Microsoft.Storage/storageAccounts",
                        "sku": {"name": "Standard_LRS"}, "location": "westeurope",
                        "properties": {"primaryLocation": "westeurope"}}]),
                None,
            )))
            .mount(&mock)
            .await;
    }
    Estate { _mock: mock, proxy }
}

/// Connects through the proxy with retry and timeout settings from the configuration.
async fn connect_via(e: &Estate, timeout_secs: u64) -> AzureConnector {
    let mut cfg = config(&e.proxy.url());
    cfg.max_attempts = 3;
    cfg.retry_base_delay_ms = 10;
    cfg.request_timeout_secs = timeout_secs;
    let token = test_token();
    let env: HashMap<String, String> = [(TOKEN_VAR.to_string(), token)].into();
    cloudcensus_azure::connect_with_env(&cfg, &|k| env.get(k).cloned())
        .await
        .expect("connect")
}

fn at(sub: &'static str, tail: &'static str) -> impl Fn(&Request) -> bool + Send + Sync {
    move |r: &Request| r.path() == format!("/subscriptions/{sub}{tail}")
}

fn second_page(sub: &'static str) -> impl Fn(&Request) -> bool + Send + Sync {
    move |r: &Request| {
        r.path() == format!("/subscriptions/{sub}/resources") && r.target.contains("skiptoken=p2")
    }
}

const THROTTLED: &str =
    r#"{"error":{"code":"TooManyRequests","message":"The request is being throttled."}}"#;
const UNAVAILABLE: &str = r#"{"error":{"code":"ServiceUnavailable","message":"The service is temporarily unavailable."}}"#;

async fn full_scan(c: &AzureConnector) -> Scan {
    let scopes = c.scopes().await.expect("scopes");
    assert_eq!(scopes.len(), 2);
    scan(c, &scopes).await
}

fn names(s: &Scan, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .resources
        .iter()
        .filter(|r| r.scope_id == sub)
        .map(|r| r.name.clone())
        .collect();
    v.sort();
    v
}

fn status_of(s: &Scan, sub: &str, svc: &str) -> (CoverageStatus, String) {
    let c = s
        .coverage
        .iter()
        .find(|c| c.scope_id == sub && c.service == svc)
        .unwrap_or_else(|| panic!("no coverage for {sub} {svc}: {:?}", s.coverage));
    (c.status, c.message.clone().unwrap_or_default())
}

fn complete() -> Vec<String> {
    ["stXXXX", "vm-1", "vm-2", "vm-3"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn complete_for(sub: &str) -> Vec<String> {
    let mut v = complete();
    v[0] = format!("st{}", &sub[..4]);
    v.sort();
    v
}

fn all_scanned_but(s: &Scan, gaps: &[(&str, &str)]) {
    for c in &s.coverage {
        if !gaps
            .iter()
            .any(|(sub, svc)| c.scope_id == *sub && c.service == *svc)
        {
            assert_eq!(c.status, CoverageStatus::Scanned, "{c:?}");
        }
    }
}

#[tokio::test]
async fn transient_429_with_and_without_retry_after_and_503_burst_are_retried_to_a_complete_inventory()
 {
    let e = estate().await;
    e.proxy.inject(
        "429+retry-after",
        second_page(SUB_A),
        Fault::status_with(429, ("Retry-After", "1"), THROTTLED),
        Times::N(1),
    );
    e.proxy.inject(
        "429",
        at(SUB_B, "/providers/Microsoft.Storage/storageAccounts"),
        Fault::status(429, THROTTLED),
        Times::N(2),
    );
    e.proxy.inject(
        "503",
        at(SUB_B, "/resourcegroups"),
        Fault::status(503, UNAVAILABLE),
        Times::N(2),
    );
    let c = connect_via(&e, 5).await;
    let started = Instant::now();
    let s = full_scan(&c).await;
    let took = started.elapsed();
    assert_eq!(e.proxy.hits("429+retry-after"), 1);
    assert_eq!(e.proxy.hits("429"), 2);
    assert_eq!(e.proxy.hits("503"), 2);
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured ({took:?})"
    );
    assert_eq!(names(&s, SUB_A), complete_for(SUB_A));
    assert_eq!(names(&s, SUB_B), complete_for(SUB_B));
    assert_eq!(s.groups.len(), 2);
    all_scanned_but(&s, &[]);
    assert_eq!(s.coverage.len(), 6);
}

#[tokio::test]
async fn endless_429_storm_is_throttled_coverage_for_that_subscription_and_service_only() {
    let e = estate().await;
    e.proxy.inject(
        "storm",
        at(SUB_A, "/resources"),
        Fault::status(429, THROTTLED),
        Times::Always,
    );
    e.proxy.inject(
        "storm+retry-after",
        at(SUB_B, "/providers/Microsoft.Storage/storageAccounts"),
        Fault::status_with(429, ("Retry-After", "1"), THROTTLED),
        Times::Always,
    );
    let c = connect_via(&e, 5).await;
    let s = full_scan(&c).await;
    assert_eq!(e.proxy.hits("storm"), 3, "max_attempts = 3");
    assert_eq!(e.proxy.hits("storm+retry-after"), 3);
    let (st, msg) = status_of(&s, SUB_A, service::RESOURCES);
    assert_eq!(st, CoverageStatus::Throttled, "{msg}");
    assert!(msg.contains("gave up after 3 attempts"), "{msg}");
    let (st, msg) = status_of(&s, SUB_B, service::STORAGE_ACCOUNTS);
    assert_eq!(st, CoverageStatus::Throttled, "{msg}");
    all_scanned_but(
        &s,
        &[
            (SUB_A, service::RESOURCES),
            (SUB_B, service::STORAGE_ACCOUNTS),
        ],
    );
    // Everything else was listed: SUB_A's storage account (from its own API) and all of
    // SUB_B's resources.
    assert_eq!(names(&s, SUB_A), [format!("st{}", &SUB_A[..4])]);
    assert_eq!(names(&s, SUB_B), ["vm-1", "vm-2", "vm-3"]);
}

#[tokio::test]
async fn connection_resets_are_retried_and_a_persistent_reset_is_error_coverage() {
    let e = estate().await;
    e.proxy.inject(
        "reset-mid-response",
        at(SUB_A, "/resourcegroups"),
        Fault::ResetMidResponse,
        Times::N(1),
    );
    e.proxy
        .inject("reset", second_page(SUB_A), Fault::Reset, Times::N(2));
    e.proxy.inject(
        "reset-always",
        at(SUB_B, "/resources"),
        Fault::Reset,
        Times::Always,
    );
    let c = connect_via(&e, 5).await;
    let s = full_scan(&c).await;
    assert_eq!(e.proxy.hits("reset-mid-response"), 1);
    assert_eq!(e.proxy.hits("reset"), 2);
    assert_eq!(e.proxy.hits("reset-always"), 3);
    assert_eq!(names(&s, SUB_A), complete_for(SUB_A));
    let (st, msg) = status_of(&s, SUB_B, service::RESOURCES);
    assert_eq!(st, CoverageStatus::Error, "{msg}");
    assert!(msg.contains("request failed"), "{msg}");
    assert!(msg.contains("after 3 attempts"), "{msg}");
    all_scanned_but(&s, &[(SUB_B, service::RESOURCES)]);
    // Never "zero resources" silently: the storage account is still listed, and the gap
    // is on record.
    assert_eq!(names(&s, SUB_B), [format!("st{}", &SUB_B[..4])]);
}

#[tokio::test]
async fn answers_slower_than_request_timeout_are_error_coverage_naming_the_timeout_in_bounded_time()
{
    let e = estate().await;
    e.proxy.inject(
        "slow",
        at(SUB_A, "/resources"),
        Fault::Delay(Duration::from_secs(30)),
        Times::Always,
    );
    e.proxy.inject(
        "hang",
        at(SUB_B, "/providers/Microsoft.Storage/storageAccounts"),
        Fault::Hang,
        Times::Always,
    );
    let c = connect_via(&e, 1).await;
    let started = Instant::now();
    let s = full_scan(&c).await;
    let took = started.elapsed();
    // 3 attempts × 1 s plus two short backoffs, per call; the two calls run side by side.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for (sub, svc) in [
        (SUB_A, service::RESOURCES),
        (SUB_B, service::STORAGE_ACCOUNTS),
    ] {
        let (st, msg) = status_of(&s, sub, svc);
        assert_eq!(st, CoverageStatus::Error, "{msg}");
        assert!(
            msg.contains("no answer within request_timeout_secs = 1 s"),
            "{msg}"
        );
    }
    all_scanned_but(
        &s,
        &[
            (SUB_A, service::RESOURCES),
            (SUB_B, service::STORAGE_ACCOUNTS),
        ],
    );
    assert_eq!(names(&s, SUB_B), ["vm-1", "vm-2", "vm-3"]);
}

#[tokio::test]
async fn truncated_json_page_is_error_coverage_naming_the_page_and_the_list_as_incomplete() {
    let e = estate().await;
    e.proxy.inject(
        "truncated",
        second_page(SUB_A),
        Fault::TruncateBody,
        Times::Always,
    );
    let c = connect_via(&e, 5).await;
    let s = full_scan(&c).await;
    assert_eq!(
        e.proxy.hits("truncated"),
        1,
        "a complete but invalid answer is not retried"
    );
    let (st, msg) = status_of(&s, SUB_A, service::RESOURCES);
    assert_eq!(st, CoverageStatus::Error, "{msg}");
    assert!(msg.contains("page 2 of the list failed"), "{msg}");
    assert!(msg.contains("list is incomplete"), "{msg}");
    assert!(msg.contains("not valid JSON"), "{msg}");
    // The first page's items are kept, next to the gap that says the list is partial.
    assert_eq!(
        names(&s, SUB_A),
        [format!("st{}", &SUB_A[..4]), "vm-1".into(), "vm-2".into()]
    );
    all_scanned_but(&s, &[(SUB_A, service::RESOURCES)]);
    assert_eq!(names(&s, SUB_B), complete_for(SUB_B));
}

#[test]
fn request_timeout_of_zero_is_a_configuration_error_naming_the_key() {
    let mut cfg = config("http://127.0.0.1:1");
    cfg.request_timeout_secs = 0;
    cfg.max_attempts = 0;
    let p = cfg.problems().join("\n");
    assert!(p.contains("`request_timeout_secs` = 0"), "{p}");
    assert!(p.contains("`max_attempts` = 0"), "{p}");
    let parsed: cloudcensus_azure::AzureSourceConfig = toml::from_str(
        "name = \"x\"\nrequest_timeout_secs = 30\nmax_attempts = 4\nretry_base_delay_ms = 50\n",
    )
    .unwrap();
    assert_eq!(
        (
            parsed.request_timeout_secs,
            parsed.max_attempts,
            parsed.retry_base_delay_ms
        ),
        (30, 4, 50)
    );
    assert_eq!(
        parsed.worst_case_call(),
        Duration::from_secs(4 * 30 + 3 * 30)
    );
}
