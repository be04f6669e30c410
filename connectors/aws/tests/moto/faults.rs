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

/// The tagging API is asked for the largest pages it gives: 100 resources and 500 tags
/// a page (`ResourcesPerPage`, `TagsPerPage`; the API reference allows 1–100 and
/// 100–500). Its pages depend on each other, so a region's listing takes one round trip
/// per page; moto, like any server that applies the tag limit when it is not asked,
/// otherwise ends a page at 100 tags: 33 volumes with three tags each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tagging_api_is_asked_for_its_largest_pages() {
    let account = fresh_account();
    seed("tagged-volumes", &account);
    let proxy = FaultProxy::start(Some(&moto())).await.unwrap();
    let res = resources_through(proxy.url(), sdk_for(&account).await, 4).await;
    let volumes: Vec<&Resource> = res.iter().filter(|r| r.id.contains(":volume/")).collect();
    assert_eq!(volumes.len(), 120);
    assert!(volumes.iter().all(|v| v.tags.len() == 3), "{volumes:?}");
    let pages = proxy
        .requests()
        .iter()
        .filter(|r| op_in("GetResources", "eu-west-1")(r))
        .count();
    assert_eq!(
        pages, 2,
        "tagging-API pages for 120 tagged volumes in eu-west-1"
    );
}

/// Jobs start longest first, since the last ones to start set the end of the scan: the
/// tagging API's pages (a chain of dependent pages, which started last ran on alone after
/// the rest had finished) and the buckets (a location, then tagging and replication)
/// before the services listed in one call per region. With one call at a time the order
/// is exact: the first page before the first bucket, every page and bucket call before
/// the first single listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_start_longest_first_paged_listings_then_buckets_then_single_listings() {
    let account = fresh_account();
    seed("estate", &account);
    let proxy = FaultProxy::start(Some(&moto())).await.unwrap();
    let res = resources_through(proxy.url(), sdk_for(&account).await, 1).await;
    assert!(res.iter().any(|r| r.id.starts_with("arn:aws:s3:::")));
    let log = proxy.requests();
    let is_paged = |r: &Request| r.aws_operation().as_deref() == Some("GetResources");
    let is_bucket = |r: &Request| {
        ["?location", "?tagging", "?replication"]
            .iter()
            .any(|q| r.target.contains(q))
    };
    let is_single = |r: &Request| {
        matches!(
            r.aws_operation().as_deref(),
            Some("DescribeVolumes" | "DescribeInstances" | "ListTables")
        ) || r.path().starts_with("/2015-03-31/functions")
    };
    let first = |f: &dyn Fn(&Request) -> bool| log.iter().position(f).expect("such a request");
    let last = |f: &dyn Fn(&Request) -> bool| log.iter().rposition(f).expect("such a request");
    assert!(
        first(&is_paged) < first(&is_bucket),
        "the first bucket call (request {}) before the tagging API (request {})",
        first(&is_bucket),
        first(&is_paged)
    );
    for (what, l) in [
        ("tagging-API page", last(&is_paged)),
        ("bucket call", last(&is_bucket)),
    ] {
        assert!(
            l < first(&is_single),
            "a {what} (request {l}) after the first single listing (request {})",
            first(&is_single)
        );
    }
}

/// A scan of the account behind `sdk` (both regions, at most `max_concurrency` calls in
/// flight), recorded from moto once and then replayed with `latency` per request: the
/// replay server keeps connections alive as AWS does (moto closes each one) and reports
/// what it saw. Returns the resources of both runs, the server's stats and its timeline.
async fn recorded_then_replayed(
    account: &str,
    sdk: SdkConfig,
    latency: &str,
    max_concurrency: usize,
) -> (
    Vec<Resource>,
    Vec<Resource>,
    serde_json::Value,
    serde_json::Value,
) {
    use cloudcensus_faultproxy::replay::{LatencyTable, Recordings, record, replay};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let path = std::env::temp_dir().join(format!("cc-replayed-{account}.jsonl"));
    let _ = std::fs::remove_file(&path);
    let scan_through = |url: String| resources_through(url, sdk.clone(), max_concurrency);
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

    let recs = Recordings::load(std::slice::from_ref(&path)).unwrap();
    let _ = std::fs::remove_file(&path);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let table = LatencyTable::parse(latency).unwrap();
    let server = tokio::spawn(async move {
        replay(0, recs, table, move |a| {
            let _ = tx.send(a);
        })
        .await
    });
    let addr = rx.await.unwrap();
    let replayed = scan_through(format!("http://{addr}")).await;
    let get = |path: &'static str| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nconnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        let text = String::from_utf8_lossy(&got).to_string();
        let body = text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let timeline = get("/__replay/timeline").await;
    let stats = get("/__replay/stats").await;
    server.abort();
    assert_eq!(stats["misses"], 0, "{stats}");
    (recorded, replayed, stats, timeline)
}

