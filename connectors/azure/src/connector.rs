//! [`AzureConnector`]: subscriptions as scopes, and per subscription the resource groups,
//! resources (ARM or Resource Graph), storage replication, SQL geo-replication links and,
//! optionally, blob containers.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use cloudcensus_core::connector::Result;
use cloudcensus_core::retry::RetryPolicy;
use cloudcensus_core::{
    Catalog, Connector, ConnectorError, Coverage, Creator, CreatorLookup, CreatorStatus,
    LookupTarget, Observation, Provider, Resource, Scope,
};
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::arm::{Arm, CallError};
use crate::blob::BlobAccess;
use crate::config::{AzureSourceConfig, InventoryMode, looks_like_guid};
use crate::credential::{TokenSource, describe_principal};
use crate::mapping::{self, SQL_DATABASE_TYPE, STORAGE_ACCOUNT_TYPE};

const KEY_VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";
const MANAGED_INSTANCE_TYPE: &str = "Microsoft.Sql/managedInstances";
const EVENT_HUB_NAMESPACE_TYPE: &str = "Microsoft.EventHub/namespaces";
const SERVICE_BUS_NAMESPACE_TYPE: &str = "Microsoft.ServiceBus/namespaces";
const APP_CONFIGURATION_TYPE: &str = "Microsoft.AppConfiguration/configurationStores";

/// Adds replica locations to a resource, leaving out its own location and duplicates.
fn add_replicas(r: &mut Resource, locations: impl IntoIterator<Item = String>) {
    for l in locations {
        if Some(&l) != r.location.as_ref() && !r.replica_locations.contains(&l) {
            r.replica_locations.push(l);
        }
    }
}

/// The coverage entry of a group of detail calls: `scanned`, or the first failure with
/// how many of the calls failed and what that leaves unknown.
fn detail_coverage(
    sub: &str,
    service: &str,
    calls: usize,
    noun: &str,
    action: &str,
    failures: &[CallError],
) -> Coverage {
    match failures.first() {
        None => Coverage::scanned(Provider::Azure, sub, "*", service),
        Some(e) => Coverage::failed(
            Provider::Azure,
            sub,
            "*",
            service,
            e.status(),
            format!(
                "{} of {calls} {noun}: {}; their second regions are not known (needs {action})",
                failures.len(),
                e.message()
            ),
        ),
    }
}

const API_SUBSCRIPTIONS: &str = "2022-12-01";
const API_RESOURCES: &str = "2025-04-01";
const API_STORAGE: &str = "2023-05-01";
const API_SQL: &str = "2023-08-01";
const API_MANAGEMENT_GROUPS: &str = "2020-05-01";
const API_RESOURCE_GRAPH: &str = "2024-04-01";
const API_COSMOS_DB: &str = "2025-10-15";
const API_RECOVERY_SERVICES: &str = "2025-08-01";
const API_DATA_PROTECTION: &str = "2025-07-01";
const API_POSTGRESQL: &str = "2025-08-01";
const API_MYSQL: &str = "2023-12-30";
const API_SQL_FAILOVER_GROUPS: &str = API_SQL;
const API_EVENT_HUB: &str = "2024-01-01";
const API_SERVICE_BUS: &str = "2024-01-01";
const API_APP_CONFIGURATION: &str = "2024-06-01";

/// Resource types whose second region is a property of the item in the provider's list
/// per subscription: (type, api-version, coverage service, read action).
const PROPERTY_LISTS: &[(&str, &str, &str, &str)] = &[
    (
        "Microsoft.DocumentDB/databaseAccounts",
        API_COSMOS_DB,
        service::COSMOS_DB,
        "Microsoft.DocumentDB/databaseAccounts/read",
    ),
    (
        "Microsoft.RecoveryServices/vaults",
        API_RECOVERY_SERVICES,
        service::RECOVERY_SERVICES_VAULTS,
        "Microsoft.RecoveryServices/vaults/read",
    ),
    (
        "Microsoft.DataProtection/backupVaults",
        API_DATA_PROTECTION,
        service::BACKUP_VAULTS,
        "Microsoft.DataProtection/backupVaults/read",
    ),
    (
        "Microsoft.DBforPostgreSQL/flexibleServers",
        API_POSTGRESQL,
        service::POSTGRESQL_FLEXIBLE,
        "Microsoft.DBforPostgreSQL/flexibleServers/read",
    ),
    (
        "Microsoft.DBforMySQL/flexibleServers",
        API_MYSQL,
        service::MYSQL_FLEXIBLE,
        "Microsoft.DBforMySQL/flexibleServers/read",
    ),
];

