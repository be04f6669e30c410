//! Integration tests: one binary, a module per area (ripgrep's layout).
//!
//! These run the real `cloudcensus` binary (assert_cmd) the way a user would.

mod util;

mod catalog_cli;
mod demo_cli;
mod faults_cli;
mod register_cli;
mod rules_cli;
mod scan_e2e;
mod security_cli;
mod store_cli;
