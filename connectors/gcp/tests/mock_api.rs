//! Organisation scan against a local REST mock: project discovery through folders,
//! Cloud Asset search over several pages, a denied project, a disabled API, throttling
//! (retried after `Retry-After`, and exhausted), and bucket data locations.

use std::time::{Duration, Instant};

use cloudcensus_core::{Category, Connector, CoverageStatus::*, Provider};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const CAI: &str = "cloudasset";
const RM: &str = "cloudresourcemanager";
const GCS: &str = "storage";

async fn mount_resource_manager(server: &MockServer) {
    let search = |q: &str| {
        Mock::given(method("GET"))
            .and(path("/v3/projects:search"))
            .and(query_param("query", q))
    };
    search("parent:organizations/100 state:ACTIVE")
        .and(query_param("pageToken", "rm-page-2"))
        .respond_with(json(200, "rm/search-org-page2.json"))
        .with_priority(1)
        .mount(server)
        .await;
    search("parent:organizations/100 state:ACTIVE")
        .respond_with(json(200, "rm/search-org-page1.json"))
        .with_priority(2)
        .mount(server)
        .await;
    search("parent:folders/200 state:ACTIVE")
        .respond_with(json(200, "rm/search-folder-200.json"))
        .mount(server)
        .await;
    search("parent:folders/300 state:ACTIVE")
        .respond_with(json(403, "errors/folder-denied.json"))
        .mount(server)
        .await;
    let folders = |parent: &str| {
        Mock::given(method("GET"))
            .and(path("/v3/folders"))
            .and(query_param("parent", parent))
    };
    folders("organizations/100")
        .respond_with(json(200, "rm/folders-org.json"))
        .mount(server)
        .await;
    folders("folders/200")
        .respond_with(json(200, "rm/folders-200.json"))
        .mount(server)
        .await;
    folders("folders/300")
        .respond_with(json(403, "errors/folder-denied.json"))
        .mount(server)
        .await;
}

