//! From Azure JSON to the cloudcensus model: resources, resource groups, replicas.
//!
//! Pure functions, so the rules that matter for the report (which location, which
//! replica location, which resource group) are unit-tested without any HTTP.

use std::collections::BTreeMap;

use cloudcensus_core::{Catalog, Category, Provider, Resource, ResourceGroup};
use serde_json::Value;

/// The ARM resource type of blob containers (emitted from the storage data plane).
pub const CONTAINER_TYPE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers";

/// The ARM resource type of storage accounts.
pub const STORAGE_ACCOUNT_TYPE: &str = "Microsoft.Storage/storageAccounts";

/// The ARM resource type of SQL databases.
pub const SQL_DATABASE_TYPE: &str = "Microsoft.Sql/servers/databases";

fn str_field<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Tags as strings. ARM tag values are strings; anything else is kept as its JSON text.
pub(crate) fn tags(v: Option<&Value>) -> BTreeMap<String, String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The resource group named in an ARM id (`/subscriptions/x/resourceGroups/RG/...`).
pub(crate) fn resource_group_of(id: &str) -> Option<String> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        }
    }
    None
}

/// Normalises an Azure location; `None` for an absent or empty one. `global` stays
/// `global`.
pub(crate) fn location(catalog: &Catalog, raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| catalog.normalise(Provider::Azure, s))
}

/// Whether a storage SKU replicates to a second region (GRS, RA-GRS, GZRS, RA-GZRS).
pub fn is_geo_redundant(sku_name: &str) -> bool {
    let s = sku_name.to_ascii_uppercase();
    s.contains("GRS") || s.contains("GZRS")
}

/// Replica locations of a storage account: for a geo-redundant SKU, the
/// `secondaryLocation` the service reports, else the primary's region pair from the
/// catalog. Empty for LRS/ZRS, or when neither is known.
pub fn storage_replicas(
    catalog: &Catalog,
    sku_name: Option<&str>,
    secondary: Option<&str>,
    primary: Option<&str>,
) -> Vec<String> {
    if !sku_name.is_some_and(is_geo_redundant) {
        return Vec::new();
    }
    if let Some(sec) = location(catalog, secondary) {
        return vec![sec];
    }
    primary
        .and_then(|p| catalog.get(Provider::Azure, p))
        .and_then(|e| e.pair.clone())
        .into_iter()
        .collect()
}

/// A resource from an ARM `GenericResourceExpanded` (resources list) or a Resource Graph
/// row (same field names). `None` when it has no id or type.
pub(crate) fn resource(catalog: &Catalog, scope_id: &str, v: &Value) -> Option<Resource> {
    let id = str_field(v, "id")?.to_string();
    let resource_type = arm_type(&id, str_field(v, "type")?);
    let name = str_field(v, "name")
        .map(str::to_string)
        .unwrap_or_else(|| id.rsplit('/').next().unwrap_or_default().to_string());
    let location = location(catalog, str_field(v, "location"));
    // The id keeps the resource group's own casing; Resource Graph's `resourceGroup`
    // column is lower case.
    let resource_group =
        resource_group_of(&id).or_else(|| str_field(v, "resourceGroup").map(str::to_string));
    let created_at = str_field(v, "createdTime").and_then(chrono_parse);
    let mut r = Resource {
        provider: Provider::Azure,
        scope_id: scope_id.to_string(),
        category: Category::classify(Provider::Azure, &resource_type),
        id,
        resource_type,
        name,
        location,
        replica_locations: Vec::new(),
        resource_group,
        tags: tags(v.get("tags")),
        created_at,
    };
    if r.resource_type.eq_ignore_ascii_case(STORAGE_ACCOUNT_TYPE) {
        let sku = v.get("sku").and_then(|s| str_field(s, "name"));
        // Resource Graph projects `secondaryLocation`; the storage API nests it.
        let secondary = str_field(v, "secondaryLocation").or_else(|| {
            v.get("properties")
                .and_then(|p| str_field(p, "secondaryLocation"))
        });
        r.replica_locations = storage_replicas(catalog, sku, secondary, r.location.as_deref());
    }
    Some(r)
}

