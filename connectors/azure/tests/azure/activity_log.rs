//! Creator lookups through the Activity Log (`ActivityLogs_List`, api-version
//! 2015-04-01) against a Resource Manager mock whose payloads follow Microsoft's
//! `GetActivityLogsFiltered.json` example (`tests/fixtures/arm/activitylog-*.json`):
//! `nextLink` paging, 429 with and without `Retry-After`, `AuthorizationFailed`, an
//! event for a same-named resource in another resource group, and resources older than
//! the log's 90 days.

use chrono::{DateTime, Duration, Utc};
use cloudcensus_azure::activity_log::{READ_ACTION, coverage_service};
use cloudcensus_core::{Connector, CoverageStatus, CreatorStatus, LookupTarget, Provider, Scope};
use wiremock::matchers::{method, path, query_param, query_param_contains, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const STORAGE: &str = "rg-data/providers/Microsoft.Storage/storageAccounts/stburgers";
const VAULT: &str = "rg-sec/providers/Microsoft.KeyVault/vaults/kv-burgers";

fn id(sub: &str, rest: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rest}")
}

fn values(sub: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values"
        )))
        .and(query_param("api-version", "2015-04-01"))
}

/// A fixture with `{{ago:DAYS}}` replaced by `now` minus that many days, written the way
/// the service writes times (seven fractional digits).
fn events(name: &str, sub: &str, base: &str, now: DateTime<Utc>) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/arm/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    while let Some(at) = text.find("{{ago:") {
        let end = at + text[at..].find("}}").expect("closed token");
        let days: f64 = text[at + 6..end].parse().expect("days");
        let t = now - Duration::milliseconds((days * 86_400_000.0) as i64);
        let stamp = format!(
            "{}.{:07}Z",
            t.format("%Y-%m-%dT%H:%M:%S"),
            t.timestamp_subsec_nanos() / 100
        );
        text.replace_range(at..end + 2, &stamp);
    }
    let text = text.replace("{{sub}}", sub).replace("{{base}}", base);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn target(id: String, ty: &str, created_at: Option<DateTime<Utc>>) -> LookupTarget {
    LookupTarget {
        name: id.rsplit('/').next().unwrap().to_string(),
        resource_id: id,
        resource_type: ty.into(),
        location: Some("westeurope".into()),
        created_at,
    }
}

fn throttled(retry_after: Option<&str>) -> ResponseTemplate {
    let t = ResponseTemplate::new(429).set_body_json(arm_error(
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type \
         - Read_ObservationWindow_00:05:00.",
    ));
    match retry_after {
        Some(s) => t.insert_header("Retry-After", s),
        None => t,
    }
}

/// The `$filter` the mock received in each request to the Activity Log, in order.
async fn filters(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/eventtypes/management/values"))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "$filter")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

/// `eventTimestamp ge '…' and eventTimestamp le '…' and resourceUri eq '…'`, parsed.
fn window(filter: &str) -> (DateTime<Utc>, DateTime<Utc>, String) {
    let part = |key: &str| {
        let at = filter
            .find(key)
            .unwrap_or_else(|| panic!("{key} in {filter}"))
            + key.len();
        filter[at..].split('\'').next().unwrap().to_string()
    };
    let time = |key| part(key).parse::<DateTime<Utc>>().expect("time");
    (
        time("eventTimestamp ge '"),
        time("eventTimestamp le '"),
        part("resourceUri eq '"),
    )
}

fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).abs() < Duration::minutes(5)
}

