//! Benchmark: a full scan of one account against moto, timed. Run by hand (see
//! `bench/README.md`); not part of the test suite.
//!
//! `cargo run -p cloudcensus-aws --example bench_scan -- ENDPOINT ACCOUNT REGIONS [CONCURRENCY]`
//! prints `seconds resources coverage-gaps`.

#[path = "support/mod.rs"]
mod support;

use cloudcensus_aws::{AwsSourceConfig, Regions, connect_with_sdk_config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, account, regions, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_scan ENDPOINT ACCOUNT REGION[,REGION...] [CONCURRENCY]".into());
    };
    let sdk = support::moto_account_sdk(endpoint, account).await?;
    let mut cfg = AwsSourceConfig::new("bench");
    cfg.endpoint_url = Some(endpoint.clone());
    cfg.cloud_control = false; // moto has no Cloud Control API
    cfg.regions = Regions::List(regions.split(',').map(str::to_string).collect());
    if let Some(n) = rest.first() {
        cfg.max_concurrency = n.parse()?;
    }
    let start = std::time::Instant::now();
    let conn = connect_with_sdk_config(&cfg, sdk).await?;
    let (resources, gaps) = support::scan_counts(&conn).await?;
    println!("{:.3} {resources} {gaps}", start.elapsed().as_secs_f64());
    Ok(())
}
