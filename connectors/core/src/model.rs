//! The inventory model: what a connector observes in one scope.
//!
//! These types are the contract between connectors, the store and evaluation. They are
//! plain data (serde-serialisable) so a scan can be exported, imported and hashed.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::taxonomy::Category;

/// A public-cloud provider cloudcensus can scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Amazon Web Services (all partitions).
    Aws,
    /// Microsoft Azure (public, China, US Government).
    Azure,
    /// Google Cloud.
    Gcp,
}

impl Provider {
    /// Every provider, in display order.
    pub const ALL: [Provider; 3] = [Provider::Aws, Provider::Azure, Provider::Gcp];

    /// The short lower-case name used in config, CLI and output (`aws`, `azure`, `gcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::Gcp => "gcp",
        }
    }

    /// The company behind the provider, as named in registers and DPF certification.
    pub fn company(self) -> &'static str {
        match self {
            Provider::Aws => "Amazon Web Services",
            Provider::Azure => "Microsoft",
            Provider::Gcp => "Google",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a provider name that is not `aws`, `azure` or `gcp`.
#[derive(Debug, thiserror::Error)]
#[error("unknown provider '{0}': expected one of aws, azure, gcp")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "aws" | "amazon" => Ok(Provider::Aws),
            "azure" | "microsoft" => Ok(Provider::Azure),
            "gcp" | "google" | "googlecloud" | "google-cloud" => Ok(Provider::Gcp),
            _ => Err(UnknownProvider(s.to_string())),
        }
    }
}

/// What kind of unit of ownership a [`Scope`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeKind {
    /// An AWS account (12 digits).
    AwsAccount,
    /// An Azure subscription (GUID).
    AzureSubscription,
    /// A Google Cloud project (project id).
    GcpProject,
}

impl ScopeKind {
    /// The scope kind a provider scans in.
    pub fn for_provider(provider: Provider) -> Self {
        match provider {
            Provider::Aws => ScopeKind::AwsAccount,
            Provider::Azure => ScopeKind::AzureSubscription,
            Provider::Gcp => ScopeKind::GcpProject,
        }
    }
}

/// One unit a connector lists: an AWS account, an Azure subscription or a GCP project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// The provider this scope belongs to.
    pub provider: Provider,
    /// The kind of scope.
    pub kind: ScopeKind,
    /// The provider's id: account id, subscription id, project id.
    pub id: String,
    /// Human-readable name (account alias, subscription display name, project name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Enclosing containers, nearest first: OU ids and the organisation id, management
    /// groups, `folders/N` and `organizations/N`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Tags or labels on the scope itself (account tags, subscription tags, project
    /// labels). Resources inherit the activity id from here when they carry none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Scope {
    /// A scope with only provider and id set.
    pub fn new(provider: Provider, id: impl Into<String>) -> Self {
        Scope {
            provider,
            kind: ScopeKind::for_provider(provider),
            id: id.into(),
            name: None,
            parents: Vec::new(),
            tags: BTreeMap::new(),
        }
    }
}

/// A resource seen in a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The provider.
    pub provider: Provider,
    /// The id of the scope (account, subscription, project) that holds the resource.
    pub scope_id: String,
    /// Stable provider id: ARN, ARM resource id, or full resource name.
    pub id: String,
    /// Provider-native type, e.g. `s3:bucket`, `Microsoft.Storage/storageAccounts`,
    /// `storage.googleapis.com/Bucket`.
    pub resource_type: String,
    /// Taxonomy category; see [`Category`].
    pub category: Category,
    /// Display name.
    pub name: String,
    /// Primary location, normalised to the catalog's spelling (`eu-west-1`, `westeurope`,
    /// `europe-west4`, `eur4`, `global`). `None` when the provider did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Other locations holding copies of the data: S3 replication destinations, Azure
    /// GRS secondaries, DynamoDB global-table replicas, dual-region members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_locations: Vec<String>,
    /// Azure resource group (or another provider-side grouping), for tag inheritance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Tags (AWS, Azure) or labels (Google Cloud), as the provider returned them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Creation time where the provider reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

impl Resource {
    /// Every location this resource's data may sit in: the primary first, then replicas.
    pub fn all_locations(&self) -> impl Iterator<Item = &str> {
        self.location
            .iter()
            .chain(self.replica_locations.iter())
            .map(String::as_str)
    }

    /// Whether the resource counts for material use (see [`Category::is_data_bearing`]).
    pub fn is_data_bearing(&self) -> bool {
        self.category.is_data_bearing()
    }
}

