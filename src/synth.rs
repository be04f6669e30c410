//! A deterministic synthetic estate for benchmarks and tests.
//!
//! Benchmarks (store ingest, evaluation, reports) and tests need large, realistic scans
//! without a cloud account. Everything here is a pure function of a seed and an index:
//! the same `(seed, i)` always gives the same resource, so runs are comparable and a test
//! can regenerate what it wrote instead of keeping it in memory. Resources look like real
//! ones: AWS ARNs, Azure ARM ids, Google full resource names, provider-spelled regions
//! (incl. replicas outside the EEA), tags with activity ids and owner hints.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cloudcensus_core::model::{
    Coverage, CoverageStatus, Provider, Resource, ResourceGroup, Scope, ScopeKind,
};
use cloudcensus_core::scan::{ScanData, ScanMeta};
use cloudcensus_core::taxonomy::Category;

use crate::register::{
    Activity, ActivityStatus, C2000Check, Classification, CloudType, LegalBasis, Register,
    RightToAudit, ServiceModel, SpecialCategory, TransferBasis, YesNoNa,
};

/// SplitMix64: tiny, fast, good enough for synthetic data, stable across platforms.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const AWS_REGIONS: &[&str] = &[
    "eu-west-1",
    "eu-central-1",
    "eu-west-2",
    "eu-north-1",
    "us-east-1",
    "eu-central-2",
    "ap-east-1",
];
const AZURE_REGIONS: &[&str] = &[
    "westeurope",
    "northeurope",
    "germanywestcentral",
    "uksouth",
    "eastus",
    "brazilsouth",
];
const GCP_REGIONS: &[&str] = &[
    "europe-west4",
    "europe-west1",
    "eur4",
    "eu",
    "europe-west2",
    "us",
    "asia-east2",
];
const AWS_TYPES: &[(&str, Category)] = &[
    ("s3:bucket", Category::DataStore),
    ("ec2:instance", Category::Compute),
    ("ec2:volume", Category::DataStore),
    ("rds:db", Category::DataStore),
    ("lambda:function", Category::Compute),
    ("ec2:security-group", Category::Network),
    ("dynamodb:table", Category::DataStore),
    ("sqs:queue", Category::Messaging),
];
const AZURE_TYPES: &[(&str, &str, Category)] = &[
    (
        "Microsoft.Storage/storageAccounts",
        "st",
        Category::DataStore,
    ),
    ("Microsoft.Compute/virtualMachines", "vm", Category::Compute),
    ("Microsoft.Sql/servers", "sql", Category::DataStore),
    (
        "Microsoft.Network/networkSecurityGroups",
        "nsg",
        Category::Network,
    ),
    ("Microsoft.Web/sites", "app", Category::Compute),
];
const GCP_TYPES: &[(&str, Category)] = &[
    ("storage.googleapis.com/Bucket", Category::DataStore),
    ("compute.googleapis.com/Instance", Category::Compute),
    ("sqladmin.googleapis.com/Instance", Category::DataStore),
    ("bigquery.googleapis.com/Dataset", Category::DataStore),
    ("pubsub.googleapis.com/Topic", Category::Messaging),
];
const TEAMS: &[&str] = &["platform", "belastingen", "toeslagen", "data", "web"];
const APPS: &[&str] = &["aangifte", "portaal", "archief", "dwh", "loket", "zaak"];

/// Number of scopes per provider in the synthetic estate.
const SCOPES_PER_PROVIDER: u64 = 20;

/// Deterministic generator of a synthetic estate.
#[derive(Debug, Clone, Copy)]
pub struct Synth {
    seed: u64,
    /// Register size the tags refer to (0: the small fixed id scheme of [`Synth::new`]).
    activities: u64,
}

impl Synth {
    /// A generator; the same seed always yields the same estate.
    pub fn new(seed: u64) -> Self {
        Synth {
            seed,
            activities: 0,
        }
    }

    /// The same estate, but its activity tags name ids of a register of `k` activities
    /// (see [`Synth::register`]): `VA-2024-00000` … `VA-2024-{k-1}`. A small share of
    /// `va-id` tags still names ids outside the register (unknown ids are a rule too).
    pub fn with_activities(mut self, k: u64) -> Self {
        self.activities = k;
        self
    }

