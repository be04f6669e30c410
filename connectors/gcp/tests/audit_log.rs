//! Creator lookups through Cloud Logging `entries.list` (`POST /v2/entries:list`) against
//! a local mock answering as the REST reference documents (`{"entries": [LogEntry…],
//! "nextPageToken": …}`, AIP-193 error bodies), with entries shaped as Google's
//! published Admin Activity examples (`fixtures/logging/`): paging, 429 with and without
//! `Retry-After`, `PERMISSION_DENIED`, a failed create, the same short name in another
//! zone, and resources older than the log's 400 days.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cloudcensus_core::{Connector, CoverageStatus, CreatorStatus, LookupTarget, Provider, Scope};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::*;

const BUCKET: &str = "storage.googleapis.com/Bucket";
const INSTANCE: &str = "compute.googleapis.com/Instance";
const VM: &str = "//compute.googleapis.com/projects/alpha-prod/zones/europe-west4-a/instances/vm-1";

/// A `fixtures/logging/` file with `{{ago:DAYS}}` replaced by `now` minus that many days.
fn entries(rel: &str, now: DateTime<Utc>) -> ResponseTemplate {
    let mut text = fixture(rel);
    while let Some(at) = text.find("{{ago:") {
        let end = at + text[at..].find("}}").expect("closed token");
        let days: f64 = text[at + 6..end].parse().expect("days");
        let t = now - chrono::Duration::milliseconds((days * 86_400_000.0) as i64);
        text.replace_range(
            at..end + 2,
            &t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        );
    }
    ResponseTemplate::new(200).set_body_raw(text, "application/json")
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

/// `entries:list` requests for one project, matched on the body's `pageToken`.
fn list(project: &'static str, token: Option<&'static str>) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v2/entries:list"))
        .and(move |r: &Request| {
            let b = body(r);
            b["resourceNames"] == serde_json::json!([format!("projects/{project}")])
                && b.get("pageToken").and_then(Value::as_str) == token
        })
}

fn target(id: &str, ty: &str, created_at: Option<DateTime<Utc>>) -> LookupTarget {
    LookupTarget {
        resource_id: id.into(),
        name: id.rsplit('/').next().unwrap().into(),
        resource_type: ty.into(),
        location: Some("europe-west4".into()),
        created_at,
    }
}

fn bucket(name: &str, created_at: Option<DateTime<Utc>>) -> LookupTarget {
    target(
        &format!("//storage.googleapis.com/{name}"),
        BUCKET,
        created_at,
    )
}

async fn requests(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v2/entries:list")
        .map(body)
        .collect()
}

async fn connector(server: &MockServer) -> cloudcensus_gcp::GcpConnector {
    connect(&local_config(
        "projects/alpha-prod",
        &server.uri(),
        &server.uri(),
    ))
    .await
}

