//! The Resource Explorer fast path (`inventory = "resource-explorer"`) through the real
//! SDK against the local Resource Explorer mock (REST-JSON as in the API reference),
//! with the Cloud Control mock for what it does not cover and moto for the rest.

use std::collections::BTreeSet;

use cloudcensus_aws::{AwsSourceConfig, Inventory, connect_with_sdk_config};
use cloudcensus_core::visibility::{cloud_control_types, visibility};
use cloudcensus_core::{Connector, Coverage, CoverageStatus, Provider, Resource};
use cloudcensus_faultproxy::cloudcontrol::CloudControlMock;
use cloudcensus_faultproxy::resourceexplorer::{ReError, ResourceExplorerMock};

use super::{config, fresh_account, scan, sdk_for};

const REGIONS: [&str; 3] = ["eu-west-1", "eu-central-1", "us-east-1"];

/// Every catalog type but Kinesis streams, plus the types it lists that Cloud Control
/// cannot (OpenSearch domains), as `ListSupportedResourceTypes` names them.
fn supported() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = cloud_control_types()
        .iter()
        .filter(|t| t.arn_type != "kinesis:stream")
        .map(|t| {
            let svc = t.arn_type.split(':').next().unwrap().to_string();
            (svc, t.arn_type.clone())
        })
        .collect();
    v.push(("ec2".into(), "ec2:security-group".into()));
    v
}

fn re_config(cc: &CloudControlMock, re: &ResourceExplorerMock) -> AwsSourceConfig {
    let mut cfg = config(&REGIONS);
    cfg.cloud_control = true;
    cfg.inventory = Inventory::ResourceExplorer;
    cfg.endpoint_urls.insert("cloudcontrol".into(), cc.url());
    cfg.endpoint_urls
        .insert("resource_explorer_2".into(), re.url());
    cfg.max_attempts = 3;
    cfg.retry_base_delay_ms = 10;
    cfg
}

async fn run(acct: &str, cfg: &AwsSourceConfig) -> (Vec<Resource>, Vec<Coverage>) {
    let conn = connect_with_sdk_config(cfg, sdk_for(acct).await)
        .await
        .unwrap();
    let scopes = conn.scopes().await.unwrap();
    scan(&conn, &scopes[0]).await
}

