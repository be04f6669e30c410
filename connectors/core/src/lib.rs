//! The shared core of cloudcensus.
//!
//! Everything that more than one part of the tool needs lives here, in a crate small
//! enough that touching it does not recompile any cloud SDK:
//!
//! * [`model`]: what a scan observes — providers, scopes, resources, coverage;
//! * [`taxonomy`]: which resource types are data-bearing (they count for material use);
//! * [`catalog`]: every provider location mapped to countries, and each country to a
//!   jurisdiction class on a given date (EEA, adequacy, third country, C2000-excluded);
//! * [`connector`]: the read-only [`Connector`] trait every provider crate implements;
//! * [`creator`]: who created a resource, as the provider's audit log says;
//! * [`visibility`]: which resource types a scan listed completely, tagged or not;
//! * [`retry`]: the one place where retries, backoff and `Retry-After` are handled.

pub mod catalog;
pub mod connector;
pub mod creator;
pub mod model;
pub mod retry;
pub mod scan;
pub mod taxonomy;
pub mod visibility;

pub use catalog::{
    Catalog, CatalogError, ClassifyOptions, JurisdictionClass, Placement, ProviderFacts,
};
pub use connector::{Connector, ConnectorError, Observation};
pub use creator::{Creator, CreatorLookup, CreatorStatus, LookupTarget};
pub use model::{Coverage, CoverageStatus, Provider, Resource, ResourceGroup, Scope, ScopeKind};
pub use scan::{ScanData, ScanMeta, coverage_percent};
pub use taxonomy::Category;