/// A provider-side grouping inside a scope that carries tags resources inherit
/// (an Azure resource group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// The provider.
    pub provider: Provider,
    /// The scope holding the group.
    pub scope_id: String,
    /// The group's name (resource group names are case-insensitive on Azure).
    pub name: String,
    /// The group's location, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags on the group.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// The outcome of listing one (scope × region × service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageStatus {
    /// Listed completely.
    Scanned,
    /// The identity may not list this (AccessDenied, 403, PERMISSION_DENIED).
    Denied,
    /// Region not opted in / API not enabled: nothing can exist there.
    NotEnabled,
    /// Rate-limited and retries were exhausted.
    Throttled,
    /// Any other failure (network, 5xx, invalid response).
    Error,
    /// The provider does not offer this listing here: the resource type is not available
    /// in the region (`TypeNotFoundException`) or cannot be listed at all
    /// (`UnsupportedActionException`). Not a gap, but shown: such a type is seen only
    /// when tagged (see [`crate::visibility`]).
    NotOffered,
}

impl CoverageStatus {
    /// The kebab-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Scanned => "scanned",
            CoverageStatus::Denied => "denied",
            CoverageStatus::NotEnabled => "not-enabled",
            CoverageStatus::Throttled => "throttled",
            CoverageStatus::Error => "error",
            CoverageStatus::NotOffered => "not-offered",
        }
    }

    /// Whether this status leaves a gap: something that may exist was not listed.
    /// `not-enabled` is not a gap (nothing can exist in a disabled region).
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            CoverageStatus::Denied | CoverageStatus::Throttled | CoverageStatus::Error
        )
    }
}

impl fmt::Display for CoverageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One coverage entry: did listing (scope × region × service) succeed?
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Coverage {
    /// The provider.
    pub provider: Provider,
    /// The scope id (`*` when the failure happened before scopes were known).
    pub scope_id: String,
    /// Region, `global` for non-regional services, `*` for all regions.
    pub region: String,
    /// Service or API, e.g. `s3`, `tagging`, `Microsoft.Resources`, `cloudasset`.
    pub service: String,
    /// The outcome.
    pub status: CoverageStatus,
    /// Error message for anything but `scanned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Coverage {
    /// A successful listing.
    pub fn scanned(
        provider: Provider,
        scope_id: impl Into<String>,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Coverage {
            provider,
            scope_id: scope_id.into(),
            region: region.into(),
            service: service.into(),
            status: CoverageStatus::Scanned,
            message: None,
        }
    }

    /// A failed or skipped listing with its reason.
    pub fn failed(
        provider: Provider,
        scope_id: impl Into<String>,
        region: impl Into<String>,
        service: impl Into<String>,
        status: CoverageStatus,
        message: impl Into<String>,
    ) -> Self {
        Coverage {
            provider,
            scope_id: scope_id.into(),
            region: region.into(),
            service: service.into(),
            status,
            message: Some(message.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_parses_aliases_case_insensitively() {
        assert_eq!("AWS".parse::<Provider>().unwrap(), Provider::Aws);
        assert_eq!("Google".parse::<Provider>().unwrap(), Provider::Gcp);
        assert_eq!(" azure ".parse::<Provider>().unwrap(), Provider::Azure);
        let err = "oracle".parse::<Provider>().unwrap_err();
        assert!(err.to_string().contains("aws, azure, gcp"));
    }

    #[test]
    fn not_enabled_is_not_a_coverage_gap_but_denied_is() {
        assert!(!CoverageStatus::NotEnabled.is_gap());
        assert!(!CoverageStatus::Scanned.is_gap());
        assert!(CoverageStatus::Denied.is_gap());
        assert!(CoverageStatus::Throttled.is_gap());
        assert!(CoverageStatus::Error.is_gap());
    }

    #[test]
    fn resource_all_locations_lists_primary_then_replicas() {
        let r = Resource {
            provider: Provider::Aws,
            scope_id: "111111111111".into(),
            id: "arn:aws:s3:::b".into(),
            resource_type: "s3:bucket".into(),
            category: Category::DataStore,
            name: "b".into(),
            location: Some("eu-west-1".into()),
            replica_locations: vec!["us-east-1".into()],
            resource_group: None,
            tags: BTreeMap::new(),
            created_at: None,
        };
        assert_eq!(
            r.all_locations().collect::<Vec<_>>(),
            ["eu-west-1", "us-east-1"]
        );
    }

    #[test]
    fn coverage_serialises_status_kebab_case() {
        let c = Coverage::failed(
            Provider::Aws,
            "1",
            "ap-east-1",
            "ec2",
            CoverageStatus::NotEnabled,
            "region not opted in",
        );
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"not-enabled\""), "{json}");
    }
}
