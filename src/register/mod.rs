//! The register of processing activities (verwerkingsregister, GDPR art. 30).
//!
//! Ministries keep it in Excel; cloudcensus reads it (CSV or XLSX) and holds the scan
//! against it. [`model`] is the parsed form every other part of the tool uses.

pub mod model;

pub use model::*;
