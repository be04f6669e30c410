//! Who created a resource, and when: the answer of a provider's own audit log.
//!
//! Tags rarely name an owner. Every provider keeps a read-only record of who created
//! what: AWS CloudTrail event history (90 days, per region), the Azure Activity Log
//! (90 days, per subscription) and Google Cloud Audit Logs (Admin Activity, 400 days). A
//! scan asks it only for the resources a security team must chase (unregistered, unknown
//! activity id) that it has no answer for yet, through
//! [`Connector::creators`](crate::Connector::creators), and stores one [`Creator`] per
//! resource it asked about, so a blank never means "nobody".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Coverage, Provider};

/// Coverage service of creator lookups: `creator-lookup:<log>`, e.g.
/// `creator-lookup:cloudtrail`.
pub const LOOKUP_SERVICE_PREFIX: &str = "creator-lookup:";

/// Default of each source's `creator_lookup_max`: resources looked up per scan.
pub const DEFAULT_CREATOR_LOOKUP_MAX: usize = 1000;

/// The serde default of `creator_lookup_max`.
pub fn default_creator_lookup_max() -> usize {
    DEFAULT_CREATOR_LOOKUP_MAX
}

/// Checks a source's `creator_lookup_max` (the problem names the key).
pub fn check_creator_lookup_max(max: usize) -> Option<String> {
    (max == 0).then(|| {
        format!(
            "creator_lookup_max: must be at least 1 (default {DEFAULT_CREATOR_LOOKUP_MAX}); \
             to turn lookups off set creator_lookup = false"
        )
    })
}

/// One resource whose creator a scan asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupTarget {
    /// Provider id (ARN, ARM id, full resource name), as in [`crate::Resource::id`].
    pub resource_id: String,
    /// Display name (bucket name, volume id, table name), as in [`crate::Resource::name`].
    pub name: String,
    /// Provider-native type, as in [`crate::Resource::resource_type`].
    pub resource_type: String,
    /// Primary location (the region whose log holds the event).
    pub location: Option<String>,
    /// Creation time where the inventory reported it: a resource older than the log's
    /// retention cannot be in it, so it needs no call.
    pub created_at: Option<DateTime<Utc>>,
}

/// What a lookup found out about one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CreatorStatus {
    /// The log names the principal that created it.
    Found,
    /// The log holds no creation event for it: it is older than the log's retention.
    OlderThanRetention,
    /// Not looked up in this scan: the per-scan cap was reached (see the coverage).
    Skipped,
    /// The lookup failed (denied, throttled, error; the coverage entry says why).
    Failed,
    /// The provider or source does not look creators up (`creator_lookup = false`).
    NotLookedUp,
}

impl CreatorStatus {
    /// The kebab-case name used in the store and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            CreatorStatus::Found => "found",
            CreatorStatus::OlderThanRetention => "older-than-retention",
            CreatorStatus::Skipped => "skipped",
            CreatorStatus::Failed => "failed",
            CreatorStatus::NotLookedUp => "not-looked-up",
        }
    }

    /// Parses [`as_str`](CreatorStatus::as_str).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "found" => CreatorStatus::Found,
            "older-than-retention" => CreatorStatus::OlderThanRetention,
            "skipped" => CreatorStatus::Skipped,
            "failed" => CreatorStatus::Failed,
            "not-looked-up" => CreatorStatus::NotLookedUp,
            _ => return None,
        })
    }

    /// Whether a later scan may keep this answer instead of asking again: what the log
    /// said stays true; a skipped or failed lookup is tried again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CreatorStatus::Found | CreatorStatus::OlderThanRetention
        )
    }
}