async fn mount_asset_inventory(server: &MockServer) {
    let cai = |project: &str| {
        Mock::given(method("GET")).and(path(format!("/v1/projects/{project}:searchAllResources")))
    };
    cai("alpha-prod")
        .respond_with(json(200, "cai/alpha-page1.json"))
        .with_priority(5)
        .mount(server)
        .await;
    // Page 2 is throttled once (Retry-After: 1), then served.
    cai("alpha-prod")
        .and(query_param("pageToken", "cai-page-2"))
        .respond_with(json(429, "errors/resource-exhausted.json").insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    cai("alpha-prod")
        .and(query_param("pageToken", "cai-page-2"))
        .respond_with(json(200, "cai/alpha-page2.json"))
        .with_priority(2)
        .mount(server)
        .await;
    cai("alpha-prod")
        .and(query_param("pageToken", "cai-page-3"))
        .respond_with(json(200, "cai/alpha-page3.json"))
        .with_priority(2)
        .mount(server)
        .await;
    cai("beta-denied")
        .respond_with(json(403, "errors/permission-denied.json"))
        .mount(server)
        .await;
    cai("gamma-off")
        .respond_with(json(403, "errors/service-disabled.json"))
        .mount(server)
        .await;
    // Always throttled: the shared retry layer gives up after 3 attempts.
    cai("delta-sub")
        .respond_with(json(429, "errors/resource-exhausted.json").insert_header("Retry-After", "0"))
        .mount(server)
        .await;
}

async fn mount_storage(server: &MockServer) {
    let buckets = |project: &str| {
        Mock::given(method("GET"))
            .and(path("/storage/v1/b"))
            .and(query_param("project", project))
    };
    buckets("alpha-prod")
        .and(query_param("pageToken", "st-page-2"))
        .respond_with(json(200, "storage/alpha-page2.json"))
        .with_priority(1)
        .mount(server)
        .await;
    buckets("alpha-prod")
        .respond_with(json(200, "storage/alpha-page1.json"))
        .with_priority(2)
        .mount(server)
        .await;
    buckets("beta-denied")
        .respond_with(json(403, "errors/storage-forbidden.json"))
        .mount(server)
        .await;
    buckets("gamma-off")
        .respond_with(json(403, "errors/storage-service-disabled.json"))
        .mount(server)
        .await;
    buckets("delta-sub")
        .respond_with(json(200, "storage/delta.json"))
        .mount(server)
        .await;
}

async fn org_server() -> MockServer {
    let server = MockServer::start().await;
    mount_resource_manager(&server).await;
    mount_asset_inventory(&server).await;
    mount_storage(&server).await;
    server
}

#[tokio::test]
async fn organisation_scope_discovers_active_projects_through_folders_and_reports_denied_folder() {
    let server = org_server().await;
    let c = connect(&local_config(
        "organizations/100",
        &server.uri(),
        &server.uri(),
    ))
    .await;

    let scopes = c.scopes().await.unwrap();
    let ids: Vec<_> = scopes.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["alpha-prod", "beta-denied", "delta-sub", "gamma-off"]);
    let alpha = &scopes[0];
    assert_eq!(alpha.provider, Provider::Gcp);
    assert_eq!(alpha.name.as_deref(), Some("Alpha production"));
    assert_eq!(alpha.parents, ["organizations/100"]);
    assert_eq!(
        alpha.tags,
        tags_of(&[("activity", "va-001"), ("cost-centre", "cc-17")])
    );
    let delta = &scopes[2];
    assert_eq!(delta.parents, ["folders/200", "organizations/100"]);
    assert_eq!(delta.tags, tags_of(&[("activity", "va-004")]));
    assert!(scopes[1].tags.is_empty());

    let discovery = c.discovery_coverage();
    assert_eq!(
        statuses(&discovery),
        [
            row("folders/200", RM, Scanned),
            row("folders/300", RM, Denied),
            row("organizations/100", RM, Scanned),
        ]
    );
    let msg = discovery[1].message.as_deref().unwrap();
    assert!(msg.contains("PERMISSION_DENIED"), "{msg}");
    assert_eq!(c.identity().await.unwrap(), "anonymous");
}

