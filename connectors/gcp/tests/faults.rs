//! The fault matrix for Google Cloud: `cloudcensus-faultproxy` in front of the REST mock
//! (Resource Manager `projects.get`, Cloud Asset `searchAllResources` over three pages,
//! Cloud Storage `buckets.list` over two pages) injects 429 storms with and without
//! `Retry-After`, 503 bursts, connection resets, answers slower than
//! `request_timeout_secs` and a truncated JSON page. Retries and timeouts come from the
//! source configuration, set small so each case runs in seconds.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cloudcensus_core::{Connector, Coverage, CoverageStatus, Scope};
use cloudcensus_faultproxy::{Fault, FaultProxy, Request, Times};
use cloudcensus_gcp::GcpConnector;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const PROJECT: &str = "alpha-prod";
const CAI: &str = "cloudasset";
const GCS: &str = "storage";
const RM: &str = "cloudresourcemanager";

struct Estate {
    _mock: MockServer,
    proxy: FaultProxy,
}

async fn estate() -> Estate {
    let mock = MockServer::start().await;
    let proxy = FaultProxy::start(Some(&mock.uri())).await.unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/v3/projects/{PROJECT}")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"name":"projects/111111111111","parent":"folders/200","projectId":"{PROJECT}","state":"ACTIVE","displayName":"Alpha"}}"#
            ),
            "application/json",
        ))
        .mount(&mock)
        .await;
    let cai = || {
        Mock::given(method("GET")).and(path(format!("/v1/projects/{PROJECT}:searchAllResources")))
    };
    cai()
        .respond_with(json(200, "cai/alpha-page1.json"))
        .with_priority(5)
        .mount(&mock)
        .await;
    for (token, file) in [
        ("cai-page-2", "cai/alpha-page2.json"),
        ("cai-page-3", "cai/alpha-page3.json"),
    ] {
        cai()
            .and(query_param("pageToken", token))
            .respond_with(json(200, file))
            .with_priority(1)
            .mount(&mock)
            .await;
    }
    let buckets = || {
        Mock::given(method("GET"))
            .and(path("/storage/v1/b"))
            .and(query_param("project", PROJECT))
    };
    buckets()
        .and(query_param("pageToken", "st-page-2"))
        .respond_with(json(200, "storage/alpha-page2.json"))
        .with_priority(1)
        .mount(&mock)
        .await;
    buckets()
        .respond_with(json(200, "storage/alpha-page1.json"))
        .with_priority(5)
        .mount(&mock)
        .await;
    Estate { _mock: mock, proxy }
}

/// Connects through the proxy with retries and timeout from the configuration.
async fn connect_via(e: &Estate, timeout_secs: u64) -> GcpConnector {
    let url = e.proxy.url();
    let mut cfg = local_config(&format!("projects/{PROJECT}"), &url, &url);
    cfg.max_attempts = 3;
    cfg.retry_base_delay_ms = 10;
    cfg.request_timeout_secs = timeout_secs;
    cloudcensus_gcp::connect(&cfg).await.expect("connect")
}

async fn scan(c: &GcpConnector) -> (BTreeSet<String>, Vec<Coverage>) {
    let scopes = c.scopes().await.expect("scopes");
    assert_eq!(scopes.len(), 1);
    let scope: &Scope = &scopes[0];
    let (resources, mut coverage) = inventory(c, scope).await;
    coverage.extend(c.discovery_coverage());
    (resources.into_iter().map(|r| r.id).collect(), coverage)
}

/// The ids a fault-free scan of the same estate finds.
async fn complete() -> BTreeSet<String> {
    let e = estate().await;
    let (ids, cov) = scan(&connect_via(&e, 5).await).await;
    assert!(
        cov.iter().all(|c| c.status == CoverageStatus::Scanned),
        "{cov:?}"
    );
    // 11: the mock_api estate (page 3 carries Spanner, Firestore, KMS and Artifact
    // Registry assets besides the SQL instance).
    assert_eq!(ids.len(), 11, "{ids:?}");
    ids
}

