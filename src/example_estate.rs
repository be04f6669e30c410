//! The bundled example estate: twelve monthly scans (2025) of the fictional Ministerie van
//! Voorbeeldzaken across AWS, Azure and Google Cloud, built to match
//! `examples/register.csv` so that every rule of the pack fires at least once (see the
//! table in docs/register.md).
//!
//! [`example_estate`] is the source of truth; `examples/estate/*.json` are its exports (a
//! test keeps them identical), and `cloudcensus demo` imports those files the way a CIO
//! office imports scans handed over from another network.
//!
//! The year tells a story: a replication rule to us-east-1 is added in November, a log
//! bucket appears in Hong Kong in September, the chatbot starts in São Paulo in April,
//! access to RDS in the data account is lost in March, Azure throttles once in July, and an
//! old test VM is cleaned up in October.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use cloudcensus_core::{
    Category, Coverage, CoverageStatus, Creator, Provider, Resource, ResourceGroup, ScanData,
    ScanMeta, Scope,
};

/// The demo organisation.
pub const ORGANISATION: &str = "Ministerie van Voorbeeldzaken";
/// The demo year.
pub const YEAR: i32 = 2025;

const PROD: &str = "111122223333";
const DATA: &str = "222233334444";
const SANDBOX: &str = "444455556666";
const SUB_BELEID: &str = "0b1f6d2e-1c3a-4e5f-8a9b-0c1d2e3f4a5b";
const SUB_ZORG: &str = "7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f";

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Builder {
    resources: Vec<Resource>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        provider: Provider,
        scope: &str,
        id: String,
        rtype: &str,
        name: &str,
        location: &str,
        replicas: &[&str],
        group: Option<&str>,
        t: &[(&str, &str)],
    ) {
        self.resources.push(Resource {
            provider,
            scope_id: scope.to_string(),
            id,
            resource_type: rtype.to_string(),
            category: Category::classify(provider, rtype),
            name: name.to_string(),
            location: Some(location.to_string()),
            replica_locations: replicas.iter().map(|s| s.to_string()).collect(),
            resource_group: group.map(str::to_string),
            tags: tags(t),
            created_at: None,
        });
    }

    fn s3(
        &mut self,
        account: &str,
        name: &str,
        region: &str,
        replicas: &[&str],
        t: &[(&str, &str)],
    ) {
        self.add(
            Provider::Aws,
            account,
            format!("arn:aws:s3:::{name}"),
            "s3:bucket",
            name,
            region,
            replicas,
            None,
            t,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn aws(
        &mut self,
        account: &str,
        service: &str,
        kind: &str,
        name: &str,
        region: &str,
        sep: char,
        t: &[(&str, &str)],
    ) {
        self.add(
            Provider::Aws,
            account,
            format!("arn:aws:{service}:{region}:{account}:{kind}{sep}{name}"),
            &format!("{service}:{kind}"),
            name,
            region,
            &[],
            None,
            t,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn azure(
        &mut self,
        sub: &str,
        rg: &str,
        rtype: &str,
        name: &str,
        location: &str,
        replicas: &[&str],
        t: &[(&str, &str)],
    ) {
        self.add(
            Provider::Azure,
            sub,
            format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"),
            rtype,
            name,
            location,
            replicas,
            Some(rg),
            t,
        );
    }

    fn gcs(&mut self, project: &str, name: &str, location: &str, t: &[(&str, &str)]) {
        self.add(
            Provider::Gcp,
            project,
            format!("//storage.googleapis.com/projects/_/buckets/{name}"),
            "storage.googleapis.com/Bucket",
            name,
            location,
            &[],
            None,
            t,
        );
    }
}

/// The scan of `month` (1–12), with what its creator lookups answered.
pub fn scan(month: u32) -> ScanData {
    let mut data = listing(month);
    data.creators = creators(&data);
    data
}

/// The scan of `month` as listed, before the creator lookups.
fn listing(month: u32) -> ScanData {
    let mut b = Builder {
        resources: Vec::new(),
    };
    let va = |n: u32| format!("VA-2026-{n:03}");
    let v = |n: u32| va(n);

    // --- AWS prod account ---
    b.s3(
        PROD,
        "minvz-subsidies-aanvragen",
        "eu-west-1",
        &[],
        &[("verwerking", &v(1)), ("owner", "dgbw-subsidies")],
    );
    b.aws(
        PROD,
        "rds",
        "db",
        "subsidies-db",
        "eu-central-1",
        ':',
        &[("verwerking", &v(1))],
    );
    b.aws(
        PROD,
        "lambda",
        "function",
        "subsidie-intake",
        "eu-west-1",
        ':',
        &[("verwerking", &v(1))],
    );
    b.s3(
        PROD,
        "minvz-klachten",
        "eu-west-1",
        &[],
        &[("verwerking", &v(5))],
    );
    if month >= 6 {
        b.s3(
            PROD,
            "minvz-toegang-biometrie",
            "ap-southeast-2",
            &[],
            &[("verwerking", &v(7)), ("team", "facilitair")],
        );
    }
    b.aws(
        PROD,
        "dynamodb",
        "table",
        "brp-afnemersindicaties",
        "eu-central-1",
        '/',
        &[("verwerking", &v(8))],
    );
    b.s3(
        PROD,
        "minvz-bag-adressen",
        "eu-west-1",
        &[],
        &[("verwerking", &v(9))],
    );
    b.s3(
        PROD,
        "minvz-burgerpanel",
        "ap-south-1",
        &[],
        &[("verwerking", &v(10))],
    );
    if month >= 4 {
        b.aws(
            PROD,
            "ec2",
            "instance",
            "i-0c4a7b1e9d2f3a5b6",
            "sa-east-1",
            '/',
            &[("verwerking", &v(12)), ("Name", "chatbot-frontend")],
        );
        b.aws(
            PROD,
            "ec2",
            "volume",
            "vol-0a1b2c3d4e5f60718",
            "sa-east-1",
            '/',
            &[("verwerking", &v(12))],
        );
    }
    b.s3(
        PROD,
        "minvz-archief-post",
        "eu-west-1",
        &[],
        &[("verwerking", &v(13))],
    );
    b.aws(
        PROD,
        "lambda",
        "function",
        "vertaal-proxy",
        "eu-west-1",
        ':',
        &[("verwerking", &v(17))],
    );
    let replicas: &[&str] = if month >= 11 { &["us-east-1"] } else { &[] };
    b.s3(
        PROD,
        "minvz-rapportage-subsidies",
        "eu-west-1",
        replicas,
        &[("verwerking", &v(19))],
    );
    // Unregistered and odd things in prod.
    b.s3(
        PROD,
        "minvz-tmp-export",
        "eu-west-1",
        &[],
        &[
            ("owner", "j.jansen@minvz.example"),
            ("cost-center", "CC-4411"),
        ],
    );
    b.s3(
        PROD,
        "minvz-migratie-tijdelijk",
        "eu-central-1",
        &[],
        &[("created-by", "migratieteam")],
    );
    if month <= 9 {
        b.aws(
            PROD,
            "ec2",
            "instance",
            "i-0d9e8f7a6b5c4d3e2",
            "eu-west-2",
            '/',
            &[("Name", "test-vm-oud"), ("team", "platform")],
        );
    }
    if month >= 9 {
        b.s3(
            PROD,
            "minvz-logs-hk",
            "ap-east-1",
            &[],
            &[
                ("created-by", "cdk-deploy"),
                ("application", "webstatistiek"),
            ],
        );
    }
    if month >= 12 {
        b.s3(
            PROD,
            "minvz-projectx",
            "eu-west-1",
            &[],
            &[("verwerking", "VA-2026-099"), ("owner", "innovatie")],
        );
    }
    b.aws(
        PROD,
        "ec2",
        "vpc",
        "vpc-0123456789abcdef0",
        "eu-west-1",
        '/',
        &[],
    );
    b.aws(
        PROD,
        "ec2",
        "security-group",
        "sg-0fedcba9876543210",
        "eu-west-1",
        '/',
        &[],
    );
    b.aws(
        PROD,
        "iam",
        "role",
        "cloudcensus-reader",
        "global",
        '/',
        &[],
    );

    // --- AWS data account (mapped to VA-2026-016) ---
    b.aws(
        DATA,
        "redshift",
        "cluster",
        "beleidsinfo-dwh",
        "eu-central-1",
        ':',
        &[],
    );
    b.s3(DATA, "minvz-dataplatform-raw", "eu-central-1", &[], &[]);
    b.aws(
        DATA,
        "ec2",
        "instance",
        "i-0e1f2a3b4c5d6e7f8",
        "us-west-2-wyz-1a",
        '/',
        &[("Name", "edge-ingest")],
    );

    // --- AWS sandbox account (non-material) ---
    b.s3(
        SANDBOX,
        "lab-experiment-taalmodel",
        "us-west-2",
        &[],
        &[("owner", "innovatielab")],
    );
    b.aws(
        SANDBOX,
        "ec2",
        "instance",
        "i-0a9b8c7d6e5f4a3b2",
        "us-east-1",
        '/',
        &[("Name", "lab-gpu")],
    );

    // --- Azure: beleid subscription (mapped to VA-2026-003, DV) ---
    b.azure(
        SUB_BELEID,
        "rg-beleid",
        "Microsoft.Storage/storageAccounts",
        "stbeleidsdossiers",
        "westeurope",
        &["northeurope"],
        &[],
    );
    b.azure(
        SUB_BELEID,
        "rg-beleid",
        "Microsoft.KeyVault/vaults",
        "kv-beleid",
        "westeurope",
        &[],
        &[],
    );
    b.azure(
        SUB_BELEID,
        "rg-hr",
        "Microsoft.Sql/servers/databases",
        "sql-hr/personeel",
        "westeurope",
        &[],
        &[("verwerking", &v(4))],
    );
    b.azure(
        SUB_BELEID,
        "rg-kennis",
        "Microsoft.Web/sites",
        "app-kennisbank",
        "westeurope",
        &[],
        &[("verwerking", &v(14))],
    );
    b.azure(
        SUB_BELEID,
        "rg-keten",
        "Microsoft.Storage/storageAccounts",
        "stketenplatform",
        "northeurope",
        &[],
        &[("verwerking", &v(15))],
    );
    b.azure(
        SUB_BELEID,
        "rg-beleid",
        "Microsoft.Network/virtualNetworks",
        "vnet-beleid",
        "westeurope",
        &[],
        &[],
    );

    // --- Azure: zorg subscription ---
    b.azure(
        SUB_ZORG,
        "rg-zorgdata",
        "Microsoft.Storage/storageAccounts",
        "stzorgonderzoek",
        "australiaeast",
        &["australiasoutheast"],
        &[],
    );
    b.azure(
        SUB_ZORG,
        "rg-zorgdata",
        "Microsoft.Sql/servers/databases",
        "sql-zorg/cohort",
        "westeurope",
        &[],
        &[],
    );
    b.azure(
        SUB_ZORG,
        "rg-test",
        "Microsoft.Storage/storageAccounts",
        "sttestbrazil",
        "brazilsouth",
        &["southcentralus"],
        &[("owner", "k.devries")],
    );
    b.azure(
        SUB_ZORG,
        "rg-test",
        "Microsoft.Compute/virtualMachines",
        "vm-test-01",
        "swedencentral",
        &[],
        &[],
    );

    // --- Google Cloud ---
    b.gcs(
        "minvz-analytics",
        "minvz-analytics-dreiging",
        "europe-west4",
        &[("rubricering", "stg-confidentieel")],
    );
    b.gcs(
        "minvz-analytics",
        "minvz-opendata",
        "eu",
        &[("verwerking", "va-2026-018")],
    );
    b.gcs(
        "minvz-burgerportaal",
        "minvz-burgerportaal-docs",
        "eur4",
        &[],
    );
    b.add(
        Provider::Gcp,
        "minvz-burgerportaal",
        "//run.googleapis.com/projects/minvz-burgerportaal/locations/europe-west4/services/portaal"
            .into(),
        "run.googleapis.com/Service",
        "portaal",
        "europe-west4",
        &[],
        None,
        &[],
    );
    b.gcs(
        "minvz-burgerportaal",
        "minvz-nieuwsbrief",
        "asia-south1",
        &[("verwerking", "va-2026-011")],
    );

    // --- Coverage ---
    let mut cov = Vec::new();
    for (acct, regions) in [
        (
            PROD,
            &[
                "eu-west-1",
                "eu-central-1",
                "eu-west-2",
                "ap-south-1",
                "ap-southeast-2",
                "ap-east-1",
                "sa-east-1",
                "us-east-1",
            ][..],
        ),
        (DATA, &["eu-central-1", "us-west-2"][..]),
        (SANDBOX, &["us-west-2", "us-east-1"][..]),
    ] {
        for r in regions {
            for svc in [
                "tagging",
                "ec2",
                "rds",
                "dynamodb",
                "lambda",
                "elasticfilesystem",
            ] {
                if acct == DATA && *r == "eu-central-1" && svc == "rds" && month >= 3 {
                    cov.push(Coverage::failed(Provider::Aws, acct, *r, svc, CoverageStatus::Denied,
                        "AccessDenied: User arn:aws:sts::222233334444:assumed-role/cloudcensus-reader/cloudcensus is not authorized to perform rds:DescribeDBInstances"));
                } else {
                    cov.push(Coverage::scanned(Provider::Aws, acct, *r, svc));
                }
            }
        }
        cov.push(Coverage::scanned(Provider::Aws, acct, "global", "s3"));
        // Cloud Control lists every type of aws-cloudcontrol.csv it can, tagged or not;
        // the ones it cannot are recorded as seen only when tagged.
        for t in cloudcensus_core::visibility::cloud_control_types() {
            let service = format!("cloudcontrol:{}", t.type_name);
            if t.list != cloudcensus_core::visibility::CloudControlList::Yes {
                cov.push(Coverage::failed(
                    Provider::Aws,
                    acct,
                    "*",
                    service,
                    CoverageStatus::NotOffered,
                    format!("{} ({}): Cloud Control cannot list it; such resources are seen only when tagged", t.type_name, t.arn_type),
                ));
                continue;
            }
            for r in regions {
                if t.type_name == "AWS::HealthLake::FHIRDatastore" && *r == "us-west-2" {
                    cov.push(Coverage::failed(
                        Provider::Aws,
                        acct,
                        *r,
                        service.clone(),
                        CoverageStatus::NotOffered,
                        "AWS::HealthLake::FHIRDatastore is not offered in us-west-2 (TypeNotFoundException): nothing of it can exist there",
                    ));
                } else {
                    cov.push(Coverage::scanned(Provider::Aws, acct, *r, service.clone()));
                }
            }
        }
        cov.push(Coverage::failed(
            Provider::Aws,
            acct,
            "me-central-1",
            "*",
            CoverageStatus::NotEnabled,
            "region not opted in",
        ));
    }
    for sub in [SUB_BELEID, SUB_ZORG] {
        if sub == SUB_BELEID && month == 7 {
            cov.push(Coverage::failed(
                Provider::Azure,
                sub,
                "*",
                "Microsoft.Resources/resources",
                CoverageStatus::Throttled,
                "429 Too Many Requests: retries exhausted after 6 attempts",
            ));
        } else {
            cov.push(Coverage::scanned(
                Provider::Azure,
                sub,
                "*",
                "Microsoft.Resources/resources",
            ));
        }
        cov.push(Coverage::scanned(
            Provider::Azure,
            sub,
            "*",
            "Microsoft.Storage/storageAccounts",
        ));
    }
    cov.push(Coverage::failed(
        Provider::Azure,
        SUB_ZORG,
        "*",
        "Microsoft.Web",
        CoverageStatus::NotEnabled,
        "MissingSubscriptionRegistration: resource provider not registered",
    ));
    for p in ["minvz-analytics", "minvz-burgerportaal"] {
        cov.push(Coverage::scanned(Provider::Gcp, p, "*", "cloudasset"));
        cov.push(Coverage::scanned(Provider::Gcp, p, "*", "storage"));
    }
    cov.push(Coverage::failed(Provider::Gcp, "minvz-sandbox-ml", "*", "cloudasset", CoverageStatus::Denied,
        "PERMISSION_DENIED: The caller does not have permission (cloudasset.assets.searchAllResources)"));

    // --- Scopes and groups ---
    let mut scopes = Vec::new();
    for (id, name) in [
        (PROD, "minvz-prod"),
        (DATA, "minvz-data"),
        (SANDBOX, "minvz-sandbox"),
    ] {
        let mut s = Scope::new(Provider::Aws, id);
        s.name = Some(name.into());
        s.parents = vec!["ou-mvz-prod".into(), "o-minvz".into()];
        scopes.push(s);
    }
    for (id, name) in [(SUB_BELEID, "MinVZ Beleid"), (SUB_ZORG, "MinVZ Zorg")] {
        let mut s = Scope::new(Provider::Azure, id);
        s.name = Some(name.into());
        s.parents = vec!["mg-minvz".into()];
        scopes.push(s);
    }
    for id in ["minvz-analytics", "minvz-burgerportaal", "minvz-sandbox-ml"] {
        let mut s = Scope::new(Provider::Gcp, id);
        s.parents = vec![
            "folders/314159265358".into(),
            "organizations/271828182845".into(),
        ];
        scopes.push(s);
    }
    let groups = [
        (SUB_BELEID, "rg-beleid"),
        (SUB_BELEID, "rg-hr"),
        (SUB_BELEID, "rg-kennis"),
        (SUB_BELEID, "rg-keten"),
        (SUB_ZORG, "rg-zorgdata"),
        (SUB_ZORG, "rg-test"),
    ]
    .iter()
    .map(|(sub, rg)| ResourceGroup {
        provider: Provider::Azure,
        scope_id: sub.to_string(),
        name: rg.to_string(),
        location: Some("westeurope".into()),
        tags: BTreeMap::new(),
    })
    .collect();

    let started = Utc
        .with_ymd_and_hms(YEAR, month, 28, 2, 0, 0)
        .single()
        .expect("valid date");
    ScanData {
        meta: ScanMeta {
            id: format!("{YEAR}-{month:02}-0001"),
            organisation: ORGANISATION.into(),
            period: format!("{YEAR}-{month:02}"),
            started_at: started,
            finished_at: started + Duration::minutes(7) + Duration::seconds(month as i64 * 3),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            identities: vec![
                "arn:aws:sts::111122223333:assumed-role/cloudcensus-reader/cloudcensus".into(),
                "azure: cloudcensus-scanner (app 5d3c1b2a-…)".into(),
                "gcp: cloudcensus@minvz-security.iam.gserviceaccount.com".into(),
            ],
            config_digest: "example".into(),
        },
        scopes,
        groups,
        resources: b.resources,
        coverage: cov,
        creators: Vec::new(),
    }
}

/// What the scan's creator lookups would have answered for the resources a security team
/// must chase (the same choice the scan makes: [`crate::matching::Match::needs_owner`]
/// against the example register): a person or pipeline for the ones created during the
/// year, and, for AWS and Azure resources that were there in January, "older than 90
/// days" (their logs keep 90 days; Google's Admin Activity log keeps 400, so it still
/// names the creator of a bucket from 2024).
fn creators(scan: &ScanData) -> Vec<Creator> {
    let register = crate::register::load_bytes(
        "register.xlsx",
        REGISTER_XLSX.to_vec(),
        crate::register::Format::Spreadsheet,
        None,
    )
    .expect("the example register loads")
    .register;
    let settings = crate::matching::MatchSettings::default();
    let matcher = crate::matching::Matcher::new(&register, &scan.scopes, &scan.groups, &settings);
    // The month each resource first appears in.
    let mut first_month: std::collections::HashMap<String, u32> = Default::default();
    for m in 1..=12u32 {
        for r in listing(m).resources {
            first_month.entry(r.id).or_insert(m);
        }
    }
    let people = [
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Ontwikkelaar_5e1f/p.dekker@minvz.example",
        "arn:aws:iam::111122223333:user/deploy-pipeline",
        "arn:aws:sts::222233334444:assumed-role/AWSReservedSSO_DataTeam_91aa/s.elhadji@minvz.example",
    ];
    let mut out = Vec::new();
    for (i, r) in scan.resources.iter().enumerate() {
        if !matcher.resource(r).needs_owner(r) {
            continue;
        }
        let first_month = first_month.get(&r.id).copied().unwrap_or(1);
        let old = first_month == 1;
        let created = Utc
            .with_ymd_and_hms(
                YEAR,
                first_month,
                3 + (i as u32 % 20),
                9 + (i as u32 % 8),
                14,
                0,
            )
            .single()
            .expect("valid date");
        out.push(match (r.provider, old) {
            (Provider::Aws, true) => {
                Creator::older_than(r.provider, r.id.clone(), "cloudtrail", 90)
            }
            (Provider::Azure, true) => {
                Creator::older_than(r.provider, r.id.clone(), "activity-log", 90)
            }
            (Provider::Aws, false) => Creator::found(
                r.provider,
                r.id.clone(),
                people[i % people.len()],
                created,
                format!("cloudtrail:{}", aws_create_event(&r.resource_type)),
            ),
            (Provider::Azure, false) => Creator::found(
                r.provider,
                r.id.clone(),
                "m.bakker@minvz.example",
                created,
                format!("activity-log:{}/write", r.resource_type),
            ),
            (Provider::Gcp, _) => Creator::found(
                r.provider,
                r.id.clone(),
                "terraform@minvz-burgerportaal.iam.gserviceaccount.com",
                if old {
                    created - Duration::days(200)
                } else {
                    created
                },
                if r.resource_type == "run.googleapis.com/Service" {
                    "audit-log:google.cloud.run.v1.Services.CreateService"
                } else {
                    "audit-log:storage.buckets.create"
                },
            ),
        });
    }
    out
}

/// The create call CloudTrail records for a demo resource type.
fn aws_create_event(resource_type: &str) -> &'static str {
    match resource_type {
        "s3:bucket" => "CreateBucket",
        "dynamodb:table" => "CreateTable",
        "rds:db" => "CreateDBInstance",
        "ec2:volume" => "CreateVolume",
        "lambda:function" => "CreateFunction20150331",
        "ec2:instance" => "RunInstances",
        "redshift:cluster" => "CreateCluster",
        _ => "Create",
    }
}

/// The twelve monthly scans of the demo year, oldest first.
pub fn example_estate() -> Vec<ScanData> {
    (1..=12).map(scan).collect()
}

/// The committed exports, embedded so `demo` works from any directory.
pub const EMBEDDED: [(&str, &str); 12] = [
    (
        "2025-01",
        include_str!("../examples/estate/scan-2025-01.json"),
    ),
    (
        "2025-02",
        include_str!("../examples/estate/scan-2025-02.json"),
    ),
    (
        "2025-03",
        include_str!("../examples/estate/scan-2025-03.json"),
    ),
    (
        "2025-04",
        include_str!("../examples/estate/scan-2025-04.json"),
    ),
    (
        "2025-05",
        include_str!("../examples/estate/scan-2025-05.json"),
    ),
    (
        "2025-06",
        include_str!("../examples/estate/scan-2025-06.json"),
    ),
    (
        "2025-07",
        include_str!("../examples/estate/scan-2025-07.json"),
    ),
    (
        "2025-08",
        include_str!("../examples/estate/scan-2025-08.json"),
    ),
    (
        "2025-09",
        include_str!("../examples/estate/scan-2025-09.json"),
    ),
    (
        "2025-10",
        include_str!("../examples/estate/scan-2025-10.json"),
    ),
    (
        "2025-11",
        include_str!("../examples/estate/scan-2025-11.json"),
    ),
    (
        "2025-12",
        include_str!("../examples/estate/scan-2025-12.json"),
    ),
];

/// The example register, embedded for the same reason.
pub const REGISTER_XLSX: &[u8] = include_bytes!("../examples/register.xlsx");

/// The export JSON of one scan, in the shape `cloudcensus export --format json` writes.
pub fn export_json(scan: &ScanData) -> String {
    let mut s = serde_json::to_string_pretty(scan).expect("scan serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_estate_files_are_the_generator_output() {
        let root = env!("CARGO_MANIFEST_DIR");
        for scan in example_estate() {
            let path = format!("{root}/examples/estate/scan-{}.json", scan.meta.period);
            let want = export_json(&scan);
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            if std::env::var_os("CLOUDCENSUS_REGENERATE").is_some() {
                std::fs::write(&path, &want).unwrap();
                continue;
            }
            assert!(
                have == want,
                "{path} is out of date: run `CLOUDCENSUS_REGENERATE=1 cargo test --lib example_estate::`"
            );
        }
    }
}