/// The resource type in Resource Manager's casing. Resource Graph answers `type` in lower
/// case (`microsoft.storage/storageaccounts`); the resource id keeps the casing Resource
/// Manager uses (`.../providers/Microsoft.Storage/storageAccounts/NAME`), so the type is
/// rebuilt from the id's provider namespace and type segments when they match it. A type
/// the id does not spell (an extension resource) is kept as given.
pub(crate) fn arm_type(id: &str, given: &str) -> String {
    let Some(pos) = id.to_ascii_lowercase().rfind("/providers/") else {
        return given.to_string();
    };
    let rest = &id[pos + "/providers/".len()..];
    let mut parts = rest.split('/');
    let Some(namespace) = parts.next() else {
        return given.to_string();
    };
    let mut out = namespace.to_string();
    // namespace/type1/name1/type2/name2/...: every other segment is a type.
    let segments: Vec<&str> = parts.collect();
    for t in segments.iter().step_by(2) {
        out.push('/');
        out.push_str(t);
    }
    if out.eq_ignore_ascii_case(given) {
        out
    } else {
        given.to_string()
    }
}

fn chrono_parse(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// A resource group from the resource groups list.
pub(crate) fn resource_group(
    catalog: &Catalog,
    scope_id: &str,
    v: &Value,
) -> Option<ResourceGroup> {
    let name = str_field(v, "name")?.to_string();
    Some(ResourceGroup {
        provider: Provider::Azure,
        scope_id: scope_id.to_string(),
        name,
        location: location(catalog, str_field(v, "location")),
        tags: tags(v.get("tags")),
    })
}

/// The partner locations of a SQL database's replication links
/// (`properties.partnerLocation`), normalised.
pub(crate) fn replication_partners(catalog: &Catalog, links: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = links
        .iter()
        .filter_map(|l| l.get("properties"))
        .filter_map(|p| location(catalog, str_field(p, "partnerLocation")))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The catalog's region pair of a (normalised) primary location, as a replica list.
pub fn paired_region(catalog: &Catalog, primary: Option<&str>) -> Vec<String> {
    primary
        .and_then(|p| catalog.get(Provider::Azure, p))
        .and_then(|e| e.pair.clone())
        .into_iter()
        .collect()
}

/// How a resource type keeps data in a second region, and where the connector reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondRegion {
    /// Always the catalog's region pair; no API call (Key Vault contents replicate to the
    /// paired region).
    Pair,
    /// A property of the resource, read from the provider's list of that type per
    /// subscription (`GET /subscriptions/{id}/providers/{type}`).
    SubscriptionList,
    /// A child list per resource (`GET {id}/{child}`), or for SQL managed instances the
    /// failover groups of their resource group and location.
    Detail,
}

/// The resource types that can keep data in a second region besides storage accounts
/// and SQL databases, with how each is read.
pub const SECOND_REGION_TYPES: &[(&str, SecondRegion)] = &[
    ("Microsoft.KeyVault/vaults", SecondRegion::Pair),
    (
        "Microsoft.DocumentDB/databaseAccounts",
        SecondRegion::SubscriptionList,
    ),
    (
        "Microsoft.RecoveryServices/vaults",
        SecondRegion::SubscriptionList,
    ),
    (
        "Microsoft.DataProtection/backupVaults",
        SecondRegion::SubscriptionList,
    ),
    (
        "Microsoft.DBforPostgreSQL/flexibleServers",
        SecondRegion::SubscriptionList,
    ),
    (
        "Microsoft.DBforMySQL/flexibleServers",
        SecondRegion::SubscriptionList,
    ),
    ("Microsoft.Sql/managedInstances", SecondRegion::Detail),
    ("Microsoft.EventHub/namespaces", SecondRegion::Detail),
    ("Microsoft.ServiceBus/namespaces", SecondRegion::Detail),
    (
        "Microsoft.AppConfiguration/configurationStores",
        SecondRegion::Detail,
    ),
];

fn eq(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// Replica locations of a resource whose second region is a property of the resource
/// (the item of its provider's list): every other region a Cosmos DB account is in
/// (`locations`, `readLocations`, `writeLocations`); the region pair of a Recovery
/// Services vault with geo-redundant storage or cross-region restore, of a Backup vault
/// with a geo-redundant vault store, and of a PostgreSQL or MySQL flexible server with
/// geo-redundant backup. `None` when `resource_type` is not one of these.
pub fn property_replicas(
    catalog: &Catalog,
    resource_type: &str,
    item: &Value,
    primary: Option<&str>,
) -> Option<Vec<String>> {
    let t = resource_type.to_ascii_lowercase();
    let props = item.get("properties").unwrap_or(&Value::Null);
    let mut out = match t.as_str() {
        "microsoft.documentdb/databaseaccounts" => {
            let mut v: Vec<String> = ["locations", "readLocations", "writeLocations"]
                .iter()
                .filter_map(|k| props.get(*k).and_then(Value::as_array))
                .flatten()
                .filter_map(|l| location(catalog, l.get("locationName").and_then(Value::as_str)))
                .collect();
            v.sort();
            v
        }
        "microsoft.recoveryservices/vaults" => {
            let r = props.get("redundancySettings").unwrap_or(&Value::Null);
            let geo = eq(
                r.get("standardTierStorageRedundancy")
                    .and_then(Value::as_str),
                "GeoRedundant",
            ) || eq(
                r.get("crossRegionRestore").and_then(Value::as_str),
                "Enabled",
            );
            if geo {
                paired_region(catalog, primary)
            } else {
                Vec::new()
            }
        }
        "microsoft.dataprotection/backupvaults" => {
            let geo = props
                .get("storageSettings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|s| eq(s.get("type").and_then(Value::as_str), "GeoRedundant"));
            if geo {
                paired_region(catalog, primary)
            } else {
                Vec::new()
            }
        }
        "microsoft.dbforpostgresql/flexibleservers" | "microsoft.dbformysql/flexibleservers" => {
            let geo = eq(
                props
                    .pointer("/backup/geoRedundantBackup")
                    .and_then(Value::as_str),
                "Enabled",
            );
            if geo {
                paired_region(catalog, primary)
            } else {
                Vec::new()
            }
        }
        _ => return None,
    };
    out.dedup();
    out.retain(|l| Some(l.as_str()) != primary);
    Some(out)
}

/// The locations of App Configuration replicas (`GET {store}/replicas`), normalised.
pub(crate) fn replica_list_locations(catalog: &Catalog, items: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|i| location(catalog, str_field(i, "location")))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The partner namespace ids of Event Hubs / Service Bus geo-disaster-recovery configs
/// (`properties.partnerNamespace`). The service gives an ARM id or, in older answers, a
/// bare name; a bare name is read as a namespace in the same resource group as `own_id`.
pub(crate) fn dr_partner_ids(own_id: &str, items: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("properties"))
        .filter_map(|p| str_field(p, "partnerNamespace"))
        .map(|p| {
            if p.starts_with('/') {
                p.to_string()
            } else {
                match own_id.rfind('/') {
                    Some(i) => format!("{}/{p}", &own_id[..i]),
                    None => p.to_string(),
                }
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// For SQL managed instance failover groups (`GET .../locations/{l}/instanceFailoverGroups`):
/// managed instance id (lower case) → every region of the groups it is in
/// (`partnerRegions[].location` and the group's own location from its id), normalised.
pub(crate) fn failover_group_regions(
    catalog: &Catalog,
    groups: &[Value],
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in groups {
        let Some(p) = g.get("properties") else {
            continue;
        };
        let mut regions: Vec<String> = p
            .get("partnerRegions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| location(catalog, str_field(r, "location")))
            .collect();
        if let Some(own) = str_field(g, "id").and_then(location_segment) {
            regions.extend(location(catalog, Some(own)));
        }
        let pairs = p
            .get("managedInstancePairs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for pair in pairs {
            for key in ["primaryManagedInstanceId", "partnerManagedInstanceId"] {
                if let Some(id) = str_field(pair, key) {
                    out.entry(id.to_ascii_lowercase())
                        .or_default()
                        .extend(regions.iter().cloned());
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup();
    }
    out
}

/// The `{location}` of an id such as `.../providers/Microsoft.Sql/locations/{location}/...`.
fn location_segment(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("locations") {
            return parts.next().filter(|s| !s.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cat() -> Catalog {
        Catalog::builtin().unwrap()
    }

    #[test]
    fn grs_uses_the_reported_secondary_location() {
        let c = cat();
        assert_eq!(
            storage_replicas(
                &c,
                Some("Standard_RAGRS"),
                Some("South Central US"),
                Some("brazilsouth")
            ),
            ["southcentralus"]
        );
    }

    #[test]
    fn grs_without_secondary_falls_back_to_the_region_pair() {
        let c = cat();
        assert_eq!(
            storage_replicas(&c, Some("Standard_GZRS"), None, Some("brazilsouth")),
            ["southcentralus"]
        );
        assert_eq!(
            storage_replicas(&c, Some("Standard_GRS"), None, Some("westeurope")),
            ["northeurope"]
        );
    }

    #[test]
    fn locally_and_zone_redundant_storage_has_no_replica() {
        let c = cat();
        assert!(
            storage_replicas(&c, Some("Standard_LRS"), Some("x"), Some("westeurope")).is_empty()
        );
        assert!(storage_replicas(&c, Some("Premium_ZRS"), None, Some("westeurope")).is_empty());
    }

    #[test]
    fn resource_graph_lower_case_type_and_group_read_as_resource_manager_spells_them() {
        let c = cat();
        let id = "/subscriptions/s/resourceGroups/RG-Data/providers/Microsoft.Sql/servers/sql-1/databases/db-1";
        let graph = json!({"id": id, "name": "db-1", "type": "microsoft.sql/servers/databases",
                           "location": "westeurope", "resourceGroup": "rg-data"});
        let arm = json!({"id": id, "name": "db-1", "type": "Microsoft.Sql/servers/databases",
                         "location": "westeurope"});
        let (g, a) = (
            resource(&c, "s", &graph).unwrap(),
            resource(&c, "s", &arm).unwrap(),
        );
        assert_eq!(g.resource_type, "Microsoft.Sql/servers/databases");
        assert_eq!(g.resource_group.as_deref(), Some("RG-Data"));
        assert_eq!(g, a);
    }

    #[test]
    fn a_type_the_id_does_not_spell_is_kept_as_given() {
        assert_eq!(
            arm_type(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/x",
                "microsoft.web/sites/slots"
            ),
            "microsoft.web/sites/slots"
        );
        assert_eq!(arm_type("/subscriptions/s", "x/y"), "x/y");
    }

    #[test]
    fn resource_keeps_global_and_reads_group_from_id() {
        let c = cat();
        let v = json!({
            "id": "/subscriptions/s/resourceGroups/RG-Dns/providers/Microsoft.Network/dnszones/x.nl",
            "name": "x.nl", "type": "Microsoft.Network/dnszones", "location": "global",
            "tags": {"verwerking": "VA-1", "n": 3}
        });
        let r = resource(&c, "s", &v).unwrap();
        assert_eq!(r.location.as_deref(), Some("global"));
        assert_eq!(r.resource_group.as_deref(), Some("RG-Dns"));
        assert_eq!(r.tags["n"], "3");
        assert_eq!(r.category, Category::Network);
    }

    #[test]
    fn cosmos_db_account_is_in_every_read_and_write_region() {
        let c = cat();
        let v = json!({"properties": {
            "writeLocations": [{"locationName": "West Europe", "failoverPriority": 0}],
            "readLocations": [{"locationName": "West Europe"}, {"locationName": "Sweden Central"}],
            "locations": [{"locationName": "West Europe"}, {"locationName": "Sweden Central"},
                          {"locationName": "North Europe"}]}});
        assert_eq!(
            property_replicas(
                &c,
                "Microsoft.DocumentDB/databaseAccounts",
                &v,
                Some("westeurope")
            ),
            Some(vec!["northeurope".to_string(), "swedencentral".to_string()])
        );
    }

    #[test]
    fn geo_redundant_vaults_and_geo_backup_servers_replicate_to_the_region_pair() {
        let c = cat();
        let rsv = json!({"properties": {"redundancySettings": {
            "standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Disabled"}}});
        let rsv_lrs = json!({"properties": {"redundancySettings": {
            "standardTierStorageRedundancy": "LocallyRedundant", "crossRegionRestore": "Disabled"}}});
        let bv = json!({"properties": {"storageSettings": [
            {"datastoreType": "VaultStore", "type": "GeoRedundant"}]}});
        let pg = json!({"properties": {"backup": {"geoRedundantBackup": "Enabled"}}});
        let pg_off = json!({"properties": {"backup": {"geoRedundantBackup": "Disabled"}}});
        let br = Some("brazilsouth");
        let pair = Some(vec!["southcentralus".to_string()]);
        assert_eq!(
            property_replicas(&c, "Microsoft.RecoveryServices/vaults", &rsv, br),
            pair
        );
        assert_eq!(
            property_replicas(&c, "Microsoft.RecoveryServices/vaults", &rsv_lrs, br),
            Some(vec![])
        );
        assert_eq!(
            property_replicas(&c, "Microsoft.DataProtection/BackupVaults", &bv, br),
            pair
        );
        assert_eq!(
            property_replicas(&c, "Microsoft.DBforPostgreSQL/flexibleServers", &pg, br),
            pair
        );
        assert_eq!(
            property_replicas(&c, "Microsoft.DBforMySQL/flexibleServers", &pg, br),
            pair
        );
        assert_eq!(
            property_replicas(&c, "Microsoft.DBforMySQL/flexibleServers", &pg_off, br),
            Some(vec![])
        );
        assert_eq!(property_replicas(&c, "Microsoft.Web/sites", &pg, br), None);
    }

    #[test]
    fn dr_partner_given_as_a_bare_name_is_read_in_the_same_resource_group() {
        let own = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns-a";
        let items = [
            json!({"properties": {"partnerNamespace": "ns-b", "role": "Primary"}}),
            json!({"properties": {"partnerNamespace":
                "/subscriptions/t/resourceGroups/rg2/providers/Microsoft.EventHub/namespaces/ns-c"}}),
        ];
        assert_eq!(
            dr_partner_ids(own, &items),
            [
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns-b",
                "/subscriptions/t/resourceGroups/rg2/providers/Microsoft.EventHub/namespaces/ns-c"
            ]
        );
    }

    #[test]
    fn failover_group_gives_both_managed_instances_both_regions() {
        let c = cat();
        let g = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/locations/westeurope/instanceFailoverGroups/fg",
            "properties": {"partnerRegions": [{"location": "North Europe", "replicationRole": "Secondary"}],
              "managedInstancePairs": [{"primaryManagedInstanceId": "/x/MI-1", "partnerManagedInstanceId": "/x/mi-2"}]}});
        let m = failover_group_regions(&c, &[g]);
        assert_eq!(m["/x/mi-1"], ["northeurope", "westeurope"]);
        assert_eq!(m["/x/mi-2"], ["northeurope", "westeurope"]);
    }
}
