//! Visibility: which resource types a scan listed *completely*, tagged or not.
//!
//! Coverage says whether a listing succeeded; visibility says what a successful listing
//! can see. The two differ on AWS: the tagging API sees every type but only resources
//! that have (or had) tags, while `ListBuckets`, `DescribeInstances` or a Cloud Control
//! `ListResources` see every resource of their types. Azure Resource Manager
//! (`/resources`, Resource Graph) and Google Cloud Asset Inventory list every type.
//! A coverage percentage alone would say "97.7 %" while an untagged Redshift cluster is
//! invisible; every output that prints coverage therefore prints visibility too.
//!
//! Visibility is *derived* from the coverage a scan recorded, with two data files:
//! `catalog/listings.csv` (what each listing sees) and `catalog/aws-cloudcontrol.csv`
//! (the types AWS Cloud Control lists). Coverage is stored, exported, hashed and
//! verified with the scan, so visibility is too; nothing extra is persisted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::model::{Coverage, CoverageStatus, Provider};
use crate::taxonomy::Category;

const LISTINGS_CSV: &str = include_str!("../catalog/listings.csv");
const CLOUD_CONTROL_CSV: &str = include_str!("../catalog/aws-cloudcontrol.csv");

/// The coverage `service` prefix of AWS Cloud Control listings: `cloudcontrol:AWS::SQS::Queue`.
pub const CLOUD_CONTROL_PREFIX: &str = "cloudcontrol:";

/// Prefix of the coverage services of types listed through an AWS Resource Explorer
/// aggregator index (`resource-explorer:AWS::Redshift::Cluster`): the same types as
/// Cloud Control's, listed by another source.
pub const RESOURCE_EXPLORER_PREFIX: &str = "resource-explorer:";

/// What one listing sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sees {
    /// Every resource type, tagged or not.
    All,
    /// Every resource of exactly these types, tagged or not.
    Types(Vec<String>),
    /// Any type, but only resources that have or had tags.
    Tagged,
    /// Detail for resources other listings found; no visibility of its own.
    Detail,
}

/// Whether one listing covers its entry's region only or the whole scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingRegion {
    /// The coverage entry's region.
    Regional,
    /// Every region of the scope (S3 `ListBuckets`).
    Account,
}

/// Whether Cloud Control can list a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudControlList {
    /// `ListResources` lists it.
    Yes,
    /// The type has no list handler (`UnsupportedActionException`).
    No,
    /// No CloudFormation type exists for it.
    NoType,
}

/// One row of `aws-cloudcontrol.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudControlType {
    /// The CloudFormation type name (`AWS::Redshift::Cluster`).
    pub type_name: String,
    /// The `service:type` its ARN yields (`redshift:cluster`).
    pub arn_type: String,
    /// Taxonomy category (held equal to `resource-types.csv` by a test).
    pub category: Category,
    /// Listed once per account in the home region instead of per region.
    pub global: bool,
    /// Whether Cloud Control lists it.
    pub list: CloudControlList,
    /// ARN templates, first that resolves wins (see the file's header).
    pub arn: Vec<String>,
    /// The parent type whose identifiers are needed to list this one.
    pub parent: Option<String>,
    /// The `ResourceModel` sent per parent (`{parent}`, `{account}` filled in).
    pub parent_model: Option<String>,
    /// Read actions the type's list handler needs (IAM).
    pub list_permissions: Vec<String>,
    /// Why, for the docs.
    pub note: String,
}

