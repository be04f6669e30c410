//! The Google Cloud connector of cloudcensus.
//!
//! It answers two questions for one configured source (an organisation, a folder or a
//! project): *which projects are there* (Resource Manager), and *what is in each
//! project, where* (Cloud Asset Inventory for breadth, the Cloud Storage JSON API for the
//! exact data locations of buckets, including the regions a dual-region uses).
//!
//! Everything it could not list becomes a [`Coverage`](cloudcensus_core::Coverage)
//! entry per project and API (`cloudasset`, `storage`, `cloudresourcemanager`):
//! `PERMISSION_DENIED` → `denied`, `SERVICE_DISABLED` → `not-enabled`, throttling that
//! outlasts the shared retry layer → `throttled`, anything else → `error`.
//!
//! The official `google-cloud-*` crates are used where they fit: `google-cloud-auth`
//! (credentials), `google-cloud-asset-v1` and `google-cloud-resourcemanager-v3` (REST).
//! Bucket listing uses the JSON API directly; see the `storage` module for why.
//!
//! Who created a resource the scan asks about comes from the project's Admin Activity
//! audit log through Cloud Logging `entries.list` ([`audit_log`], through
//! `Connector::creators`).

mod api;
mod asset;
pub mod audit_log;
mod auth;
mod config;
mod connector;
mod error;
mod projects;
mod storage;

pub use config::{CredentialsKind, GcpSourceConfig, ScopeSpec, resolve_storage_endpoint};
pub use connector::{GcpConnector, connect};