#[tokio::test]
async fn the_creator_is_the_caller_of_the_first_successful_write_across_pages_and_throttling() {
    let server = MockServer::start().await;
    let base = server.uri();
    let now = Utc::now();
    // Storage account: two pages; page 2 throttled once with Retry-After: 1.
    values(SUB_A)
        .and(query_param_contains("$filter", "stburgers"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(events(
            "activitylog-storage-page1.json",
            SUB_A,
            &base,
            now,
        )))
        .expect(1)
        .mount(&server)
        .await;
    values(SUB_A)
        .and(query_param("$skiptoken", "al-page-2"))
        .respond_with(throttled(Some("1")))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    values(SUB_A)
        .and(query_param("$skiptoken", "al-page-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(events(
            "activitylog-storage-page2.json",
            SUB_A,
            &base,
            now,
        )))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    // Key vault: throttled once without Retry-After (backoff), then one page.
    values(SUB_A)
        .and(query_param_contains("$filter", "kv-burgers"))
        .respond_with(throttled(None))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    values(SUB_A)
        .and(query_param_contains("$filter", "kv-burgers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(events(
            "activitylog-keyvault.json",
            SUB_A,
            &base,
            now,
        )))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;

    let c = connect(&config(&base), &[]).await;
    let vault_created = now - Duration::days(20);
    let targets = [
        target(
            id(SUB_A, STORAGE),
            "Microsoft.Storage/storageAccounts",
            None,
        ),
        target(
            id(SUB_A, VAULT),
            "Microsoft.KeyVault/vaults",
            Some(vault_created),
        ),
    ];
    let out = c
        .creators(&Scope::new(Provider::Azure, SUB_A), &targets)
        .await;

    assert_eq!(out.creators.len(), 2);
    let st = &out.creators[0];
    assert_eq!(st.resource_id, targets[0].resource_id);
    assert_eq!(st.status, CreatorStatus::Found, "{st:?}");
    // Not piet (a later update), not bob (failed), not eve (same name, rg-other).
    assert_eq!(st.principal.as_deref(), Some("jan.jansen@minvoorbeeld.nl"));
    assert_eq!(
        st.source,
        "activity-log:Microsoft.Storage/storageAccounts/write"
    );
    let when = st.event_time.unwrap();
    // The operation's first step (Started), 60.0003 days ago.
    assert!(
        close(
            when,
            now - Duration::milliseconds((60.0003 * 86_400_000.0) as i64)
        ),
        "{when}"
    );
    let kv = &out.creators[1];
    assert_eq!(kv.status, CreatorStatus::Found, "{kv:?}");
    assert_eq!(
        kv.principal.as_deref(),
        Some("app 1234abcd-0000-4000-8000-000000000001 (9e1f3f1a-0000-4000-8000-00000000beef)")
    );
    assert_eq!(kv.source, "activity-log:Microsoft.KeyVault/vaults/write");
    assert!(close(kv.event_time.unwrap(), vault_created));

    assert_eq!(out.coverage.len(), 1, "{:?}", out.coverage);
    let cov = &out.coverage[0];
    assert_eq!(
        (
            cov.scope_id.as_str(),
            cov.region.as_str(),
            cov.service.as_str(),
            cov.status
        ),
        (
            SUB_A,
            "*",
            "creator-lookup:activity-log",
            CoverageStatus::Scanned
        )
    );
    assert_eq!(cov.service, coverage_service());

    // What the mock received: the resource and the window. Without a creation time the
    // whole 90 days; with one, that time ± one day.
    let sent = filters(&server).await;
    let first: Vec<_> = sent.iter().filter(|f| f.contains("stburgers")).collect();
    assert!(!first.is_empty(), "{sent:?}");
    let (from, to, uri) = window(first[0]);
    assert_eq!(uri, targets[0].resource_id);
    assert!(
        close(from, now - Duration::days(90) + Duration::hours(1)),
        "{from}"
    );
    assert!(close(to, now), "{to}");
    let vault: Vec<_> = sent.iter().filter(|f| f.contains("kv-burgers")).collect();
    assert_eq!(vault.len(), 2, "one throttled, one answered: {sent:?}");
    let (from, to, uri) = window(vault[1]);
    assert_eq!(uri, targets[1].resource_id);
    assert!(close(from, vault_created - Duration::days(1)), "{from}");
    assert!(close(to, vault_created + Duration::days(1)), "{to}");
}

#[tokio::test]
async fn a_denied_lookup_is_denied_coverage_and_every_creator_says_why() {
    let server = MockServer::start().await;
    values(SUB_C)
        .respond_with(ResponseTemplate::new(403).set_body_json(arm_error(
            "AuthorizationFailed",
            &format!(
                "The client '0a0a0a0a-cccc-4ccc-8ccc-000000000001' with object id \
                 '0b0b0b0b-dddd-4ddd-8ddd-000000000002' does not have authorization to \
                 perform action 'microsoft.insights/eventtypes/values/read' over scope \
                 '/subscriptions/{SUB_C}/providers/microsoft.insights' or the scope is \
                 invalid. If access was recently granted, please refresh your credentials."
            ),
        )))
        .mount(&server)
        .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let targets: Vec<LookupTarget> = (1..=5)
        .map(|n| {
            target(
                id(
                    SUB_C,
                    &format!("rg-x/providers/Microsoft.Sql/servers/sql-{n}"),
                ),
                "Microsoft.Sql/servers",
                None,
            )
        })
        .collect();
    let out = c
        .creators(&Scope::new(Provider::Azure, SUB_C), &targets)
        .await;

    assert_eq!(out.creators.len(), 5);
    for (cr, t) in out.creators.iter().zip(&targets) {
        assert_eq!(cr.resource_id, t.resource_id);
        assert_eq!(cr.status, CreatorStatus::Failed, "{cr:?}");
        assert!(cr.principal.is_none());
        let why = cr.detail.as_deref().unwrap();
        assert!(why.contains("denied"), "{why}");
        assert!(why.contains("AuthorizationFailed"), "{why}");
        assert!(cr.display().starts_with("unknown ("), "{}", cr.display());
    }
    // A denial stops the subscription's lookups: not five requests into the same wall.
    let asked = filters(&server).await.len();
    assert!((1..=2).contains(&asked), "{asked} requests");
    assert_eq!(out.coverage.len(), 1);
    let cov = &out.coverage[0];
    assert_eq!(cov.status, CoverageStatus::Denied);
    assert_eq!(cov.service, "creator-lookup:activity-log");
    let msg = cov.message.as_deref().unwrap();
    assert!(msg.contains("AuthorizationFailed"), "{msg}");
    assert!(msg.contains(READ_ACTION), "{msg}");
}