fn cov<'c>(coverage: &'c [Coverage], service: &str) -> &'c Coverage {
    coverage
        .iter()
        .find(|c| c.service == service)
        .unwrap_or_else(|| panic!("no {service} coverage in {coverage:?}"))
}

fn cai_page(token: &'static str) -> impl Fn(&Request) -> bool + Send + Sync {
    move |r: &Request| {
        r.path().ends_with(":searchAllResources")
            && (if token.is_empty() {
                !r.target.contains("pageToken=cai")
            } else {
                r.target.contains(&format!("pageToken={token}"))
            })
    }
}

fn storage() -> impl Fn(&Request) -> bool + Send + Sync {
    |r: &Request| r.path() == "/storage/v1/b"
}

fn exhausted() -> String {
    fixture("errors/resource-exhausted.json")
}

const UNAVAILABLE: &str = r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#;

#[tokio::test]
async fn transient_429_with_and_without_retry_after_and_503_burst_are_retried_to_a_complete_inventory()
 {
    let all = complete().await;
    let e = estate().await;
    e.proxy.inject(
        "429+retry-after",
        cai_page("cai-page-2"),
        Fault::status_with(429, ("Retry-After", "1"), exhausted()),
        Times::N(1),
    );
    e.proxy.inject(
        "429",
        cai_page("cai-page-3"),
        Fault::status(429, exhausted()),
        Times::N(2),
    );
    e.proxy.inject(
        "503",
        storage(),
        Fault::status(503, UNAVAILABLE),
        Times::N(2),
    );
    let c = connect_via(&e, 5).await;
    let started = Instant::now();
    let (ids, coverage) = scan(&c).await;
    let took = started.elapsed();
    assert_eq!(
        (
            e.proxy.hits("429+retry-after"),
            e.proxy.hits("429"),
            e.proxy.hits("503")
        ),
        (1, 2, 2)
    );
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After ignored: {took:?}"
    );
    assert_eq!(ids, all);
    assert!(
        coverage.iter().all(|c| c.status == CoverageStatus::Scanned),
        "{coverage:?}"
    );
}

#[tokio::test]
async fn endless_429_storm_is_throttled_coverage_for_that_service_only() {
    let e = estate().await;
    e.proxy.inject(
        "storm",
        storage(),
        Fault::status_with(429, ("Retry-After", "0"), exhausted()),
        Times::Always,
    );
    let c = connect_via(&e, 5).await;
    let (ids, coverage) = scan(&c).await;
    assert_eq!(e.proxy.hits("storm"), 3, "max_attempts = 3");
    let st = cov(&coverage, GCS);
    assert_eq!(st.status, CoverageStatus::Throttled, "{st:?}");
    assert!(
        st.message
            .as_deref()
            .unwrap()
            .contains("gave up after 3 attempts"),
        "{st:?}"
    );
    assert_eq!(cov(&coverage, CAI).status, CoverageStatus::Scanned);
    assert_eq!(cov(&coverage, RM).status, CoverageStatus::Scanned);
    // Cloud Asset Inventory still delivered every resource it knows (10 of the 11; the
    // eleventh is a bucket only the storage listing returns).
    assert_eq!(ids.len(), 10, "{ids:?}");
}

