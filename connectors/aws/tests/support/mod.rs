//! What the AWS test binaries (`moto`, `long_session`, `cloudtrail`) share: the moto
//! server of `./scripts/test`, fresh account ids, seeding, and SDK configurations signed
//! as an account. Each binary uses a part of it.
#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use aws_types::region::Region;
use serde_json::Value;

/// The moto server's URL; fails (does not skip) without it.
pub fn moto() -> String {
    std::env::var("CLOUDCENSUS_TEST_MOTO").unwrap_or_else(|_| {
        panic!(
            "CLOUDCENSUS_TEST_MOTO is not set: run the AWS tests through ./scripts/test, \
             which starts moto_server on 127.0.0.1 and exports its URL"
        )
    })
}

/// A fresh 12-digit account id per call, unique across test runs on one server; `base`
/// (100–999) keeps the binaries that run at the same time apart.
pub fn fresh_account(base: u64) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    format!("{:03}{:09}", base + n, t % 1_000_000_000)
}

/// Seeds moto with `tests/seed_moto.py SCENARIO ACCOUNT`; returns what it printed.
pub fn seed(scenario: &str, account: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seed_moto.py");
    let out = Command::new("python3")
        .args([script, &moto(), scenario, account])
        .output()
        .expect("python3 (with boto3, from scripts/requirements-test.txt) must be on PATH");
    assert!(
        out.status.success(),
        "seeding '{scenario}' failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("seed output is JSON")
}

/// SDK configuration in `region` signed as `account` (moto links assumed-role
/// credentials to the account in the role ARN).
pub async fn sdk_for(account: &str, region: &str) -> SdkConfig {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .region(Region::new(region.to_string()))
        .endpoint_url(moto())
        .load()
        .await;
    let c = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/cloudcensus-test"))
        .role_session_name("cloudcensus-test")
        .send()
        .await
        .expect("moto AssumeRole")
        .credentials
        .expect("credentials");
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                c.access_key_id,
                c.secret_access_key,
                Some(c.session_token),
                None,
                "test",
            )),
        )
        .build()
}
