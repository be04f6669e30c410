//! [`GcpConnector`]: discovery, per-project inventory and the merge of both sources.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cloudcensus_core::connector::Result;
use cloudcensus_core::retry::{ClockJitter, Jitter, RetryPolicy};
use cloudcensus_core::{
    Catalog, Connector, ConnectorError, Coverage, Creator, CreatorLookup, CreatorStatus,
    LookupTarget, Observation, Provider, Resource, Scope,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use google_cloud_asset_v1::client::AssetService;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_resourcemanager_v3::client::{Folders, Projects};
use tokio::sync::Semaphore;

use crate::api::Ctx;
use crate::audit_log::{LoggingClient, Pacer};
use crate::config::{
    CredentialsKind, DEFAULT_ASSET_ENDPOINT, DEFAULT_LOGGING_ENDPOINT,
    DEFAULT_RESOURCEMANAGER_ENDPOINT, GcpSourceConfig, ScopeSpec, resolve_storage_endpoint,
};
use crate::storage::StorageClient;
use crate::{asset, audit_log, auth, projects, storage};

/// A connected Google Cloud source. Build it with [`connect`].
pub struct GcpConnector {
    name: String,
    spec: ScopeSpec,
    credentials: CredentialsKind,
    max_concurrency: usize,
    ctx: Ctx,
    asset: AssetService,
    projects: Projects,
    folders: Folders,
    storage: StorageClient,
    logging: LoggingClient,
    creator_lookup: bool,
    discovered: Mutex<Discovered>,
}

#[derive(Default)]
struct Discovered {
    containers: Vec<Coverage>,
    project_meta: HashMap<String, Coverage>,
    numbers: HashMap<String, String>,
}

impl std::fmt::Debug for GcpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpConnector")
            .field("name", &self.name)
            .field("scope", &self.spec)
            .field("credentials", &self.credentials)
            .field("storage_endpoint", &self.storage.endpoint)
            .finish_non_exhaustive()
    }
}

/// Validates the configuration, loads credentials and builds the API clients.
///
/// No API is called yet; an unreachable endpoint or a denied API shows up later as
/// coverage.
pub async fn connect(cfg: &GcpSourceConfig) -> Result<GcpConnector> {
    let config_error = |message: String| ConnectorError::Config {
        provider: Provider::Gcp,
        source_name: cfg.name.clone(),
        message,
    };
    let spec = cfg.validate().map_err(|problems| {
        config_error(format!(
            "invalid [[gcp]] configuration: {}",
            problems.join("; ")
        ))
    })?;
    let creds = auth::build(cfg.credentials).map_err(|message| ConnectorError::Credentials {
        provider: Provider::Gcp,
        source_name: cfg.name.clone(),
        message,
    })?;
    let other = |what: &str, e: &dyn std::fmt::Display| ConnectorError::Other {
        provider: Provider::Gcp,
        source_name: cfg.name.clone(),
        message: format!("cannot build the {what} client: {e}"),
    };
    let attempt_timeout = Duration::from_secs(cfg.request_timeout_secs);
    let asset_endpoint = cfg
        .asset_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_ASSET_ENDPOINT);
    let rm_endpoint = cfg
        .resourcemanager_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_RESOURCEMANAGER_ENDPOINT);
    let asset = AssetService::builder()
        .with_endpoint(asset_endpoint)
        .with_credentials(creds.clone())
        .with_retry_policy(NeverRetry)
        .with_attempt_timeout(attempt_timeout)
        .build()
        .await
        .map_err(|e| other("Cloud Asset", &e))?;
    let projects = Projects::builder()
        .with_endpoint(rm_endpoint)
        .with_credentials(creds.clone())
        .with_retry_policy(NeverRetry)
        .with_attempt_timeout(attempt_timeout)
        .build()
        .await
        .map_err(|e| other("Resource Manager projects", &e))?;
    let folders = Folders::builder()
        .with_endpoint(rm_endpoint)
        .with_credentials(creds.clone())
        .with_retry_policy(NeverRetry)
        .with_attempt_timeout(attempt_timeout)
        .build()
        .await
        .map_err(|e| other("Resource Manager folders", &e))?;

    let emulator_host = std::env::var("STORAGE_EMULATOR_HOST").ok();
    let (storage_endpoint, is_emulator) =
        resolve_storage_endpoint(cfg.storage_endpoint.as_deref(), emulator_host.as_deref());
    let http = reqwest::Client::builder()
        .connect_timeout(attempt_timeout.min(Duration::from_secs(10)))
        .timeout(attempt_timeout)
        .build()
        .map_err(|e| other("Cloud Storage", &e))?;
    let logging = LoggingClient {
        http: http.clone(),
        endpoint: cfg
            .logging_endpoint
            .as_deref()
            .unwrap_or(DEFAULT_LOGGING_ENDPOINT)
            .trim_end_matches('/')
            .to_string(),
        credentials: (cfg.credentials == CredentialsKind::Adc).then(|| creds.clone()),
        pacer: Pacer::new(audit_log::REQUEST_INTERVAL),
    };
    let storage = StorageClient {
        http,
        endpoint: storage_endpoint,
        credentials: (!is_emulator && cfg.credentials == CredentialsKind::Adc).then_some(creds),
    };
    let catalog = Catalog::builtin().map_err(|e| other("location catalog", &e))?;

    Ok(GcpConnector {
        name: cfg.name.clone(),
        spec,
        credentials: cfg.credentials,
        max_concurrency: cfg.max_concurrency,
        ctx: Ctx {
            retry: cfg.retry_policy(),
            timeout_secs: cfg.request_timeout_secs,
            jitter: Arc::new(ClockJitter::default()),
            limit: Arc::new(Semaphore::new(cfg.max_concurrency)),
            catalog: Arc::new(catalog),
        },
        asset,
        projects,
        folders,
        storage,
        logging,
        creator_lookup: cfg.creator_lookup,
        discovered: Mutex::new(Discovered::default()),
    })
}

