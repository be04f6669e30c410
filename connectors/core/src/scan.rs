//! A scan: one immutable snapshot of the estate plus what could not be listed.
//!
//! Connectors produce [`Observation`](crate::Observation)s; the orchestrator collects them
//! into a [`ScanData`] with a [`ScanMeta`]; the store commits it atomically; evaluation and
//! reports read it back. Export/import use the same serde shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::creator::Creator;
use crate::model::{Coverage, Resource, ResourceGroup, Scope};

/// Who, when and how a scan ran. Never contains secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanMeta {
    /// Scan id (assigned by the store on commit; empty before).
    #[serde(default)]
    pub id: String,
    /// The organisation (ministry) scanned.
    pub organisation: String,
    /// Reporting period, `YYYY-MM`.
    pub period: String,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time.
    pub finished_at: DateTime<Utc>,
    /// cloudcensus version that ran the scan.
    pub tool_version: String,
    /// Identities the connectors ran as (caller ARN, principal, account): never secrets.
    #[serde(default)]
    pub identities: Vec<String>,
    /// SHA-256 of the configuration used (hex), for audit.
    #[serde(default)]
    pub config_digest: String,
}

/// The full content of one scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanData {
    /// Metadata.
    pub meta: ScanMeta,
    /// Every scope the connectors discovered (with their tags for inheritance).
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// Resource groups (Azure) with their tags.
    #[serde(default)]
    pub groups: Vec<ResourceGroup>,
    /// Every resource seen.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// What was and was not listed.
    #[serde(default)]
    pub coverage: Vec<Coverage>,
    /// Who created the resources the scan asked the audit logs about (unregistered ones),
    /// one entry per resource asked about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creators: Vec<Creator>,
}

impl ScanMeta {
    /// The scan date used for jurisdiction classification: the day it finished.
    pub fn reference_date(&self) -> chrono::NaiveDate {
        self.finished_at.date_naive()
    }
}

/// Share of coverage entries without a gap (denied/throttled/error), in percent. 100 when
/// there are no entries.
pub fn coverage_percent(coverage: &[Coverage]) -> f64 {
    if coverage.is_empty() {
        return 100.0;
    }
    let ok = coverage.iter().filter(|c| !c.status.is_gap()).count();
    ok as f64 * 100.0 / coverage.len() as f64
}

impl ScanData {
    /// The scan date used for jurisdiction classification: the day it finished.
    pub fn reference_date(&self) -> chrono::NaiveDate {
        self.meta.reference_date()
    }

    /// Share of coverage entries without a gap (denied/throttled/error), in percent.
    /// 100 when there are no entries.
    pub fn coverage_percent(&self) -> f64 {
        coverage_percent(&self.coverage)
    }
}