/// Every SDK client of a source (each service and region) draws on one connection pool:
/// with two calls in flight the scan opens a handful of connections, not one or more per
/// SDK client (16 here: seven listings in two regions, S3 and STS), which against AWS
/// would each cost a TCP and TLS handshake. Counted by the replay server on a recording
/// of the scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_sdk_clients_of_a_source_share_one_connection_pool() {
    let account = fresh_account();
    seed("estate", &account);
    let (recorded, replayed, stats, _) =
        recorded_then_replayed(&account, sdk_for(&account).await, "*=5", 2).await;
    assert!(recorded.len() >= 8, "{recorded:?}");
    assert_eq!(replayed.len(), recorded.len());
    let requests = stats["requests"].as_u64().unwrap();
    // The timeline request's connection is not the scan's.
    let opened = stats["connections"].as_u64().unwrap() - 1;
    assert!(requests > 20, "{requests} requests");
    assert!(
        opened <= 4,
        "{opened} connections for {requests} requests at max_concurrency = 2"
    );
}

/// Calls that do not depend on each other are asked side by side, so that no job is a
/// chain of them: EC2's instances and volumes, RDS's instances and clusters, and a
/// bucket's tagging and replication (both after its location; the second on a spare
/// slot, so the budget here leaves slots free). Read from the replay server's timeline,
/// with 200 ms per call: one after the other would be 200 ms apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_independent_calls_are_asked_side_by_side() {
    let account = fresh_account();
    seed("estate", &account);
    let (_, replayed, _, timeline) =
        recorded_then_replayed(&account, sdk_for(&account).await, "*=200", 64).await;
    assert!(replayed.iter().any(|r| r.id.contains(":volume/")));
    let rows = timeline.as_array().unwrap();
    // Arrival (ms) of the first `op` signed for `region` whose path is `path`.
    let at = |op: &str, region: &str, path: &str| {
        rows.iter()
            .find(|r| r[2] == op && r[3] == region && r[4] == path)
            .map(|r| r[0].as_u64().unwrap() / 1000)
            .unwrap_or_else(|| panic!("no {op} in {region} for {path}: {timeline}"))
    };
    for region in REGIONS {
        for (a, b) in [
            ("ec2:DescribeInstances", "ec2:DescribeVolumes"),
            ("rds:DescribeDBInstances", "rds:DescribeDBClusters"),
        ] {
            let (ta, tb) = (at(a, region, "/"), at(b, region, "/"));
            assert!(
                ta.abs_diff(tb) < 100,
                "{region}: {a} at {ta} ms, {b} at {tb} ms"
            );
        }
    }
    let buckets: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r[2] == "s3:GetBucketReplication")
        .map(|r| r[4].as_str().unwrap())
        .collect();
    assert!(buckets.len() >= 5, "{buckets:?}");
    for path in buckets {
        let find = |op: &str| {
            rows.iter()
                .find(|r| r[2] == op && r[4] == path)
                .map(|r| r[0].as_u64().unwrap() / 1000)
                .unwrap_or_else(|| panic!("no {op} for {path}: {timeline}"))
        };
        let (location, tagging, replication) = (
            find("s3:GetBucketLocation"),
            find("s3:GetBucketTagging"),
            find("s3:GetBucketReplication"),
        );
        assert!(
            tagging >= location + 200,
            "{path}: tagging before its location"
        );
        assert!(
            tagging.abs_diff(replication) < 100,
            "{path}: tagging at {tagging} ms, replication at {replication} ms"
        );
    }
}