impl GcpConnector {
    /// Replaces the retry policy (default: [`RetryPolicy::default`]).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.ctx.retry = policy;
        self
    }

    /// Replaces the jitter source of the backoff (tests use a fixed one).
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.ctx.jitter = jitter;
        self
    }

    /// Replaces the spacing of Cloud Logging requests (default one second: the
    /// `entries.list` quota is 60 a minute). Tests use a shorter one.
    pub fn with_logging_interval(mut self, interval: Duration) -> Self {
        self.logging.pacer = Pacer::new(interval);
        self
    }

    /// The configured scope (`organizations/N`, `folders/N`, `projects/ID`).
    pub fn scope(&self) -> String {
        self.spec.resource_name()
    }

    /// The Cloud Storage endpoint in use (after `STORAGE_EMULATOR_HOST`).
    pub fn storage_endpoint(&self) -> &str {
        &self.storage.endpoint
    }

    async fn inventory_of(&self, scope: &Scope) -> Vec<Observation> {
        let project = scope.id.as_str();
        let (found, buckets) = futures::join!(
            asset::search_project(&self.ctx, &self.asset, project),
            storage::list_buckets(&self.ctx, &self.storage, project)
        );
        let mut coverage = Vec::new();
        let number = {
            let state = self.lock();
            if let Some(meta) = state.project_meta.get(project) {
                coverage.push(meta.clone());
            }
            state.numbers.get(project).cloned()
        };
        let mut outcome =
            |service: &str, r: std::result::Result<Vec<Resource>, crate::error::ApiFailure>| match r
            {
                Ok(v) => {
                    coverage.push(Coverage::scanned(Provider::Gcp, project, "*", service));
                    v
                }
                Err(f) => {
                    let f = settle_not_enabled(service, project, number.as_deref(), f);
                    tracing::warn!(source = %self.name, project, service, status = %f.status, "{}", f.message);
                    coverage.push(Coverage::failed(
                        Provider::Gcp,
                        project,
                        "*",
                        service,
                        f.status,
                        f.message,
                    ));
                    Vec::new()
                }
            };
        let found = outcome(asset::SERVICE, found);
        let buckets = outcome(storage::SERVICE, buckets);
        coverage.sort();
        merge(found, buckets)
            .into_iter()
            .map(Observation::Resource)
            .chain(coverage.into_iter().map(Observation::Coverage))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Discovered> {
        self.discovered.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Decides whether a disabled API really means "nothing can exist here".
///
/// `not-enabled` is not a coverage gap, so it is kept only when the API that holds the
/// resources (Cloud Storage) is disabled in the scanned project itself. Cloud Asset
/// Inventory is an index: resources exist whether or not it is enabled, so a disabled
/// Cloud Asset API is always a gap (`error`). So is an API disabled in another project
/// (the scanner's own quota project), which would otherwise hide every project.
pub(crate) fn settle_not_enabled(
    service: &str,
    project: &str,
    number: Option<&str>,
    mut f: crate::error::ApiFailure,
) -> crate::error::ApiFailure {
    if f.status != cloudcensus_core::CoverageStatus::NotEnabled {
        return f;
    }
    let consumer = f.consumer.clone();
    let elsewhere = consumer.as_deref().filter(|c| {
        let id = c.strip_prefix("projects/").unwrap_or(c);
        id != project && Some(id) != number
    });
    if service == asset::SERVICE {
        f.status = cloudcensus_core::CoverageStatus::Error;
        f.message = format!(
            "{} (enable cloudasset.googleapis.com in {}; this says nothing about what exists in {project}, which was not listed)",
            f.message,
            consumer.as_deref().unwrap_or("the scanner's project"),
        );
    } else if let Some(c) = elsewhere {
        f.status = cloudcensus_core::CoverageStatus::Error;
        f.message = format!(
            "{} (the API is disabled in {c}, not in {project}: enable it there; {project} was not listed)",
            f.message
        );
    }
    f
}

/// Merges Cloud Asset results with bucket listings by full resource name.
///
/// The bucket listing wins for what it knows better: location and dual-region data
/// locations, and labels (current, where the asset index may lag). Buckets only one
/// source saw are kept.
pub(crate) fn merge(found: Vec<Resource>, buckets: Vec<Resource>) -> Vec<Resource> {
    let mut by_id: BTreeMap<String, Resource> =
        found.into_iter().map(|r| (r.id.clone(), r)).collect();
    for b in buckets {
        match by_id.get_mut(&b.id) {
            Some(r) => {
                if b.location.is_some() {
                    r.location = b.location;
                    r.replica_locations = b.replica_locations;
                }
                r.tags = b.tags;
                r.created_at = b.created_at.or(r.created_at);
            }
            None => {
                by_id.insert(b.id.clone(), b);
            }
        }
    }
    by_id.into_values().collect()
}

#[async_trait]
impl Connector for GcpConnector {
    fn provider(&self) -> Provider {
        Provider::Gcp
    }

    fn name(&self) -> &str {
        &self.name
    }

    async fn identity(&self) -> Result<String> {
        Ok(auth::identity(self.credentials))
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        let d = projects::discover(
            &self.ctx,
            &self.projects,
            &self.folders,
            &self.spec,
            self.max_concurrency,
        )
        .await;
        for c in d.containers.iter().filter(|c| c.status.is_gap()) {
            tracing::warn!(source = %self.name, container = %c.scope_id, status = %c.status, "could not list projects: {}", c.message.as_deref().unwrap_or(""));
        }
        let mut state = self.lock();
        state.containers = d.containers;
        state.project_meta = d.project_meta;
        state.numbers = d.numbers;
        Ok(d.scopes)
    }

    fn inventory<'a>(&'a self, scope: &'a Scope) -> BoxStream<'a, Result<Observation>> {
        if scope.provider != Provider::Gcp {
            let err = ConnectorError::Config {
                provider: Provider::Gcp,
                source_name: self.name.clone(),
                message: format!(
                    "asked to inventory a {} scope '{}'",
                    scope.provider, scope.id
                ),
            };
            return futures::stream::once(async move { Err(err) }).boxed();
        }
        futures::stream::once(self.inventory_of(scope))
            .flat_map(|items| futures::stream::iter(items.into_iter().map(Ok)))
            .boxed()
    }

    fn discovery_coverage(&self) -> Vec<Coverage> {
        self.lock().containers.clone()
    }

    /// The project's Admin Activity audit log (see [`audit_log`](crate::audit_log)).
    async fn creators(&self, scope: &Scope, targets: &[LookupTarget]) -> CreatorLookup {
        if !self.creator_lookup {
            return CreatorLookup {
                creators: targets
                    .iter()
                    .map(|t| {
                        Creator::unknown(
                            Provider::Gcp,
                            t.resource_id.clone(),
                            CreatorStatus::NotLookedUp,
                            "audit-log",
                            "creator_lookup = false for this source",
                        )
                    })
                    .collect(),
                coverage: Vec::new(),
            };
        }
        let number = self.lock().numbers.get(&scope.id).cloned();
        audit_log::lookup(
            &self.ctx,
            &self.logging,
            &scope.id,
            number.as_deref(),
            targets,
            chrono::Utc::now(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcensus_core::Category;

    fn res(id: &str, loc: Option<&str>, tags: &[(&str, &str)]) -> Resource {
        Resource {
            provider: Provider::Gcp,
            scope_id: "p".into(),
            id: id.into(),
            resource_type: storage::BUCKET_TYPE.into(),
            category: Category::DataStore,
            name: id.rsplit('/').next().unwrap().into(),
            location: loc.map(str::to_string),
            replica_locations: Vec::new(),
            resource_group: None,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created_at: None,
        }
    }

    fn disabled(consumer: Option<&str>) -> crate::error::ApiFailure {
        crate::error::ApiFailure {
            status: cloudcensus_core::CoverageStatus::NotEnabled,
            message: "x: PERMISSION_DENIED [SERVICE_DISABLED]".into(),
            consumer: consumer.map(str::to_string),
        }
    }

    #[test]
    fn disabled_api_is_not_enabled_only_for_storage_in_the_scanned_project() {
        use cloudcensus_core::CoverageStatus::{Error, NotEnabled};
        let s = |svc, consumer| {
            settle_not_enabled(svc, "gamma-off", Some("333"), disabled(consumer)).status
        };
        assert_eq!(s(storage::SERVICE, Some("projects/gamma-off")), NotEnabled);
        assert_eq!(s(storage::SERVICE, Some("projects/333")), NotEnabled);
        assert_eq!(s(storage::SERVICE, None), NotEnabled);
        assert_eq!(s(storage::SERVICE, Some("projects/scanner-home")), Error);
        assert_eq!(s(asset::SERVICE, Some("projects/gamma-off")), Error);
        assert_eq!(s(asset::SERVICE, None), Error);
    }

    #[test]
    fn bucket_listing_wins_location_and_labels_and_keeps_one_entry_per_name() {
        let cai = vec![
            res("//storage.googleapis.com/a", Some("eu"), &[("old", "1")]),
            res(
                "//compute.googleapis.com/projects/p/zones/europe-west4-a/instances/vm",
                Some("europe-west4"),
                &[],
            ),
        ];
        let mut a = res(
            "//storage.googleapis.com/a",
            Some("eu"),
            &[("activity", "va-1")],
        );
        a.replica_locations = vec!["europe-west1".into(), "europe-west4".into()];
        let only_storage = res("//storage.googleapis.com/b", Some("us"), &[]);
        let merged = merge(cai, vec![a, only_storage]);
        assert_eq!(merged.len(), 3);
        let a = merged.iter().find(|r| r.id.ends_with("/a")).unwrap();
        assert_eq!(a.replica_locations, ["europe-west1", "europe-west4"]);
        assert_eq!(a.tags.get("activity").map(String::as_str), Some("va-1"));
        assert!(!a.tags.contains_key("old"));
        assert!(merged.iter().any(|r| r.id.ends_with("/b")));
    }
}
