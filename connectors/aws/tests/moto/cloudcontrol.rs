//! Cloud Control listings through the real SDK against the local Cloud Control mock
//! (`cloudcensus_faultproxy::cloudcontrol`, JSON 1.0 as in the API reference), with moto
//! serving everything it emulates in the same scan.

use std::collections::{BTreeMap, BTreeSet};

use cloudcensus_aws::connect_with_sdk_config;
use cloudcensus_core::visibility::visibility;
use cloudcensus_core::{Category, Connector, CoverageStatus, Provider};
use cloudcensus_faultproxy::cloudcontrol::{CcError, CloudControlMock};
use serde_json::json;

use super::{config, fresh_account, scan, sdk_for};

const REGIONS: [&str; 3] = ["eu-west-1", "eu-central-1", "us-east-1"];

/// (CloudFormation type, identifier as Cloud Control returns it, properties, the ARN
/// cloudcensus must report, its type) — untagged resources of 24 types.
/// (type, region, identifier, properties, ARN, ARN type).
type Expected = (
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
    String,
    &'static str,
);

fn estate(acct: &str) -> Vec<Expected> {
    let arn = |svc: &str, region: &str, rest: &str| format!("arn:aws:{svc}:{region}:{acct}:{rest}");
    vec![
        (
            "AWS::Redshift::Cluster",
            "eu-west-1",
            "warehouse".into(),
            None,
            arn("redshift", "eu-west-1", "cluster:warehouse"),
            "redshift:cluster",
        ),
        (
            "AWS::OpenSearchServerless::Collection",
            "eu-central-1",
            "c0ll3ct10n".into(),
            None,
            arn("aoss", "eu-central-1", "collection/c0ll3ct10n"),
            "aoss:collection",
        ),
        (
            "AWS::ElastiCache::ReplicationGroup",
            "us-east-1",
            "sessions".into(),
            None,
            arn("elasticache", "us-east-1", "replicationgroup:sessions"),
            "elasticache:replicationgroup",
        ),
        (
            "AWS::MemoryDB::Cluster",
            "eu-west-1",
            "cache".into(),
            None,
            arn("memorydb", "eu-west-1", "cluster/cache"),
            "memorydb:cluster",
        ),
        (
            "AWS::DocDBElastic::Cluster",
            "eu-central-1",
            arn("docdb-elastic", "eu-central-1", "cluster/6f1a"),
            None,
            arn("docdb-elastic", "eu-central-1", "cluster/6f1a"),
            "docdb-elastic:cluster",
        ),
        (
            "AWS::Timestream::Database",
            "eu-west-1",
            "metingen".into(),
            None,
            arn("timestream", "eu-west-1", "database/metingen"),
            "timestream:database",
        ),
        (
            "AWS::Cassandra::Keyspace",
            "us-east-1",
            "dossiers".into(),
            None,
            arn("cassandra", "us-east-1", "/keyspace/dossiers/"),
            "cassandra:keyspace",
        ),
        (
            "AWS::SQS::Queue",
            "eu-west-1",
            format!("https://sqs.eu-west-1.amazonaws.com/{acct}/intake"),
            Some(json!({"QueueUrl": "x", "Tags": [{"Key": "verwerking", "Value": "VA-0009"}]})),
            arn("sqs", "eu-west-1", "intake"),
            "sqs:queue",
        ),
        (
            "AWS::SNS::Topic",
            "eu-central-1",
            arn("sns", "eu-central-1", "alerts"),
            None,
            arn("sns", "eu-central-1", "alerts"),
            "sns:topic",
        ),
        (
            "AWS::Kinesis::Stream",
            "eu-west-1",
            "clicks".into(),
            None,
            arn("kinesis", "eu-west-1", "stream/clicks"),
            "kinesis:stream",
        ),
        (
            "AWS::KinesisFirehose::DeliveryStream",
            "us-east-1",
            "to-lake".into(),
            None,
            arn("firehose", "us-east-1", "deliverystream/to-lake"),
            "firehose:deliverystream",
        ),
        (
            "AWS::MSK::Cluster",
            "eu-central-1",
            arn("kafka", "eu-central-1", "cluster/events/1b2c"),
            None,
            arn("kafka", "eu-central-1", "cluster/events/1b2c"),
            "kafka:cluster",
        ),
        (
            "AWS::Glue::Database",
            "eu-west-1",
            "lake".into(),
            None,
            arn("glue", "eu-west-1", "database/lake"),
            "glue:database",
        ),
        (
            "AWS::SageMaker::NotebookInstance",
            "eu-west-1",
            arn("sagemaker", "eu-west-1", "notebook-instance/analyse"),
            None,
            arn("sagemaker", "eu-west-1", "notebook-instance/analyse"),
            "sagemaker:notebook-instance",
        ),
        (
            "AWS::SageMaker::Domain",
            "eu-central-1",
            "d-abc123".into(),
            None,
            arn("sagemaker", "eu-central-1", "domain/d-abc123"),
            "sagemaker:domain",
        ),
        (
            "AWS::Bedrock::KnowledgeBase",
            "us-east-1",
            "KB12345678".into(),
            None,
            arn("bedrock", "us-east-1", "knowledge-base/KB12345678"),
            "bedrock:knowledge-base",
        ),
        (
            "AWS::Backup::BackupVault",
            "eu-west-1",
            "kluis".into(),
            None,
            arn("backup", "eu-west-1", "backup-vault:kluis"),
            "backup:backup-vault",
        ),
        (
            "AWS::ECR::Repository",
            "eu-central-1",
            "images/web".into(),
            None,
            arn("ecr", "eu-central-1", "repository/images/web"),
            "ecr:repository",
        ),
        (
            "AWS::SecretsManager::Secret",
            "eu-west-1",
            arn("secretsmanager", "eu-west-1", "secret:db-AbCdEf"),
            None,
            arn("secretsmanager", "eu-west-1", "secret:db-AbCdEf"),
            "secretsmanager:secret",
        ),
        (
            "AWS::Cognito::UserPool",
            "eu-west-1",
            "eu-west-1_AbC123".into(),
            None,
            arn("cognito-idp", "eu-west-1", "userpool/eu-west-1_AbC123"),
            "cognito-idp:userpool",
        ),
        (
            "AWS::Transfer::Server",
            "us-east-1",
            arn("transfer", "us-east-1", "server/s-01"),
            None,
            arn("transfer", "us-east-1", "server/s-01"),
            "transfer:server",
        ),
        (
            "AWS::EKS::Cluster",
            "eu-central-1",
            "platform".into(),
            None,
            arn("eks", "eu-central-1", "cluster/platform"),
            "eks:cluster",
        ),
        (
            "AWS::ApiGateway::RestApi",
            "eu-west-1",
            "a1b2c3".into(),
            None,
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3".to_string(),
            "apigateway:restapis",
        ),
        (
            "AWS::StepFunctions::StateMachine",
            "us-east-1",
            arn("states", "us-east-1", "stateMachine:flow"),
            None,
            arn("states", "us-east-1", "stateMachine:flow"),
            "states:stateMachine",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_control_lists_untagged_types_in_every_region_and_account_beside_moto() {
    let mut all_ids = BTreeSet::new();
    for (n, acct) in [fresh_account(), fresh_account()].into_iter().enumerate() {
        super::seed("estate", &acct);
        let mock = CloudControlMock::start(2).await.unwrap();
        let want = estate(&acct);
        for (ty, region, id, props, _, _) in &want {
            mock.add(region, ty, None, id, props.clone());
        }
        // Five log groups in pages of two; Glue tables listed under their database.
        for i in 0..5 {
            mock.add(
                "eu-central-1",
                "AWS::Logs::LogGroup",
                None,
                &format!("/app/log-{i}"),
                None,
            );
        }
        mock.add(
            "eu-west-1",
            "AWS::Glue::Table",
            Some("lake"),
            &format!("{acct}|lake|personen"),
            None,
        );
        // One denied type, one unsupported, one not offered; a throttle and a 500 that
        // the SDK's retry absorbs.
        mock.fail(
            "eu-central-1",
            "AWS::Kinesis::Stream",
            CcError::AccessDenied,
            None,
        );
        mock.fail(
            "us-east-1",
            "AWS::Athena::WorkGroup",
            CcError::UnsupportedAction,
            None,
        );
        mock.fail(
            "eu-central-1",
            "AWS::HealthLake::FHIRDatastore",
            CcError::TypeNotFound,
            None,
        );
        mock.fail("eu-west-1", "AWS::SQS::Queue", CcError::Throttling, Some(1));
        mock.fail(
            "eu-west-1",
            "AWS::Redshift::Cluster",
            CcError::Internal,
            Some(1),
        );

        let mut cfg = config(&REGIONS);
        cfg.cloud_control = true;
        cfg.endpoint_urls.insert("cloudcontrol".into(), mock.url());
        cfg.max_attempts = 3;
        cfg.retry_base_delay_ms = 10;
        let conn = connect_with_sdk_config(&cfg, sdk_for(&acct).await)
            .await
            .unwrap();
        let scopes = conn.scopes().await.unwrap();
        let (res, cov) = scan(&conn, &scopes[0]).await;
        let by_id: BTreeMap<&str, _> = res.iter().map(|r| (r.id.as_str(), r)).collect();

        for (ty, region, _, _, arn, arn_type) in &want {
            let r = by_id
                .get(arn.as_str())
                .unwrap_or_else(|| panic!("account {n}: {ty} {arn} not listed"));
            assert_eq!(r.resource_type, *arn_type, "{arn}");
            assert_eq!(r.location.as_deref(), Some(*region), "{arn}");
            assert_eq!(r.scope_id, acct, "{arn}");
            assert_ne!(r.category, Category::Other, "{arn} is classified");
        }
        assert_eq!(
            by_id[format!("arn:aws:sqs:eu-west-1:{acct}:intake").as_str()].tags["verwerking"],
            "VA-0009",
            "tags from the resource model"
        );
        assert_eq!(
            by_id[format!("arn:aws:ecr:eu-central-1:{acct}:repository/images/web").as_str()].name,
            "images/web"
        );
        let logs = res
            .iter()
            .filter(|r| r.resource_type == "logs:log-group")
            .count();
        assert_eq!(logs, 5, "every page of log groups");
        let table = by_id[format!("arn:aws:glue:eu-west-1:{acct}:table/lake/personen").as_str()];
        assert_eq!(
            (table.name.as_str(), table.category),
            ("personen", Category::DataStore)
        );
        // moto's own services are still there (S3 from ListBuckets, EC2 from moto).
        assert!(res.iter().any(|r| r.resource_type == "s3:bucket"));
        assert!(res.iter().any(|r| r.resource_type == "ec2:volume"));

        let status = |region: &str, ty: &str| {
            cov.iter()
                .find(|c| c.region == region && c.service == format!("cloudcontrol:{ty}"))
                .unwrap_or_else(|| panic!("no coverage for {ty} in {region}"))
        };
        let denied = status("eu-central-1", "AWS::Kinesis::Stream");
        assert_eq!(denied.status, CoverageStatus::Denied);
        assert!(
            denied
                .message
                .as_deref()
                .unwrap()
                .contains("AccessDeniedException")
        );
        let unsupported = status("us-east-1", "AWS::Athena::WorkGroup");
        assert_eq!(unsupported.status, CoverageStatus::NotOffered);
        assert!(
            unsupported
                .message
                .as_deref()
                .unwrap()
                .contains("only when tagged")
        );
        let absent = status("eu-central-1", "AWS::HealthLake::FHIRDatastore");
        assert_eq!(absent.status, CoverageStatus::NotOffered);
        assert!(
            absent
                .message
                .as_deref()
                .unwrap()
                .contains("not offered in eu-central-1")
        );
        assert_eq!(
            status("eu-west-1", "AWS::SQS::Queue").status,
            CoverageStatus::Scanned
        );
        assert_eq!(
            status("eu-west-1", "AWS::Redshift::Cluster").status,
            CoverageStatus::Scanned
        );
        assert_eq!(
            status("eu-west-1", "AWS::Glue::Table").status,
            CoverageStatus::Scanned
        );
        let no_handler = cov
            .iter()
            .find(|c| c.service == "cloudcontrol:AWS::OpenSearchService::Domain")
            .unwrap();
        assert_eq!(
            (no_handler.region.as_str(), no_handler.status),
            ("*", CoverageStatus::NotOffered)
        );
        let gaps: Vec<_> = cov.iter().filter(|c| c.status.is_gap()).collect();
        assert_eq!(gaps.len(), 1, "only the denied type is a gap: {gaps:#?}");

        // What the scan could see: every listed type everywhere but the two partial ones.
        let v = &visibility(&cov)[&Provider::Aws];
        assert_eq!(v.regions, 3);
        assert!(v.tagged_rest);
        for t in [
            "s3:bucket",
            "ec2:volume",
            "redshift:cluster",
            "logs:log-group",
            "glue:table",
        ] {
            assert!(v.complete_everywhere.contains(t), "{t}: {v:?}");
        }
        for t in ["kinesis:stream", "athena:workgroup", "healthlake:datastore"] {
            assert!(v.complete_somewhere.contains(t), "{t}: {v:?}");
        }
        assert!(!v.complete_everywhere.contains("es:domain"));
        all_ids.extend(res.into_iter().map(|r| r.id));
    }
    assert!(all_ids.len() >= 2 * 30, "{}", all_ids.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_cloud_control_endpoint_is_error_coverage_and_moto_services_still_list() {
    let acct = fresh_account();
    super::seed("estate", &acct);
    let mock = CloudControlMock::start(100).await.unwrap();
    let url = mock.url();
    drop(mock);
    let mut cfg = config(&["eu-west-1"]);
    cfg.cloud_control = true;
    cfg.endpoint_urls.insert("cloudcontrol".into(), url);
    cfg.max_attempts = 2;
    cfg.retry_base_delay_ms = 10;
    cfg.request_timeout_secs = 5;
    let conn = connect_with_sdk_config(&cfg, sdk_for(&acct).await)
        .await
        .unwrap();
    let scopes = conn.scopes().await.unwrap();
    let (res, cov) = scan(&conn, &scopes[0]).await;
    let cc: Vec<_> = cov
        .iter()
        .filter(|c| c.service.starts_with("cloudcontrol:") && c.region == "eu-west-1")
        .collect();
    assert!(cc.len() > 50, "{}", cc.len());
    for c in &cc {
        assert_eq!(c.status, CoverageStatus::Error, "{c:?}");
    }
    assert!(
        cov.iter()
            .any(|c| c.service == "ec2" && c.status == CoverageStatus::Scanned)
    );
    assert!(res.iter().any(|r| r.resource_type == "ec2:instance"));
    let v = &visibility(&cov)[&Provider::Aws];
    assert!(!v.complete_everywhere.contains("redshift:cluster"));
    assert!(v.not_listed.contains("redshift:cluster"));
}
