//! Integration tests: one binary, a module per area (ripgrep's layout).
//!
//! These run the real `cloudcensus` binary (assert_cmd) the way a user would.

mod util;

mod catalog_cli;
mod container_files;
mod demo_cli;
mod docs_cli;
// These scan through the connectors (and their emulators, which `scripts/test` starts):
// a build without the connector features has nothing for them to test.
#[cfg(all(feature = "aws", feature = "azure", feature = "gcp"))]
mod faults_cli;
mod html_cli;
mod postgres_cli;
mod register_cli;
mod rules_cli;
#[cfg(all(feature = "aws", feature = "azure", feature = "gcp"))]
mod scan_e2e;
#[cfg(all(feature = "aws", feature = "azure", feature = "gcp"))]
mod scan_support;
mod security_cli;
mod store_cli;
mod store_location_cli;
