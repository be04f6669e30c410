//! Shared by the benchmark examples: SDK configuration for one moto account.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;
use aws_types::region::Region;
use cloudcensus_core::{Connector, Observation};
use futures::TryStreamExt;

/// SDK configuration signed as `account` against moto at `endpoint` (moto links
/// assumed-role credentials to the account in the role ARN).
pub async fn moto_account_sdk(
    endpoint: &str,
    account: &str,
) -> Result<SdkConfig, Box<dyn std::error::Error>> {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .load()
        .await;
    let c = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/bench"))
        .role_session_name("bench")
        .send()
        .await?
        .credentials
        .ok_or("no credentials")?;
    Ok(base
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "bench",
        )))
        .build())
}

/// Lists every scope of a connected source; returns (resources, coverage gaps).
pub async fn scan_counts(
    conn: &cloudcensus_aws::AwsConnector,
) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let (mut resources, mut gaps) = (0, 0);
    for scope in conn.scopes().await? {
        let items: Vec<Observation> = conn.inventory(&scope).try_collect().await?;
        for i in items {
            match i {
                Observation::Resource(_) => resources += 1,
                Observation::Coverage(c) if c.status.is_gap() => gaps += 1,
                _ => {}
            }
        }
    }
    Ok((resources, gaps))
}