    /// The id of activity `j` of [`Synth::register`].
    pub fn activity_id(j: u64) -> String {
        format!("VA-2024-{j:05}")
    }

    fn rnd(&self, i: u64, salt: u64) -> u64 {
        mix(self.seed ^ mix(i.wrapping_mul(0x1000_0000_01B3) ^ salt))
    }

    fn pick<'a, T>(&self, i: u64, salt: u64, items: &'a [T]) -> &'a T {
        &items[(self.rnd(i, salt) % items.len() as u64) as usize]
    }

    fn provider_of(i: u64) -> Provider {
        Provider::ALL[(i % 3) as usize]
    }

    fn scope_id(provider: Provider, n: u64) -> String {
        match provider {
            Provider::Aws => format!("{:012}", 210_000_000_000 + n * 7919),
            Provider::Azure => format!("{:08x}-5e2a-4c1d-9f00-{:012x}", 0x1a2b_0000 + n, n),
            Provider::Gcp => format!("minfin-prj-{n:03}"),
        }
    }

    /// Every scope of the estate (20 per provider), with tags that hint at an activity.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut out = Vec::new();
        for p in Provider::ALL {
            for n in 0..SCOPES_PER_PROVIDER {
                let mut s = Scope::new(p, Self::scope_id(p, n));
                s.kind = ScopeKind::for_provider(p);
                s.name = Some(format!("{}-{}", self.pick(n, 11, APPS), n));
                s.parents = match p {
                    Provider::Aws => vec!["ou-ab12-rijk".into(), "o-minfin".into()],
                    Provider::Azure => vec!["mg-minfin".into()],
                    Provider::Gcp => vec!["folders/1234".into(), "organizations/5678".into()],
                };
                if n % 4 == 0 {
                    let id = if self.activities > 0 {
                        Self::activity_id(self.rnd(n, 14) % self.activities)
                    } else {
                        format!("VA-2024-{:03}", n + 100)
                    };
                    s.tags.insert("verwerking".into(), id);
                }
                out.push(s);
            }
        }
        out
    }

    /// Azure resource groups of the estate.
    pub fn groups(&self) -> Vec<ResourceGroup> {
        (0..SCOPES_PER_PROVIDER)
            .flat_map(|n| {
                APPS.iter().map(move |app| ResourceGroup {
                    provider: Provider::Azure,
                    scope_id: Self::scope_id(Provider::Azure, n),
                    name: format!("rg-{app}-prd"),
                    location: Some("westeurope".into()),
                    tags: BTreeMap::from([("team".to_string(), format!("team-{app}"))]),
                })
            })
            .collect()
    }

    /// Resource number `i`.
    pub fn resource(&self, i: u64) -> Resource {
        let provider = Self::provider_of(i);
        let scope_n = self.rnd(i, 1) % SCOPES_PER_PROVIDER;
        let scope_id = Self::scope_id(provider, scope_n);
        let app = self.pick(i, 2, APPS);
        let team = self.pick(i, 3, TEAMS);
        let mut tags = BTreeMap::new();
        let r = self.rnd(i, 4);
        let k = self.activities;
        match r % 10 {
            0..=4 if k > 0 => {
                tags.insert("verwerking".to_string(), Self::activity_id((r >> 16) % k));
            }
            5 if k > 0 => {
                tags.insert(
                    "Processing-Activity".to_string(),
                    Self::activity_id((r >> 16) % k),
                );
            }
            0..=4 => {
                tags.insert("verwerking".to_string(), format!("VA-2024-{:03}", r % 97));
            }
            5 => {
                tags.insert(
                    "Processing-Activity".to_string(),
                    format!("VA-2025-{:03}", r % 31),
                );
            }
            6 => {
                tags.insert("va-id".to_string(), format!("va-2023-{:03}", r % 13));
            }
            _ => {}
        }
        if !r.is_multiple_of(3) {
            tags.insert("owner".into(), format!("{team}@minfin.nl"));
        }
        tags.insert(
            "env".into(),
            if r.is_multiple_of(5) { "test" } else { "prd" }.into(),
        );
        if r.is_multiple_of(7) {
            tags.insert("cost-center".into(), format!("KP{}", 4000 + r % 500));
        }
        let created_at: Option<DateTime<Utc>> = (!r.is_multiple_of(4)).then(|| {
            Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0)
                .single()
                .expect("valid")
                + Duration::seconds((self.rnd(i, 5) % 150_000_000) as i64)
        });
        let repl = self.rnd(i, 6).is_multiple_of(8);
        let (id, resource_type, category, name, location, replicas, group) = match provider {
            Provider::Aws => {
                let (t, cat) = *self.pick(i, 7, AWS_TYPES);
                let region = *self.pick(i, 8, AWS_REGIONS);
                let name = format!("minfin-{app}-{i:08}");
                let id = match t {
                    "s3:bucket" => format!("arn:aws:s3:::{name}"),
                    "ec2:instance" => format!(
                        "arn:aws:ec2:{region}:{scope_id}:instance/i-{:017x}",
                        self.rnd(i, 9) >> 4
                    ),
                    "ec2:volume" => format!(
                        "arn:aws:ec2:{region}:{scope_id}:volume/vol-{:017x}",
                        self.rnd(i, 9) >> 4
                    ),
                    "ec2:security-group" => format!(
                        "arn:aws:ec2:{region}:{scope_id}:security-group/sg-{:017x}",
                        self.rnd(i, 9) >> 4
                    ),
                    "rds:db" => format!("arn:aws:rds:{region}:{scope_id}:db:{name}"),
                    "lambda:function" => {
                        format!("arn:aws:lambda:{region}:{scope_id}:function:{name}")
                    }
                    "dynamodb:table" => {
                        format!("arn:aws:dynamodb:{region}:{scope_id}:table/{name}")
                    }
                    _ => format!("arn:aws:sqs:{region}:{scope_id}:{name}"),
                };
                let replicas = if repl && cat == Category::DataStore {
                    vec![self.pick(i, 10, AWS_REGIONS).to_string()]
                } else {
                    Vec::new()
                };
                (id, t, cat, name, region, replicas, None)
            }
            Provider::Azure => {
                let (t, prefix, cat) = *self.pick(i, 7, AZURE_TYPES);
                let region = *self.pick(i, 8, AZURE_REGIONS);
                let rg = format!("rg-{app}-prd");
                let name = format!("{prefix}{app}{i:08}");
                let id =
                    format!("/subscriptions/{scope_id}/resourceGroups/{rg}/providers/{t}/{name}");
                let replicas = if repl && cat == Category::DataStore {
                    vec![
                        match region {
                            "westeurope" => "northeurope",
                            "northeurope" => "westeurope",
                            "germanywestcentral" => "germanynorth",
                            "uksouth" => "ukwest",
                            "brazilsouth" => "southcentralus",
                            _ => "westus",
                        }
                        .to_string(),
                    ]
                } else {
                    Vec::new()
                };
                (id, t, cat, name, region, replicas, Some(rg))
            }
            Provider::Gcp => {
                let (t, cat) = *self.pick(i, 7, GCP_TYPES);
                let region = *self.pick(i, 8, GCP_REGIONS);
                let name = format!("{app}-{i:08}");
                let id = match t {
                    "storage.googleapis.com/Bucket" => {
                        format!("//storage.googleapis.com/projects/_/buckets/{name}")
                    }
                    "compute.googleapis.com/Instance" => format!(
                        "//compute.googleapis.com/projects/{scope_id}/zones/{region}-a/instances/{name}"
                    ),
                    "sqladmin.googleapis.com/Instance" => {
                        format!("//cloudsql.googleapis.com/projects/{scope_id}/instances/{name}")
                    }
                    "bigquery.googleapis.com/Dataset" => format!(
                        "//bigquery.googleapis.com/projects/{scope_id}/datasets/{}",
                        name.replace('-', "_")
                    ),
                    _ => format!("//pubsub.googleapis.com/projects/{scope_id}/topics/{name}"),
                };
                (id, t, cat, name, region, Vec::new(), None)
            }
        };
        // Google labels are lower-case.
        if provider == Provider::Gcp {
            tags = tags
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v.to_lowercase().replace(['@', '.'], "_")))
                .collect();
        }
        Resource {
            provider,
            scope_id,
            id,
            resource_type: resource_type.to_string(),
            category,
            name,
            location: Some(location.to_string()),
            replica_locations: replicas,
            resource_group: group,
            tags,
            created_at,
        }
    }

    /// Resources `0..n`, generated lazily (nothing is held in memory).
    pub fn resources(self, n: u64) -> impl Iterator<Item = Resource> {
        (0..n).map(move |i| self.resource(i))
    }

    /// Resource `i` as a scan in month `month` (0-based) sees it: from the second month
    /// on, a growing share (0.5 % per month) has moved to another region.
    pub fn resource_in_month(&self, i: u64, month: u32) -> Resource {
        let mut r = self.resource(i);
        if month > 0 && self.rnd(i, 12) % 200 < u64::from(month) {
            let moved = match r.provider {
                Provider::Aws => *self.pick(i, 13, AWS_REGIONS),
                Provider::Azure => *self.pick(i, 13, AZURE_REGIONS),
                Provider::Gcp => *self.pick(i, 13, GCP_REGIONS),
            };
            r.location = Some(moved.to_string());
        }
        r
    }

    /// The `n` resources of the scan of month `month` (0-based), lazily. The estate
    /// churns: every month the oldest `churn_per_mille`‰ of resources are gone and as
    /// many new ones appear (resource indexes `month·c .. month·c + n`), and some move
    /// region ([`Synth::resource_in_month`]).
    pub fn month_resources(
        self,
        n: u64,
        month: u32,
        churn_per_mille: u64,
    ) -> impl Iterator<Item = Resource> {
        let start = u64::from(month) * n * churn_per_mille / 1000;
        (start..start + n).map(move |i| self.resource_in_month(i, month))
    }

    /// The periods `YYYY-01` … of the first `months` months of `year`.
    pub fn periods(year: i32, months: u32) -> Vec<String> {
        (1..=months).map(|m| format!("{year:04}-{m:02}")).collect()
    }

    /// A register of the `k` activities set by [`Synth::with_activities`] (ids
    /// [`Synth::activity_id`]), with a realistic spread of attributes so every kind of
    /// activity rule has something to check: personal data, special categories,
    /// basisregistraties, transfer bases 9a/9b/9c/none, missing DPIAs, exits, audits.
    pub fn register(&self) -> Register {
        let activities = (0..self.activities).map(|j| self.activity(j)).collect();
        Register {
            source: format!("synthetic-register-{}.csv", self.activities),
            activities,
        }
    }

    fn activity(&self, j: u64) -> Activity {
        let r = self.rnd(j, 30);
        let date = |salt: u64| {
            chrono::NaiveDate::from_ymd_opt(2022, 1, 1)
                .expect("valid")
                .checked_add_days(chrono::Days::new(self.rnd(j, salt) % 1200))
        };
        let personal = r % 10 < 7;
        let transfer = match r % 20 {
            0..=13 => TransferBasis::Eea,
            14..=16 => TransferBasis::Adequacy,
            17..=18 => TransferBasis::Safeguards,
            _ => TransferBasis::None,
        };
        let providers: Vec<String> = match (r >> 8) % 4 {
            0 => vec!["AWS".into()],
            1 => vec!["Microsoft Azure".into()],
            2 => vec!["Google Cloud".into()],
            _ => vec![
                "AWS".into(),
                "Microsoft Azure".into(),
                "Google Cloud".into(),
            ],
        };
        Activity {
            id: Self::activity_id(j),
            name: format!("{} {}", self.pick(j, 31, APPS), j),
            unit: format!("DG {}", self.pick(j, 32, TEAMS)),
            controller: "Minister van Financiën".into(),
            purpose: "uitvoering wettelijke taak".into(),
            legal_bases: vec![if personal {
                LegalBasis::PublicTask
            } else {
                LegalBasis::LegalObligation
            }],
            legal_basis_note: String::new(),
            personal_data: personal,
            special_categories: if personal && (r >> 12).is_multiple_of(10) {
                vec![SpecialCategory::Health]
            } else {
                Vec::new()
            },
            criminal_or_bsn: personal && (r >> 16).is_multiple_of(5),
            basisregistraties: if (r >> 20).is_multiple_of(33) {
                vec!["BRP".into()]
            } else {
                Vec::new()
            },
            classification: Some(if (r >> 24).is_multiple_of(100) {
                Classification::StgConfidentieel
            } else {
                Classification::DepartementaalVertrouwelijk
            }),
            material: !(r >> 28).is_multiple_of(5),
            material_reason: "primair proces".into(),
            providers,
            sub_processors: Vec::new(),
            service_model: Some(ServiceModel::Paas),
            cloud_type: Some(CloudType::Public),
            declared_locations: vec![
                "eu-west-1".into(),
                "westeurope".into(),
                "europe-west4".into(),
            ],
            transfer_basis: Some(transfer),
            transfer_instrument: if transfer == TransferBasis::Safeguards {
                "SCC 2021/914".into()
            } else {
                String::new()
            },
            prescan_dpia: date(33),
            formal_dpia: Some(if (r >> 32).is_multiple_of(4) {
                YesNoNa::No
            } else {
                YesNoNa::Yes
            }),
            formal_dpia_date: date(34),
            high_risk: (r >> 36).is_multiple_of(6),
            dpia_sent_to_cio: (!(r >> 40).is_multiple_of(3)).then(|| date(35)).flatten(),
            explain_reference: if transfer == TransferBasis::Safeguards {
                format!("EXPL-{j}")
            } else {
                String::new()
            },
            cio_advice_date: date(36),
            exit_strategy: Some(!(r >> 44).is_multiple_of(10)),
            right_to_audit: Some(if (r >> 48).is_multiple_of(2) {
                RightToAudit::Yes
            } else {
                RightToAudit::ViaSlm
            }),
            c2000_check: Some(C2000Check::Passed),
            woo_publication: format!("https://open.overheid.nl/{j}"),
            decision_body: "SG".into(),
            decision_date: date(37),
            status: Some(match (r >> 52) % 20 {
                0 => ActivityStatus::Planned,
                1 => ActivityStatus::Ended,
                _ => ActivityStatus::InUse,
            }),
            scope_mappings: Vec::new(),
            row: j as usize + 2,
            ..Activity::default()
        }
    }

    /// Coverage for every scope: mostly `scanned`, a few gaps with provider-like errors.
    pub fn coverage(&self) -> Vec<Coverage> {
        let mut out = Vec::new();
        for (k, s) in self.scopes().iter().enumerate() {
            let region = match s.provider {
                Provider::Aws => "eu-west-1",
                Provider::Azure => "*",
                Provider::Gcp => "*",
            };
            out.push(Coverage::scanned(s.provider, &s.id, region, "inventory"));
            if k % 9 == 4 {
                out.push(Coverage::failed(
                    s.provider,
                    &s.id,
                    "ap-east-1",
                    "ec2",
                    CoverageStatus::NotEnabled,
                    "region not opted in",
                ));
            }
            if k % 17 == 5 {
                out.push(Coverage::failed(
                    s.provider,
                    &s.id,
                    region,
                    "tagging",
                    CoverageStatus::Denied,
                    "AccessDenied: not authorized to perform tag:GetResources",
                ));
            }
        }
        out
    }

    /// Metadata for a scan of `period` (`YYYY-MM`), finishing on the 2nd of that month.
    pub fn meta(&self, period: &str) -> ScanMeta {
        let start = chrono::NaiveDate::parse_from_str(&format!("{period}-02"), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(3, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or_else(|| Utc.with_ymd_and_hms(2026, 1, 2, 3, 0, 0).unwrap());
        ScanMeta {
            id: String::new(),
            organisation: "Ministerie van Financiën".into(),
            period: period.into(),
            started_at: start,
            finished_at: start + Duration::seconds(1800 + (self.seed % 600) as i64),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            identities: vec![
                "arn:aws:sts::210000000000:assumed-role/cloudcensus-read/scan".into(),
                "spn:cloudcensus-reader@minfin.onmicrosoft.com".into(),
                "cloudcensus@minfin-prj-000.iam.gserviceaccount.com".into(),
            ],
            config_digest: format!("{:016x}{:016x}", mix(self.seed), mix(!self.seed)),
        }
    }

    /// A complete scan of `n` resources for period 2026-01 (held in memory: tests only).
    pub fn scan_data(&self, n: u64) -> ScanData {
        ScanData {
            meta: self.meta("2026-01"),
            scopes: self.scopes(),
            groups: self.groups(),
            resources: self.resources(n).collect(),
            coverage: self.coverage(),
            creators: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_estate_and_another_seed_does_not() {
        let a: Vec<_> = Synth::new(42).resources(200).collect();
        let b: Vec<_> = Synth::new(42).resources(200).collect();
        let c: Vec<_> = Synth::new(43).resources(200).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn estate_has_every_provider_activity_tags_and_replicas() {
        let rs: Vec<_> = Synth::new(1).resources(3000).collect();
        for p in Provider::ALL {
            assert!(rs.iter().any(|r| r.provider == p));
        }
        assert!(rs.iter().any(|r| r.id.starts_with("arn:aws:s3:::")));
        assert!(rs.iter().any(|r| r.id.starts_with("/subscriptions/")));
        assert!(
            rs.iter()
                .any(|r| r.id.starts_with("//storage.googleapis.com/"))
        );
        assert!(rs.iter().any(|r| r.tags.contains_key("verwerking")));
        assert!(
            rs.iter()
                .any(|r| r.tags.contains_key("Processing-Activity"))
        );
        assert!(rs.iter().any(|r| !r.replica_locations.is_empty()));
        let ids: std::collections::HashSet<_> = rs.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), rs.len(), "resource ids are unique");
    }

    #[test]
    fn register_ids_match_the_tags_of_an_estate_built_for_it() {
        let s = Synth::new(3).with_activities(500);
        let reg = s.register();
        assert_eq!(reg.activities.len(), 500);
        let ids: std::collections::HashSet<String> =
            reg.activities.iter().map(|a| a.tag_value()).collect();
        let (mut known, mut unknown) = (0, 0);
        for r in s.resources(5000) {
            for (k, v) in &r.tags {
                if ["verwerking", "processing-activity", "va-id"]
                    .contains(&k.to_lowercase().as_str())
                {
                    if ids.contains(&crate::register::normalise_id(v)) {
                        known += 1;
                    } else {
                        unknown += 1;
                    }
                }
            }
        }
        assert!(known > 2500, "most tags name a register activity: {known}");
        assert!(unknown > 0, "some tags name unknown ids: {unknown}");
        // Attributes vary, so every kind of activity rule has work.
        assert!(reg.activities.iter().any(|a| a.has_special_categories()));
        assert!(reg.activities.iter().any(|a| a.has_basisregistratie()));
        assert!(
            reg.activities
                .iter()
                .any(|a| a.transfer_basis == Some(TransferBasis::None))
        );
    }

    #[test]
    fn monthly_scans_churn_and_move_but_mostly_overlap() {
        let s = Synth::new(4);
        let jan: Vec<_> = s.month_resources(2000, 0, 10).collect();
        let dec: Vec<_> = s.month_resources(2000, 11, 10).collect();
        assert_eq!(jan.len(), 2000);
        let jan_ids: std::collections::HashMap<_, _> =
            jan.iter().map(|r| (&r.id, &r.location)).collect();
        let kept = dec.iter().filter(|r| jan_ids.contains_key(&r.id)).count();
        assert_eq!(kept, 2000 - 11 * 20, "1 % churn per month");
        let moved = dec
            .iter()
            .filter(|r| jan_ids.get(&r.id).is_some_and(|l| **l != r.location))
            .count();
        assert!(moved > 0, "some resources moved region");
        assert_eq!(jan, s.month_resources(2000, 0, 10).collect::<Vec<_>>());
    }
}
