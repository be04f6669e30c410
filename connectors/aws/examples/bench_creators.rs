//! Benchmark: creator lookups for 500 unregistered resources in one region (300 EBS
//! volumes, 150 S3 buckets, 50 DynamoDB tables) against the local CloudTrail
//! event-history mock enforcing the service's limit (2 `LookupEvents` per second per
//! region, a token bucket with a burst of 2; anything faster is answered
//! `ThrottlingException` and counted), over a history of 3 240 events in that region.
//! The identity comes from moto. Run by hand (see `bench/README.md`); not part of the
//! test suite.
//!
//! `cargo run -p cloudcensus-aws --example bench_creators -- MOTO [RUNS] [LATENCY_MS]`
//! prints per run `run seconds requests throttled found older failed gaps` and then the
//! median run. The estate is deterministic:
//!
//! * volumes: 200 created in the last 90 days (their `CreateVolume` is in the history),
//!   100 created before it (the inventory's creation time says so: no request);
//! * buckets (the inventory has no creation time for them): 100 created in the history,
//!   50 before it;
//! * tables: 40 created in the history, 10 before it;
//! * beside those: 800 `CreateVolume` of other (since deleted) volumes, 50 `CreateBucket`
//!   of other buckets, 20 `CreateTable` of other tables and 30 Glue `CreateTable` named
//!   like our tables, and 2 000 other events (attachments, tags, policies, updates) that
//!   name our resources.

#[path = "support/mod.rs"]
#[allow(dead_code)] // only the SDK configuration is used here
mod support;

use chrono::{DateTime, Duration, Utc};
use cloudcensus_aws::{AwsSourceConfig, Regions, connect_with_sdk_config};
use cloudcensus_core::{Connector, CreatorStatus, LookupTarget, Provider, Scope};
use cloudcensus_faultproxy::cloudtrail::{CloudTrailMock, Identity, TrailEvent};

const ACCOUNT: &str = "555566667777";
const REGION: &str = "eu-west-1";

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A time in the last 89 days.
    fn recent(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::seconds((self.next() % (89 * 86_400)) as i64 + 60)
    }

    fn pick<'a>(&mut self, from: &'a [String]) -> &'a str {
        &from[(self.next() % from.len() as u64) as usize]
    }
}

fn person(n: u64) -> Identity {
    let people = [
        "jan@minfin.nl",
        "fatima@minfin.nl",
        "kees@minfin.nl",
        "deploy",
    ];
    Identity::AssumedRole {
        account: ACCOUNT.to_string(),
        role: "AWSReservedSSO_Beheerder_0a1b2c3d".to_string(),
        session: people[(n % people.len() as u64) as usize].to_string(),
    }
}