fn cov_of<'a>(cov: &'a [Coverage], region: &str, service: &str) -> Option<&'a Coverage> {
    cov.iter()
        .find(|c| c.region == region && c.service == service)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_explorer_lists_indexed_regions_in_a_few_calls_and_cloud_control_the_rest() {
    let acct = fresh_account();
    super::seed("estate", &acct);
    let other = fresh_account();
    let re = ResourceExplorerMock::start(&acct, 1000).await.unwrap();
    re.index("eu-west-1", true);
    re.index("eu-central-1", false);
    let types = supported();
    let pairs: Vec<(&str, &str)> = types
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    re.support(&pairs);
    let arn = |svc: &str, region: &str, rest: &str| format!("arn:aws:{svc}:{region}:{acct}:{rest}");
    let redshift = arn("redshift", "eu-west-1", "cluster:warehouse");
    let domain = arn("es", "eu-central-1", "domain/zoek");
    let pool = arn(
        "cognito-idp",
        "eu-central-1",
        "userpool/eu-central-1_AbC123",
    );
    re.add(&acct, &redshift, &[]);
    re.add(&acct, &domain, &[("verwerking", "VA-0012")]);
    re.add(&acct, &pool, &[]);
    // 1 200 log groups: more than one page of 500, and more than the 1000 at which the
    // service stops sending NextToken.
    for i in 0..1200 {
        re.add(
            &acct,
            &arn("logs", "eu-west-1", &format!("log-group:/app/{i}")),
            &[],
        );
    }
    // Another account's resource in a multi-account view; an untagged security group
    // (no listing vouches for that type) and a tagged one.
    re.add(
        &other,
        &format!("arn:aws:sqs:eu-west-1:{other}:elders"),
        &[],
    );
    re.add(
        &acct,
        &arn("ec2", "eu-west-1", "security-group/sg-0untagged"),
        &[],
    );
    re.add(
        &acct,
        &arn("ec2", "eu-west-1", "security-group/sg-0tagged"),
        &[("team", "platform")],
    );
    re.fail("ListResources", ReError::Throttling, Some(1));

    // Cloud Control serves the region without an index and the type RE does not support.
    let cc = CloudControlMock::start(100).await.unwrap();
    cc.add(
        "us-east-1",
        "AWS::SQS::Queue",
        None,
        &format!("https://sqs.us-east-1.amazonaws.com/{acct}/intake"),
        None,
    );
    cc.add("eu-west-1", "AWS::Kinesis::Stream", None, "clicks", None);
    // Would be a duplicate if Cloud Control were asked where RE vouches: it must not be.
    cc.add("eu-west-1", "AWS::Redshift::Cluster", None, "cc-only", None);

    let cfg = re_config(&cc, &re);
    let (res, cov) = run(&acct, &cfg).await;
    let ids: BTreeSet<&str> = res.iter().map(|r| r.id.as_str()).collect();

    for want in [&redshift, &domain, &pool] {
        assert!(ids.contains(want.as_str()), "{want} not listed");
    }
    let r = res.iter().find(|r| r.id == redshift).unwrap();
    assert_eq!(
        (
            r.resource_type.as_str(),
            r.location.as_deref(),
            r.scope_id.as_str()
        ),
        ("redshift:cluster", Some("eu-west-1"), acct.as_str())
    );
    assert_eq!(
        res.iter().find(|r| r.id == domain).unwrap().tags["verwerking"],
        "VA-0012"
    );
    assert_eq!(
        res.iter()
            .filter(|r| r.resource_type == "logs:log-group")
            .count(),
        1200,
        "every page"
    );
    assert!(ids.contains(format!("arn:aws:sqs:us-east-1:{acct}:intake").as_str()));
    assert!(ids.contains(format!("arn:aws:kinesis:eu-west-1:{acct}:stream/clicks").as_str()));
    assert!(!ids.contains(format!("arn:aws:redshift:eu-west-1:{acct}:cluster:cc-only").as_str()));
    assert!(
        !ids.iter().any(|i| i.contains(&other)),
        "other account kept"
    );
    assert!(!ids.iter().any(|i| i.ends_with("sg-0untagged")));
    assert!(ids.iter().any(|i| i.ends_with("sg-0tagged")));
    // moto's services are still listed.
    assert!(res.iter().any(|r| r.resource_type == "s3:bucket"));
    assert!(res.iter().any(|r| r.resource_type == "ec2:volume"));

    // Coverage: RE vouches per indexed region; Cloud Control the rest.
    let scanned = |region: &str, svc: &str| {
        cov_of(&cov, region, svc).map(|c| c.status) == Some(CoverageStatus::Scanned)
    };
    for region in ["eu-west-1", "eu-central-1"] {
        assert!(scanned(region, "resource-explorer:AWS::Redshift::Cluster"));
        assert!(scanned(
            region,
            "resource-explorer:AWS::OpenSearchService::Domain"
        ));
        assert!(cov_of(&cov, region, "cloudcontrol:AWS::Redshift::Cluster").is_none());
        assert!(scanned(region, "cloudcontrol:AWS::Kinesis::Stream"));
    }
    assert!(scanned("us-east-1", "cloudcontrol:AWS::Redshift::Cluster"));
    let note = cov_of(&cov, "us-east-1", "resource-explorer").unwrap();
    assert_eq!(note.status, CoverageStatus::NotOffered);
    assert!(
        note.message
            .as_deref()
            .unwrap()
            .contains("no Resource Explorer index in us-east-1")
    );
    let gaps: Vec<_> = cov.iter().filter(|c| c.status.is_gap()).collect();
    assert!(gaps.is_empty(), "{gaps:#?}");

    // Visibility: OpenSearch domains (no Cloud Control list handler) are now complete
    // where RE indexes; Redshift everywhere.
    let v = &visibility(&cov)[&Provider::Aws];
    assert!(v.complete_everywhere.contains("redshift:cluster"), "{v:?}");
    assert!(v.complete_everywhere.contains("kinesis:stream"), "{v:?}");
    assert!(v.complete_somewhere.contains("es:domain"), "{v:?}");

    // A few calls instead of one per (region, type): 3 pages (+1 throttled retry).
    assert_eq!(re.calls("ListResources"), 4);
    assert_eq!(re.calls("ListIndexes"), 1);
    let listable = cloud_control_types()
        .iter()
        .filter(|t| t.list == cloudcensus_core::visibility::CloudControlList::Yes)
        .count();
    assert!(
        cc.calls() < listable * 2,
        "Cloud Control calls {} (a plain scan makes ≥ {})",
        cc.calls(),
        listable * 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_usable_aggregator_every_type_falls_back_to_cloud_control_and_coverage_says_why()
{
    let acct = fresh_account();
    super::seed("estate", &acct);
    let cc = CloudControlMock::start(100).await.unwrap();
    cc.add(
        "eu-west-1",
        "AWS::Redshift::Cluster",
        None,
        "warehouse",
        None,
    );
    let want = format!("arn:aws:redshift:eu-west-1:{acct}:cluster:warehouse");

    let check = |cov: &[Coverage], res: &[Resource], why: &str| {
        let note =
            cov_of(cov, "*", "resource-explorer").unwrap_or_else(|| panic!("{why}: no note"));
        assert_eq!(note.status, CoverageStatus::NotOffered, "{note:?}");
        let msg = note.message.as_deref().unwrap();
        assert!(
            msg.contains(why) && msg.contains("through Cloud Control instead"),
            "{msg}"
        );
        for region in REGIONS {
            assert_eq!(
                cov_of(cov, region, "cloudcontrol:AWS::Redshift::Cluster").map(|c| c.status),
                Some(CoverageStatus::Scanned),
                "{why}: {region}"
            );
        }
        assert!(res.iter().any(|r| r.id == want), "{why}");
        assert!(!cov.iter().any(|c| c.status.is_gap()), "{why}: {cov:#?}");
    };

    // Local indexes only.
    let re = ResourceExplorerMock::start(&acct, 100).await.unwrap();
    re.index("eu-west-1", false);
    let (res, cov) = run(&acct, &re_config(&cc, &re)).await;
    check(&cov, &res, "no aggregator index");

    // An aggregator whose default view filters.
    let re = ResourceExplorerMock::start(&acct, 100).await.unwrap();
    re.index("eu-west-1", true);
    re.view("service:ec2", true);
    let (res, cov) = run(&acct, &re_config(&cc, &re)).await;
    check(&cov, &res, "has the filter 'service:ec2'");
    assert_eq!(re.calls("ListResources"), 0);

    // Listing denied: with Cloud Control a note, without it a gap.
    let re = ResourceExplorerMock::start(&acct, 100).await.unwrap();
    re.index("eu-west-1", true);
    re.support(&[("redshift", "redshift:cluster")]);
    re.fail("ListResources", ReError::AccessDenied, None);
    let (res, cov) = run(&acct, &re_config(&cc, &re)).await;
    check(&cov, &res, "AccessDeniedException");
    let mut cfg = re_config(&cc, &re);
    cfg.cloud_control = false;
    let (_, cov) = run(&acct, &cfg).await;
    let gap = cov_of(&cov, "*", "resource-explorer").unwrap();
    assert_eq!(gap.status, CoverageStatus::Denied, "{gap:?}");
    assert!(
        gap.message
            .as_deref()
            .unwrap()
            .contains("seen only when tagged")
    );

    // A killed endpoint is an error note, and Cloud Control still lists.
    let re = ResourceExplorerMock::start(&acct, 100).await.unwrap();
    let mut cfg = re_config(&cc, &re);
    drop(re);
    cfg.max_attempts = 2;
    cfg.request_timeout_secs = 5;
    let (res, cov) = run(&acct, &cfg).await;
    let note = cov_of(&cov, "*", "resource-explorer").unwrap();
    assert_eq!(note.status, CoverageStatus::NotOffered);
    assert!(
        note.message.as_deref().unwrap().contains("ListIndexes"),
        "{note:?}"
    );
    assert!(res.iter().any(|r| r.id == want));
}
