//! Creator lookups (`Connector::creators`) through the real aws-sdk-cloudtrail client
//! against the local CloudTrail event-history mock (`cloudcensus_faultproxy::cloudtrail`,
//! AWS JSON 1.1 as in the API reference: moto has no `LookupEvents`), with the identity
//! from the real moto server (`CLOUDCENSUS_TEST_MOTO`, started by `scripts/test`).
//!
//! A test binary of its own: the SDK keeps its adaptive-retry rate limiters in a
//! process-wide map per service and region, and the throttling cases here would slow the
//! other AWS tests. Each test works in regions of its own for the same reason.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use aws_types::SdkConfig;
use chrono::{DateTime, Duration, Utc};
use cloudcensus_aws::{AwsConnector, AwsSourceConfig, Regions, connect_with_sdk_config};
use cloudcensus_core::{
    Connector, Coverage, CoverageStatus, Creator, CreatorStatus, LookupTarget, Provider, Scope,
};
use cloudcensus_faultproxy::cloudtrail::{CloudTrailMock, CtError, Identity, TrailEvent};

mod support;
use support::moto;

/// A fresh account id of this binary's range.
fn fresh_account() -> String {
    support::fresh_account(500)
}

/// SDK configuration signed as `account`, in eu-west-1.
async fn sdk_for(account: &str) -> SdkConfig {
    support::sdk_for(account, "eu-west-1").await
}

/// A connector for `account` whose CloudTrail calls go to `mock`, with quick retries
/// (`max_attempts` attempts 10 ms apart at first).
async fn connect(account: &str, mock: &CloudTrailMock, max_attempts: u32) -> AwsConnector {
    let mut cfg = AwsSourceConfig::new("test");
    cfg.endpoint_url = Some(moto());
    cfg.endpoint_urls.insert("cloudtrail".into(), mock.url());
    cfg.cloud_control = false;
    cfg.regions = Regions::List(vec!["eu-west-1".into()]);
    cfg.max_attempts = max_attempts;
    cfg.retry_base_delay_ms = 10;
    connect_with_sdk_config(&cfg, sdk_for(account).await)
        .await
        .unwrap()
}

fn person(account: &str, who: &str) -> Identity {
    Identity::AssumedRole {
        account: account.to_string(),
        role: "AWSReservedSSO_Beheerder_0a1b2c3d".to_string(),
        session: who.to_string(),
    }
}

fn session_arn(account: &str, who: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Beheerder_0a1b2c3d/{who}")
}

/// `h` hours before the moment the test binary first asked (whole seconds, as the SDK
/// sends and the history answers them), so an event's time can be compared exactly.
fn hours_ago(h: i64) -> DateTime<Utc> {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| Utc::now().timestamp());
    DateTime::from_timestamp(base - h * 3600, 0).unwrap()
}

fn volume(account: &str, region: &str, id: &str) -> LookupTarget {
    LookupTarget {
        resource_id: format!("arn:aws:ec2:{region}:{account}:volume/{id}"),
        name: id.to_string(),
        resource_type: "ec2:volume".to_string(),
        location: Some(region.to_string()),
        created_at: None,
    }
}

fn bucket(name: &str, region: &str) -> LookupTarget {
    LookupTarget {
        resource_id: format!("arn:aws:s3:::{name}"),
        name: name.to_string(),
        resource_type: "s3:bucket".to_string(),
        location: Some(region.to_string()),
        created_at: None,
    }
}

fn table(account: &str, region: &str, name: &str) -> LookupTarget {
    LookupTarget {
        resource_id: format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
        name: name.to_string(),
        resource_type: "dynamodb:table".to_string(),
        location: Some(region.to_string()),
        created_at: None,
    }
}

fn create_volume(account: &str, id: &str, who: &str, at: DateTime<Utc>) -> TrailEvent {
    TrailEvent::new(
        "CreateVolume",
        "ec2.amazonaws.com",
        at,
        person(account, who),
    )
    .resource("AWS::EC2::Volume", id)
}

