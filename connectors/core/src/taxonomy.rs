//! Resource-type taxonomy: which resources count for material use.
//!
//! The policy asks departments to know their *material* cloud use. A storage bucket, a
//! database, a VM or a queue can hold or process personal data; a VPC or an IAM role
//! cannot. The mapping from provider type to [`Category`] is data
//! (`catalog/resource-types.csv`), so adding a type is a one-line change.
//!
//! Fail-safe: a type the table does not know is [`Category::Other`], and `other` counts
//! as data-bearing. A new managed database service is therefore reported as possible
//! unregistered material use until someone classifies it, never silently ignored.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::Provider;

/// The taxonomy category of a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Stores data: buckets, disks, databases, file systems, caches, warehouses.
    DataStore,
    /// Runs code that processes data: VMs, functions, containers, clusters.
    Compute,
    /// Moves data: queues, topics, streams, event buses.
    Messaging,
    /// Networking only: VPCs, subnets, security groups, load balancers, DNS.
    Network,
    /// Identity and access: roles, users, policies, service accounts, keys.
    Identity,
    /// Management plane: stacks, alarms, log configuration, budgets.
    Management,
    /// Not classified. Counts as data-bearing (fail-safe).
    Other,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 7] = [
        Category::DataStore,
        Category::Compute,
        Category::Messaging,
        Category::Network,
        Category::Identity,
        Category::Management,
        Category::Other,
    ];

    /// The kebab-case name used in data files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::DataStore => "data-store",
            Category::Compute => "compute",
            Category::Messaging => "messaging",
            Category::Network => "network",
            Category::Identity => "identity",
            Category::Management => "management",
            Category::Other => "other",
        }
    }

    /// Data-bearing resources count for material use and must be linked to a register
    /// activity. `other` (unclassified) is data-bearing so nothing slips through.
    pub fn is_data_bearing(self) -> bool {
        matches!(
            self,
            Category::DataStore | Category::Compute | Category::Messaging | Category::Other
        )
    }

    /// Classifies a provider-native resource type with the built-in table.
    ///
    /// Matching is case-insensitive; an exact entry wins over a wildcard entry
    /// (`ec2:*`, `Microsoft.Network/*`), and the longest wildcard wins among wildcards.
    pub fn classify(provider: Provider, resource_type: &str) -> Category {
        builtin_table().classify(provider, resource_type)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown category '{s}': expected one of {}",
                    Category::ALL.map(Category::as_str).join(", ")
                )
            })
    }
}

const RESOURCE_TYPES_CSV: &str = include_str!("../catalog/resource-types.csv");

/// A parsed resource-type table.
#[derive(Debug, Default)]
pub struct TypeTable {
    exact: HashMap<(Provider, String), Category>,
    /// (provider, lower-case prefix without the `*`, category), longest prefix first.
    prefixes: Vec<(Provider, String, Category)>,
}

impl TypeTable {
    /// Parses a table in the `resource-types.csv` format (`provider,type,category,note`).
    pub fn parse(text: &str) -> Result<TypeTable, String> {
        let mut table = TypeTable::default();
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        for (i, row) in reader.records().enumerate() {
            let row = row.map_err(|e| format!("resource-types.csv: {e}"))?;
            let line = i + 2;
            let provider: Provider = row
                .get(0)
                .unwrap_or_default()
                .parse()
                .map_err(|e| format!("resource-types.csv row {line}: {e}"))?;
            let pattern = row.get(1).unwrap_or_default().to_ascii_lowercase();
            let category: Category = row
                .get(2)
                .unwrap_or_default()
                .parse()
                .map_err(|e| format!("resource-types.csv row {line}: {e}"))?;
            match pattern.strip_suffix('*') {
                Some(prefix) => table
                    .prefixes
                    .push((provider, prefix.to_string(), category)),
                None => {
                    table.exact.insert((provider, pattern), category);
                }
            }
        }
        table
            .prefixes
            .sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1.cmp(&b.1)));
        Ok(table)
    }

    /// Classifies one type; unknown types are [`Category::Other`].
    pub fn classify(&self, provider: Provider, resource_type: &str) -> Category {
        let key = resource_type.trim().to_ascii_lowercase();
        if let Some(c) = self.exact.get(&(provider, key.clone())) {
            return *c;
        }
        self.prefixes
            .iter()
            .find(|(p, prefix, _)| *p == provider && key.starts_with(prefix.as_str()))
            .map(|(_, _, c)| *c)
            .unwrap_or(Category::Other)
    }
}

fn builtin_table() -> &'static TypeTable {
    static TABLE: OnceLock<TypeTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        TypeTable::parse(RESOURCE_TYPES_CSV).expect("built-in resource-types.csv is valid")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses() {
        let t = TypeTable::parse(RESOURCE_TYPES_CSV).unwrap();
        assert!(t.exact.len() + t.prefixes.len() > 50);
    }

    #[test]
    fn storage_and_compute_are_data_bearing_network_and_identity_are_not() {
        use Category::*;
        let cases = [
            (Provider::Aws, "s3:bucket", DataStore),
            (Provider::Aws, "ec2:instance", Compute),
            (Provider::Aws, "ec2:volume", DataStore),
            (Provider::Aws, "ec2:security-group", Network),
            (Provider::Aws, "iam:role", Identity),
            (Provider::Aws, "sqs:queue", Messaging),
            (
                Provider::Azure,
                "Microsoft.Storage/storageAccounts",
                DataStore,
            ),
            (
                Provider::Azure,
                "microsoft.network/virtualnetworks",
                Network,
            ),
            (
                Provider::Azure,
                "Microsoft.Compute/virtualMachines",
                Compute,
            ),
            (Provider::Gcp, "storage.googleapis.com/Bucket", DataStore),
            (Provider::Gcp, "compute.googleapis.com/Firewall", Network),
            (Provider::Gcp, "iam.googleapis.com/ServiceAccount", Identity),
        ];
        for (p, t, want) in cases {
            assert_eq!(Category::classify(p, t), want, "{p} {t}");
        }
    }

    #[test]
    fn unknown_type_is_other_and_counts_as_data_bearing() {
        let c = Category::classify(Provider::Aws, "quantumdb:table");
        assert_eq!(c, Category::Other);
        assert!(c.is_data_bearing());
    }

    #[test]
    fn exact_entry_beats_wildcard() {
        let t = TypeTable::parse(
            "provider,type,category,note\naws,ec2:*,network,\naws,ec2:instance,compute,\n",
        )
        .unwrap();
        assert_eq!(t.classify(Provider::Aws, "ec2:instance"), Category::Compute);
        assert_eq!(t.classify(Provider::Aws, "ec2:vpc"), Category::Network);
    }

    #[test]
    fn bad_category_names_the_row() {
        let err =
            TypeTable::parse("provider,type,category,note\naws,s3:bucket,storage,\n").unwrap_err();
        assert!(err.contains("row 2") && err.contains("data-store"), "{err}");
    }
}
