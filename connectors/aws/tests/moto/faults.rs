//! The fault matrix for AWS: `cloudcensus-faultproxy` in front of the real moto server
//! injects faults for chosen operations in chosen regions (the region is read from the
//! SigV4 credential scope): a 503 burst, 429 with and without `Retry-After`, an endless
//! 429 storm, connection resets, a hanging endpoint and a truncated XML page. Retries
//! and timeouts come from the source configuration (`max_attempts`,
//! `retry_base_delay_ms`, `request_timeout_secs`), set small so each case runs in seconds.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_types::SdkConfig;
use cloudcensus_aws::connect_with_sdk_config;
use cloudcensus_core::{Connector, Coverage, CoverageStatus, Resource};
use cloudcensus_faultproxy::{Fault, FaultProxy, Request, Times};

use super::{fresh_account, moto, scan, sdk_for, seed};

const REGIONS: [&str; 2] = ["eu-west-1", "eu-central-1"];

/// Lambda's throttling answer (REST-JSON protocol).
const LAMBDA_429: &str =
    r#"{"Type":"User","message":"Rate exceeded","reason":"CallerRateLimitExceeded"}"#;
/// EC2's answer while the service is unavailable.
const EC2_503: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>Unavailable</Code><Message>The server is overloaded and can't handle the request.</Message></Error></Errors><RequestID>f1e2d3c4-0000-4000-8000-000000000001</RequestID></Response>";

/// Requests for `op` (query/JSON protocol operation, or a path prefix for REST) signed
/// for `region`.
fn op_in(op: &'static str, region: &'static str) -> impl Fn(&Request) -> bool + Send + Sync {
    move |r: &Request| {
        let signed_for = r
            .header("authorization")
            .is_some_and(|a| a.contains(&format!("/{region}/")));
        let is_op = if op.starts_with('/') {
            r.path().starts_with(op)
        } else {
            r.aws_operation().as_deref() == Some(op)
        };
        signed_for && is_op
    }
}

fn lambda_429(retry_after: Option<&str>) -> Fault {
    let mut headers = vec![(
        "x-amzn-ErrorType".to_string(),
        "TooManyRequestsException".to_string(),
    )];
    if let Some(ra) = retry_after {
        headers.push(("Retry-After".to_string(), ra.to_string()));
    }
    Fault::Status {
        status: 429,
        headers,
        body: LAMBDA_429.to_string(),
    }
}

fn ec2_503() -> Fault {
    Fault::Status {
        status: 503,
        headers: vec![("Content-Type".into(), "text/xml;charset=UTF-8".into())],
        body: EC2_503.to_string(),
    }
}

struct Run {
    ids: BTreeSet<String>,
    coverage: Vec<Coverage>,
    took: Duration,
}

async fn run(proxy: &FaultProxy, account: &str, timeout_secs: u64) -> Run {
    let mut cfg = super::config(&REGIONS);
    cfg.endpoint_url = Some(proxy.url());
    cfg.cloud_control = false;
    cfg.max_attempts = 3;
    cfg.retry_base_delay_ms = 10;
    cfg.request_timeout_secs = timeout_secs;
    let conn = connect_with_sdk_config(&cfg, sdk_for(account).await)
        .await
        .expect("connect through the proxy");
    let scopes = conn.scopes().await.unwrap();
    let started = Instant::now();
    let (res, coverage) = scan(&conn, &scopes[0]).await;
    Run {
        ids: res.into_iter().map(|r| r.id).collect(),
        coverage,
        took: started.elapsed(),
    }
}

fn cov<'c>(r: &'c Run, region: &str, service: &str) -> &'c Coverage {
    r.coverage
        .iter()
        .find(|c| c.region == region && c.service == service)
        .unwrap_or_else(|| panic!("no {region}/{service} coverage in {:?}", r.coverage))
}