/// Coverage service names, one per API listed.
pub mod service {
    /// `GET /subscriptions/{id}/resourcegroups`.
    pub const RESOURCE_GROUPS: &str = "Microsoft.Resources/resourceGroups";
    /// `GET /subscriptions/{id}/resources`.
    pub const RESOURCES: &str = "Microsoft.Resources/resources";
    /// `GET /subscriptions/{id}/providers/Microsoft.Storage/storageAccounts`.
    pub const STORAGE_ACCOUNTS: &str = "Microsoft.Storage/storageAccounts";
    /// `GET {database id}/replicationLinks` for every SQL database.
    pub const SQL_REPLICATION_LINKS: &str = "Microsoft.Sql/replicationLinks";
    /// `POST /providers/Microsoft.ResourceGraph/resources`.
    pub const RESOURCE_GRAPH: &str = "Microsoft.ResourceGraph";
    /// `GET /subscriptions/{id}/providers/Microsoft.DocumentDB/databaseAccounts`.
    pub const COSMOS_DB: &str = "Microsoft.DocumentDB/databaseAccounts";
    /// `GET /subscriptions/{id}/providers/Microsoft.RecoveryServices/vaults`.
    pub const RECOVERY_SERVICES_VAULTS: &str = "Microsoft.RecoveryServices/vaults";
    /// `GET /subscriptions/{id}/providers/Microsoft.DataProtection/backupVaults`.
    pub const BACKUP_VAULTS: &str = "Microsoft.DataProtection/backupVaults";
    /// `GET /subscriptions/{id}/providers/Microsoft.DBforPostgreSQL/flexibleServers`.
    pub const POSTGRESQL_FLEXIBLE: &str = "Microsoft.DBforPostgreSQL/flexibleServers";
    /// `GET /subscriptions/{id}/providers/Microsoft.DBforMySQL/flexibleServers`.
    pub const MYSQL_FLEXIBLE: &str = "Microsoft.DBforMySQL/flexibleServers";
    /// `GET .../resourceGroups/{rg}/providers/Microsoft.Sql/locations/{l}/instanceFailoverGroups`
    /// for every resource group and location with a SQL managed instance.
    pub const SQL_INSTANCE_FAILOVER_GROUPS: &str = "Microsoft.Sql/instanceFailoverGroups";
    /// `GET {namespace id}/disasterRecoveryConfigs` (and the partner namespace).
    pub const EVENT_HUB_GEO_DR: &str = "Microsoft.EventHub/disasterRecoveryConfigs";
    /// `GET {namespace id}/disasterRecoveryConfigs` (and the partner namespace).
    pub const SERVICE_BUS_GEO_DR: &str = "Microsoft.ServiceBus/disasterRecoveryConfigs";
    /// `GET {store id}/replicas`.
    pub const APP_CONFIGURATION_REPLICAS: &str = "Microsoft.AppConfiguration/replicas";
}

/// One detail call's outcome: the items, or why there are none.
type Listed = (Vec<Value>, std::result::Result<(), CallError>);

/// Every Resource Manager action the connector uses; `custom-role.json` grants exactly
/// these (a test keeps the two in step). All are reads.
pub const REQUIRED_ACTIONS: &[&str] = &[
    "Microsoft.Resources/subscriptions/read",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Resources/subscriptions/resources/read",
    "Microsoft.Management/managementGroups/descendants/read",
    "Microsoft.ResourceGraph/resources/read",
    "Microsoft.Storage/storageAccounts/read",
    "Microsoft.Storage/storageAccounts/blobServices/containers/read",
    "Microsoft.Sql/servers/databases/replicationLinks/read",
    "Microsoft.DocumentDB/databaseAccounts/read",
    "Microsoft.RecoveryServices/vaults/read",
    "Microsoft.DataProtection/backupVaults/read",
    "Microsoft.DBforPostgreSQL/flexibleServers/read",
    "Microsoft.DBforMySQL/flexibleServers/read",
    "Microsoft.Sql/locations/instanceFailoverGroups/read",
    "Microsoft.EventHub/namespaces/read",
    "Microsoft.EventHub/namespaces/disasterRecoveryConfigs/read",
    "Microsoft.ServiceBus/namespaces/read",
    "Microsoft.ServiceBus/namespaces/disasterRecoveryConfigs/read",
    "Microsoft.AppConfiguration/configurationStores/replicas/read",
    crate::activity_log::READ_ACTION,
];

/// The Resource Graph query: every resource with what the model needs.
pub const RESOURCE_GRAPH_QUERY: &str = "resources \
| project id, name, type, location, tags, subscriptionId, resourceGroup, sku, kind, \
secondaryLocation = tostring(properties.secondaryLocation) \
| order by id asc";

/// Subscriptions per Resource Graph request (the service's limit).
const GRAPH_BATCH: usize = 1000;

