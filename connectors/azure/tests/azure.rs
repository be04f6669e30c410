//! Integration tests of the Azure connector: one binary, a module per area.
//!
//! * `arm_scan` and `graph_scan`: a local Resource Manager / Resource Graph mock on
//!   127.0.0.1 (wiremock) whose payloads follow the Azure REST reference.
//! * `faults`: the fault matrix (429 storms, 503 bursts, resets, timeouts, truncated
//!   pages) through `cloudcensus-faultproxy` in front of the Resource Manager mock.
//! * `replicas`: services that keep data in a second region, with fixtures that follow
//!   Microsoft's published examples (`tests/fixtures/arm/README.md`).
//! * `activity_log`: creator lookups through the Activity Log against the same kind of
//!   mock, with payloads that follow Microsoft's published example.
//! * `azurite`: blob containers through the official storage crate against Azurite,
//!   started by `scripts/test` (`CLOUDCENSUS_TEST_AZURITE`).

#[path = "azure/common.rs"]
mod common;

#[path = "azure/activity_log.rs"]
mod activity_log;

#[path = "azure/arm_scan.rs"]
mod arm_scan;

#[path = "azure/graph_scan.rs"]
mod graph_scan;

#[path = "azure/azurite.rs"]
mod azurite;

#[path = "azure/docs.rs"]
mod docs;

#[path = "azure/faults.rs"]
mod faults;

#[path = "azure/replicas.rs"]
mod replicas;