/// Fills the history and returns the 500 targets.
fn estate(mock: &CloudTrailMock) -> Vec<LookupTarget> {
    let now = Utc::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut targets = Vec::new();
    let target =
        |id: String, name: String, ty: &str, created: Option<DateTime<Utc>>| LookupTarget {
            resource_id: id,
            name,
            resource_type: ty.to_string(),
            location: Some(REGION.to_string()),
            created_at: created,
        };
    let (mut volumes, mut buckets, mut tables) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..300 {
        let id = format!("vol-{i:017x}");
        let created = if i < 200 {
            let t = rng.recent(now);
            mock.add(
                REGION,
                TrailEvent::new("CreateVolume", "ec2.amazonaws.com", t, person(rng.next()))
                    .resource("AWS::EC2::Volume", &id),
            );
            t + Duration::seconds(2)
        } else {
            now - Duration::days(100 + i as i64)
        };
        targets.push(target(
            format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{id}"),
            id.clone(),
            "ec2:volume",
            Some(created),
        ));
        volumes.push(id);
    }
    for i in 0..150 {
        let name = format!("minfin-data-{i:03}");
        if i < 100 {
            mock.add(
                REGION,
                TrailEvent::new(
                    "CreateBucket",
                    "s3.amazonaws.com",
                    rng.recent(now),
                    person(rng.next()),
                )
                .resource("AWS::S3::Bucket", &name),
            );
        }
        targets.push(target(
            format!("arn:aws:s3:::{name}"),
            name.clone(),
            "s3:bucket",
            None,
        ));
        buckets.push(name);
    }
    for i in 0..50 {
        let name = format!("zaken-{i:02}");
        let created = if i < 40 {
            let t = rng.recent(now);
            mock.add(
                REGION,
                TrailEvent::new(
                    "CreateTable",
                    "dynamodb.amazonaws.com",
                    t,
                    person(rng.next()),
                )
                .resource("AWS::DynamoDB::Table", &name),
            );
            t + Duration::seconds(1)
        } else {
            now - Duration::days(200)
        };
        targets.push(target(
            format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"),
            name.clone(),
            "dynamodb:table",
            Some(created),
        ));
        tables.push(name);
    }
    // Creations of other resources, and Glue tables named like ours.
    for i in 0..800 {
        let t = rng.recent(now);
        mock.add(
            REGION,
            TrailEvent::new("CreateVolume", "ec2.amazonaws.com", t, person(i))
                .resource("AWS::EC2::Volume", &format!("vol-gone{i:013x}")),
        );
    }
    for i in 0..50 {
        let t = rng.recent(now);
        mock.add(
            REGION,
            TrailEvent::new("CreateBucket", "s3.amazonaws.com", t, person(i))
                .resource("AWS::S3::Bucket", &format!("tmp-export-{i:03}")),
        );
    }
    for i in 0..20 {
        let t = rng.recent(now);
        mock.add(
            REGION,
            TrailEvent::new("CreateTable", "dynamodb.amazonaws.com", t, person(i))
                .resource("AWS::DynamoDB::Table", &format!("scratch-{i:02}")),
        );
    }
    for i in 0..30 {
        let t = rng.recent(now);
        let name = tables[i % tables.len()].clone();
        mock.add(
            REGION,
            TrailEvent::new("CreateTable", "glue.amazonaws.com", t, person(i as u64))
                .untyped_resource(&name),
        );
    }
    // Everyday management events naming our resources.
    for i in 0..2000u64 {
        let t = rng.recent(now);
        let e = match i % 4 {
            0 => TrailEvent::new("AttachVolume", "ec2.amazonaws.com", t, person(i))
                .resource("AWS::EC2::Volume", rng.pick(&volumes))
                .resource("AWS::EC2::Instance", "i-0123456789abcdef0"),
            1 => TrailEvent::new("CreateTags", "ec2.amazonaws.com", t, person(i))
                .resource("AWS::EC2::Volume", rng.pick(&volumes)),
            2 => TrailEvent::new("PutBucketPolicy", "s3.amazonaws.com", t, person(i))
                .resource("AWS::S3::Bucket", rng.pick(&buckets)),
            _ => TrailEvent::new("UpdateTable", "dynamodb.amazonaws.com", t, person(i))
                .resource("AWS::DynamoDB::Table", rng.pick(&tables)),
        };
        mock.add(REGION, e);
    }
    targets
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(moto) = args.get(1) else {
        return Err("usage: bench_creators MOTO [RUNS] [LATENCY_MS]".into());
    };
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let latency: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(0);
    let mock = CloudTrailMock::start(50).await?;
    mock.limit_rate(
        f64::from(cloudcensus_aws::CLOUDTRAIL_REQUESTS_PER_SECOND),
        2.0,
    );
    mock.set_latency_ms(latency);
    let targets = estate(&mock);
    println!(
        "# {} targets, {} events in {REGION}, latency {latency} ms",
        targets.len(),
        3240
    );
    println!("run seconds requests throttled found older failed gaps");
    let mut rows = Vec::new();
    for run in 1..=runs {
        // Let the mock's bucket refill between runs.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let mut cfg = AwsSourceConfig::new("bench");
        cfg.endpoint_url = Some(moto.clone());
        cfg.endpoint_urls.insert("cloudtrail".into(), mock.url());
        cfg.cloud_control = false;
        cfg.regions = Regions::List(vec![REGION.to_string()]);
        let conn =
            connect_with_sdk_config(&cfg, support::moto_account_sdk(moto, ACCOUNT).await?).await?;
        let (calls_before, throttled_before) = (mock.calls().len(), mock.throttled());
        let start = std::time::Instant::now();
        let out = conn
            .creators(&Scope::new(Provider::Aws, ACCOUNT), &targets)
            .await;
        let secs = start.elapsed().as_secs_f64();
        let count = |s: CreatorStatus| out.creators.iter().filter(|c| c.status == s).count();
        let row = (
            secs,
            mock.calls().len() - calls_before,
            mock.throttled() - throttled_before,
            count(CreatorStatus::Found),
            count(CreatorStatus::OlderThanRetention),
            count(CreatorStatus::Failed),
            out.coverage.iter().filter(|c| c.status.is_gap()).count(),
        );
        println!(
            "{run} {:.2} {} {} {} {} {} {}",
            row.0, row.1, row.2, row.3, row.4, row.5, row.6
        );
        if run == 1 {
            let mut by: std::collections::BTreeMap<String, usize> = Default::default();
            for c in &mock.calls()[calls_before..] {
                let what = match &c.attribute {
                    Some((k, v)) if k == "EventName" => format!("EventName={v}"),
                    Some((k, _)) => k.clone(),
                    None => "none".to_string(),
                };
                *by.entry(what).or_default() += 1;
            }
            println!("# run 1 requests by lookup attribute: {by:?}");
        }
        rows.push(row);
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = rows[rows.len() / 2];
    println!(
        "median {:.2} {} {} {} {} {} {}",
        m.0, m.1, m.2, m.3, m.4, m.5, m.6
    );
    Ok(())
}