async fn lookup(
    conn: &AwsConnector,
    account: &str,
    targets: &[LookupTarget],
) -> (BTreeMap<String, Creator>, Vec<Coverage>) {
    let out = conn
        .creators(&Scope::new(Provider::Aws, account), targets)
        .await;
    assert_eq!(
        out.creators.len(),
        targets.len(),
        "one answer per target, never none"
    );
    let by_id = out
        .creators
        .into_iter()
        .map(|c| (c.resource_id.clone(), c))
        .collect();
    (by_id, out.coverage)
}

fn coverage_of<'a>(cov: &'a [Coverage], region: &str) -> &'a Coverage {
    let here: Vec<&Coverage> = cov.iter().filter(|c| c.region == region).collect();
    assert_eq!(here.len(), 1, "one coverage entry per region: {cov:#?}");
    assert_eq!(here[0].service, "creator-lookup:cloudtrail");
    here[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_page_over_next_token_and_name_each_creator_with_the_time_and_the_call() {
    let acct = fresh_account();
    let region = "eu-west-1";
    // Pages of 5: the sweep over CreateVolume finds the three volumes on its third page
    // (ten newer volumes come first), within its budget of one page per volume.
    let mock = CloudTrailMock::start(5).await.unwrap();
    for i in 0..10 {
        mock.add(
            region,
            create_volume(&acct, &format!("vol-other{i}"), "piet", hours_ago(i + 1)),
        );
    }
    mock.add(
        region,
        create_volume(&acct, "vol-a", "jan@example.nl", hours_ago(20)),
    );
    mock.add(
        region,
        create_volume(&acct, "vol-b", "fatima", hours_ago(30)),
    );
    mock.add(
        region,
        TrailEvent::new(
            "CreateVolume",
            "ec2.amazonaws.com",
            hours_ago(31),
            Identity::Service("autoscaling.amazonaws.com".into()),
        )
        .resource("AWS::EC2::Volume", "vol-c"),
    );
    // An instance with seven later events naming it: its lookup pages to the eighth.
    let inst = format!("arn:aws:ec2:{region}:{acct}:instance/i-0abc");
    mock.add(
        region,
        TrailEvent::new(
            "RunInstances",
            "ec2.amazonaws.com",
            hours_ago(100),
            Identity::User {
                account: acct.clone(),
                name: "deploy".into(),
            },
        )
        .resource("AWS::EC2::Instance", "i-0abc")
        .resource("AWS::EC2::Subnet", "subnet-1"),
    );
    for i in 0..7 {
        mock.add(
            region,
            TrailEvent::new(
                if i % 2 == 0 {
                    "StopInstances"
                } else {
                    "StartInstances"
                },
                "ec2.amazonaws.com",
                hours_ago(90 - i),
                person(&acct, "ops"),
            )
            .resource("AWS::EC2::Instance", "i-0abc"),
        );
    }
    let conn = connect(&acct, &mock, 3).await;
    let targets = vec![
        volume(&acct, region, "vol-a"),
        volume(&acct, region, "vol-b"),
        volume(&acct, region, "vol-c"),
        LookupTarget {
            resource_id: inst.clone(),
            name: "i-0abc".into(),
            resource_type: "ec2:instance".into(),
            location: Some(region.into()),
            // LaunchTime after the last start: it bounds the search, it is not the creation.
            created_at: Some(hours_ago(84)),
        },
    ];
    let (got, cov) = lookup(&conn, &acct, &targets).await;

    let a = &got[&targets[0].resource_id];
    assert_eq!(a.status, CreatorStatus::Found);
    assert_eq!(
        a.principal.as_deref(),
        Some(session_arn(&acct, "jan@example.nl").as_str()),
        "an assumed-role session ARN is kept as it is"
    );
    assert_eq!(a.event_time, Some(hours_ago(20)));
    assert_eq!(a.source, "cloudtrail:CreateVolume");
    assert_eq!(
        got[&targets[1].resource_id].principal.as_deref(),
        Some(session_arn(&acct, "fatima").as_str())
    );
    assert_eq!(
        got[&targets[2].resource_id].principal.as_deref(),
        Some("autoscaling.amazonaws.com"),
        "a service is named by invokedBy"
    );
    let i = &got[&inst];
    assert_eq!(
        (i.principal.as_deref(), i.source.as_str()),
        (
            Some(format!("arn:aws:iam::{acct}:user/deploy").as_str()),
            "cloudtrail:RunInstances"
        )
    );
    assert_eq!(i.display(), format!("arn:aws:iam::{acct}:user/deploy"));
    assert_eq!(coverage_of(&cov, region).status, CoverageStatus::Scanned);

    let calls = mock.calls();
    let sweep: Vec<_> = calls
        .iter()
        .filter(|c| c.attribute == Some(("EventName".into(), "CreateVolume".into())))
        .collect();
    assert_eq!(sweep.len(), 3, "three pages of CreateVolume: {calls:#?}");
    assert!(!sweep[0].continued && sweep[1].continued && sweep[2].continued);
    let by_name: Vec<_> = calls
        .iter()
        .filter(|c| c.attribute == Some(("ResourceName".into(), "i-0abc".into())))
        .collect();
    assert_eq!(by_name.len(), 2, "the instance's events take two pages");
    // The search ends at the instance's launch time (plus slack), not now.
    let end = by_name[0].window.1.unwrap();
    let launch = hours_ago(84).timestamp() as f64;
    assert!(end > launch && end <= launch + 601.0, "{end} vs {launch}");
    assert_eq!(calls.len(), 5, "nothing but those: {calls:#?}");
    assert!(calls.iter().all(|c| c.status == 200));
}

/// One throttled answer (with or without `Retry-After`), then the page: the SDK's retry
/// absorbs it. Its adaptive mode then rate-limits the client for that region, so the
/// retry waits several seconds (the SDK reads `x-amz-retry-after`, not `Retry-After`).
async fn throttled_once_then_found(region: &str, retry_after: Option<u32>) {
    let acct = fresh_account();
    let mock = CloudTrailMock::start(50).await.unwrap();
    mock.add(region, create_volume(&acct, "vol-1", "jan", hours_ago(5)));
    mock.fail(region, CtError::Throttling { retry_after }, Some(1));
    let conn = connect(&acct, &mock, 3).await;
    let (got, cov) = lookup(&conn, &acct, &[volume(&acct, region, "vol-1")]).await;
    let c = got.values().next().unwrap();
    assert_eq!(c.status, CreatorStatus::Found, "{c:?}");
    assert_eq!(
        c.principal.as_deref(),
        Some(session_arn(&acct, "jan").as_str())
    );
    assert_eq!(coverage_of(&cov, region).status, CoverageStatus::Scanned);
    let statuses: Vec<u16> = mock.calls().iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [400, 200],
        "one throttled attempt, then the answer"
    );
    let raw = mock.proxy().requests();
    assert_eq!(raw.len(), 2);
    assert!(
        raw.iter().all(
            |r| r.header("x-amz-target") == Some("CloudTrail_20131101.LookupEvents")
                && r.header("content-type") == Some("application/x-amz-json-1.1")
        ),
        "the SDK speaks AWS JSON 1.1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_lookup_with_retry_after_is_retried_and_the_creator_is_still_found() {
    throttled_once_then_found("eu-central-1", Some(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_lookup_without_retry_after_is_retried_and_the_creator_is_still_found() {
    throttled_once_then_found("eu-south-1", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_beyond_the_retries_is_throttled_coverage_and_every_lookup_there_failed() {
    let acct = fresh_account();
    let stormy = "us-east-2";
    let calm = "eu-north-1";
    let mock = CloudTrailMock::start(50).await.unwrap();
    mock.add(stormy, create_volume(&acct, "vol-1", "jan", hours_ago(5)));
    mock.add(calm, create_volume(&acct, "vol-2", "piet", hours_ago(5)));
    mock.fail(stormy, CtError::Throttling { retry_after: None }, None);
    let conn = connect(&acct, &mock, 2).await;
    let targets = [
        volume(&acct, stormy, "vol-1"),
        bucket(&format!("cc{acct}-logs"), stormy),
        volume(&acct, calm, "vol-2"),
    ];
    let (got, cov) = lookup(&conn, &acct, &targets).await;
    let storm = coverage_of(&cov, stormy);
    assert_eq!(storm.status, CoverageStatus::Throttled, "{storm:?}");
    let msg = storm.message.as_deref().unwrap();
    assert!(
        msg.contains("ThrottlingException") && msg.contains("2 of 2 creator lookups"),
        "{msg}"
    );
    for t in &targets[..2] {
        let c = &got[&t.resource_id];
        assert_eq!(c.status, CreatorStatus::Failed, "{c:?}");
        assert!(c.principal.is_none());
        let d = c.display();
        assert!(
            d.starts_with("unknown (") && d.contains("ThrottlingException"),
            "{d}"
        );
    }
    // After retries ran out the region is left alone: two attempts, no more.
    let stormy_calls = mock.calls().iter().filter(|c| c.region == stormy).count();
    assert_eq!(stormy_calls, 2);
    // Another region is not affected.
    assert_eq!(coverage_of(&cov, calm).status, CoverageStatus::Scanned);
    assert_eq!(got[&targets[2].resource_id].status, CreatorStatus::Found);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_lookup_is_denied_coverage_and_the_creator_says_unknown_with_the_reason() {
    let acct = fresh_account();
    let region = "ap-southeast-2";
    let mock = CloudTrailMock::start(50).await.unwrap();
    mock.add(region, create_volume(&acct, "vol-1", "jan", hours_ago(5)));
    mock.fail(region, CtError::AccessDenied, None);
    let conn = connect(&acct, &mock, 3).await;
    let targets = [
        volume(&acct, region, "vol-1"),
        volume(&acct, region, "vol-2"),
        table(&acct, region, "dossiers"),
    ];
    let (got, cov) = lookup(&conn, &acct, &targets).await;
    let c = coverage_of(&cov, region);
    assert_eq!(c.status, CoverageStatus::Denied);
    assert!(
        c.message
            .as_deref()
            .unwrap()
            .contains("cloudtrail:LookupEvents: AccessDeniedException"),
        "{c:?}"
    );
    for t in &targets {
        let c = &got[&t.resource_id];
        assert_eq!(c.status, CreatorStatus::Failed);
        let d = c.display();
        assert!(
            d.starts_with("unknown (") && d.contains("AccessDeniedException"),
            "{d}"
        );
    }
    assert_eq!(
        mock.calls().len(),
        1,
        "a denial is not retried nor repeated"
    );
    assert!(
        conn.invoked_operations()
            .contains("cloudtrail:LookupEvents")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_for_a_different_resource_with_the_same_name_is_ignored() {
    let acct = fresh_account();
    let region = "eu-west-3";
    let mock = CloudTrailMock::start(50).await.unwrap();
    // A DynamoDB table and a Glue table are both created by `CreateTable`; the S3 bucket of
    // the same name was created before the history.
    mock.add(
        region,
        TrailEvent::new(
            "CreateTable",
            "dynamodb.amazonaws.com",
            hours_ago(40),
            person(&acct, "jan"),
        )
        .resource("AWS::DynamoDB::Table", "payroll"),
    );
    mock.add(
        region,
        TrailEvent::new(
            "CreateTable",
            "glue.amazonaws.com",
            hours_ago(10),
            person(&acct, "piet"),
        )
        .untyped_resource("payroll"),
    );
    // A later CreateTable of the same name that failed (it already existed).
    mock.add(
        region,
        TrailEvent::new(
            "CreateTable",
            "dynamodb.amazonaws.com",
            hours_ago(2),
            person(&acct, "kees"),
        )
        .resource("AWS::DynamoDB::Table", "payroll")
        .failed("ResourceInUseException"),
    );
    let conn = connect(&acct, &mock, 3).await;
    let targets = [table(&acct, region, "payroll"), bucket("payroll", region)];
    let (got, cov) = lookup(&conn, &acct, &targets).await;
    let t = &got[&targets[0].resource_id];
    assert_eq!(
        t.principal.as_deref(),
        Some(session_arn(&acct, "jan").as_str())
    );
    assert_eq!(t.event_time, Some(hours_ago(40)));
    let b = &got[&targets[1].resource_id];
    assert_eq!(b.status, CreatorStatus::OlderThanRetention, "{b:?}");
    assert_eq!(b.display(), "unknown (older than 90 days)");
    assert_eq!(b.source, "cloudtrail:LookupEvents");
    assert_eq!(coverage_of(&cov, region).status, CoverageStatus::Scanned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_created_before_the_history_is_older_than_90_days_without_a_request() {
    let acct = fresh_account();
    let region = "sa-east-1";
    let mock = CloudTrailMock::start(50).await.unwrap();
    let conn = connect(&acct, &mock, 3).await;
    let mut old = volume(&acct, region, "vol-old");
    old.created_at = Some(Utc::now() - Duration::days(200));
    let unknown_type = LookupTarget {
        resource_id: format!("arn:aws:iot:{region}:{acct}:thing/sensor"),
        name: "sensor".into(),
        resource_type: "iot:thing".into(),
        location: Some(region.into()),
        created_at: None,
    };
    let (got, cov) = lookup(&conn, &acct, &[old.clone(), unknown_type.clone()]).await;
    let c = &got[&old.resource_id];
    assert_eq!(c.status, CreatorStatus::OlderThanRetention);
    assert_eq!(c.display(), "unknown (older than 90 days)");
    assert_eq!(c.source, "inventory:created_at");
    let u = &got[&unknown_type.resource_id];
    assert_eq!(u.status, CreatorStatus::NotLookedUp);
    assert!(u.display().contains("creator-events.csv"), "{u:?}");
    assert!(mock.calls().is_empty(), "no request: {:?}", mock.calls());
    assert!(cov.is_empty(), "no region was called: {cov:?}");

    // Asked, and the history holds nothing: older than its 90 days too, never blank.
    let (got, cov) = lookup(&conn, &acct, &[volume(&acct, region, "vol-quiet")]).await;
    let c = got.values().next().unwrap();
    assert_eq!(
        (c.status, c.display().as_str(), c.source.as_str()),
        (
            CreatorStatus::OlderThanRetention,
            "unknown (older than 90 days)",
            "cloudtrail:LookupEvents"
        )
    );
    assert_eq!(coverage_of(&cov, region).status, CoverageStatus::Scanned);
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pacer_never_lets_more_than_two_requests_per_second_reach_a_region() {
    let acct = fresh_account();
    let regions = ["ca-central-1", "ap-northeast-1"];
    let mock = CloudTrailMock::start(50).await.unwrap();
    // The service's own limit, enforced: anything faster is throttled and counted.
    mock.limit_rate(2.0, 2.0);
    let mut first = Vec::new();
    let mut second = Vec::new();
    for region in regions {
        for i in 0..4 {
            let id = format!("vol-{region}-{i}");
            mock.add(region, create_volume(&acct, &id, "jan", hours_ago(3)));
            // Four volumes: one sweep page finds them all.
            first.push(volume(&acct, region, &id));
        }
        // One resource of each type: a lookup by name each (the function by name, then by
        // ARN), and none of them is in the history.
        second.push(bucket(&format!("cc{acct}-{region}"), region));
        second.push(table(&acct, region, "zaken"));
        second.push(LookupTarget {
            resource_id: format!("arn:aws:lambda:{region}:{acct}:function:intake"),
            name: "intake".into(),
            resource_type: "lambda:function".into(),
            location: Some(region.into()),
            created_at: None,
        });
    }
    let conn = connect(&acct, &mock, 1).await;
    // Two lookups at once on one connector share its pacer.
    let ((a, cov_a), (b, cov_b)) =
        tokio::join!(lookup(&conn, &acct, &first), lookup(&conn, &acct, &second));
    assert!(
        a.values().all(|c| c.status == CreatorStatus::Found),
        "{a:#?}"
    );
    assert!(
        b.values()
            .all(|c| c.status == CreatorStatus::OlderThanRetention),
        "{b:#?}"
    );
    for c in cov_a.iter().chain(&cov_b) {
        assert_eq!(c.status, CoverageStatus::Scanned, "{c:?}");
    }
    assert_eq!(mock.throttled(), 0, "the mock's rate limit was never hit");
    let calls = mock.calls();
    for region in regions {
        let times: Vec<_> = calls
            .iter()
            .filter(|c| c.region == region)
            .map(|c| c.at)
            .collect();
        assert_eq!(
            times.len(),
            5,
            "{region}: 1 sweep page + bucket + table + function twice"
        );
        for w in times.windows(2) {
            assert!(
                w[1] - w[0] >= StdDuration::from_millis(450),
                "{region}: requests {:?} apart",
                w[1] - w[0]
            );
        }
        for w in times.windows(3) {
            assert!(
                w[2] - w[0] >= StdDuration::from_millis(950),
                "{region}: three requests within {:?}",
                w[2] - w[0]
            );
        }
    }
}
