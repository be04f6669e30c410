//! Benchmark: Cloud Control listings of many accounts × 17 regions × every listable type
//! of `aws-cloudcontrol.csv`, through the local Cloud Control mock with a fixed latency
//! per call, beside moto for everything else. Run by hand (see `bench/README.md`); not
//! part of the test suite.
//!
//! `cargo run --release -p cloudcensus-aws --example bench_cloudcontrol -- MOTO ACCOUNTS LATENCY_MS CONCURRENCY[,CONCURRENCY...] [resource-explorer]`
//! prints per concurrency: `concurrency seconds cloudcontrol-calls resources gaps
//! resource-explorer-calls`. With `resource-explorer`, every account has an aggregator
//! index over all 17 regions that supports every catalog type, served by the Resource
//! Explorer mock with the same latency; Cloud Control lists only what it does not cover.
//! Accounts are scanned one after another (as one source scans them with one
//! `max_concurrency`); moto's own calls are not delayed.

#[path = "support/mod.rs"]
mod support;

use cloudcensus_aws::{AwsSourceConfig, Inventory, Regions, connect_with_sdk_config};
use cloudcensus_faultproxy::cloudcontrol::CloudControlMock;
use cloudcensus_faultproxy::resourceexplorer::{OPERATIONS, ResourceExplorerMock};

const REGIONS: [&str; 17] = [
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-south-1",
    "me-south-1",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (moto, accounts, latency, conc, explorer) = match args.as_slice() {
        [_, m, a, l, c] => (m, a, l, c, false),
        [_, m, a, l, c, i] if i == "resource-explorer" => (m, a, l, c, true),
        _ => {
            return Err(
                "usage: bench_cloudcontrol MOTO ACCOUNTS LATENCY_MS CONCURRENCY[,...] [resource-explorer]"
                    .into(),
            );
        }
    };
    let accounts: u64 = accounts.parse()?;
    let latency: u32 = latency.parse()?;
    let mock = CloudControlMock::start(100).await?;
    mock.set_latency_ms(latency);
    // One Resource Explorer index serves every account (the mock's view is
    // organisation-wide; each account keeps its own resources).
    let re = ResourceExplorerMock::start("900000000000", 1000).await?;
    re.set_latency_ms(latency);
    for (i, r) in REGIONS.iter().enumerate() {
        re.index(r, i == 0);
    }
    let supported: Vec<(String, String)> = cloudcensus_core::visibility::cloud_control_types()
        .iter()
        .map(|t| {
            (
                t.arn_type.split(':').next().unwrap_or_default().to_string(),
                t.arn_type.clone(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = supported
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    re.support(&pairs);
    let re_calls = || OPERATIONS.iter().map(|op| re.calls(op)).sum::<usize>();
    // A few resources per account so pages carry data.
    for r in REGIONS {
        mock.add(r, "AWS::Logs::LogGroup", None, "/app/audit", None);
        mock.add(
            r,
            "AWS::SQS::Queue",
            None,
            "https://sqs.example/1/intake",
            None,
        );
    }
    for c in conc.split(',') {
        let c: usize = c.parse()?;
        let before = mock.calls();
        let re_before = re_calls();
        let (mut resources, mut gaps) = (0, 0);
        let start = std::time::Instant::now();
        for a in 0..accounts {
            let account = format!("{:012}", 900_000_000_000 + a);
            let sdk = support::moto_account_sdk(moto, &account).await?;
            if explorer
                && c == conc
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .parse::<usize>()?
            {
                for r in REGIONS {
                    re.add(
                        &account,
                        &format!("arn:aws:logs:{r}:{account}:log-group:/app/audit"),
                        &[],
                    );
                }
            }
            let mut cfg = AwsSourceConfig::new("bench");
            cfg.endpoint_url = Some(moto.clone());
            cfg.endpoint_urls.insert("cloudcontrol".into(), mock.url());
            if explorer {
                cfg.inventory = Inventory::ResourceExplorer;
                cfg.endpoint_urls
                    .insert("resource_explorer_2".into(), re.url());
            }
            cfg.regions = Regions::List(REGIONS.iter().map(|r| r.to_string()).collect());
            cfg.max_concurrency = c;
            let conn = connect_with_sdk_config(&cfg, sdk).await?;
            let (r, g) = support::scan_counts(&conn).await?;
            resources += r;
            gaps += g;
        }
        println!(
            "{c} {:.2} {} {resources} {gaps} {}",
            start.elapsed().as_secs_f64(),
            mock.calls() - before,
            re_calls() - re_before
        );
    }
    Ok(())
}