#[tokio::test]
async fn project_inventory_merges_all_asset_pages_with_bucket_data_locations() {
    let server = org_server().await;
    let c = connect(&local_config(
        "organizations/100",
        &server.uri(),
        &server.uri(),
    ))
    .await;
    let scopes = c.scopes().await.unwrap();

    let started = Instant::now();
    let (resources, coverage) = inventory(&c, &scopes[0]).await;
    // The throttled second page was retried after the server's Retry-After (1 s).
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let bucket = "storage.googleapis.com/Bucket";
    // Locations are looked up with the product of the asset type: Artifact Registry's
    // `europe`, BigQuery's `EU`, KMS `global`, Firestore `nam5`, Spanner `eur5` (not the
    // Cloud Storage EUR5) and `nam-eur-asia1`.
    let expected = vec![
        resource(
            "alpha-prod",
            "//artifactregistry.googleapis.com/projects/alpha-prod/locations/europe/repositories/images",
            "artifactregistry.googleapis.com/Repository",
            Category::DataStore,
            "images",
            Some("artifactregistry/europe"),
            &[],
            &[],
            Some("2024-05-05T09:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//bigquery.googleapis.com/projects/alpha-prod/datasets/analytics",
            "bigquery.googleapis.com/Dataset",
            Category::DataStore,
            "analytics",
            Some("bigquery/eu"),
            &[],
            &[],
            Some("2024-02-02T12:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//cloudkms.googleapis.com/projects/alpha-prod/locations/global/keyRings/app",
            "cloudkms.googleapis.com/KeyRing",
            Category::Identity,
            "app",
            Some("kms/global"),
            &[],
            &[],
            Some("2024-05-04T09:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//cloudsql.googleapis.com/projects/alpha-prod/instances/db-1",
            "sqladmin.googleapis.com/Instance",
            Category::DataStore,
            "db-1",
            Some("europe-west4"),
            &[],
            &[("activity", "va-001")],
            Some("2024-02-10T12:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//compute.googleapis.com/projects/alpha-prod/zones/europe-west4-a/instances/vm-1",
            "compute.googleapis.com/Instance",
            Category::Compute,
            "vm-1",
            Some("europe-west4"),
            &[],
            &[("env", "prod")],
            Some("2024-03-01T10:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//firestore.googleapis.com/projects/alpha-prod/databases/(default)",
            "firestore.googleapis.com/Database",
            Category::DataStore,
            "(default)",
            Some("firestore/nam5"),
            &[],
            &[],
            Some("2024-05-03T09:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//spanner.googleapis.com/projects/alpha-prod/instances/global-ledger",
            "spanner.googleapis.com/Instance",
            Category::DataStore,
            "global-ledger",
            Some("spanner/nam-eur-asia1"),
            &[],
            &[],
            Some("2024-05-02T09:00:00Z"),
        ),
        resource(
            "alpha-prod",
            "//spanner.googleapis.com/projects/alpha-prod/instances/ledger",
            "spanner.googleapis.com/Instance",
            Category::DataStore,
            "ledger",
            Some("spanner/eur5"),
            &[],
            &[],
            Some("2024-05-01T09:00:00Z"),
        ),
        // Configurable dual-region: location EU, data in exactly these two regions;
        // labels and creation time from the bucket listing win over the asset index.
        resource(
            "alpha-prod",
            "//storage.googleapis.com/alpha-dual",
            bucket,
            Category::DataStore,
            "alpha-dual",
            Some("eu"),
            &["europe-west1", "europe-west4"],
            &[("activity", "va-001")],
            Some("2024-01-05T08:00:00.123Z"),
        ),
        // Predefined dual-region: kept as its catalog code.
        resource(
            "alpha-prod",
            "//storage.googleapis.com/alpha-eur4",
            bucket,
            Category::DataStore,
            "alpha-eur4",
            Some("eur4"),
            &[],
            &[],
            Some("2024-01-06T08:00:00Z"),
        ),
        // Only the bucket listing saw it (asset index lag): still reported.
        resource(
            "alpha-prod",
            "//storage.googleapis.com/alpha-us",
            bucket,
            Category::DataStore,
            "alpha-us",
            Some("us"),
            &[],
            &[("activity", "va-002")],
            Some("2024-04-01T00:00:00Z"),
        ),
    ];
    assert_eq!(resources, expected);
    assert_eq!(
        statuses(&coverage),
        [
            row("alpha-prod", CAI, Scanned),
            row("alpha-prod", RM, Scanned),
            row("alpha-prod", GCS, Scanned),
        ]
    );
}

#[tokio::test]
async fn denied_disabled_and_throttled_projects_become_coverage_not_zero_resources() {
    let server = org_server().await;
    let c = connect(&local_config(
        "organizations/100",
        &server.uri(),
        &server.uri(),
    ))
    .await;
    let scopes = c.scopes().await.unwrap();
    let by_id = |id: &str| scopes.iter().find(|s| s.id == id).unwrap();

    let (beta, beta_cov) = inventory(&c, by_id("beta-denied")).await;
    assert!(beta.is_empty());
    assert_eq!(
        statuses(&beta_cov),
        [
            row("beta-denied", CAI, Denied),
            row("beta-denied", RM, Scanned),
            row("beta-denied", GCS, Denied),
        ]
    );
    let cai_msg = beta_cov[0].message.as_deref().unwrap();
    assert!(
        cai_msg.contains("PERMISSION_DENIED") && cai_msg.contains("IAM_PERMISSION_DENIED"),
        "{cai_msg}"
    );
    assert!(
        beta_cov[2]
            .message
            .as_deref()
            .unwrap()
            .contains("storage.buckets.list")
    );

    // Both APIs disabled in the project. Cloud Storage off there: no buckets can be
    // used (not-enabled, no gap). Cloud Asset off: an index is missing, the project's
    // resources still exist and were not listed, so that stays a gap.
    let (gamma, gamma_cov) = inventory(&c, by_id("gamma-off")).await;
    assert!(gamma.is_empty());
    assert_eq!(
        statuses(&gamma_cov),
        [
            row("gamma-off", CAI, Error),
            row("gamma-off", RM, Scanned),
            row("gamma-off", GCS, NotEnabled),
        ]
    );
    let cai_msg = gamma_cov[0].message.as_deref().unwrap();
    assert!(
        cai_msg.contains("SERVICE_DISABLED") && cai_msg.contains("not listed"),
        "{cai_msg}"
    );
    assert!(
        gamma_cov[2]
            .message
            .as_deref()
            .unwrap()
            .contains("SERVICE_DISABLED")
    );

    // Asset search throttled until retries ran out; the bucket listing still counts.
    let (delta, delta_cov) = inventory(&c, by_id("delta-sub")).await;
    assert_eq!(
        delta,
        [resource(
            "delta-sub",
            "//storage.googleapis.com/delta-logs",
            "storage.googleapis.com/Bucket",
            Category::DataStore,
            "delta-logs",
            Some("europe-west3"),
            &[],
            &[],
            Some("2024-05-01T00:00:00Z"),
        )]
    );
    assert_eq!(
        statuses(&delta_cov),
        [
            row("delta-sub", CAI, Throttled),
            row("delta-sub", RM, Scanned),
            row("delta-sub", GCS, Scanned),
        ]
    );
    let msg = delta_cov[0].message.as_deref().unwrap();
    assert!(
        msg.contains("RESOURCE_EXHAUSTED") && msg.contains("3 attempts"),
        "{msg}"
    );
    let delta_searches = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v1/projects/delta-sub:searchAllResources")
        .count();
    assert_eq!(delta_searches, 3, "one try plus two retries, then give up");
}

#[tokio::test]
async fn unreachable_api_is_an_error_entry_after_retries() {
    // A port nothing listens on: every call fails to connect.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let c = connect(&local_config("projects/lonely-project", &dead, &dead)).await;
    let scopes = c.scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].id, "lonely-project");
    let (resources, coverage) = inventory(&c, &scopes[0]).await;
    assert!(resources.is_empty());
    assert_eq!(
        statuses(&coverage),
        [
            row("lonely-project", CAI, Error),
            row("lonely-project", RM, Error),
            row("lonely-project", GCS, Error),
        ]
    );
}

#[tokio::test]
async fn invalid_configuration_is_rejected_with_every_problem_named() {
    let mut cfg = local_config("folders/abc", "http://127.0.0.1:1", "not a url");
    cfg.max_concurrency = 0;
    let err = cloudcensus_gcp::connect(&cfg)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("test-gcp"), "{err}");
    assert!(err.contains("scope:"), "{err}");
    assert!(err.contains("storage_endpoint:"), "{err}");
    assert!(err.contains("max_concurrency:"), "{err}");
}

#[tokio::test]
async fn repeated_page_token_stops_paging_with_an_error_entry() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/loop-project:searchAllResources"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"results":[],"nextPageToken":"same"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let c = connect(&local_config(
        "projects/loop-project",
        &server.uri(),
        &server.uri(),
    ))
    .await;
    let scopes = c.scopes().await.unwrap();
    let (_, coverage) = inventory(&c, &scopes[0]).await;
    let cai = coverage.iter().find(|c| c.service == CAI).unwrap();
    assert_eq!(cai.status, Error);
    assert!(cai.message.as_deref().unwrap().contains("same page token"));
}