#[tokio::test]
async fn throttling_beyond_the_retries_is_throttled_coverage_and_failed_creators() {
    let server = MockServer::start().await;
    values(SUB_B)
        .respond_with(throttled(Some("0")))
        .mount(&server)
        .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let targets = [target(
        id(
            SUB_B,
            "rg-br/providers/Microsoft.Storage/storageAccounts/stbr",
        ),
        "Microsoft.Storage/storageAccounts",
        Some(Utc::now() - Duration::days(3)),
    )];
    let out = c
        .creators(&Scope::new(Provider::Azure, SUB_B), &targets)
        .await;
    assert_eq!(out.creators.len(), 1);
    let cr = &out.creators[0];
    assert_eq!(cr.status, CreatorStatus::Failed);
    let why = cr.detail.as_deref().unwrap();
    assert!(why.contains("throttled"), "{why}");
    assert_eq!(out.coverage.len(), 1);
    assert_eq!(out.coverage[0].status, CoverageStatus::Throttled);
    // The test policy makes three attempts.
    assert_eq!(filters(&server).await.len(), 3);
}

#[tokio::test]
async fn a_resource_older_than_the_log_is_answered_without_a_request() {
    let server = MockServer::start().await;
    values(SUB_A)
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let targets = [target(
        id(SUB_A, STORAGE),
        "Microsoft.Storage/storageAccounts",
        Some(Utc::now() - Duration::days(200)),
    )];
    let out = c
        .creators(&Scope::new(Provider::Azure, SUB_A), &targets)
        .await;
    assert_eq!(out.creators.len(), 1);
    let cr = &out.creators[0];
    assert_eq!(cr.status, CreatorStatus::OlderThanRetention);
    assert_eq!(cr.display(), "unknown (older than 90 days)");
    assert!(out.coverage.is_empty(), "no call, no coverage");
}

#[tokio::test]
async fn a_log_without_a_write_of_the_resource_means_older_than_90_days() {
    let server = MockServer::start().await;
    let now = Utc::now();
    // Only the same-named account in rg-other and a listKeys action: neither counts.
    let mut page = events("activitylog-storage-page1.json", SUB_A, &server.uri(), now);
    page["value"].as_array_mut().unwrap().remove(0);
    page.as_object_mut().unwrap().remove("nextLink");
    let listkeys =
        events("activitylog-storage-page2.json", SUB_A, &server.uri(), now)["value"][4].clone();
    assert!(
        listkeys["operationName"]["value"]
            .as_str()
            .unwrap()
            .ends_with("/listKeys/action")
    );
    page["value"].as_array_mut().unwrap().push(listkeys);
    values(SUB_A)
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(2)
        .mount(&server)
        .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let account = id(SUB_A, STORAGE);
    let targets = [
        target(account.clone(), "Microsoft.Storage/storageAccounts", None),
        // A container made through the blob data plane is never in the Activity Log:
        // its absence there says nothing about its age.
        target(
            format!("{account}/blobServices/default/containers/dossiers"),
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            None,
        ),
    ];
    let out = c
        .creators(&Scope::new(Provider::Azure, SUB_A), &targets)
        .await;
    let cr = &out.creators[0];
    assert_eq!(cr.status, CreatorStatus::OlderThanRetention, "{cr:?}");
    assert_eq!(cr.display(), "unknown (older than 90 days)");
    let container = &out.creators[1];
    assert_eq!(container.status, CreatorStatus::Failed, "{container:?}");
    assert!(
        container
            .detail
            .as_deref()
            .unwrap()
            .contains("blob data plane"),
        "{container:?}"
    );
    assert_eq!(out.coverage[0].status, CoverageStatus::Scanned);
}

#[tokio::test]
async fn a_source_with_creator_lookup_off_asks_nothing() {
    let server = MockServer::start().await;
    values(SUB_A)
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.creator_lookup = false;
    let c = connect(&cfg, &[]).await;
    let targets = [target(
        id(SUB_A, STORAGE),
        "Microsoft.Storage/storageAccounts",
        None,
    )];
    let out = c
        .creators(&Scope::new(Provider::Azure, SUB_A), &targets)
        .await;
    assert_eq!(out.creators[0].status, CreatorStatus::NotLookedUp);
    assert!(out.coverage.is_empty());
}