#[tokio::test]
async fn connection_resets_are_retried_and_a_persistent_reset_is_error_coverage() {
    let all = complete().await;
    let e = estate().await;
    e.proxy.inject(
        "reset-mid-response",
        cai_page("cai-page-2"),
        Fault::ResetMidResponse,
        Times::N(1),
    );
    e.proxy
        .inject("reset", storage(), Fault::Reset, Times::N(2));
    let c = connect_via(&e, 5).await;
    let (ids, coverage) = scan(&c).await;
    assert_eq!(
        (e.proxy.hits("reset-mid-response"), e.proxy.hits("reset")),
        (1, 2)
    );
    assert_eq!(ids, all);
    assert!(
        coverage.iter().all(|c| c.status == CoverageStatus::Scanned),
        "{coverage:?}"
    );

    let e = estate().await;
    e.proxy
        .inject("reset-always", cai_page(""), Fault::Reset, Times::Always);
    let c = connect_via(&e, 5).await;
    let (ids, coverage) = scan(&c).await;
    assert_eq!(e.proxy.hits("reset-always"), 3);
    let a = cov(&coverage, CAI);
    assert_eq!(a.status, CoverageStatus::Error, "{a:?}");
    assert!(
        a.message.as_deref().unwrap().contains("after 3 attempts"),
        "{a:?}"
    );
    assert_eq!(cov(&coverage, GCS).status, CoverageStatus::Scanned);
    // Not zero resources silently: the buckets are listed and the gap is on record.
    assert_eq!(ids.len(), 3, "{ids:?}");
}

#[tokio::test]
async fn answers_slower_than_request_timeout_are_error_coverage_naming_the_timeout_in_bounded_time()
{
    let e = estate().await;
    e.proxy.inject(
        "slow",
        cai_page(""),
        Fault::Delay(Duration::from_secs(30)),
        Times::Always,
    );
    e.proxy
        .inject("hang", storage(), Fault::Hang, Times::Always);
    let c = connect_via(&e, 1).await;
    let started = Instant::now();
    let (ids, coverage) = scan(&c).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for service in [CAI, GCS] {
        let c = cov(&coverage, service);
        assert_eq!(c.status, CoverageStatus::Error, "{c:?}");
        assert!(
            c.message
                .as_deref()
                .unwrap()
                .contains("no answer within request_timeout_secs = 1 s"),
            "{c:?}"
        );
    }
    assert_eq!(cov(&coverage, RM).status, CoverageStatus::Scanned);
    assert!(ids.is_empty());
}

#[tokio::test]
async fn truncated_json_page_is_error_coverage_naming_the_page_and_what_was_left_out() {
    let e = estate().await;
    e.proxy.inject(
        "truncated-cai",
        cai_page("cai-page-3"),
        Fault::TruncateBody,
        Times::Always,
    );
    e.proxy.inject(
        "truncated-storage",
        |r: &Request| r.path() == "/storage/v1/b" && r.target.contains("pageToken=st-page-2"),
        Fault::TruncateBody,
        Times::Always,
    );
    let c = connect_via(&e, 5).await;
    let (ids, coverage) = scan(&c).await;
    assert_eq!(e.proxy.hits("truncated-cai"), 1);
    assert_eq!(e.proxy.hits("truncated-storage"), 1);
    let a = cov(&coverage, CAI);
    assert_eq!(a.status, CoverageStatus::Error, "{a:?}");
    let msg = a.message.as_deref().unwrap();
    assert!(msg.contains("page 3 failed"), "{msg}");
    assert!(
        msg.contains("the 4 resources of the 2 earlier page(s) are not recorded"),
        "{msg}"
    );
    let s = cov(&coverage, GCS);
    assert_eq!(s.status, CoverageStatus::Error, "{s:?}");
    let msg = s.message.as_deref().unwrap();
    assert!(msg.contains("page 2 failed"), "{msg}");
    assert!(msg.contains("unexpected bucket list response"), "{msg}");
    // Nothing of a failed list is presented as if it were the whole list.
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn request_timeout_of_zero_is_a_configuration_error_naming_the_key() {
    let mut cfg = local_config(
        "projects/alpha-prod",
        "http://127.0.0.1:1",
        "http://127.0.0.1:1",
    );
    cfg.request_timeout_secs = 0;
    let problems = cfg.validate().unwrap_err().join("\n");
    assert!(
        problems.contains("`request_timeout_secs` = 0"),
        "{problems}"
    );
}
