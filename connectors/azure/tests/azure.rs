//! Integration tests of the Azure connector: one binary, a module per area.
//!
//! * `arm_scan` and `graph_scan`: a local Resource Manager / Resource Graph mock on
//!   127.0.0.1 (wiremock) whose payloads follow the Azure REST reference.
//! * `azurite`: blob containers through the official storage crate against Azurite,
//!   started by `scripts/test` (`CLOUDCENSUS_TEST_AZURITE`).

#[path = "azure/common.rs"]
mod common;

#[path = "azure/arm_scan.rs"]
mod arm_scan;

#[path = "azure/graph_scan.rs"]
mod graph_scan;

#[path = "azure/azurite.rs"]
mod azurite;

#[path = "azure/docs.rs"]
mod docs;
