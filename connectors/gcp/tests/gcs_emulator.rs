//! Bucket listing against gcp-storage-emulator (started by `scripts/test`).
//!
//! The emulator ignores `location` and `labels` on insert, so each bucket is created and
//! then PATCHed. It cannot hold `customPlacementConfig` (not a writable field there) and
//! ignores `project` and `maxResults`; configurable dual-regions and paging are covered
//! against the REST mock in `mock_api`.

use std::time::Duration;

use chrono::Utc;
use cloudcensus_core::{Category, Connector, CoverageStatus::*};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn emulator() -> String {
    std::env::var("CLOUDCENSUS_TEST_GCS").expect(
        "CLOUDCENSUS_TEST_GCS is not set: run the tests through ./scripts/test, which starts \
         gcp-storage-emulator on 127.0.0.1 and exports its URL",
    )
}

/// Creates a bucket and sets its location and labels the way the emulator accepts them.
async fn create_bucket(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    location: &str,
    labels: serde_json::Value,
) {
    let insert = http
        .post(format!("{base}/storage/v1/b?project=cc-emulator-project"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "name": name }).to_string())
        .send()
        .await
        .expect("insert bucket");
    assert!(
        insert.status().is_success(),
        "insert {name}: {}",
        insert.status()
    );
    let patch = http
        .patch(format!("{base}/storage/v1/b/{name}"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "location": location, "labels": labels }).to_string())
        .send()
        .await
        .expect("patch bucket");
    assert!(
        patch.status().is_success(),
        "patch {name}: {}",
        patch.status()
    );
}

#[tokio::test]
async fn emulator_buckets_in_region_dual_region_and_multi_region_are_located_and_labelled() {
    let base = emulator();
    let run = format!("cc{}", Utc::now().timestamp_micros());
    let (region, dual, multi) = (
        format!("{run}-region"),
        format!("{run}-eur4"),
        format!("{run}-eu"),
    );
    let http = reqwest::Client::new();
    create_bucket(
        &http,
        &base,
        &region,
        "EUROPE-WEST4",
        serde_json::json!({"activity": "va-011"}),
    )
    .await;
    create_bucket(
        &http,
        &base,
        &dual,
        "EUR4",
        serde_json::json!({"activity": "va-012"}),
    )
    .await;
    create_bucket(&http, &base, &multi, "EU", serde_json::json!({})).await;

    // Resource Manager and Cloud Asset Inventory have no emulator: a REST mock.
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/projects/cc-emulator-project"))
        .respond_with(json(200, "rm/get-project-emulator.json"))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/cc-emulator-project:searchAllResources"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("cai/emulator-project.json").replace("BUCKET_EUR4", &dual),
            "application/json",
        ))
        .mount(&api)
        .await;

    let c = connect(&local_config(
        "projects/cc-emulator-project",
        &api.uri(),
        &base,
    ))
    .await;
    let scopes = c.scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].id, "cc-emulator-project");
    assert_eq!(scopes[0].parents, ["folders/200"]);
    assert_eq!(scopes[0].tags, tags_of(&[("activity", "va-010")]));

    let (resources, coverage) = inventory(&c, &scopes[0]).await;
    assert_eq!(
        statuses(&coverage),
        [
            row("cc-emulator-project", "cloudasset", Scanned),
            row("cc-emulator-project", "cloudresourcemanager", Scanned),
            row("cc-emulator-project", "storage", Scanned),
        ]
    );
    // The emulator lists every bucket it holds whatever the project; keep this run's.
    let mut ours: Vec<_> = resources
        .into_iter()
        .filter(|r| r.name.starts_with(&run))
        .collect();
    for r in &mut ours {
        let created = r.created_at.take().expect("timeCreated from the emulator");
        assert!(
            Utc::now() - created < chrono::TimeDelta::from_std(Duration::from_secs(600)).unwrap()
        );
    }
    let bucket = |name: &str, location: &str, tags: &[(&str, &str)]| {
        resource(
            "cc-emulator-project",
            &format!("//storage.googleapis.com/{name}"),
            "storage.googleapis.com/Bucket",
            Category::DataStore,
            name,
            Some(location),
            &[],
            tags,
            None,
        )
    };
    let mut expected = vec![
        bucket(&region, "europe-west4", &[("activity", "va-011")]),
        // Labels come from the bucket, not the stale asset index.
        bucket(&dual, "eur4", &[("activity", "va-012")]),
        bucket(&multi, "eu", &[]),
    ];
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(ours, expected);
}