fn all_scanned_but(r: &Run, gaps: &[(&str, &str)]) {
    for c in &r.coverage {
        if !gaps
            .iter()
            .any(|(region, svc)| c.region == *region && c.service == *svc)
        {
            assert_eq!(c.status, CoverageStatus::Scanned, "{c:?}");
        }
    }
}

/// A seeded account and the result of a fault-free scan of it through the proxy.
async fn baseline() -> (String, FaultProxy, Run) {
    let account = fresh_account();
    seed("estate", &account);
    let proxy = FaultProxy::start(Some(&moto())).await.unwrap();
    let clean = run(&proxy, &account, 5).await;
    all_scanned_but(&clean, &[]);
    assert!(clean.ids.len() >= 8, "{:?}", clean.ids);
    (account, proxy, clean)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_503_burst_and_429_with_and_without_retry_after_are_retried_to_a_complete_inventory()
 {
    let (account, proxy, clean) = baseline().await;
    proxy.inject(
        "503",
        op_in("DescribeInstances", "eu-west-1"),
        ec2_503(),
        Times::N(2),
    );
    proxy.inject(
        "429+retry-after",
        op_in("/2015-03-31/functions", "eu-west-1"),
        lambda_429(Some("1")),
        Times::N(1),
    );
    proxy.inject(
        "429",
        op_in("/2015-03-31/functions", "eu-central-1"),
        lambda_429(None),
        Times::N(2),
    );
    let r = run(&proxy, &account, 5).await;
    assert_eq!(
        (
            proxy.hits("503"),
            proxy.hits("429+retry-after"),
            proxy.hits("429")
        ),
        (2, 1, 2)
    );
    assert_eq!(r.ids, clean.ids);
    all_scanned_but(&r, &[]);
    assert_eq!(r.coverage.len(), clean.coverage.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_429_storm_is_throttled_coverage_for_that_region_and_service_only() {
    let (account, proxy, clean) = baseline().await;
    proxy.inject(
        "storm",
        op_in("/2015-03-31/functions", "eu-west-1"),
        lambda_429(None),
        Times::Always,
    );
    let r = run(&proxy, &account, 5).await;
    assert_eq!(proxy.hits("storm"), 3, "max_attempts = 3");
    let c = cov(&r, "eu-west-1", "lambda");
    assert_eq!(c.status, CoverageStatus::Throttled, "{c:?}");
    assert!(
        c.message
            .as_deref()
            .unwrap()
            .contains("TooManyRequestsException"),
        "{c:?}"
    );
    assert_eq!(
        cov(&r, "eu-central-1", "lambda").status,
        CoverageStatus::Scanned
    );
    all_scanned_but(&r, &[("eu-west-1", "lambda")]);
    // Exactly the Dublin function is missing; everything else was listed.
    let missing: Vec<&String> = clean.ids.difference(&r.ids).collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains(":eu-west-1:") && missing[0].contains("dublin-fn"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried_and_a_persistent_reset_is_error_coverage() {
    let (account, proxy, clean) = baseline().await;
    proxy.inject(
        "reset-mid-response",
        op_in("DescribeDBInstances", "eu-central-1"),
        Fault::ResetMidResponse,
        Times::N(1),
    );
    proxy.inject(
        "reset",
        op_in("DescribeInstances", "eu-west-1"),
        Fault::Reset,
        Times::N(2),
    );
    let r = run(&proxy, &account, 5).await;
    assert_eq!(
        (proxy.hits("reset-mid-response"), proxy.hits("reset")),
        (1, 2)
    );
    assert_eq!(r.ids, clean.ids);
    all_scanned_but(&r, &[]);

    proxy.inject(
        "reset-always",
        op_in("/2015-02-01/file-systems", "eu-west-1"),
        Fault::Reset,
        Times::Always,
    );
    let r = run(&proxy, &account, 5).await;
    assert_eq!(proxy.hits("reset-always"), 3);
    let c = cov(&r, "eu-west-1", "elasticfilesystem");
    assert_eq!(c.status, CoverageStatus::Error, "{c:?}");
    assert!(
        c.message
            .as_deref()
            .unwrap()
            .starts_with("elasticfilesystem:DescribeFileSystems: "),
        "{c:?}"
    );
    all_scanned_but(&r, &[("eu-west-1", "elasticfilesystem")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_endpoint_is_error_coverage_naming_the_timeout_in_bounded_time() {
    let (account, proxy, _clean) = baseline().await;
    proxy.inject(
        "hang",
        op_in("ListTables", "eu-west-1"),
        Fault::Hang,
        Times::Always,
    );
    proxy.inject(
        "slow",
        op_in("DescribeDBClusters", "eu-central-1"),
        Fault::Delay(Duration::from_secs(30)),
        Times::Always,
    );
    let r = run(&proxy, &account, 1).await;
    // 3 attempts × 1 s plus short backoffs; the two calls run side by side.
    assert!(r.took < Duration::from_secs(10), "took {:?}", r.took);
    for (region, svc) in [("eu-west-1", "dynamodb"), ("eu-central-1", "rds")] {
        let c = cov(&r, region, svc);
        assert_eq!(c.status, CoverageStatus::Error, "{c:?}");
        assert!(
            c.message
                .as_deref()
                .unwrap()
                .contains("no answer within request_timeout_secs"),
            "{c:?}"
        );
    }
    all_scanned_but(&r, &[("eu-west-1", "dynamodb"), ("eu-central-1", "rds")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_json_page_is_error_coverage_naming_the_operation() {
    let (account, proxy, clean) = baseline().await;
    proxy.inject(
        "truncated",
        op_in("ListTables", "eu-west-1"),
        Fault::TruncateBody,
        Times::Always,
    );
    let r = run(&proxy, &account, 5).await;
    assert!(proxy.hits("truncated") >= 1);
    let c = cov(&r, "eu-west-1", "dynamodb");
    assert_eq!(c.status, CoverageStatus::Error, "{c:?}");
    assert!(
        c.message
            .as_deref()
            .unwrap()
            .starts_with("dynamodb:ListTables: "),
        "{c:?}"
    );
    all_scanned_but(&r, &[("eu-west-1", "dynamodb")]);
    // The Dublin table is missing from the listing, and the gap says so.
    let missing: Vec<&String> = clean.ids.difference(&r.ids).collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains(":eu-west-1:") && missing[0].contains("table/people"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_xml_page_is_error_coverage_not_a_silently_short_listing() {
    // The SDK's XML deserialiser accepts a page cut off mid-document; the connector's
    // interceptor checks that the root element closes.
    let (account, proxy, clean) = baseline().await;
    proxy.inject(
        "truncated-xml",
        op_in("DescribeVolumes", "eu-west-1"),
        Fault::TruncateBody,
        Times::Always,
    );
    let r = run(&proxy, &account, 5).await;
    assert!(proxy.hits("truncated-xml") >= 1);
    let c = cov(&r, "eu-west-1", "ec2");
    assert_eq!(c.status, CoverageStatus::Error, "{c:?}");
    let msg = c.message.as_deref().unwrap();
    assert!(
        msg.starts_with("ec2:DescribeVolumes: ") && msg.contains("truncated XML response"),
        "{c:?}"
    );
    all_scanned_but(&r, &[("eu-west-1", "ec2")]);
    assert!(
        clean
            .ids
            .iter()
            .any(|id| id.contains(":eu-west-1:") && id.contains(":volume/"))
    );
}

#[test]
fn request_timeout_of_zero_is_a_configuration_error_naming_the_key() {
    let mut cfg = cloudcensus_aws::AwsSourceConfig::new("x");
    cfg.request_timeout_secs = 0;
    let err = cfg.validate().unwrap_err();
    assert!(err.contains("`request_timeout_secs` = 0"), "{err}");
}

/// The resources of the account behind `sdk`, listed through `url` in both regions,
/// without Cloud Control, with at most `max_concurrency` calls in flight.
async fn resources_through(url: String, sdk: SdkConfig, max_concurrency: usize) -> Vec<Resource> {
    let mut cfg = super::config(&REGIONS);
    cfg.endpoint_url = Some(url);
    cfg.cloud_control = false;
    cfg.max_concurrency = max_concurrency;
    let conn = connect_with_sdk_config(&cfg, sdk).await.unwrap();
    let scopes = conn.scopes().await.unwrap();
    scan(&conn, &scopes[0]).await.0
}

/// The paged listings of every region are started before the buckets, which are one job
/// each: a region's chain of pages started last would run on alone after the rest had
/// finished. With one call at a time the order is exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_region_listings_are_started_before_the_bucket_jobs() {
    let account = fresh_account();
    seed("estate", &account);
    let proxy = FaultProxy::start(Some(&moto())).await.unwrap();
    let res = resources_through(proxy.url(), sdk_for(&account).await, 1).await;
    assert!(res.iter().any(|r| r.id.starts_with("arn:aws:s3:::")));
    let log = proxy.requests();
    let is_location = |r: &Request| r.target.contains("?location");
    let is_region_listing = |r: &Request| {
        matches!(
            r.aws_operation().as_deref(),
            Some("GetResources" | "DescribeVolumes" | "DescribeInstances" | "ListTables")
        ) || r.path().starts_with("/2015-03-31/functions")
    };
    let first_bucket = log
        .iter()
        .position(is_location)
        .expect("a GetBucketLocation");
    let last_listing = log
        .iter()
        .rposition(is_region_listing)
        .expect("region listings");
    assert!(
        last_listing < first_bucket,
        "a region listing (request {last_listing}) after the first bucket's (request {first_bucket})"
    );
}

/// Every SDK client of a source (each service and region) draws on one connection pool:
/// with two calls in flight the scan opens a handful of connections, not one or more per
/// SDK client (16 here: seven listings in two regions, S3 and STS), which against AWS
/// would each cost a TCP and TLS handshake. Counted by the replay server, which keeps
/// connections alive as AWS does (moto closes each one), on a recording of the scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_sdk_clients_of_a_source_share_one_connection_pool() {
    use cloudcensus_faultproxy::replay::{LatencyTable, Recordings, record, replay};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let account = fresh_account();
    seed("estate", &account);
    let sdk = sdk_for(&account).await;
    let path = std::env::temp_dir().join(format!("cc-pool-{account}.jsonl"));
    let _ = std::fs::remove_file(&path);
    let scan_through = |url: String| resources_through(url, sdk.clone(), 2);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (up, out) = (moto(), path.clone());
    let recorder = tokio::spawn(async move {
        record(0, &up, &out, move |a| {
            let _ = tx.send(a);
        })
        .await
    });
    let recorded = scan_through(format!("http://{}", rx.await.unwrap())).await;
    recorder.abort();
    assert!(recorded.len() >= 8, "{recorded:?}");

    let recs = Recordings::load(std::slice::from_ref(&path)).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        replay(0, recs, LatencyTable::parse("*=5").unwrap(), move |a| {
            let _ = tx.send(a);
        })
        .await
    });
    let addr = rx.await.unwrap();
    let replayed = scan_through(format!("http://{addr}")).await;
    assert_eq!(replayed.len(), recorded.len());

    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /__replay/stats HTTP/1.1\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).await.unwrap();
    server.abort();
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&got);
    let stats: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(stats["misses"], 0, "{stats}");
    let requests = stats["requests"].as_u64().unwrap();
    // The stats request's own connection is not the scan's.
    let opened = stats["connections"].as_u64().unwrap() - 1;
    assert!(requests > 20, "{requests} requests");
    assert!(
        opened <= 4,
        "{opened} connections for {requests} requests at max_concurrency = 2"
    );
}
