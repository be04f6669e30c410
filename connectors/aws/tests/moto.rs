//! The AWS connector against a real moto server (`CLOUDCENSUS_TEST_MOTO`, started by
//! `scripts/test`). Each test works in its own account ids, so the tests share one
//! server in parallel. Estates are seeded by `seed_moto.py` (boto3 write calls, test
//! setup only).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use aws_types::region::Region;
use cloudcensus_aws::{AwsConnector, AwsSourceConfig, Regions, connect_with_sdk_config};
use cloudcensus_core::{
    Category, Connector, Coverage, CoverageStatus, Observation, Provider, Resource, Scope,
};
use futures::TryStreamExt;
use serde_json::Value;

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

type Seen = (
    String,
    Option<String>,
    Vec<String>,
    BTreeMap<String, String>,
);

fn summary(res: &[Resource]) -> BTreeMap<String, Seen> {
    res.iter()
        .map(|r| {
            (
                r.id.clone(),
                (
                    r.resource_type.clone(),
                    r.location.clone(),
                    r.replica_locations.clone(),
                    r.tags.clone(),
                ),
            )
        })
        .collect()
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ids(v: &Value, kind: &str, region: &str) -> Vec<String> {
    v[kind][region]
        .as_array()
        .unwrap_or_else(|| panic!("seed output has no {kind}/{region}: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

const ESTATE_REGIONS: [&str; 5] = [
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "ap-southeast-2", // outside the EEA
    "eu-south-2",     // opt-in region
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_lists_exact_estate_with_locations_replicas_and_tags() {
    let acct = fresh_account();
    let seeded = seed("estate", &acct);
    let conn = connect_with_sdk_config(&config(&ESTATE_REGIONS), sdk_for(&acct).await)
        .await
        .unwrap();
    assert_eq!(
        conn.identity().await.unwrap(),
        format!("arn:aws:sts::{acct}:assumed-role/cloudcensus-test/cloudcensus-test")
    );
    let scopes = conn.scopes().await.unwrap();
    assert_eq!(
        scopes.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [acct.as_str()]
    );
    let (res, cov) = scan(&conn, &scopes[0]).await;

    let p = format!("cc{acct}");
    let none = BTreeMap::new();
    let mut want: BTreeMap<String, Seen> = BTreeMap::new();
    let mut add = |arn: String, ty: &str, loc: &str, rep: &[&str], t: &BTreeMap<String, String>| {
        want.insert(
            arn,
            (
                ty.to_string(),
                Some(loc.to_string()),
                rep.iter().map(|s| s.to_string()).collect(),
                t.clone(),
            ),
        );
    };
    let b = |n: &str| format!("arn:aws:s3:::{p}-{n}");
    add(
        b("tagged"),
        "s3:bucket",
        "eu-west-1",
        &[],
        &tags(&[("verwerking", "VA-0001"), ("owner", "team-a")]),
    );
    add(b("untagged"), "s3:bucket", "eu-central-1", &[], &none);
    add(b("legacy-eu"), "s3:bucket", "eu-west-1", &[], &none); // LocationConstraint "EU"
    add(b("useast"), "s3:bucket", "us-east-1", &[], &none); // LocationConstraint null
    add(b("sydney"), "s3:bucket", "ap-southeast-2", &[], &none);
    add(b("replica"), "s3:bucket", "us-east-1", &[], &none);
    add(
        b("replicated"),
        "s3:bucket",
        "eu-west-1",
        &["us-east-1"],
        &tags(&[("verwerking", "VA-0002")]),
    );
    let ec2 = |r: &str, kind: &str, id: &str| format!("arn:aws:ec2:{r}:{acct}:{kind}/{id}");
    let web = &ids(&seeded, "instances", "eu-west-1")[0];
    add(
        ec2("eu-west-1", "instance", web),
        "ec2:instance",
        "eu-west-1",
        &[],
        &tags(&[("Name", "web"), ("verwerking", "VA-0004")]),
    );
    let syd = &ids(&seeded, "instances", "ap-southeast-2")[0];
    add(
        ec2("ap-southeast-2", "instance", syd),
        "ec2:instance",
        "ap-southeast-2",
        &[],
        &none,
    );
    for r in ["eu-west-1", "ap-southeast-2", "eu-central-1"] {
        for v in ids(&seeded, "volumes", r) {
            let t = if r == "eu-central-1" {
                tags(&[("verwerking", "VA-0003")])
            } else {
                none.clone()
            };
            add(ec2(r, "volume", &v), "ec2:volume", r, &[], &t);
        }
    }
    add(
        format!("arn:aws:rds:eu-central-1:{acct}:db:orders"),
        "rds:db",
        "eu-central-1",
        &[],
        &tags(&[("verwerking", "VA-0005")]),
    );
    add(
        format!("arn:aws:dynamodb:eu-west-1:{acct}:table/people"),
        "dynamodb:table",
        "eu-west-1",
        &[],
        &none,
    );
    add(
        format!("arn:aws:dynamodb:us-east-1:{acct}:table/audit"),
        "dynamodb:table",
        "us-east-1",
        &[],
        &tags(&[("verwerking", "VA-0006")]),
    );
    add(
        format!("arn:aws:lambda:eu-south-2:{acct}:function:madrid-fn"),
        "lambda:function",
        "eu-south-2",
        &[],
        &none,
    );
    add(
        format!("arn:aws:lambda:eu-west-1:{acct}:function:dublin-fn"),
        "lambda:function",
        "eu-west-1",
        &[],
        &none,
    );
    let fs = &ids(&seeded, "file_systems", "eu-west-1")[0];
    add(
        format!("arn:aws:elasticfilesystem:eu-west-1:{acct}:file-system/{fs}"),
        "elasticfilesystem:file-system",
        "eu-west-1",
        &[],
        &tags(&[("verwerking", "VA-0007")]),
    );

    assert_eq!(summary(&res), want);
    for r in &res {
        assert_eq!(r.provider, Provider::Aws);
        assert_eq!(r.scope_id, acct);
        assert_eq!(
            r.category,
            Category::classify(Provider::Aws, &r.resource_type)
        );
    }
    let cat = |ty: &str| res.iter().find(|r| r.resource_type == ty).unwrap().category;
    assert_eq!(cat("s3:bucket"), Category::DataStore);
    assert_eq!(cat("ec2:instance"), Category::Compute);
    assert_eq!(cat("ec2:volume"), Category::DataStore);

    // Everything was listed: S3 once for the account, six services in each region.
    assert!(
        cov.iter().all(|c| c.status == CoverageStatus::Scanned),
        "{cov:#?}"
    );
    let mut want_cov: BTreeSet<(String, String)> = BTreeSet::from([("global".into(), "s3".into())]);
    for r in ESTATE_REGIONS {
        for s in [
            "tagging",
            "ec2",
            "rds",
            "dynamodb",
            "lambda",
            "elasticfilesystem",
        ] {
            want_cov.insert((r.to_string(), s.to_string()));
        }
    }
    let got_cov: BTreeSet<(String, String)> = cov
        .iter()
        .map(|c| (c.region.clone(), c.service.clone()))
        .collect();
    assert_eq!(got_cov, want_cov);
    assert_eq!(cov.len(), want_cov.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_regions_are_scanned_and_regions_not_opted_in_are_reported_not_enabled() {
    let acct = fresh_account();
    let seeded = seed("enabled", &acct);
    let sdk = sdk_for(&acct).await;
    // The emulator's own view of the partition's regions, read independently.
    let regions = aws_sdk_ec2::Client::new(&sdk)
        .describe_regions()
        .all_regions(true)
        .send()
        .await
        .unwrap();
    let (mut opted_out, mut opted_in) = (BTreeSet::new(), BTreeSet::new());
    for r in regions.regions() {
        let name = r.region_name().unwrap().to_string();
        if name.starts_with("cn-") || name.starts_with("us-gov-") {
            continue;
        }
        if r.opt_in_status() == Some("not-opted-in") {
            opted_out.insert(name);
        } else {
            opted_in.insert(name);
        }
    }
    assert!(opted_out.contains("eu-south-2") && opted_in.contains("eu-north-1"));

    let conn = connect_with_sdk_config(&config(&[]), sdk).await.unwrap();
    let scope = Scope::new(Provider::Aws, acct.clone());
    let (res, cov) = scan(&conn, &scope).await;

    let not_enabled: BTreeSet<String> = cov
        .iter()
        .filter(|c| c.status == CoverageStatus::NotEnabled)
        .inspect(|c| assert_eq!(c.service, "*"))
        .map(|c| c.region.clone())
        .collect();
    assert_eq!(not_enabled, opted_out);
    let scanned: BTreeSet<String> = cov
        .iter()
        .filter(|c| c.status == CoverageStatus::Scanned && c.region != "global")
        .map(|c| c.region.clone())
        .collect();
    assert_eq!(scanned, opted_in);
    assert!(cov.iter().all(|c| !c.status.is_gap()), "{cov:#?}");
    // Other partitions (moto lists them too) are not this account's regions.
    assert!(
        cov.iter()
            .all(|c| !c.region.starts_with("cn-") && !c.region.starts_with("us-gov-"))
    );
    assert_eq!(cov.len(), 1 + opted_out.len() + 6 * opted_in.len());

    let inst = &ids(&seeded, "instances", "eu-north-1")[0];
    let got: BTreeSet<(String, Option<String>)> = res
        .iter()
        .filter(|r| r.resource_type != "ec2:volume")
        .map(|r| (r.id.clone(), r.location.clone()))
        .collect();
    assert_eq!(
        got,
        BTreeSet::from([
            (
                format!("arn:aws:s3:::cc{acct}-stockholm"),
                Some("eu-north-1".to_string())
            ),
            (
                format!("arn:aws:ec2:eu-north-1:{acct}:instance/{inst}"),
                Some("eu-north-1".to_string())
            ),
        ])
    );
}

fn org_config(regions: &[&str]) -> AwsSourceConfig {
    let mut cfg = config(regions);
    cfg.organization = true;
    cfg.assume_role = Some("CloudcensusReader".into());
    cfg
}

/// Accounts are listed side by side, and together they stay within the source's
/// `max_concurrency`: the Cloud Control mock (every type × region of three accounts is a
/// job, 40 ms each) never sees more calls at once than that, and sees more than one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_listed_side_by_side_share_the_sources_max_concurrency() {
    let mgmt = fresh_account();
    let _org = seed("organization", &mgmt);
    let mock = cloudcensus_faultproxy::cloudcontrol::CloudControlMock::start(100)
        .await
        .unwrap();
    mock.set_latency_ms(40);
    let mut cfg = org_config(&["eu-west-1", "eu-central-1"]);
    cfg.cloud_control = true;
    cfg.endpoint_urls.insert("cloudcontrol".into(), mock.url());
    cfg.max_concurrency = 3;
    let conn = connect_with_sdk_config(&cfg, sdk_for(&mgmt).await)
        .await
        .unwrap();
    let scopes = conn.scopes().await.unwrap();
    assert_eq!(scopes.len(), 3);
    // As the scan pipeline does: every account's inventory at once.
    let listed = futures::future::join_all(scopes.iter().map(|s| scan(&conn, s))).await;
    for (scope, (_, cov)) in scopes.iter().zip(&listed) {
        assert!(
            cov.iter()
                .any(|c| c.service.starts_with("cloudcontrol:")
                    && c.status == CoverageStatus::Scanned),
            "{}: {cov:?}",
            scope.id
        );
    }
    let most = mock.proxy().max_in_flight();
    assert!(
        (2..=3).contains(&most),
        "Cloud Control calls in flight at once: {most} (max_concurrency = 3)"
    );
}

/// Every call of an organization's scan counts against the source's `max_concurrency`,
/// not only the inventory jobs: the organization listing, each member's `AssumeRole`,
/// its bucket list and the calls a job makes side by side. A proxy in front of moto
/// holds every request 30 ms and counts what is in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_of_an_organization_scan_stays_within_max_concurrency() {
    use cloudcensus_faultproxy::{Fault, FaultProxy, Times};
    let mgmt = fresh_account();
    let _org = seed("organization", &mgmt);
    let proxy = FaultProxy::start(Some(&moto())).await.unwrap();
    proxy.inject(
        "latency",
        |_| true,
        Fault::Delay(std::time::Duration::from_millis(30)),
        Times::Always,
    );
    let mut cfg = org_config(&["eu-west-1", "eu-central-1"]);
    cfg.endpoint_url = Some(proxy.url());
    cfg.max_concurrency = 3;
    let conn = connect_with_sdk_config(&cfg, sdk_for(&mgmt).await)
        .await
        .unwrap();
    let scopes = conn.scopes().await.unwrap();
    assert_eq!(scopes.len(), 3);
    let listed = futures::future::join_all(scopes.iter().map(|s| scan(&conn, s))).await;
    for (scope, (_, cov)) in scopes.iter().zip(&listed) {
        assert!(
            cov.iter().all(|c| c.status == CoverageStatus::Scanned),
            "{}: {cov:?}",
            scope.id
        );
    }
    assert!(proxy.hits("latency") > 40, "{}", proxy.hits("latency"));
    let most = proxy.max_in_flight();
    assert!(
        (2..=3).contains(&most),
        "calls in flight at once: {most} (max_concurrency = 3)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_accounts_are_scopes_with_ou_path_tags_and_assumed_role_inventory() {
    let mgmt = fresh_account();
    let org = seed("organization", &mgmt);
    let (member, other) = (
        org["member"].as_str().unwrap(),
        org["other"].as_str().unwrap(),
    );
    let (ou, org_id) = (org["ou"].as_str().unwrap(), org["org_id"].as_str().unwrap());

    let conn = connect_with_sdk_config(&org_config(&["eu-west-1"]), sdk_for(&mgmt).await)
        .await
        .unwrap();
    let scopes = conn.scopes().await.unwrap();
    let mut want_ids = vec![mgmt.clone(), member.to_string(), other.to_string()];
    want_ids.sort();
    assert_eq!(
        scopes.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        want_ids
    );
    let m = scopes.iter().find(|s| s.id == member).unwrap();
    assert_eq!(m.parents, [ou, org_id]);
    assert_eq!(m.name.as_deref(), Some("productie"));
    assert_eq!(m.tags, tags(&[("verwerking", "VA-0100")]));
    let o = scopes.iter().find(|s| s.id == other).unwrap();
    assert_eq!(o.parents, [org_id]);
    assert!(o.tags.is_empty());

    // The member is listed with credentials from AssumeRole into CloudcensusReader.
    let (res, cov) = scan(&conn, m).await;
    assert_eq!(
        res.iter()
            .map(|r| (r.id.as_str(), r.scope_id.as_str()))
            .collect::<Vec<_>>(),
        [(format!("arn:aws:s3:::cc{member}-member").as_str(), member)]
    );
    assert!(
        cov.iter()
            .all(|c| c.status == CoverageStatus::Scanned && c.scope_id == member)
    );
    assert!(conn.invoked_operations().contains("sts:AssumeRole"));
    // One session for the whole (short) scan of the member.
    assert_eq!(conn.assume_role_requests(), 1);
    // The management account is scanned with the caller's own credentials.
    let (res, _) = scan(&conn, scopes.iter().find(|s| s.id == mgmt).unwrap()).await;
    assert_eq!(
        res.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        [format!("arn:aws:s3:::cc{mgmt}-mgmt")]
    );

    // OU and account filters.
    let mut cfg = org_config(&["eu-west-1"]);
    cfg.include_ous = vec![ou.to_string()];
    let conn = connect_with_sdk_config(&cfg, sdk_for(&mgmt).await)
        .await
        .unwrap();
    let ids: Vec<String> = conn
        .scopes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [member]);
    let mut cfg = org_config(&["eu-west-1"]);
    cfg.exclude_ous = vec![ou.to_string()];
    cfg.exclude_accounts = vec![other.to_string()];
    let conn = connect_with_sdk_config(&cfg, sdk_for(&mgmt).await)
        .await
        .unwrap();
    let ids: Vec<String> = conn
        .scopes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [mgmt]);
}

/// A moto server of this test's own (IAM enforcement is server-wide, so it must not be
/// the shared one). Killed on drop.
struct OwnMoto {
    child: std::process::Child,
    url: String,
}

impl OwnMoto {
    fn start() -> OwnMoto {
        // The shared server proves moto is installed; this one uses the same binary.
        let _ = moto();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server (scripts/requirements-test.txt) must be on PATH");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..150 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return OwnMoto { child, url };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("moto_server did not start on {url}");
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seed_at(endpoint: &str, scenario: &str, account: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seed_moto.py");
    let out = Command::new("python3")
        .args([script, endpoint, scenario, account])
        .output()
        .expect("python3 with boto3 on PATH");
    assert!(
        out.status.success(),
        "seeding '{scenario}' failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn user_sdk(endpoint: &str, key: &Value) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            key["id"].as_str().unwrap(),
            key["secret"].as_str().unwrap(),
            None,
            None,
            "test",
        ))
        .region(Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .load()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_service_becomes_coverage_and_everything_else_is_still_listed() {
    let server = OwnMoto::start();
    let acct = fresh_account();
    let seeded = seed_at(&server.url, "iam-users", &acct);
    // From now on moto evaluates IAM policies for every request.
    let resp = http_post(&server.url, "/moto-api/reset-auth", "0");
    assert!(resp.contains("ok"), "{resp}");

    let mut cfg = config(&["eu-west-1", "eu-central-1"]);
    cfg.endpoint_url = Some(server.url.clone());

    // Under moto's IAM enforcement, Lambda and EFS (REST-JSON) requests fail moto's own
    // signature check (SignatureDoesNotMatch, HTTP 403) even from boto3: an emulator
    // limit, and those gaps are expected in both scans below.
    let moto_limit = |region: &str| {
        [
            (
                region.to_string(),
                "lambda".to_string(),
                CoverageStatus::Denied,
            ),
            (
                region.to_string(),
                "elasticfilesystem".to_string(),
                CoverageStatus::Denied,
            ),
        ]
    };
    let gaps_of = |cov: &[Coverage]| -> BTreeSet<(String, String, CoverageStatus)> {
        cov.iter()
            .filter(|c| c.status != CoverageStatus::Scanned)
            .map(|c| (c.region.clone(), c.service.clone(), c.status))
            .collect()
    };
    let mut limit = BTreeSet::new();
    limit.extend(moto_limit("eu-west-1"));
    limit.extend(moto_limit("eu-central-1"));

    // With iam-policy.json nothing else is denied: the policy is sufficient.
    let conn = connect_with_sdk_config(&cfg, user_sdk(&server.url, &seeded["full"]).await)
        .await
        .unwrap();
    let (res, cov) = scan(&conn, &Scope::new(Provider::Aws, acct.clone())).await;
    assert_eq!(gaps_of(&cov), limit, "{cov:#?}");
    assert!(
        res.iter()
            .any(|r| r.id == format!("arn:aws:rds:eu-west-1:{acct}:db:hidden"))
    );

    // Without the RDS actions: RDS is denied in each region, the rest is listed.
    let conn = connect_with_sdk_config(&cfg, user_sdk(&server.url, &seeded["no-rds"]).await)
        .await
        .unwrap();
    let (res, cov) = scan(&conn, &Scope::new(Provider::Aws, acct.clone())).await;
    let mut want = limit.clone();
    want.insert(("eu-central-1".into(), "rds".into(), CoverageStatus::Denied));
    want.insert(("eu-west-1".into(), "rds".into(), CoverageStatus::Denied));
    assert_eq!(gaps_of(&cov), want, "{cov:#?}");
    let denied = cov
        .iter()
        .find(|c| c.service == "rds" && c.status == CoverageStatus::Denied)
        .unwrap();
    let msg = denied.message.as_deref().unwrap_or("");
    assert!(
        // moto's auth error body is not in the RDS (query) shape, so only the status is
        // known; on AWS the message carries the AccessDenied code.
        msg.contains("rds:DescribeDBInstances") && msg.contains("403"),
        "{denied:?}"
    );
    assert_eq!(cov.len(), 1 + 2 * 6);
    let inst = seeded["instance"].as_str().unwrap();
    let got: BTreeSet<String> = res
        .iter()
        .filter(|r| r.resource_type != "ec2:volume")
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(
        got,
        BTreeSet::from([
            format!("arn:aws:s3:::cc{acct}-iam"),
            format!("arn:aws:ec2:eu-west-1:{acct}:instance/{inst}"),
            format!("arn:aws:dynamodb:eu-central-1:{acct}:table/records"),
        ])
    );
}

/// A plain HTTP/1.1 POST on 127.0.0.1 (the moto control API), returning the body.
fn http_post(base: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_scan_only_reads_uses_exactly_the_policy_actions_and_changes_nothing() {
    let mgmt = fresh_account();
    let org = seed("organization", &mgmt);
    seed("estate", org["member"].as_str().unwrap());
    // Cloud Control through a mock (moto has none): its list permissions count as used.
    let mock = cloudcensus_faultproxy::cloudcontrol::CloudControlMock::start(100)
        .await
        .unwrap();
    // Resource Explorer through its mock: an aggregator in eu-west-1 only, so Cloud
    // Control still lists every type in the other regions.
    let re = cloudcensus_faultproxy::resourceexplorer::ResourceExplorerMock::start(&mgmt, 100)
        .await
        .unwrap();
    re.index("eu-west-1", true);
    re.support(&[("redshift", "redshift:cluster")]);
    let mut cfg = org_config(&[]);
    cfg.cloud_control = true;
    cfg.inventory = cloudcensus_aws::Inventory::ResourceExplorer;
    cfg.endpoint_urls.insert("cloudcontrol".into(), mock.url());
    cfg.endpoint_urls
        .insert("resource_explorer_2".into(), re.url());
    // Creator lookups through the CloudTrail mock (moto has no LookupEvents).
    let trail = cloudcensus_faultproxy::cloudtrail::CloudTrailMock::start(50)
        .await
        .unwrap();
    cfg.endpoint_urls.insert("cloudtrail".into(), trail.url());
    let conn = connect_with_sdk_config(&cfg, sdk_for(&mgmt).await)
        .await
        .unwrap();

    let mut first = Vec::new();
    for scope in conn.scopes().await.unwrap() {
        first.push(scan(&conn, &scope).await);
    }
    let mut second = Vec::new();
    for scope in conn.scopes().await.unwrap() {
        second.push(scan(&conn, &scope).await);
    }
    // Nothing the scan did changed what a scan sees.
    assert_eq!(first, second);
    assert!(first.iter().map(|(r, _)| r.len()).sum::<usize>() > 15);

    // Who created a few resources of each account: every lookup is answered and called.
    for (scope, (res, _)) in conn.scopes().await.unwrap().iter().zip(&first) {
        let targets: Vec<cloudcensus_core::LookupTarget> = res
            .iter()
            .filter(|r| {
                ["s3:bucket", "ec2:volume", "dynamodb:table"].contains(&r.resource_type.as_str())
            })
            .take(3)
            .map(|r| cloudcensus_core::LookupTarget {
                resource_id: r.id.clone(),
                name: r.name.clone(),
                resource_type: r.resource_type.clone(),
                location: r.location.clone(),
                created_at: r.created_at,
            })
            .collect();
        let out = conn.creators(scope, &targets).await;
        assert_eq!(out.creators.len(), targets.len());
        assert!(
            out.coverage
                .iter()
                .all(|c| c.status == CoverageStatus::Scanned),
            "{:?}",
            out.coverage
        );
    }
    assert!(!trail.calls().is_empty());

    let policy: Value = serde_json::from_str(cloudcensus_aws::IAM_POLICY_JSON).unwrap();
    let actions: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    for a in &actions {
        let verb = a.split_once(':').unwrap().1;
        assert!(
            ["List", "Get", "Describe", "Search", "Select", "Lookup"]
                .iter()
                .any(|p| verb.starts_with(p))
                || a == "apigateway:GET",
            "iam-policy.json action {a} is not read-only"
        );
    }
    let ops = conn.invoked_operations();
    for op in &ops {
        let (svc, name) = op.split_once(':').unwrap();
        assert!(
            cloudcensus_aws::is_read_only(svc, name),
            "{op} is not a read"
        );
    }
    let mut used: BTreeSet<String> = ops
        .iter()
        .filter(|op| {
            !cloudcensus_aws::ALLOWED_NON_PREFIXED
                .iter()
                .any(|(o, _)| o == *op)
        })
        .map(|op| cloudcensus_aws::iam_action(op))
        .collect();
    // Cloud Control calls each type's list handler with the caller's permissions: the
    // handlers' read actions (aws-cloudcontrol.csv) are used by every type listed.
    let listed: BTreeSet<String> = first
        .iter()
        .flat_map(|(_, cov)| cov.iter())
        .filter(|c| c.status == CoverageStatus::Scanned)
        .filter_map(|c| c.service.strip_prefix("cloudcontrol:").map(str::to_string))
        .collect();
    assert!(listed.len() >= 55, "{listed:?}");
    for t in cloudcensus_core::visibility::cloud_control_types() {
        if listed.contains(&t.type_name) {
            used.extend(t.list_permissions.iter().cloned());
        }
    }
    assert!(mock.calls() > 55, "{}", mock.calls());
    assert!(re.calls("ListResources") > 0);
    // Every operation is allowed by the policy, and the policy grants nothing unused.
    assert_eq!(used, actions);
    assert!(ops.contains("sts:AssumeRole"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interceptor_refuses_writes_before_they_are_sent() {
    let acct = fresh_account();
    let sdk = sdk_for(&acct).await;
    let rec = cloudcensus_aws::OperationRecorder::new();
    let guarded = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .interceptor(rec.clone())
            .force_path_style(true)
            .build(),
    );
    let err = guarded
        .create_bucket()
        .bucket(format!("cc{acct}-must-not-exist"))
        .send()
        .await
        .unwrap_err();
    assert!(
        cloudcensus_aws::error_text(&err).contains("read-only: refused s3:CreateBucket"),
        "{err:?}"
    );
    assert!(rec.operations().contains("s3:CreateBucket"));
    let plain = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let names: Vec<String> = plain
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[path = "moto/faults.rs"]
mod faults;

#[path = "moto/cloudcontrol.rs"]
mod cloudcontrol;

#[path = "moto/resourceexplorer.rs"]
mod resourceexplorer;

#[test]
fn an_assumed_role_session_outside_what_aws_allows_is_a_config_error() {
    let mut cfg = org_config(&["eu-west-1"]);
    for bad in [0, 899, 43_201] {
        cfg.assume_role_session_secs = bad;
        let err = cfg.validate().unwrap_err();
        assert!(
            err.contains(&format!("assume_role_session_secs: {bad} is outside")),
            "{err}"
        );
    }
    cfg.assume_role_session_secs = 43_200;
    assert_eq!(cfg.validate(), Ok(()));
}
