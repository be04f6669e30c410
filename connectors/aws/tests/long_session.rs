//! A scan that outlives its assumed-role session, against the real moto server
//! (`CLOUDCENSUS_TEST_MOTO`, started by `scripts/test`).
//!
//! A test binary of its own: the SDK keeps its adaptive-retry rate limiters in a
//! process-wide map per service, and this test's racing clock would put their timestamps
//! hours ahead for every other test in the same process.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_types::SdkConfig;
use cloudcensus_aws::{AwsConnector, AwsSourceConfig, Regions, connect_with_sdk_config};
use cloudcensus_core::{Connector, Coverage, Observation, Resource, Scope};
use futures::TryStreamExt;

mod support;
use support::{moto, seed};

/// A fresh account id of this binary's range.
fn fresh_account() -> String {
    support::fresh_account(100)
}

/// SDK configuration signed as `account`, in us-east-1.
async fn sdk_for(account: &str) -> SdkConfig {
    support::sdk_for(account, "us-east-1").await
}

fn config(regions: &[&str]) -> AwsSourceConfig {
    let mut cfg = AwsSourceConfig::new("test");
    cfg.endpoint_url = Some(moto());
    // moto has no Cloud Control API; tests/moto/cloudcontrol.rs points it at a mock.
    cfg.cloud_control = false;
    cfg.regions = if regions.is_empty() {
        Regions::Enabled
    } else {
        Regions::List(regions.iter().map(|r| r.to_string()).collect())
    };
    cfg
}

async fn scan(conn: &AwsConnector, scope: &Scope) -> (Vec<Resource>, Vec<Coverage>) {
    let items: Vec<Observation> = conn.inventory(scope).try_collect().await.unwrap();
    let mut res = Vec::new();
    let mut cov = Vec::new();
    for i in items {
        match i {
            Observation::Resource(r) => res.push(r),
            Observation::Coverage(c) => cov.push(c),
            Observation::ResourceGroup(g) => panic!("AWS has no resource groups: {g:?}"),
        }
    }
    (res, cov)
}

fn org_config(regions: &[&str]) -> AwsSourceConfig {
    let mut cfg = config(regions);
    cfg.organization = true;
    cfg.assume_role = Some("CloudcensusReader".into());
    cfg
}

/// A clock that runs twenty seconds ahead with every reading: a few hundred SDK calls
/// pass the hours a large scan takes.
#[derive(Debug)]
struct RacingClock {
    start: std::time::SystemTime,
    readings: AtomicU64,
}

impl aws_types::sdk_config::TimeSource for RacingClock {
    fn now(&self) -> std::time::SystemTime {
        let n = self.readings.fetch_add(1, Ordering::Relaxed);
        self.start + std::time::Duration::from_secs(20 * n)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_scan_that_outlives_its_assumed_role_session_renews_it_and_completes_without_error_coverage()
 {
    let mgmt = fresh_account();
    let org = seed("organization", &mgmt);
    let member = org["member"].as_str().unwrap().to_string();
    let mut cfg = org_config(&["eu-west-1", "eu-central-1"]);
    // The shortest session AWS grants; by the SDK's clock it ends after ~50 readings.
    cfg.assume_role_session_secs = 900;
    let sdk = sdk_for(&mgmt)
        .await
        .into_builder()
        .time_source(aws_types::sdk_config::SharedTimeSource::new(RacingClock {
            start: std::time::SystemTime::now(),
            readings: AtomicU64::new(0),
        }))
        .build();
    let conn = connect_with_sdk_config(&cfg, sdk).await.unwrap();
    let scopes = conn.scopes().await.unwrap();
    let m = scopes.iter().find(|s| s.id == member).unwrap();
    let (res, cov) = scan(&conn, m).await;
    assert_eq!(
        res.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        [format!("arn:aws:s3:::cc{member}-member")]
    );
    let gaps: Vec<&Coverage> = cov.iter().filter(|c| c.status.is_gap()).collect();
    assert!(gaps.is_empty(), "{gaps:?}");
    assert!(
        conn.assume_role_requests() > 1,
        "the session should have been renewed during the scan ({} AssumeRole requests)",
        conn.assume_role_requests()
    );
}
