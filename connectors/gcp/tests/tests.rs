//! Integration tests of the Google Cloud connector (one binary, a module per area).
//!
//! * `mock_api`: Cloud Asset Inventory and Resource Manager (no emulator exists) against
//!   an in-process HTTP server on 127.0.0.1 answering with the REST reference shapes in
//!   `fixtures/`; Cloud Storage paging, custom dual-region placement and errors, which
//!   the emulator cannot produce, against the same server.
//! * `audit_log`: creator lookups through Cloud Logging `entries.list` against the same
//!   server, with entries shaped as the LogEntry / AuditLog reference and Google's
//!   published examples (`fixtures/logging/`).
//! * `faults`: the fault matrix through `cloudcensus-faultproxy` in front of that mock.
//! * `gcs_emulator`: bucket listing against gcp-storage-emulator (`CLOUDCENSUS_TEST_GCS`).

mod audit_log;
mod common;
mod faults;
mod gcs_emulator;
mod mock_api;
