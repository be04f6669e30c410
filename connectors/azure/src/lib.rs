//! The Azure connector of cloudcensus (read-only).
//!
//! Why a hand-written Resource Manager client: there is no maintained Rust crate for
//! Resource Manager or Resource Graph (the `azure_mgmt_*` 0.21 crates are deprecated),
//! so [`connect`] builds a small reqwest client ([`arm`](crate)) on top of the official
//! `azure_identity` 1.x credentials and the shared retry layer of `cloudcensus-core`.
//! The storage data plane uses the official `azure_storage_blob` crate.
//!
//! What a scan of one subscription yields:
//!
//! * the resource groups with their tags ([`Observation::ResourceGroup`]), for tag
//!   inheritance;
//! * every resource (`GET /subscriptions/{id}/resources`, all `nextLink` pages, or one
//!   Resource Graph query per 1 000 subscriptions paged with `$skipToken`), location
//!   normalised with the catalog, `global` kept as `global`;
//! * replica locations: geo-redundant storage (`*GRS`, `*GZRS`, `RA-*`) gets the
//!   account's `secondaryLocation`, or the catalog's region pair when the service does
//!   not say; SQL databases get their geo-replication partners' locations; Cosmos DB,
//!   Key Vault, backup vaults, flexible servers with geo-backup, SQL managed instance
//!   failover groups, Event Hubs / Service Bus geo-DR and App Configuration replicas get
//!   their second regions (see the crate README);
//! * optionally blob containers with their metadata as tags (see [`blob`](crate));
//! * one [`Coverage`] entry per API and subscription (region `*`): `scanned`, `denied`
//!   (401/403), `not-enabled` (resource provider not registered), `throttled` (429
//!   retries exhausted) or `error`. A failure is never reported as "no resources".
//!
//! Who created a resource the scan asks about comes from the subscription's Activity
//! Log ([`activity_log`], through `Connector::creators`).
//!
//! [`Observation::ResourceGroup`]: cloudcensus_core::Observation::ResourceGroup
//! [`Coverage`]: cloudcensus_core::Coverage

pub mod activity_log;
mod arm;
mod blob;
pub mod config;
mod connector;
mod credential;
pub mod mapping;

pub use config::{AzureCloud, AzureSourceConfig, CredentialKind, InventoryMode};
pub use connector::{
    AzureConnector, REQUIRED_ACTIONS, RESOURCE_GRAPH_QUERY, connect, connect_with_env, service,
};
