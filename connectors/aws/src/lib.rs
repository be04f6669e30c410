//! The read-only AWS connector of cloudcensus.
//!
//! A ministry has to know where its data sits, including data nobody tagged and copies
//! made by replication. This crate lists, per account and enabled region:
//!
//! * everything the Resource Groups Tagging API knows (every resource that has or had
//!   tags), for breadth;
//! * the data-bearing services directly, tags or not: S3 buckets (location, tags,
//!   replication destinations as replica locations), EC2 instances and EBS volumes, RDS
//!   instances and clusters, DynamoDB tables (global-table replica regions), Lambda
//!   functions and EFS file systems;
//!
//! * every type of `aws-cloudcontrol.csv` (Redshift, OpenSearch, Cognito, log groups,
//!   …), tagged or not, through Cloud Control `ListResources` or, with `inventory =
//!   "resource-explorer"`, through the account's Resource Explorer aggregator index;
//!
//! and merges them by ARN. Accounts come from AWS Organizations when configured, reached
//! by assuming a read-only role. Every call that fails becomes a [`Coverage`] entry for
//! its (account, region, service), never an empty result.
//!
//! For the resources a scan asks about, it also looks up who created them in the
//! CloudTrail event history (`LookupEvents`, paced to 2 requests per second per account
//! and region; see `cloudtrail.rs`).
//!
//! The SDK's adaptive retry handles throttling and transient errors; a throttling error
//! reaching this crate means retries ran out and is reported as `throttled`.
//!
//! Every client carries the [`OperationRecorder`] interceptor, which records each
//! operation and refuses anything that is not a read (see `iam-policy.json`).
//!
//! aws-sdk-ec2 alone takes about four minutes and 8 GB of memory to compile, which is
//! why this connector lives in its own crate behind the `aws` feature.
//!
//! [`Coverage`]: cloudcensus_core::Coverage

mod arn;
mod budget;
mod cloudcontrol;
mod cloudtrail;
mod config;
mod connector;
mod errors;
mod inventory;
mod resourceexplorer;

/// The least-privilege IAM policy for the identity and every assumed role
/// (`iam-policy.json`): exactly the read actions this connector uses.
pub const IAM_POLICY_JSON: &str = include_str!("../iam-policy.json");
mod recorder;

pub use arn::{Arn, partition_of_region};
pub use cloudtrail::{
    REQUESTS_PER_SECOND as CLOUDTRAIL_REQUESTS_PER_SECOND,
    RETENTION_DAYS as CLOUDTRAIL_RETENTION_DAYS,
};
pub use config::{AwsSourceConfig, DEFAULT_MAX_CONCURRENCY, Inventory, Regions};
pub use connector::{AwsConnector, MAX_ATTEMPTS, connect, connect_with_sdk_config};
pub use errors::{CallError, classify, error_chain as error_text};
pub use recorder::{
    ALLOWED_NON_PREFIXED, OperationRecorder, READ_ONLY_PREFIXES, iam_action, iam_namespace,
    is_read_only,
};
