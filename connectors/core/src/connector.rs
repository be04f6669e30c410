//! The read-only [`Connector`] trait every provider crate implements.
//!
//! A connector is small and honest: it lists what exists in one scope and reports what
//! it could not list. Failures of a scope, region or service are [`Coverage`] entries in
//! the stream, not errors: a scan must never turn "could not look" into "nothing there".
//! Only failures that make the whole connector unusable (no credentials, invalid
//! configuration) are [`ConnectorError`]s.

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::creator::{CreatorLookup, LookupTarget};
use crate::model::{Coverage, Provider, Resource, ResourceGroup, Scope};

/// One item of a scope's inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Observation {
    /// A resource that exists.
    Resource(Resource),
    /// A grouping whose tags resources inherit (Azure resource group).
    ResourceGroup(ResourceGroup),
    /// The outcome of listing one scope × region × service.
    Coverage(Coverage),
}

/// A failure that stops a connector as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// Credentials are missing or were refused. The message says how to provide them.
    #[error("{provider} source '{source_name}': credentials: {message}")]
    Credentials {
        /// The provider.
        provider: Provider,
        /// The configured source name.
        source_name: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// The endpoint could not be reached.
    #[error("{provider} source '{source_name}': cannot reach {endpoint}: {message}")]
    Unreachable {
        /// The provider.
        provider: Provider,
        /// The configured source name.
        source_name: String,
        /// The URL or host.
        endpoint: String,
        /// The underlying error.
        message: String,
    },
    /// The configuration of the source is invalid.
    #[error("{provider} source '{source_name}': {message}")]
    Config {
        /// The provider.
        provider: Provider,
        /// The configured source name.
        source_name: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Anything else.
    #[error("{provider} source '{source_name}': {message}")]
    Other {
        /// The provider.
        provider: Provider,
        /// The configured source name.
        source_name: String,
        /// What went wrong.
        message: String,
    },
}

/// Result alias for connector operations.
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

/// A read-only source of inventory for one provider (one configured source).
#[async_trait]
pub trait Connector: Send + Sync {
    /// The provider this connector scans.
    fn provider(&self) -> Provider;

    /// The configured name of this source (`[[aws]] name = "..."`).
    fn name(&self) -> &str;

    /// The identity the connector runs as (caller ARN, principal, account), never a secret.
    async fn identity(&self) -> Result<String>;

    /// Every scope this connector can reach (accounts via Organizations, subscriptions,
    /// projects).
    async fn scopes(&self) -> Result<Vec<Scope>>;

    /// Streams the inventory of one scope. Failures become [`Observation::Coverage`]
    /// entries; a stream item is `Err` only when the connector as a whole fails.
    fn inventory<'a>(&'a self, scope: &'a Scope) -> BoxStream<'a, Result<Observation>>;

    /// What [`scopes`](Connector::scopes) could not list (a denied OU, folder or
    /// organisation), as coverage entries keyed by that container. Call it after
    /// `scopes()`; the default is none.
    fn discovery_coverage(&self) -> Vec<Coverage> {
        Vec::new()
    }

    /// Looks up in the provider's audit log who created each of `targets` (all in
    /// `scope`) and when. Read-only calls only; the connector paces them to the log's own
    /// rate limit. Returns one [`Creator`](crate::Creator) per target and one coverage
    /// entry per (scope, region, log) it called, so a denied or throttled lookup is a
    /// visible gap, never a blank. The default (a connector without a log) answers
    /// `not-looked-up` for every target and calls nothing.
    async fn creators(&self, scope: &Scope, targets: &[LookupTarget]) -> CreatorLookup {
        let _ = scope;
        CreatorLookup {
            creators: targets
                .iter()
                .map(|t| {
                    crate::Creator::unknown(
                        self.provider(),
                        t.resource_id.clone(),
                        crate::CreatorStatus::NotLookedUp,
                        "none",
                        "this connector has no audit-log lookup",
                    )
                })
                .collect(),
            coverage: Vec::new(),
        }
    }
}