/// The built-in Cloud Control type list.
pub fn cloud_control_types() -> &'static [CloudControlType] {
    static TYPES: OnceLock<Vec<CloudControlType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        parse_cloud_control(CLOUD_CONTROL_CSV).expect("built-in aws-cloudcontrol.csv is valid")
    })
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Parses a table in the `aws-cloudcontrol.csv` format; errors name the row and column.
pub fn parse_cloud_control(text: &str) -> Result<Vec<CloudControlType>, String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, row) in reader(text).records().enumerate() {
        let row = row.map_err(|e| format!("aws-cloudcontrol.csv: {e}"))?;
        let line = i + 2;
        let col = |n: usize| row.get(n).unwrap_or_default().to_string();
        let bad = |column: &str, msg: String| {
            format!("aws-cloudcontrol.csv row {line}, column {column}: {msg}")
        };
        let type_name = col(0);
        if type_name.split("::").count() != 3 {
            return Err(bad(
                "type_name",
                format!("'{type_name}' is not a CloudFormation type (Vendor::Service::Type)"),
            ));
        }
        if !seen.insert(type_name.clone()) {
            return Err(bad("type_name", format!("'{type_name}' is listed twice")));
        }
        let category = col(2).parse().map_err(|e| bad("category", e))?;
        let global = match col(3).as_str() {
            "regional" => false,
            "global" => true,
            other => {
                return Err(bad(
                    "scope",
                    format!("'{other}': expected regional or global"),
                ));
            }
        };
        let list = match col(4).as_str() {
            "yes" => CloudControlList::Yes,
            "no" => CloudControlList::No,
            "none" => CloudControlList::NoType,
            other => return Err(bad("list", format!("'{other}': expected yes, no or none"))),
        };
        let arn: Vec<String> = col(5)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if arn.is_empty() {
            return Err(bad("arn", "empty: say how to build the ARN".into()));
        }
        let parent = Some(col(6)).filter(|s| !s.is_empty());
        let parent_model = Some(col(7)).filter(|s| !s.is_empty());
        if parent.is_some() != parent_model.is_some() {
            return Err(bad(
                "parent_model",
                "parent and parent_model go together".into(),
            ));
        }
        if let Some(m) = &parent_model
            && !m.contains("{parent}")
        {
            return Err(bad("parent_model", "must contain {parent}".into()));
        }
        out.push(CloudControlType {
            type_name,
            arn_type: col(1),
            category,
            global,
            list,
            arn,
            parent,
            parent_model,
            list_permissions: words(&col(8)),
            note: col(9),
        });
    }
    for t in &out {
        if let Some(p) = &t.parent
            && !out.iter().any(|o| &o.type_name == p)
        {
            return Err(format!(
                "aws-cloudcontrol.csv: {} names parent {p}, which is not in the table",
                t.type_name
            ));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
struct Listing {
    provider: Provider,
    service: String,
    sees: Sees,
    region: ListingRegion,
}

fn listings() -> &'static [Listing] {
    static L: OnceLock<Vec<Listing>> = OnceLock::new();
    L.get_or_init(|| parse_listings(LISTINGS_CSV).expect("built-in listings.csv is valid"))
}

fn parse_listings(text: &str) -> Result<Vec<Listing>, String> {
    let mut out = Vec::new();
    for (i, row) in reader(text).records().enumerate() {
        let row = row.map_err(|e| format!("listings.csv: {e}"))?;
        let line = i + 2;
        let col = |n: usize| row.get(n).unwrap_or_default().to_string();
        let provider: Provider = col(0)
            .parse()
            .map_err(|e| format!("listings.csv row {line}: {e}"))?;
        let sees = match col(2).as_str() {
            "all" => Sees::All,
            "types" => Sees::Types(words(&col(4))),
            "tagged" => Sees::Tagged,
            "detail" => Sees::Detail,
            other => {
                return Err(format!(
                    "listings.csv row {line}, column sees: '{other}': expected all, types, tagged or detail"
                ));
            }
        };
        let region = match col(3).as_str() {
            "regional" => ListingRegion::Regional,
            "account" => ListingRegion::Account,
            other => {
                return Err(format!(
                    "listings.csv row {line}, column region: '{other}': expected regional or account"
                ));
            }
        };
        out.push(Listing {
            provider,
            service: col(1),
            sees,
            region,
        });
    }
    Ok(out)
}

/// Every resource type some listing of `provider` lists completely (the `types` of
/// `listings.csv` and, for AWS, the ARN types of `aws-cloudcontrol.csv`).
pub fn completely_listable_types(provider: Provider) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = listings()
        .iter()
        .filter(|l| l.provider == provider)
        .filter_map(|l| match &l.sees {
            Sees::Types(t) => Some(t.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    if provider == Provider::Aws {
        out.extend(cloud_control_types().iter().map(|t| t.arn_type.clone()));
    }
    out
}

/// What a coverage entry's listing sees, and over which regions. Unknown services add
/// detail only (fail-safe: nothing claims visibility it was not given in the data).
pub fn listing_of(provider: Provider, service: &str) -> (Sees, ListingRegion) {
    if provider == Provider::Aws
        && let Some(ty) = service
            .strip_prefix(CLOUD_CONTROL_PREFIX)
            .or_else(|| service.strip_prefix(RESOURCE_EXPLORER_PREFIX))
    {
        return match cloud_control_types().iter().find(|t| t.type_name == ty) {
            Some(t) => (
                Sees::Types(vec![t.arn_type.clone()]),
                if t.global {
                    ListingRegion::Account
                } else {
                    ListingRegion::Regional
                },
            ),
            None => (Sees::Detail, ListingRegion::Regional),
        };
    }
    listings()
        .iter()
        .find(|l| l.provider == provider && l.service == service)
        .map(|l| (l.sees.clone(), l.region))
        .unwrap_or((Sees::Detail, ListingRegion::Regional))
}

/// What one (provider, scope, region) of a scan can see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionVisibility {
    /// A listing of every type succeeded.
    pub all_types: bool,
    /// Types listed completely (tagged or not).
    pub complete: BTreeSet<String>,
    /// A tagged-only listing (the AWS tagging API) succeeded: other types show when tagged.
    pub tagged: bool,
}

/// Visibility of one provider in one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderVisibility {
    /// Scopes (accounts, subscriptions, projects) with coverage.
    pub scopes: usize,
    /// Distinct regions the scopes were listed in (`*` counts as none).
    pub regions: usize,
    /// Scopes in which every type was listed completely.
    pub all_types_scopes: usize,
    /// Types listed completely in every (scope, region) listed.
    pub complete_everywhere: BTreeSet<String>,
    /// Types listed completely in some (scope, region) but not all.
    pub complete_somewhere: BTreeSet<String>,
    /// Whether a tagged-only listing ran: every other type is seen when tagged.
    pub tagged_rest: bool,
    /// Types no listing could list completely in some (scope, region) (`not-offered`,
    /// denied, failed Cloud Control types), kept for the coverage sheet.
    pub not_listed: BTreeSet<String>,
}

/// Visibility per provider, derived from a scan's coverage.
pub fn visibility(coverage: &[Coverage]) -> BTreeMap<Provider, ProviderVisibility> {
    // (provider, scope) -> region -> visibility; account-wide listings apply to all.
    type Key = (Provider, String);
    let mut regional: BTreeMap<Key, BTreeMap<String, RegionVisibility>> = BTreeMap::new();
    let mut account: BTreeMap<Key, RegionVisibility> = BTreeMap::new();
    let mut not_listed: BTreeMap<Provider, BTreeSet<String>> = BTreeMap::new();
    for c in coverage {
        if c.scope_id == "*" {
            continue;
        }
        let key = (c.provider, c.scope_id.clone());
        let (sees, region) = listing_of(c.provider, &c.service);
        let real_region = !matches!(c.region.as_str(), "*" | "global");
        if sees != Sees::Detail && real_region {
            regional
                .entry(key.clone())
                .or_default()
                .entry(c.region.clone())
                .or_default();
        } else {
            regional.entry(key.clone()).or_default();
        }
        if c.status != CoverageStatus::Scanned {
            if let Sees::Types(types) = &sees {
                not_listed
                    .entry(c.provider)
                    .or_default()
                    .extend(types.iter().cloned());
            }
            continue;
        }
        let target = match region {
            ListingRegion::Account => account.entry(key).or_default(),
            ListingRegion::Regional => regional
                .entry(key)
                .or_default()
                .entry(c.region.clone())
                .or_default(),
        };
        match sees {
            Sees::All => target.all_types = true,
            Sees::Types(types) => target.complete.extend(types),
            Sees::Tagged => target.tagged = true,
            Sees::Detail => {}
        }
    }
    let mut out: BTreeMap<Provider, ProviderVisibility> = BTreeMap::new();
    let mut regions_seen: BTreeMap<Provider, BTreeSet<String>> = BTreeMap::new();
    let mut first: BTreeMap<Provider, bool> = BTreeMap::new();
    for ((provider, scope), mut regions) in regional {
        let p = out.entry(provider).or_default();
        p.scopes += 1;
        let acct = account
            .get(&(provider, scope.clone()))
            .cloned()
            .unwrap_or_default();
        // An account-wide listing with no regional entries still stands for the scope.
        if regions.is_empty() {
            regions.insert("*".into(), RegionVisibility::default());
        }
        let mut scope_all = true;
        for (region, mut v) in regions {
            v.all_types |= acct.all_types;
            v.tagged |= acct.tagged;
            v.complete.extend(acct.complete.iter().cloned());
            if region != "*" && region != "global" {
                regions_seen.entry(provider).or_default().insert(region);
            }
            scope_all &= v.all_types;
            if v.all_types {
                continue;
            }
            p.tagged_rest |= v.tagged;
            let f = first.entry(provider).or_insert(true);
            if *f {
                p.complete_everywhere = v.complete.clone();
                *f = false;
            } else {
                let lost: Vec<String> = p
                    .complete_everywhere
                    .difference(&v.complete)
                    .cloned()
                    .collect();
                p.complete_somewhere.extend(lost);
                p.complete_everywhere.retain(|t| v.complete.contains(t));
            }
            p.complete_somewhere.extend(
                v.complete
                    .iter()
                    .filter(|t| !p.complete_everywhere.contains(*t))
                    .cloned(),
            );
        }
        if scope_all {
            p.all_types_scopes += 1;
        }
    }
    for (provider, p) in out.iter_mut() {
        p.regions = regions_seen.get(provider).map_or(0, BTreeSet::len);
        let everywhere = p.complete_everywhere.clone();
        p.complete_somewhere.retain(|t| !everywhere.contains(t));
        if let Some(n) = not_listed.remove(provider) {
            p.not_listed = n;
        }
    }
    out
}

fn scope_word(provider: Provider, n: usize, lang_nl: bool) -> String {
    let (one, many) = match (provider, lang_nl) {
        (Provider::Aws, true) => ("account", "accounts"),
        (Provider::Aws, false) => ("account", "accounts"),
        (Provider::Azure, true) => ("subscriptie", "subscripties"),
        (Provider::Azure, false) => ("subscription", "subscriptions"),
        (Provider::Gcp, true) => ("project", "projecten"),
        (Provider::Gcp, false) => ("project", "projects"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One sentence per provider saying what the scan could see, in Dutch (`nl`) or English.
/// Printed wherever a coverage percentage is printed.
pub fn visibility_lines(coverage: &[Coverage], lang_nl: bool) -> Vec<String> {
    visibility(coverage)
        .into_iter()
        .map(|(provider, v)| describe(provider, &v, lang_nl))
        .collect()
}

/// The sentence for one provider.
pub fn describe(provider: Provider, v: &ProviderVisibility, nl: bool) -> String {
    let scopes = scope_word(provider, v.scopes, nl);
    if v.scopes > 0 && v.all_types_scopes == v.scopes {
        return if nl {
            format!(
                "{provider}: elk resourcetype volledig uitgelezen, met of zonder tags ({scopes})"
            )
        } else {
            format!("{provider}: every resource type listed completely, tagged or not ({scopes})")
        };
    }
    if v.regions == 0 {
        // Scope-wide listings (ARM, Cloud Asset Inventory): all types or nothing complete.
        return if nl {
            format!(
                "{provider}: elk resourcetype volledig uitgelezen, met of zonder tags, in {} van {scopes}; in de andere niets volledig (zie de gaten in de dekking)",
                v.all_types_scopes
            )
        } else {
            format!(
                "{provider}: every resource type listed completely, tagged or not, in {} of {scopes}; in the others nothing completely (see the coverage gaps)",
                v.all_types_scopes
            )
        };
    }
    let n = v.complete_everywhere.len();
    let one_region = v.regions == 1;
    let mut s = if nl {
        format!(
            "{provider}: {n} {} volledig uitgelezen, met of zonder tags ({scopes} × {} {})",
            if n == 1 {
                "resourcetype"
            } else {
                "resourcetypes"
            },
            v.regions,
            if one_region { "regio" } else { "regio's" }
        )
    } else {
        format!(
            "{provider}: {n} {} listed completely, tagged or not ({scopes} × {} {})",
            if n == 1 {
                "resource type"
            } else {
                "resource types"
            },
            v.regions,
            if one_region { "region" } else { "regions" }
        )
    };
    if !v.complete_somewhere.is_empty() {
        s.push_str(&if nl {
            format!(
                ", {} alleen in een deel daarvan",
                v.complete_somewhere.len()
            )
        } else {
            format!(", {} more only in some of them", v.complete_somewhere.len())
        });
    }
    if v.all_types_scopes > 0 {
        s.push_str(&if nl {
            format!(
                "; in {} elk type",
                scope_word(provider, v.all_types_scopes, nl)
            )
        } else {
            format!(
                "; every type in {}",
                scope_word(provider, v.all_types_scopes, nl)
            )
        });
    }
    s.push_str(match (v.tagged_rest, nl) {
        (true, true) => "; elk ander type alleen als het tags heeft of had",
        (true, false) => "; any other type only when it has or had tags",
        (false, true) => "; andere typen zijn niet gezien",
        (false, false) => "; other types were not seen at all",
    });
    s
}

/// A short form for tables (`scans`): `aws 62 types+tagged`, `azure all types`.
pub fn short(coverage: &[Coverage]) -> String {
    let v = visibility(coverage);
    if v.is_empty() {
        return "-".into();
    }
    v.iter()
        .map(|(p, v)| {
            if v.scopes > 0 && v.all_types_scopes == v.scopes {
                format!("{p} all types")
            } else if v.regions == 0 {
                format!("{p} all types in {}/{}", v.all_types_scopes, v.scopes)
            } else {
                let partial = if v.complete_somewhere.is_empty() {
                    String::new()
                } else {
                    format!("(+{})", v.complete_somewhere.len())
                };
                let tagged = if v.tagged_rest { "+tagged" } else { "" };
                format!("{p} {} types{partial}{tagged}", v.complete_everywhere.len())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: Provider, scope: &str, region: &str, service: &str) -> Coverage {
        Coverage::scanned(p, scope, region, service)
    }

    #[test]
    fn builtin_tables_parse_and_every_cloud_control_category_matches_the_taxonomy() {
        assert!(listings().len() > 10);
        let types = cloud_control_types();
        assert!(types.len() >= 60, "{}", types.len());
        for t in types {
            assert_eq!(
                Category::classify(Provider::Aws, &t.arn_type),
                t.category,
                "{}: aws-cloudcontrol.csv and resource-types.csv disagree on {}",
                t.type_name,
                t.arn_type
            );
            for p in &t.list_permissions {
                let verb = p.split_once(':').map(|x| x.1).unwrap_or_default();
                assert!(
                    ["List", "Get", "Describe", "Select", "GET"]
                        .iter()
                        .any(|v| verb.starts_with(v)),
                    "{}: {p} is not a read action",
                    t.type_name
                );
            }
        }
    }

    #[test]
    fn bad_cloud_control_rows_name_row_and_column() {
        let head = "type_name,arn_type,category,scope,list,arn,parent,parent_model,list_permissions,note\n";
        let e = parse_cloud_control(&format!(
            "{head}AWS::SQS::Queue,sqs:queue,messaging,regional,maybe,{{id}},,,,\n"
        ))
        .unwrap_err();
        assert!(e.contains("row 2, column list"), "{e}");
        let e = parse_cloud_control(&format!(
            "{head}AWS::Glue::Table,glue:table,data-store,regional,yes,{{id}},AWS::Glue::Database,{{}},,\n"
        ))
        .unwrap_err();
        assert!(e.contains("{parent}"), "{e}");
    }

    #[test]
    fn tagging_api_alone_sees_no_type_completely() {
        let cov = vec![
            ok(Provider::Aws, "1", "eu-west-1", "tagging"),
            ok(Provider::Aws, "1", "eu-central-1", "tagging"),
        ];
        let v = &visibility(&cov)[&Provider::Aws];
        assert_eq!(v.scopes, 1);
        assert_eq!(v.regions, 2);
        assert!(v.complete_everywhere.is_empty());
        assert!(v.tagged_rest);
        let line = describe(Provider::Aws, v, false);
        assert!(
            line.contains("0 resource types listed completely")
                && line.contains("only when it has or had tags"),
            "{line}"
        );
    }

    #[test]
    fn account_wide_s3_and_regional_listings_combine_and_a_failed_region_is_partial() {
        let mut cov = vec![ok(Provider::Aws, "1", "global", "s3")];
        for r in ["eu-west-1", "us-east-1"] {
            cov.push(ok(Provider::Aws, "1", r, "tagging"));
            cov.push(ok(Provider::Aws, "1", r, "ec2"));
        }
        cov.push(ok(
            Provider::Aws,
            "1",
            "eu-west-1",
            "cloudcontrol:AWS::Redshift::Cluster",
        ));
        cov.push(Coverage::failed(
            Provider::Aws,
            "1",
            "us-east-1",
            "cloudcontrol:AWS::Redshift::Cluster",
            CoverageStatus::Denied,
            "AccessDeniedException",
        ));
        let v = &visibility(&cov)[&Provider::Aws];
        assert_eq!(
            v.complete_everywhere.iter().collect::<Vec<_>>(),
            ["ec2:instance", "ec2:volume", "s3:bucket"]
        );
        assert_eq!(
            v.complete_somewhere.iter().collect::<Vec<_>>(),
            ["redshift:cluster"]
        );
        assert!(v.not_listed.contains("redshift:cluster"));
        let nl = describe(Provider::Aws, v, true);
        assert!(
            nl.contains("3 resourcetypes volledig") && nl.contains("1 alleen in een deel"),
            "{nl}"
        );
    }

    #[test]
    fn arm_and_cloud_asset_inventory_see_every_type() {
        let cov = vec![
            ok(
                Provider::Azure,
                "sub-a",
                "*",
                "Microsoft.Resources/resources",
            ),
            ok(
                Provider::Azure,
                "sub-b",
                "*",
                "Microsoft.Resources/resources",
            ),
            ok(Provider::Gcp, "p1", "*", "cloudasset"),
            ok(Provider::Gcp, "p1", "*", "storage"),
        ];
        let v = visibility(&cov);
        assert_eq!(v[&Provider::Azure].all_types_scopes, 2);
        assert!(
            describe(Provider::Azure, &v[&Provider::Azure], false).contains("every resource type")
        );
        assert!(describe(Provider::Gcp, &v[&Provider::Gcp], true).contains("elk resourcetype"));
        assert_eq!(short(&cov), "azure all types, gcp all types");
    }

    #[test]
    fn a_failed_complete_listing_is_not_visibility() {
        let cov = vec![Coverage::failed(
            Provider::Gcp,
            "p1",
            "*",
            "cloudasset",
            CoverageStatus::Denied,
            "PERMISSION_DENIED",
        )];
        let v = &visibility(&cov)[&Provider::Gcp];
        assert_eq!(v.all_types_scopes, 0);
        let line = describe(Provider::Gcp, v, false);
        assert!(line.contains("in 0 of 1 project"), "{line}");
    }
}