/// Whether a Resource Graph answer says rows were left out. The REST reference types
/// `resultTruncated` as an enum string ("true"/"false"); a JSON boolean is read too.
fn truncated(page: &Value) -> bool {
    match page.get("resultTruncated") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The subscription id (lower case) an ARM id starts with, if any.
fn subscription_of(id: &str) -> Option<String> {
    let mut parts = id.split('/').filter(|s| !s.is_empty());
    match (parts.next(), parts.next()) {
        (Some(k), Some(sub)) if k.eq_ignore_ascii_case("subscriptions") => {
            Some(sub.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// A connected Azure source. Read-only: it only lists and reads.
#[derive(Debug)]
pub struct AzureConnector {
    cfg: AzureSourceConfig,
    arm: Arm,
    catalog: Catalog,
    blob: Option<BlobAccess>,
    /// Subscription ids returned by [`Connector::scopes`], batched for Resource Graph.
    known: Mutex<Vec<String>>,
    /// Resource Graph results per subscription (lower-case id), filled batch-wise.
    graph: Mutex<HashMap<String, (Vec<Resource>, Coverage)>>,
}

/// Connects an Azure source: validates the configuration and builds the credential.
/// No request is sent until [`Connector::identity`] or [`Connector::scopes`].
pub async fn connect(cfg: &AzureSourceConfig) -> Result<AzureConnector> {
    connect_with_env(cfg, &|name| std::env::var(name).ok()).await
}

/// [`connect`] with an explicit environment lookup (for `*_env` settings), so embedding
/// code and tests need not modify the process environment.
pub async fn connect_with_env(
    cfg: &AzureSourceConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AzureConnector> {
    let config_err = |message: String| ConnectorError::Config {
        provider: Provider::Azure,
        source_name: cfg.name.clone(),
        message,
    };
    let problems = cfg.problems();
    if !problems.is_empty() {
        return Err(config_err(format!(
            "invalid [[azure]] configuration:\n  - {}",
            problems.join("\n  - ")
        )));
    }
    let tokens =
        TokenSource::from_config(cfg, env).map_err(|message| ConnectorError::Credentials {
            provider: Provider::Azure,
            source_name: cfg.name.clone(),
            message,
        })?;
    let base =
        url::Url::parse(cfg.arm_base()).map_err(|e| config_err(format!("arm_endpoint: {e}")))?;
    let blob = if cfg.storage_data_plane {
        let sas = match &cfg.blob_sas_env {
            Some(var) => Some(env(var).filter(|s| !s.is_empty()).ok_or_else(|| {
                config_err(format!(
                    "environment variable {var} (blob_sas_env) is not set or empty"
                ))
            })?),
            None => None,
        };
        Some(BlobAccess {
            template: cfg
                .blob_endpoint_template
                .clone()
                .unwrap_or_else(|| cfg.cloud.blob_endpoint_template().to_string()),
            sas,
            credential: tokens.sdk_credential(),
        })
    } else {
        None
    };
    let arm = Arm::new(
        base,
        cfg.cloud.arm_scope(),
        tokens,
        cfg.max_concurrency,
        cfg.request_timeout_secs,
        cfg.retry_policy(),
    )
    .map_err(|e| config_err(format!("HTTP client: {e}")))?;
    let catalog = Catalog::builtin().map_err(|e| ConnectorError::Other {
        provider: Provider::Azure,
        source_name: cfg.name.clone(),
        message: format!("location catalog: {e}"),
    })?;
    Ok(AzureConnector {
        cfg: cfg.clone(),
        arm,
        catalog,
        blob,
        known: Mutex::new(Vec::new()),
        graph: Mutex::new(HashMap::new()),
    })
}

impl AzureConnector {
    /// Replaces the retry policy (attempts, backoff, cap on `Retry-After`).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.arm.retry = policy;
        self
    }

    /// Replaces the location catalog (e.g. one with the user's override file applied).
    pub fn with_catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    fn other(&self, message: String) -> ConnectorError {
        ConnectorError::Other {
            provider: Provider::Azure,
            source_name: self.cfg.name.clone(),
            message,
        }
    }

    fn call_err(&self, what: &str, e: &CallError) -> ConnectorError {
        let message = format!("{what}: {}", e.message());
        if e.status() == cloudcensus_core::CoverageStatus::Denied {
            ConnectorError::Credentials {
                provider: Provider::Azure,
                source_name: self.cfg.name.clone(),
                message,
            }
        } else {
            self.other(message)
        }
    }

    fn coverage(
        scope_id: &str,
        service: &str,
        result: &std::result::Result<(), CallError>,
    ) -> Coverage {
        match result {
            Ok(()) => Coverage::scanned(Provider::Azure, scope_id, "*", service),
            Err(e) => Coverage::failed(
                Provider::Azure,
                scope_id,
                "*",
                service,
                e.status(),
                e.message(),
            ),
        }
    }

    async fn list(&self, path_and_query: &str) -> (Vec<Value>, std::result::Result<(), CallError>) {
        let mut items = Vec::new();
        let result = match self.arm.url(path_and_query) {
            Ok(url) => self.arm.list_pages(url, |page| items.extend(page)).await,
            Err(e) => Err(e),
        };
        (items, result)
    }

    /// Subscription id → management-group chain (nearest first) below the configured group.
    async fn management_group_members(&self, mg: &str) -> Result<HashMap<String, Vec<String>>> {
        let (items, result) = self
            .list(&format!(
                "/providers/Microsoft.Management/managementGroups/{mg}/descendants?api-version={API_MANAGEMENT_GROUPS}"
            ))
            .await;
        if let Err(e) = result {
            return Err(self.call_err(&format!("management group '{mg}' descendants"), &e));
        }
        let last = |id: &str| id.rsplit('/').next().unwrap_or(id).to_string();
        let parent_of = |v: &Value| {
            v.pointer("/properties/parent/id")
                .and_then(Value::as_str)
                .map(last)
        };
        let mut group_parent: HashMap<String, String> = HashMap::new();
        let mut subs: Vec<(String, Option<String>)> = Vec::new();
        for v in &items {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
            let Some(name) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            if kind.eq_ignore_ascii_case("Microsoft.Management/managementGroups/subscriptions") {
                subs.push((name.to_ascii_lowercase(), parent_of(v)));
            } else if let Some(p) = parent_of(v) {
                group_parent.insert(name.to_string(), p);
            }
        }
        let mut out = HashMap::new();
        for (sub, parent) in subs {
            let mut chain = Vec::new();
            let mut cur = parent;
            while let Some(g) = cur {
                if chain.contains(&g) || chain.len() > 10 {
                    break;
                }
                chain.push(g.clone());
                if g.eq_ignore_ascii_case(mg) {
                    break;
                }
                cur = group_parent.get(&g).cloned();
            }
            out.insert(sub, chain);
        }
        Ok(out)
    }

    /// Resources of one subscription via Resource Manager, with storage replication.
    async fn arm_resources(&self, sub: &str) -> (Vec<Resource>, Vec<Coverage>) {
        let resources_q = format!(
            "/subscriptions/{sub}/resources?$expand=createdTime&api-version={API_RESOURCES}"
        );
        let storage_q = format!(
            "/subscriptions/{sub}/providers/Microsoft.Storage/storageAccounts?api-version={API_STORAGE}"
        );
        let ((items, res_result), (accounts, st_result)) =
            futures::join!(self.list(&resources_q), self.list(&storage_q));
        let details: HashMap<String, &Value> = accounts
            .iter()
            .filter_map(|a| {
                a.get("id")
                    .and_then(Value::as_str)
                    .map(|id| (id.to_ascii_lowercase(), a))
            })
            .collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for v in &items {
            let Some(mut r) = mapping::resource(&self.catalog, sub, v) else {
                continue;
            };
            if let Some(acct) = details.get(&r.id.to_ascii_lowercase()) {
                self.apply_storage_details(&mut r, acct);
            }
            seen.insert(r.id.to_ascii_lowercase());
            out.push(r);
        }
        // Storage accounts the resources list did not return (failed page) still count.
        for a in &accounts {
            if let Some(r) = mapping::resource(&self.catalog, sub, a)
                && !seen.contains(&r.id.to_ascii_lowercase())
            {
                out.push(r);
            }
        }
        let cov = vec![
            Self::coverage(sub, service::RESOURCES, &res_result),
            Self::coverage(sub, service::STORAGE_ACCOUNTS, &st_result),
        ];
        (out, cov)
    }

    fn apply_storage_details(&self, r: &mut Resource, acct: &Value) {
        let sku = acct.pointer("/sku/name").and_then(Value::as_str);
        let secondary = acct
            .pointer("/properties/secondaryLocation")
            .and_then(Value::as_str);
        let primary = acct
            .pointer("/properties/primaryLocation")
            .and_then(Value::as_str)
            .map(|p| self.catalog.normalise(Provider::Azure, p))
            .or_else(|| r.location.clone());
        r.replica_locations =
            mapping::storage_replicas(&self.catalog, sku, secondary, primary.as_deref());
    }

    /// Resources of one subscription via Resource Graph (batched over all known scopes).
    async fn graph_resources(&self, sub: &str) -> (Vec<Resource>, Vec<Coverage>) {
        let key = sub.to_ascii_lowercase();
        let mut cache = self.graph.lock().await;
        if !cache.contains_key(&key) {
            let mut todo: Vec<String> = self
                .known
                .lock()
                .await
                .iter()
                .filter(|s| !cache.contains_key(&s.to_ascii_lowercase()))
                .cloned()
                .collect();
            if !todo.iter().any(|s| s.eq_ignore_ascii_case(sub)) {
                todo.push(sub.to_string());
            }
            for batch in todo.chunks(GRAPH_BATCH) {
                let results = self.graph_batch(batch).await;
                cache.extend(results);
            }
        }
        match cache.remove(&key) {
            Some((resources, cov)) => (resources, vec![cov]),
            None => (Vec::new(), Vec::new()),
        }
    }

    async fn graph_batch(&self, subs: &[String]) -> HashMap<String, (Vec<Resource>, Coverage)> {
        let url = self.arm.url(&format!(
            "/providers/Microsoft.ResourceGraph/resources?api-version={API_RESOURCE_GRAPH}"
        ));
        let mut per_sub: HashMap<String, (String, Vec<Resource>)> = subs
            .iter()
            .map(|s| (s.to_ascii_lowercase(), (s.clone(), Vec::new())))
            .collect();
        let mut skip: Option<String> = None;
        // Per subscription (lower case): why its answer is incomplete although every
        // page arrived.
        let mut problems: HashMap<String, Vec<String>> = HashMap::new();
        let result: std::result::Result<(), CallError> = async {
            let url = url?;
            loop {
                let mut options = json!({ "$top": 1000, "resultFormat": "objectArray" });
                if let Some(t) = &skip {
                    options["$skipToken"] = json!(t);
                }
                let body = json!({ "subscriptions": subs, "query": RESOURCE_GRAPH_QUERY, "options": options });
                let page = self.arm.post(&url, &body).await?;
                let rows = page.get("data").and_then(Value::as_array).ok_or_else(|| CallError {
                    error: crate::arm::ArmError::Decode(
                        "no `data` array in the Resource Graph response (resultFormat objectArray)".into(),
                    ),
                    throttled: false,
                    attempts: 1,
                    page: None,
                })?;
                if truncated(&page) {
                    // The service left rows out and gave no way to page to them.
                    for k in per_sub.keys() {
                        problems.entry(k.clone()).or_default().push(format!(
                            "Resource Graph answered resultTruncated = true for the query \
                             `{RESOURCE_GRAPH_QUERY}`: rows were left out and no $skipToken \
                             leads to them; the list is incomplete (scan this subscription \
                             with mode = \"arm\")"
                        ));
                    }
                }
                for row in rows {
                    let sid = row
                        .get("subscriptionId")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty());
                    let row_id = row.get("id").and_then(Value::as_str).unwrap_or("(no id)");
                    let Some(sid) = sid else {
                        // Not attributable by the column the query projects: a gap in
                        // whichever subscription it came from.
                        let owner = subscription_of(row_id)
                            .filter(|s| per_sub.contains_key(s));
                        let keys: Vec<String> = match owner {
                            Some(s) => vec![s],
                            None => per_sub.keys().cloned().collect(),
                        };
                        for k in keys {
                            problems.entry(k).or_default().push(format!(
                                "a Resource Graph row without subscriptionId (id {row_id}) \
                                 for the query `{RESOURCE_GRAPH_QUERY}`; it is not \
                                 recorded and the list may be incomplete (scan with \
                                 mode = \"arm\")"
                            ));
                        }
                        continue;
                    };
                    if let Some((orig, list)) = per_sub.get_mut(&sid.to_ascii_lowercase())
                        && let Some(r) = mapping::resource(&self.catalog, orig, row)
                    {
                        list.push(r);
                    }
                }
                skip = page
                    .get("$skipToken")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                if skip.is_none() {
                    return Ok(());
                }
            }
        }
        .await;
        per_sub
            .into_iter()
            .map(|(k, (orig, list))| {
                let cov = match (&result, problems.get(&k)) {
                    (Ok(()), Some(p)) => Coverage::failed(
                        Provider::Azure,
                        &orig,
                        "*",
                        service::RESOURCE_GRAPH,
                        cloudcensus_core::CoverageStatus::Error,
                        p.join("; "),
                    ),
                    _ => Self::coverage(&orig, service::RESOURCE_GRAPH, &result),
                };
                (k, (list, cov))
            })
            .collect()
    }

    /// Adds SQL databases' geo-replication partners as replica locations.
    async fn sql_replicas(&self, sub: &str, resources: &mut [Resource]) -> Option<Coverage> {
        let dbs: Vec<usize> = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.resource_type.eq_ignore_ascii_case(SQL_DATABASE_TYPE)
                    && !r.name.eq_ignore_ascii_case("master")
                    && !r.name.to_ascii_lowercase().ends_with("/master")
            })
            .map(|(i, _)| i)
            .collect();
        if dbs.is_empty() {
            return None;
        }
        // Futures collected first: a lazy `map` held across `.await` trips the
        // higher-ranked `Send` check of the boxed stream.
        let calls: Vec<_> = dbs
            .iter()
            .map(|&i| {
                let q = format!("{}/replicationLinks?api-version={API_SQL}", resources[i].id);
                async move { (i, self.list(&q).await) }
            })
            .collect();
        let results: Vec<_> = stream::iter(calls)
            .buffer_unordered(self.cfg.max_concurrency.max(1))
            .collect()
            .await;
        let mut first_err: Option<CallError> = None;
        let mut failed = 0;
        for (i, (links, result)) in results {
            let partners = mapping::replication_partners(&self.catalog, &links);
            let r = &mut resources[i];
            for p in partners {
                if Some(&p) != r.location.as_ref() && !r.replica_locations.contains(&p) {
                    r.replica_locations.push(p);
                }
            }
            if let Err(e) = result {
                failed += 1;
                first_err.get_or_insert(e);
            }
        }
        Some(match first_err {
            None => Coverage::scanned(Provider::Azure, sub, "*", service::SQL_REPLICATION_LINKS),
            Some(e) => Coverage::failed(
                Provider::Azure,
                sub,
                "*",
                service::SQL_REPLICATION_LINKS,
                e.status(),
                format!("{failed} of {} databases: {}", dbs.len(), e.message()),
            ),
        })
    }

    /// Every index of `resources` whose type is `ty`.
    fn of_type(resources: &[Resource], ty: &str) -> Vec<usize> {
        resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.resource_type.eq_ignore_ascii_case(ty))
            .map(|(i, _)| i)
            .collect()
    }

    /// Lists each path (at most `max_concurrency` at once), in the order given.
    async fn list_all(&self, paths: Vec<String>) -> Vec<Listed> {
        // Futures collected first (see `sql_replicas`).
        let calls: Vec<_> = paths
            .into_iter()
            .enumerate()
            .map(|(n, q)| async move { (n, self.list(&q).await) })
            .collect();
        let mut results: Vec<(usize, Listed)> = stream::iter(calls)
            .buffer_unordered(self.cfg.max_concurrency.max(1))
            .collect()
            .await;
        results.sort_by_key(|(n, _)| *n);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// Replica locations of the services that keep data in a second region besides
    /// storage and SQL databases. Key Vault: the region pair, no call. The others: one
    /// list per subscription and type, or one detail call per resource, made only when
    /// the subscription has a resource of that type; each group of calls is one coverage
    /// entry, and a failed call leaves that resource's second region unknown and says so.
    async fn second_region_replicas(&self, sub: &str, resources: &mut [Resource]) -> Vec<Coverage> {
        let mut coverage = Vec::new();
        for i in Self::of_type(resources, KEY_VAULT_TYPE) {
            let pair = mapping::paired_region(&self.catalog, resources[i].location.as_deref());
            add_replicas(&mut resources[i], pair);
        }

        // Properties of the provider's own list per subscription.
        let wanted: Vec<&(&str, &str, &str, &str)> = PROPERTY_LISTS
            .iter()
            .filter(|(t, ..)| !Self::of_type(resources, t).is_empty())
            .collect();
        let lists = self
            .list_all(
                wanted
                    .iter()
                    .map(|(t, api, ..)| {
                        format!("/subscriptions/{sub}/providers/{t}?api-version={api}")
                    })
                    .collect(),
            )
            .await;
        for (&&(ty, _, svc, action), (items, result)) in wanted.iter().zip(lists) {
            let by_id: HashMap<String, &Value> = items
                .iter()
                .filter_map(|v| {
                    v.get("id")
                        .and_then(Value::as_str)
                        .map(|id| (id.to_ascii_lowercase(), v))
                })
                .collect();
            let idx = Self::of_type(resources, ty);
            for &i in &idx {
                let r = &mut resources[i];
                if let Some(item) = by_id.get(&r.id.to_ascii_lowercase())
                    && let Some(reps) =
                        mapping::property_replicas(&self.catalog, ty, item, r.location.as_deref())
                {
                    add_replicas(r, reps);
                }
            }
            let failures: Vec<CallError> = result.err().into_iter().collect();
            let noun = format!("subscription-wide list of {ty} ({} resources)", idx.len());
            coverage.push(detail_coverage(sub, svc, 1, &noun, action, &failures));
        }

        if let Some(c) = self.managed_instance_replicas(sub, resources).await {
            coverage.push(c);
        }
        for (ty, api, svc) in [
            (
                EVENT_HUB_NAMESPACE_TYPE,
                API_EVENT_HUB,
                service::EVENT_HUB_GEO_DR,
            ),
            (
                SERVICE_BUS_NAMESPACE_TYPE,
                API_SERVICE_BUS,
                service::SERVICE_BUS_GEO_DR,
            ),
        ] {
            if let Some(c) = self.geo_dr_replicas(sub, resources, ty, api, svc).await {
                coverage.push(c);
            }
        }

        let stores = Self::of_type(resources, APP_CONFIGURATION_TYPE);
        if !stores.is_empty() {
            let paths = stores
                .iter()
                .map(|&i| {
                    format!(
                        "{}/replicas?api-version={API_APP_CONFIGURATION}",
                        resources[i].id
                    )
                })
                .collect();
            let mut failures = Vec::new();
            for (&i, (items, result)) in stores.iter().zip(self.list_all(paths).await) {
                add_replicas(
                    &mut resources[i],
                    mapping::replica_list_locations(&self.catalog, &items),
                );
                if let Err(e) = result {
                    failures.push(e);
                }
            }
            coverage.push(detail_coverage(
                sub,
                service::APP_CONFIGURATION_REPLICAS,
                stores.len(),
                "configuration stores",
                "Microsoft.AppConfiguration/configurationStores/replicas/read",
                &failures,
            ));
        }
        coverage
    }

    /// SQL managed instances in a failover group: the group's regions, from one list per
    /// resource group and location that holds a managed instance.
    async fn managed_instance_replicas(
        &self,
        sub: &str,
        resources: &mut [Resource],
    ) -> Option<Coverage> {
        let mis = Self::of_type(resources, MANAGED_INSTANCE_TYPE);
        if mis.is_empty() {
            return None;
        }
        let mut places: Vec<(String, String)> = mis
            .iter()
            .filter_map(|&i| {
                let r = &resources[i];
                Some((r.resource_group.clone()?, r.location.clone()?))
            })
            .collect();
        places.sort();
        places.dedup();
        let paths = places
            .iter()
            .map(|(rg, loc)| {
                format!(
                    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/locations/{loc}/instanceFailoverGroups?api-version={API_SQL_FAILOVER_GROUPS}"
                )
            })
            .collect();
        let mut groups = Vec::new();
        let mut failures = Vec::new();
        for (items, result) in self.list_all(paths).await {
            groups.extend(items);
            if let Err(e) = result {
                failures.push(e);
            }
        }
        let regions = mapping::failover_group_regions(&self.catalog, &groups);
        for &i in &mis {
            if let Some(reps) = regions.get(&resources[i].id.to_ascii_lowercase()) {
                add_replicas(&mut resources[i], reps.iter().cloned());
            }
        }
        Some(detail_coverage(
            sub,
            service::SQL_INSTANCE_FAILOVER_GROUPS,
            places.len(),
            "failover group lists (resource group × location of the managed instances)",
            "Microsoft.Sql/locations/instanceFailoverGroups/read",
            &failures,
        ))
    }

    /// Event Hubs / Service Bus namespaces with a geo-disaster-recovery pairing: the
    /// partner namespace's region, from this scan's resources or, for a partner outside
    /// it, a GET of the partner.
    async fn geo_dr_replicas(
        &self,
        sub: &str,
        resources: &mut [Resource],
        ty: &str,
        api: &str,
        svc: &str,
    ) -> Option<Coverage> {
        let namespaces = Self::of_type(resources, ty);
        if namespaces.is_empty() {
            return None;
        }
        let paths = namespaces
            .iter()
            .map(|&i| {
                format!(
                    "{}/disasterRecoveryConfigs?api-version={api}",
                    resources[i].id
                )
            })
            .collect();
        let mut failures = Vec::new();
        let mut partners: Vec<(usize, Vec<String>)> = Vec::new();
        for (&i, (items, result)) in namespaces.iter().zip(self.list_all(paths).await) {
            partners.push((i, mapping::dr_partner_ids(&resources[i].id, &items)));
            if let Err(e) = result {
                failures.push(e);
            }
        }
        let known: HashMap<String, Option<String>> = resources
            .iter()
            .map(|r| (r.id.to_ascii_lowercase(), r.location.clone()))
            .collect();
        let mut located: HashMap<String, Option<String>> = HashMap::new();
        let unknown: Vec<String> = {
            let mut v: Vec<String> = partners
                .iter()
                .flat_map(|(_, p)| p.iter())
                .filter(|p| !known.contains_key(&p.to_ascii_lowercase()))
                .cloned()
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let gets: Vec<_> = unknown
            .iter()
            .map(|pid| async move {
                let got = match self.arm.url(&format!("{pid}?api-version={api}")) {
                    Ok(url) => self.arm.get(&url).await,
                    Err(e) => Err(e),
                };
                (pid.to_ascii_lowercase(), got)
            })
            .collect();
        let got: Vec<_> = stream::iter(gets)
            .buffer_unordered(self.cfg.max_concurrency.max(1))
            .collect()
            .await;
        for (pid, res) in got {
            match res {
                Ok(v) => {
                    located.insert(
                        pid,
                        mapping::location(&self.catalog, v.get("location").and_then(Value::as_str)),
                    );
                }
                Err(e) => failures.push(e),
            }
        }
        for (i, pids) in partners {
            let locs: Vec<String> = pids
                .iter()
                .filter_map(|p| {
                    let k = p.to_ascii_lowercase();
                    known.get(&k).or_else(|| located.get(&k)).cloned().flatten()
                })
                .collect();
            add_replicas(&mut resources[i], locs);
        }
        let action = format!("{ty}/disasterRecoveryConfigs/read and {ty}/read");
        Some(detail_coverage(
            sub,
            svc,
            namespaces.len() + unknown.len(),
            "namespace calls (pairings and partner namespaces)",
            &action,
            &failures,
        ))
    }

    async fn scope_inventory(&self, scope: &Scope) -> Vec<Observation> {
        let sub = scope.id.as_str();
        let groups_q = format!("/subscriptions/{sub}/resourcegroups?api-version={API_RESOURCES}");
        let resources = async {
            match self.cfg.mode {
                InventoryMode::Arm => self.arm_resources(sub).await,
                InventoryMode::ResourceGraph => self.graph_resources(sub).await,
            }
        };
        let ((groups, groups_result), (mut resources, mut coverage)) =
            futures::join!(self.list(&groups_q), resources);
        coverage.insert(
            0,
            Self::coverage(sub, service::RESOURCE_GROUPS, &groups_result),
        );
        if let Some(c) = self.sql_replicas(sub, &mut resources).await {
            coverage.push(c);
        }
        coverage.extend(self.second_region_replicas(sub, &mut resources).await);
        let mut containers = Vec::new();
        if let Some(blob) = &self.blob {
            let accounts: Vec<&Resource> = resources
                .iter()
                .filter(|r| r.resource_type.eq_ignore_ascii_case(STORAGE_ACCOUNT_TYPE))
                .collect();
            let calls: Vec<_> = accounts.into_iter().map(|a| blob.containers(a)).collect();
            let results: Vec<_> = stream::iter(calls)
                .buffer_unordered(self.cfg.max_concurrency.max(1))
                .collect()
                .await;
            for (list, cov) in results {
                containers.extend(list);
                coverage.push(cov);
            }
        }
        let mut out: Vec<Observation> = groups
            .iter()
            .filter_map(|g| mapping::resource_group(&self.catalog, sub, g))
            .map(Observation::ResourceGroup)
            .collect();
        resources.extend(containers);
        resources.sort_by(|a, b| a.id.cmp(&b.id));
        out.extend(resources.into_iter().map(Observation::Resource));
        for c in &coverage {
            if c.status.is_gap() {
                tracing::warn!(subscription = sub, service = %c.service, status = %c.status,
                    message = c.message.as_deref().unwrap_or(""), "azure coverage gap");
            }
        }
        out.extend(coverage.into_iter().map(Observation::Coverage));
        out
    }
}

#[async_trait]
impl Connector for AzureConnector {
    fn provider(&self) -> Provider {
        Provider::Azure
    }

    fn name(&self) -> &str {
        &self.cfg.name
    }

    async fn identity(&self) -> Result<String> {
        let token = self
            .arm
            .token()
            .await
            .map_err(|message| ConnectorError::Credentials {
                provider: Provider::Azure,
                source_name: self.cfg.name.clone(),
                message,
            })?;
        Ok(describe_principal(token.secret())
            .unwrap_or_else(|| "unknown principal (the token carries no readable claims)".into()))
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        let (items, result) = self
            .list(&format!("/subscriptions?api-version={API_SUBSCRIPTIONS}"))
            .await;
        let explicit: Vec<String> = self
            .cfg
            .subscriptions
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if let Err(e) = &result {
            if explicit.is_empty() {
                return Err(self.call_err("listing subscriptions", e));
            }
            tracing::warn!(error = %e.message(), "cannot list subscriptions; scanning the configured ones");
        }
        let groups = match &self.cfg.management_group {
            Some(mg) => Some(self.management_group_members(mg).await?),
            None => None,
        };
        let mut scopes: BTreeMap<String, Scope> = BTreeMap::new();
        for v in &items {
            let Some(id) = v
                .get("subscriptionId")
                .and_then(Value::as_str)
                .filter(|s| looks_like_guid(s))
            else {
                continue;
            };
            let key = id.to_ascii_lowercase();
            if !explicit.is_empty() && !explicit.contains(&key) {
                continue;
            }
            let mut scope = Scope::new(Provider::Azure, id);
            scope.name = v
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_string);
            scope.tags = mapping::tags(v.get("tags"));
            if let Some(groups) = &groups {
                match groups.get(&key) {
                    Some(chain) => scope.parents = chain.clone(),
                    None => continue,
                }
            }
            scopes.insert(key, scope);
        }
        for id in &self.cfg.subscriptions {
            let key = id.to_ascii_lowercase();
            if let std::collections::btree_map::Entry::Vacant(slot) = scopes.entry(key) {
                // Not visible to this identity: scan it anyway so the failure shows as
                // coverage instead of the subscription silently disappearing.
                tracing::warn!(subscription = %id, "configured subscription not listed for this identity");
                let mut scope = Scope::new(Provider::Azure, id.clone());
                if let Some(chain) = groups.as_ref().and_then(|g| g.get(slot.key())) {
                    scope.parents = chain.clone();
                }
                slot.insert(scope);
            }
        }
        let scopes: Vec<Scope> = scopes.into_values().collect();
        *self.known.lock().await = scopes.iter().map(|s| s.id.clone()).collect();
        Ok(scopes)
    }

    fn inventory<'a>(&'a self, scope: &'a Scope) -> BoxStream<'a, Result<Observation>> {
        stream::once(self.scope_inventory(scope))
            .flat_map(|items| stream::iter(items.into_iter().map(Ok)))
            .boxed()
    }

    /// The subscription's Activity Log: one list call per resource (see
    /// [`activity_log`](crate::activity_log)).
    async fn creators(&self, scope: &Scope, targets: &[LookupTarget]) -> CreatorLookup {
        if !self.cfg.creator_lookup {
            return CreatorLookup {
                creators: targets
                    .iter()
                    .map(|t| {
                        Creator::unknown(
                            Provider::Azure,
                            t.resource_id.clone(),
                            CreatorStatus::NotLookedUp,
                            "activity-log",
                            "creator_lookup = false for this source",
                        )
                    })
                    .collect(),
                coverage: Vec::new(),
            };
        }
        crate::activity_log::lookup(&self.arm, &scope.id, targets, chrono::Utc::now()).await
    }
}
