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
}