#[tokio::test]
async fn creators_come_from_the_create_entries_of_exactly_that_resource_across_pages_and_429s() {
    let server = MockServer::start().await;
    let now = Utc::now();
    // Page 1: throttled once without Retry-After (backoff), then served.
    list("alpha-prod", None)
        .respond_with(json(429, "errors/logging-quota-exceeded.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    list("alpha-prod", None)
        .respond_with(entries("logging/entries-alpha-page1.json", now))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    // Page 2: throttled once with Retry-After: 1, then served.
    list("alpha-prod", Some("le-page-2"))
        .respond_with(
            json(429, "errors/logging-quota-exceeded.json").insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    list("alpha-prod", Some("le-page-2"))
        .respond_with(entries("logging/entries-alpha-page2.json", now))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;

    let c = connector(&server).await;
    let logs_created = now - chrono::Duration::days(30);
    let targets = [
        bucket("alpha-logs", Some(logs_created)),
        target(VM, INSTANCE, None),
        bucket("alpha-archive", Some(now - chrono::Duration::days(500))),
        target(
            "//run.googleapis.com/projects/alpha-prod/locations/europe-west4/services/web",
            "run.googleapis.com/Service",
            None,
        ),
    ];
    let out = c
        .creators(&Scope::new(Provider::Gcp, "alpha-prod"), &targets)
        .await;
    assert_eq!(out.creators.len(), 4);
    for (cr, t) in out.creators.iter().zip(&targets) {
        assert_eq!(cr.resource_id, t.resource_id);
        assert_eq!(cr.provider, Provider::Gcp);
    }

    let logs = &out.creators[0];
    assert_eq!(logs.status, CreatorStatus::Found, "{logs:?}");
    assert_eq!(
        logs.principal.as_deref(),
        Some("jan.jansen@minvoorbeeld.nl")
    );
    assert_eq!(logs.source, "audit-log:storage.buckets.create");
    assert!((logs.event_time.unwrap() - logs_created).abs() < chrono::Duration::minutes(1));

    // Not eve (vm-1 in europe-west1-b), not bob (ALREADY_EXISTS): the deployer's insert,
    // at its first entry, naming who delegated.
    let vm = &out.creators[1];
    assert_eq!(vm.status, CreatorStatus::Found, "{vm:?}");
    assert_eq!(
        vm.principal.as_deref(),
        Some(
            "deployer@alpha-prod.iam.gserviceaccount.com (delegated by piet.pietersen@minvoorbeeld.nl)"
        )
    );
    assert_eq!(vm.source, "audit-log:v1.compute.instances.insert");
    let first = now - chrono::Duration::days(90);
    assert!((vm.event_time.unwrap() - first).abs() < chrono::Duration::minutes(1));

    let old = &out.creators[2];
    assert_eq!(old.status, CreatorStatus::OlderThanRetention);
    assert_eq!(old.display(), "unknown (older than 400 days)");
    let run = &out.creators[3];
    assert_eq!(run.status, CreatorStatus::NotLookedUp);
    assert!(
        run.detail
            .as_deref()
            .unwrap()
            .contains("audit-log-creates.csv"),
        "{run:?}"
    );

    assert_eq!(
        statuses(&out.coverage),
        [row(
            "alpha-prod",
            "creator-lookup:audit-log",
            CoverageStatus::Scanned
        )]
    );

    // What the mock received: one filter for both resources, the 400-day window (one
    // resource has no creation time), the log, the create methods; not the old bucket.
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 4, "two pages, each throttled once");
    for b in &sent {
        assert_eq!(b["orderBy"], "timestamp asc");
        assert_eq!(b["pageSize"], 1000);
        assert_eq!(b["filter"], sent[0]["filter"]);
    }
    let f = sent[0]["filter"].as_str().unwrap();
    assert!(
        f.starts_with(
            "logName=\"projects/alpha-prod/logs/cloudaudit.googleapis.com%2Factivity\" AND timestamp>=\""
        ),
        "{f}"
    );
    assert!(
        f.contains(
            "protoPayload.resourceName=(\"projects/alpha-prod/zones/europe-west4-a/instances/vm-1\" OR \"projects/_/buckets/alpha-logs\")"
        ),
        "{f}"
    );
    assert!(
        f.contains(
            "protoPayload.methodName:(\"compute.instances.insert\" OR \"storage.buckets.create\")"
        ),
        "{f}"
    );
    assert!(!f.contains("alpha-archive"), "{f}");
    let since: DateTime<Utc> = f
        .split("timestamp>=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((since - (now - chrono::Duration::days(400))).abs() < chrono::Duration::minutes(5));
}

#[tokio::test]
async fn a_denied_lookup_is_denied_coverage_and_every_creator_says_why() {
    let server = MockServer::start().await;
    list("beta-denied", None)
        .respond_with(json(403, "errors/logging-permission-denied.json"))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    // 45 buckets: two requests' worth (40 names a request); the denial stops the second.
    let targets: Vec<LookupTarget> = (0..45)
        .map(|n| bucket(&format!("beta-{n:02}"), None))
        .collect();
    let out = c
        .creators(&Scope::new(Provider::Gcp, "beta-denied"), &targets)
        .await;
    assert_eq!(out.creators.len(), 45);
    for cr in &out.creators {
        assert_eq!(cr.status, CreatorStatus::Failed, "{cr:?}");
        let why = cr.detail.as_deref().unwrap();
        assert!(why.contains("denied"), "{why}");
        assert!(why.contains("PERMISSION_DENIED"), "{why}");
        assert!(cr.display().starts_with("unknown ("));
    }
    assert!(
        out.creators[44]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("not looked up"),
        "{:?}",
        out.creators[44]
    );
    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(
        statuses(&out.coverage),
        [row(
            "beta-denied",
            "creator-lookup:audit-log",
            CoverageStatus::Denied
        )]
    );
    let msg = out.coverage[0].message.as_deref().unwrap();
    assert!(msg.contains("logging.logEntries.list"), "{msg}");
    assert!(msg.contains("roles/logging.viewer"), "{msg}");
    assert!(msg.contains("5 more resources not looked up"), "{msg}");
}

#[tokio::test]
async fn throttling_beyond_the_retries_is_throttled_coverage_and_failed_creators() {
    let server = MockServer::start().await;
    list("delta-sub", None)
        .respond_with(
            json(429, "errors/logging-quota-exceeded.json").insert_header("Retry-After", "0"),
        )
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let targets = [bucket(
        "delta-1",
        Some(Utc::now() - chrono::Duration::days(2)),
    )];
    let out = c
        .creators(&Scope::new(Provider::Gcp, "delta-sub"), &targets)
        .await;
    let cr = &out.creators[0];
    assert_eq!(cr.status, CreatorStatus::Failed);
    assert!(
        cr.detail.as_deref().unwrap().contains("throttled"),
        "{cr:?}"
    );
    assert_eq!(
        statuses(&out.coverage),
        [row(
            "delta-sub",
            "creator-lookup:audit-log",
            CoverageStatus::Throttled
        )]
    );
    assert!(
        out.coverage[0]
            .message
            .as_deref()
            .unwrap()
            .contains("RESOURCE_EXHAUSTED")
    );
    // The test policy makes three attempts; a known creation time narrows the window.
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    let f = sent[0]["filter"].as_str().unwrap();
    let since: DateTime<Utc> = f
        .split("timestamp>=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (since - (Utc::now() - chrono::Duration::days(3))).abs() < chrono::Duration::minutes(5)
    );
}

#[tokio::test]
async fn resources_older_than_the_log_or_of_unknown_types_are_answered_without_a_request() {
    let server = MockServer::start().await;
    list("alpha-prod", None)
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let targets = [
        bucket("ancient", Some(Utc::now() - chrono::Duration::days(401))),
        target(
            "//file.googleapis.com/projects/alpha-prod/locations/europe-west4-a/instances/nfs",
            "file.googleapis.com/Instance",
            None,
        ),
    ];
    let out = c
        .creators(&Scope::new(Provider::Gcp, "alpha-prod"), &targets)
        .await;
    assert_eq!(out.creators[0].status, CreatorStatus::OlderThanRetention);
    assert_eq!(out.creators[0].display(), "unknown (older than 400 days)");
    assert_eq!(out.creators[1].status, CreatorStatus::NotLookedUp);
    assert!(out.coverage.is_empty(), "no request, no coverage");
}

#[tokio::test]
async fn a_resource_without_a_create_entry_is_older_than_the_log_unless_it_is_known_to_be_newer() {
    let server = MockServer::start().await;
    let now = Utc::now();
    // Only vm-1's entries: no bucket was created in the window.
    list("alpha-prod", None)
        .respond_with(entries("logging/entries-alpha-page2.json", now))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let recent = now - chrono::Duration::days(10);
    let targets = [bucket("quiet", None), bucket("fresh", Some(recent))];
    let out = c
        .creators(&Scope::new(Provider::Gcp, "alpha-prod"), &targets)
        .await;
    assert_eq!(out.creators[0].status, CreatorStatus::OlderThanRetention);
    assert_eq!(out.creators[0].display(), "unknown (older than 400 days)");
    // Created ten days ago, yet no create entry: the log cannot say, and the answer says
    // so instead of claiming an age it knows is wrong.
    let fresh = &out.creators[1];
    assert_eq!(fresh.status, CreatorStatus::Failed);
    assert!(
        fresh
            .detail
            .as_deref()
            .unwrap()
            .contains("no successful storage.buckets.create"),
        "{fresh:?}"
    );
    assert_eq!(out.coverage[0].status, CoverageStatus::Scanned);
}

#[tokio::test]
async fn requests_are_paced_across_a_projects_batches() {
    let server = MockServer::start().await;
    list("alpha-prod", None)
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/json"))
        .expect(2)
        .mount(&server)
        .await;
    let c = connector(&server)
        .await
        .with_logging_interval(Duration::from_millis(600));
    let targets: Vec<LookupTarget> = (0..41)
        .map(|n| bucket(&format!("p-{n:02}"), None))
        .collect();
    let started = Instant::now();
    let out = c
        .creators(&Scope::new(Provider::Gcp, "alpha-prod"), &targets)
        .await;
    // Two requests one interval apart: the second waited for the first's turn to end.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    assert!(
        out.creators
            .iter()
            .all(|c| c.status == CreatorStatus::OlderThanRetention)
    );
}

#[tokio::test]
async fn a_source_with_creator_lookup_off_asks_nothing() {
    let server = MockServer::start().await;
    list("alpha-prod", None)
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut cfg = local_config("projects/alpha-prod", &server.uri(), &server.uri());
    cfg.creator_lookup = false;
    let c = connect(&cfg).await;
    let out = c
        .creators(
            &Scope::new(Provider::Gcp, "alpha-prod"),
            &[bucket("alpha-logs", None)],
        )
        .await;
    assert_eq!(out.creators[0].status, CreatorStatus::NotLookedUp);
    assert!(out.coverage.is_empty());
}