/// Who created one resource and when, as far as the provider's log says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creator {
    /// The provider.
    pub provider: Provider,
    /// The resource's provider id.
    pub resource_id: String,
    /// What the lookup found out.
    pub status: CreatorStatus,
    /// The creating principal: an IAM ARN, a UPN or application id, an e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// When the creating call was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<DateTime<Utc>>,
    /// Where the answer came from: the log and its call, e.g. `cloudtrail:CreateBucket`,
    /// `activity-log:Microsoft.Storage/storageAccounts/write`,
    /// `audit-log:storage.buckets.create`.
    pub source: String,
    /// Why there is no principal, for anything but `found` (e.g. "older than 90 days").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Creator {
    /// A creator the log named.
    pub fn found(
        provider: Provider,
        resource_id: impl Into<String>,
        principal: impl Into<String>,
        event_time: DateTime<Utc>,
        source: impl Into<String>,
    ) -> Self {
        Creator {
            provider,
            resource_id: resource_id.into(),
            status: CreatorStatus::Found,
            principal: Some(principal.into()),
            event_time: Some(event_time),
            source: source.into(),
            detail: None,
        }
    }

    /// No principal: `status` and why.
    pub fn unknown(
        provider: Provider,
        resource_id: impl Into<String>,
        status: CreatorStatus,
        source: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Creator {
            provider,
            resource_id: resource_id.into(),
            status,
            principal: None,
            event_time: None,
            source: source.into(),
            detail: Some(detail.into()),
        }
    }

    /// "Older than the log's retention" for a log that keeps `days` days.
    pub fn older_than(
        provider: Provider,
        resource_id: impl Into<String>,
        source: impl Into<String>,
        days: u32,
    ) -> Self {
        Creator::unknown(
            provider,
            resource_id,
            CreatorStatus::OlderThanRetention,
            source,
            format!("older than {days} days"),
        )
    }

    /// The principal, or `unknown (why)`: never blank.
    pub fn display(&self) -> String {
        match (&self.principal, self.status) {
            (Some(p), CreatorStatus::Found) => p.clone(),
            _ => format!(
                "unknown ({})",
                self.detail.as_deref().unwrap_or(self.status.as_str())
            ),
        }
    }
}

/// What to show for a resource's creator: the principal, `unknown (why)`, or, for a
/// resource the scan has no record for (lookups off, no register, an older scan),
/// `unknown (not looked up)`. Never blank.
pub fn shown(c: Option<&Creator>) -> String {
    c.map(Creator::display)
        .unwrap_or_else(|| "unknown (not looked up)".to_string())
}

/// The creators of a scan by provider and lower-case resource id.
pub fn index(creators: &[Creator]) -> std::collections::HashMap<(Provider, String), &Creator> {
    creators
        .iter()
        .map(|c| ((c.provider, c.resource_id.to_ascii_lowercase()), c))
        .collect()
}

/// The answer of [`Connector::creators`](crate::Connector::creators) for one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatorLookup {
    /// One entry per target asked about (a target the connector could not look up gets
    /// `failed` or `skipped`, never no entry).
    pub creators: Vec<Creator>,
    /// One entry per (scope, region, log) the lookups called: `scanned`, or the gap.
    pub coverage: Vec<Coverage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_creator_without_a_principal_is_shown_as_unknown_with_its_reason_never_blank() {
        let old = Creator::older_than(Provider::Aws, "arn:aws:s3:::b", "cloudtrail", 90);
        assert_eq!(old.display(), "unknown (older than 90 days)");
        let failed = Creator {
            detail: None,
            ..Creator::unknown(Provider::Gcp, "x", CreatorStatus::Failed, "audit-log", "")
        };
        assert_eq!(failed.display(), "unknown (failed)");
        let t = DateTime::parse_from_rfc3339("2026-11-03T09:12:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let found = Creator::found(Provider::Azure, "/s/x", "jan@example.nl", t, "activity-log");
        assert_eq!(found.display(), "jan@example.nl");
        for s in [
            CreatorStatus::Found,
            CreatorStatus::OlderThanRetention,
            CreatorStatus::Skipped,
            CreatorStatus::Failed,
            CreatorStatus::NotLookedUp,
        ] {
            assert_eq!(CreatorStatus::parse(s.as_str()), Some(s));
        }
        assert!(CreatorStatus::Found.is_final() && !CreatorStatus::Failed.is_final());
    }
}
