//! Rule tests: each rule fires where it must and stays quiet where it must not; the
//! policy's summary table, conditions 9a/9b/9c and 10's comply-or-explain are table
//! driven.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use cloudcensus_core::{
    Catalog, Category, Coverage, CoverageStatus, Provider, Resource, ScanData, ScanMeta, Scope,
};

use super::*;
use crate::matching::{ExcludedScope, MatchSettings};
use crate::register::{
    Activity, ActivityStatus, C2000Check, Classification, CloudType, Register, RightToAudit,
    ServiceModel, SpecialCategory, TransferBasis, YesNoNa,
};

fn catalog() -> &'static Catalog {
    static C: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    C.get_or_init(|| Catalog::builtin().unwrap())
}

fn pack() -> &'static RulePack {
    static P: std::sync::OnceLock<RulePack> = std::sync::OnceLock::new();
    P.get_or_init(|| RulePack::builtin("cloudbeleid-2022").unwrap())
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A fully compliant activity: every register column filled, EEA only.
fn compliant(id: &str) -> Activity {
    Activity {
        id: id.into(),
        name: format!("Verwerking {id}"),
        unit: "DG Test".into(),
        controller: "Minister".into(),
        purpose: "test".into(),
        personal_data: false,
        classification: Some(Classification::Ongerubriceerd),
        material: true,
        providers: vec!["AWS".into()],
        service_model: Some(ServiceModel::Iaas),
        cloud_type: Some(CloudType::Public),
        declared_locations: vec!["eu-west-1".into(), "eu-central-1".into()],
        transfer_basis: Some(TransferBasis::Eea),
        prescan_dpia: Some(d("2025-01-10")),
        formal_dpia: Some(YesNoNa::NotApplicable),
        exit_strategy: Some(true),
        right_to_audit: Some(RightToAudit::Yes),
        c2000_check: Some(C2000Check::Passed),
        woo_publication: "https://example.invalid/dpia".into(),
        decision_body: "Bestuursraad".into(),
        decision_date: Some(d("2025-02-01")),
        status: Some(ActivityStatus::InUse),
        ..Default::default()
    }
}

fn bucket(id: &str, activity: Option<&str>, location: &str, replicas: &[&str]) -> Resource {
    Resource {
        provider: Provider::Aws,
        scope_id: "111122223333".into(),
        id: format!("arn:aws:s3:::{id}"),
        resource_type: "s3:bucket".into(),
        category: Category::DataStore,
        name: id.into(),
        location: Some(location.into()),
        replica_locations: replicas.iter().map(|s| s.to_string()).collect(),
        resource_group: None,
        tags: activity
            .map(|a| BTreeMap::from([("verwerking".to_string(), a.to_string())]))
            .unwrap_or_default(),
        created_at: None,
    }
}

fn scan_on(date: &str, resources: Vec<Resource>, coverage: Vec<Coverage>) -> ScanData {
    let at = Utc.from_utc_datetime(&d(date).and_hms_opt(12, 0, 0).unwrap());
    ScanData {
        meta: ScanMeta {
            id: "s1".into(),
            organisation: "Ministerie van Voorbeeldzaken".into(),
            period: date[..7].to_string(),
            started_at: at,
            finished_at: at,
            tool_version: "test".into(),
            identities: vec![],
            config_digest: String::new(),
        },
        scopes: vec![Scope::new(Provider::Aws, "111122223333")],
        groups: vec![],
        resources,
        coverage: if coverage.is_empty() {
            vec![Coverage::scanned(
                Provider::Aws,
                "111122223333",
                "eu-west-1",
                "s3",
            )]
        } else {
            coverage
        },
        creators: Vec::new(),
    }
}

struct Run {
    org: &'static str,
    rules: RuleSettings,
    matching: MatchSettings,
    lang: Lang,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            org: "Ministerie van Voorbeeldzaken",
            rules: RuleSettings::default(),
            matching: MatchSettings::default(),
            lang: Lang::En,
        }
    }
}

impl Run {
    fn eval(&self, activities: Vec<Activity>, scan: &ScanData) -> Evaluation {
        let register = Register {
            source: "test".into(),
            activities,
        };
        let ctx = Context {
            organisation: self.org,
            register: &register,
            catalog: catalog(),
            pack: pack(),
            rules: &self.rules,
            matching: &self.matching,
            lang: self.lang,
        };
        evaluate(&ctx, scan, None)
    }
}

fn eval(activities: Vec<Activity>, scan: &ScanData) -> Evaluation {
    Run::default().eval(activities, scan)
}

fn codes(e: &Evaluation) -> Vec<&str> {
    e.findings.iter().map(|f| f.code.as_str()).collect()
}

fn has(e: &Evaluation, code: &str) -> bool {
    e.findings
        .iter()
        .any(|f| f.code == code && f.suppressed.is_none())
}

#[test]
fn a_compliant_activity_in_the_eea_has_no_findings() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    let e = eval(vec![compliant("VA-1")], &scan);
    assert!(e.findings.is_empty(), "{:#?}", e.findings);
    assert_eq!(e.registered_total, 1);
    assert_eq!(e.activities[0].resources, 1);
}

#[test]
fn pack_codes_are_unique_and_all_implemented() {
    let p = pack();
    let mut codes: Vec<&str> = p.rules.iter().map(|r| r.code.as_str()).collect();
    let n = codes.len();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), n);
    for code in super::pack::KNOWN_CODES {
        assert!(p.rule(code).is_some(), "{code} not documented in the pack");
    }
    for r in &p.rules {
        for text in [
            &r.clause,
            &r.title_nl,
            &r.title_en,
            &r.explanation_nl,
            &r.explanation_en,
            &r.action_nl,
            &r.action_en,
        ] {
            assert!(!text.trim().is_empty(), "{} has an empty text", r.code);
        }
    }
}

#[test]
fn unknown_pack_names_the_available_ones() {
    let err = RulePack::builtin("cloudbeleid-2030")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cloudbeleid-2022"), "{err}");
}

/// The summary table of the policy: kind of data × "in public cloud?".
#[test]
fn summary_table_of_the_policy() {
    struct Case {
        name: &'static str,
        activity: Activity,
        location: &'static str,
        expect: Option<&'static str>,
    }
    let staatsgeheim = Activity {
        classification: Some(Classification::StgGeheim),
        ..compliant("VA-1")
    };
    let pd = |basis: TransferBasis, sent: bool| Activity {
        personal_data: true,
        transfer_basis: Some(basis),
        transfer_instrument: "SCC 2021/914".into(),
        dpia_sent_to_cio: sent.then(|| d("2025-03-01")),
        declared_locations: vec![],
        ..compliant("VA-1")
    };
    let bpd = |basis: TransferBasis, explain: bool, sent: bool| Activity {
        special_categories: vec![SpecialCategory::Health],
        explain_reference: if explain {
            "EXPL-1".into()
        } else {
            String::new()
        },
        ..pd(basis, sent)
    };
    let basis = |explain: bool, advice: Option<&str>| Activity {
        basisregistraties: vec!["BRP".into()],
        explain_reference: if explain {
            "EXPL-2".into()
        } else {
            String::new()
        },
        cio_advice_date: advice.map(d),
        ..compliant("VA-1")
    };
    let cases = vec![
        Case {
            name: "staatsgeheim: never in public cloud",
            activity: staatsgeheim,
            location: "eu-west-1",
            expect: Some("CB-STG"),
        },
        Case {
            name: "persoonsgegevens 9a (EEA)",
            activity: pd(TransferBasis::Eea, false),
            location: "eu-west-1",
            expect: None,
        },
        Case {
            name: "persoonsgegevens 9b (adequacy: Japan)",
            activity: pd(TransferBasis::Adequacy, false),
            location: "ap-northeast-1",
            expect: None,
        },
        Case {
            name: "persoonsgegevens 9c, DPIA sent to CIO Rijk",
            activity: pd(TransferBasis::Safeguards, true),
            location: "ap-south-1",
            expect: None,
        },
        Case {
            name: "persoonsgegevens 9c, DPIA not sent",
            activity: pd(TransferBasis::Safeguards, false),
            location: "ap-south-1",
            expect: Some("CB-PD-LOC"),
        },
        Case {
            name: "persoonsgegevens outside EEA without 9c",
            activity: pd(TransferBasis::None, false),
            location: "ap-south-1",
            expect: Some("CB-PD-LOC"),
        },
        Case {
            name: "bijzondere pg 9a",
            activity: bpd(TransferBasis::Eea, false, false),
            location: "eu-central-1",
            expect: None,
        },
        Case {
            name: "bijzondere pg 9b (Switzerland)",
            activity: bpd(TransferBasis::Adequacy, false, false),
            location: "eu-central-2",
            expect: None,
        },
        Case {
            name: "bijzondere pg 9c with explain, sent",
            activity: bpd(TransferBasis::Safeguards, true, true),
            location: "ap-south-1",
            expect: None,
        },
        Case {
            name: "bijzondere pg 9c with explain, not sent",
            activity: bpd(TransferBasis::Safeguards, true, false),
            location: "ap-south-1",
            expect: Some("CB-BPD-LOC"),
        },
        Case {
            name: "bijzondere pg 9c without explain",
            activity: bpd(TransferBasis::Safeguards, false, true),
            location: "ap-south-1",
            expect: Some("CB-BPD-LOC"),
        },
        Case {
            name: "bijzondere pg outside EEA, no basis",
            activity: bpd(TransferBasis::None, false, false),
            location: "sa-east-1",
            expect: Some("CB-BPD-LOC"),
        },
        Case {
            name: "basisregistratie with explain and prior advice",
            activity: basis(true, Some("2025-01-15")),
            location: "eu-west-1",
            expect: None,
        },
        Case {
            name: "basisregistratie without explain",
            activity: basis(false, Some("2025-01-15")),
            location: "eu-west-1",
            expect: Some("CB-BASIS"),
        },
        Case {
            name: "basisregistratie without advice",
            activity: basis(true, None),
            location: "eu-west-1",
            expect: Some("CB-BASIS"),
        },
        Case {
            name: "basisregistratie with advice after the decision",
            activity: basis(true, Some("2025-06-01")),
            location: "eu-west-1",
            expect: Some("CB-BASIS"),
        },
    ];
    let watched = ["CB-STG", "CB-PD-LOC", "CB-BPD-LOC", "CB-BASIS"];
    for c in cases {
        let scan = scan_on(
            "2025-06-01",
            vec![bucket("b", Some("VA-1"), c.location, &[])],
            vec![],
        );
        let e = eval(vec![c.activity], &scan);
        let got: Vec<&str> = codes(&e)
            .into_iter()
            .filter(|c| watched.contains(c))
            .collect();
        match c.expect {
            Some(code) => assert_eq!(got, [code], "{}: {:#?}", c.name, e.findings),
            None => assert!(got.is_empty(), "{}: {:#?}", c.name, e.findings),
        }
    }
}

#[test]
fn replica_outside_the_eea_counts_as_observed() {
    let a = Activity {
        personal_data: true,
        transfer_basis: Some(TransferBasis::Eea),
        ..compliant("VA-1")
    };
    let scan = scan_on(
        "2022-06-01",
        vec![bucket("b", Some("VA-1"), "eu-west-1", &["us-east-1"])],
        vec![],
    );
    let e = eval(vec![a], &scan);
    let f = e
        .findings
        .iter()
        .find(|f| f.code == "CB-PD-LOC")
        .expect("PD-LOC");
    assert_eq!(f.region.as_deref(), Some("us-east-1"));
    assert_eq!(f.countries, ["US"]);
    assert_eq!(f.class, Some(JurisdictionClass::ThirdCountry));
    assert!(has(&e, "CB-DRIFT"), "replica region is not declared");
}

#[test]
fn us_data_is_third_country_in_2022_and_adequate_in_2024() {
    let a = || Activity {
        personal_data: true,
        transfer_basis: Some(TransferBasis::Adequacy),
        declared_locations: vec!["us-east-1".into()],
        ..compliant("VA-1")
    };
    let in_2022 = scan_on(
        "2022-06-01",
        vec![bucket("b", Some("VA-1"), "us-east-1", &[])],
        vec![],
    );
    assert!(has(&eval(vec![a()], &in_2022), "CB-PD-LOC"));
    let in_2024 = scan_on(
        "2024-06-01",
        vec![bucket("b", Some("VA-1"), "us-east-1", &[])],
        vec![],
    );
    let e = eval(vec![a()], &in_2024);
    assert!(!has(&e, "CB-PD-LOC"), "{:#?}", e.findings);
    // ... but only for DPF-certified providers.
    let mut run = Run::default();
    run.rules.dpf_certified.insert(Provider::Aws, false);
    assert!(has(&run.eval(vec![a()], &in_2024), "CB-PD-LOC"));
}

#[test]
fn untagged_data_bearing_resource_is_unregistered_but_a_vpc_is_not() {
    let mut vpc = bucket("vpc-1", None, "eu-west-1", &[]);
    vpc.resource_type = "ec2:vpc".into();
    vpc.category = Category::Network;
    vpc.id = "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1".into();
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("orphan", None, "eu-west-1", &[]), vpc],
        vec![],
    );
    let e = eval(vec![compliant("VA-1")], &scan);
    let unreg: Vec<_> = e.findings.iter().filter(|f| f.code == "CB-UNREG").collect();
    assert_eq!(unreg.len(), 1);
    assert_eq!(unreg[0].resource_id.as_deref(), Some("arn:aws:s3:::orphan"));
    assert_eq!(unreg[0].severity, Severity::High);
    assert_eq!(e.unregistered.len(), 1);
}

#[test]
fn resources_in_excluded_scopes_are_reported_as_excluded_not_unregistered() {
    let mut run = Run::default();
    run.matching.exclude_scopes = vec![ExcludedScope {
        scope: "aws:111122223333".into(),
        reason: "sandbox".into(),
    }];
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("play", None, "eu-west-1", &[])],
        vec![],
    );
    let e = run.eval(vec![], &scan);
    assert!(!has(&e, "CB-UNREG"));
    assert_eq!(e.excluded.len(), 1);
    assert_eq!(e.excluded[0].reason, "sandbox");
}

#[test]
fn a_non_material_register_row_marks_its_scope_as_excluded() {
    let sandbox = Activity {
        material: false,
        material_reason: "sandbox/experimenten".into(),
        scope_mappings: vec!["aws:111122223333".into()],
        ..compliant("VA-9")
    };
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("play", None, "eu-west-1", &[])],
        vec![],
    );
    let e = eval(vec![sandbox], &scan);
    assert!(!has(&e, "CB-UNREG"));
    assert_eq!(e.excluded[0].reason, "sandbox/experimenten");
}

#[test]
fn unknown_activity_id_in_a_tag_is_reported() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-404"), "eu-west-1", &[])],
        vec![],
    );
    let e = eval(vec![compliant("VA-1")], &scan);
    assert!(has(&e, "CB-UNKNOWN-ID"));
    assert!(
        has(&e, "CB-UNREG"),
        "a tag naming nothing does not register the resource"
    );
    let ok = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("va-1"), "eu-west-1", &[])],
        vec![],
    );
    assert!(!has(&eval(vec![compliant("VA-1")], &ok), "CB-UNKNOWN-ID"));
}

#[test]
fn dpia_rules() {
    let no_prescan = Activity {
        personal_data: true,
        prescan_dpia: None,
        ..compliant("VA-1")
    };
    let high_risk = Activity {
        personal_data: true,
        high_risk: true,
        formal_dpia: Some(YesNoNa::No),
        ..compliant("VA-1")
    };
    let high_risk_done = Activity {
        formal_dpia: Some(YesNoNa::Yes),
        formal_dpia_date: Some(d("2025-01-20")),
        ..high_risk.clone()
    };
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    assert!(has(&eval(vec![no_prescan], &scan), "CB-DPIA"));
    assert!(has(&eval(vec![high_risk], &scan), "CB-DPIA"));
    assert!(!has(&eval(vec![high_risk_done], &scan), "CB-DPIA"));
    let no_pd = Activity {
        prescan_dpia: None,
        woo_publication: String::new(),
        ..compliant("VA-1")
    };
    assert!(!has(&eval(vec![no_pd], &scan), "CB-DPIA"));
}

#[test]
fn contract_and_characteristics_rules() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    let cases: Vec<(Activity, &str)> = vec![
        (
            Activity {
                exit_strategy: Some(false),
                ..compliant("VA-1")
            },
            "CB-EXIT",
        ),
        (
            Activity {
                exit_strategy: None,
                ..compliant("VA-1")
            },
            "CB-EXIT",
        ),
        (
            Activity {
                right_to_audit: Some(RightToAudit::No),
                ..compliant("VA-1")
            },
            "CB-AUDIT",
        ),
        (
            Activity {
                providers: vec![],
                ..compliant("VA-1")
            },
            "CB-CHAR",
        ),
        (
            Activity {
                service_model: None,
                ..compliant("VA-1")
            },
            "CB-CHAR",
        ),
        (
            Activity {
                declared_locations: vec![],
                ..compliant("VA-1")
            },
            "CB-CHAR",
        ),
        (
            Activity {
                c2000_check: Some(C2000Check::Failed),
                ..compliant("VA-1")
            },
            "CB-C2000",
        ),
        (
            Activity {
                woo_publication: String::new(),
                ..compliant("VA-1")
            },
            "CB-WOO",
        ),
    ];
    for (a, code) in cases {
        let e = eval(vec![a], &scan);
        assert_eq!(codes(&e), [code], "{code}: {:#?}", e.findings);
    }
    let slm = Activity {
        right_to_audit: Some(RightToAudit::ViaSlm),
        ..compliant("VA-1")
    };
    assert!(eval(vec![slm], &scan).findings.is_empty());
}

#[test]
fn c2000_location_is_blocking_per_resource_including_replicas() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "eu-west-1", &["ap-east-1"])],
        vec![],
    );
    let mut a = compliant("VA-1");
    a.declared_locations.push("ap-east-1".into());
    let e = eval(vec![a], &scan);
    let f = e.findings.iter().find(|f| f.code == "CB-C2000").unwrap();
    assert_eq!(f.severity, Severity::Blocking);
    assert_eq!(f.countries, ["HK"]);
    assert_eq!(
        e.findings[0].code, "CB-C2000",
        "blocking findings come first"
    );
}

#[test]
fn drift_respects_declared_countries_and_eea() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "eu-central-1", &[])],
        vec![],
    );
    let by_country = Activity {
        declared_locations: vec!["DE".into()],
        ..compliant("VA-1")
    };
    assert!(!has(&eval(vec![by_country], &scan), "CB-DRIFT"));
    let by_eea = Activity {
        declared_locations: vec!["EER".into()],
        ..compliant("VA-1")
    };
    assert!(!has(&eval(vec![by_eea], &scan), "CB-DRIFT"));
    let elsewhere = Activity {
        declared_locations: vec!["NL".into()],
        ..compliant("VA-1")
    };
    assert!(has(&eval(vec![elsewhere], &scan), "CB-DRIFT"));
}

#[test]
fn unknown_location_is_flagged_and_never_eea() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "mars-north-1", &[])],
        vec![],
    );
    let a = Activity {
        declared_locations: vec!["EER".into()],
        ..compliant("VA-1")
    };
    let e = eval(vec![a], &scan);
    assert!(has(&e, "CB-LOC-UNKNOWN"));
    assert!(has(&e, "CB-DRIFT"), "unknown is not EEA");
    assert_eq!(e.by_class.get(&JurisdictionClass::Unknown), Some(&1));
}

#[test]
fn coverage_gaps_become_findings_and_not_enabled_does_not() {
    let cov = vec![
        Coverage::scanned(Provider::Aws, "111122223333", "eu-west-1", "s3"),
        Coverage::failed(
            Provider::Aws,
            "111122223333",
            "eu-west-1",
            "rds",
            CoverageStatus::Denied,
            "AccessDenied",
        ),
        Coverage::failed(
            Provider::Aws,
            "111122223333",
            "ap-east-1",
            "*",
            CoverageStatus::NotEnabled,
            "not opted in",
        ),
    ];
    let scan = scan_on("2025-06-01", vec![], cov);
    let e = eval(vec![], &scan);
    let gaps: Vec<_> = e
        .findings
        .iter()
        .filter(|f| f.code == "CB-COVERAGE")
        .collect();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0].message.contains("rds") && gaps[0].message.contains("denied"));
}

#[test]
fn stale_registration_fires_only_for_scanned_providers() {
    let scan = scan_on("2025-06-01", vec![], vec![]);
    let aws = compliant("VA-1");
    assert!(has(&eval(vec![aws], &scan), "CB-STALE"));
    let azure_only = Activity {
        providers: vec!["Microsoft Azure".into()],
        ..compliant("VA-1")
    };
    assert!(
        !has(&eval(vec![azure_only], &scan), "CB-STALE"),
        "azure was not scanned"
    );
    let ended = Activity {
        status: Some(ActivityStatus::Ended),
        ..compliant("VA-1")
    };
    assert!(!has(&eval(vec![ended], &scan), "CB-STALE"));
}

#[test]
fn classification_above_dv_in_register_or_tag_is_cb_rub() {
    let declared = Activity {
        classification: Some(Classification::StgConfidentieel),
        ..compliant("VA-1")
    };
    let empty = scan_on("2025-06-01", vec![], vec![]);
    assert!(has(&eval(vec![declared], &empty), "CB-RUB"));
    let mut tagged = bucket("b", Some("VA-1"), "eu-west-1", &[]);
    tagged
        .tags
        .insert("Rubricering".into(), "Stg. Geheim".into());
    let scan = scan_on("2025-06-01", vec![tagged], vec![]);
    assert!(has(&eval(vec![compliant("VA-1")], &scan), "CB-RUB"));
    let dv = Activity {
        classification: Some(Classification::DepartementaalVertrouwelijk),
        ..compliant("VA-1")
    };
    assert!(!has(&eval(vec![dv], &empty), "CB-RUB"));
}

#[test]
fn defensie_is_out_of_scope() {
    let run = Run {
        org: "Ministerie van Defensie",
        ..Default::default()
    };
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("orphan", None, "ap-east-1", &[])],
        vec![],
    );
    let e = run.eval(vec![], &scan);
    assert!(e.out_of_scope);
    assert_eq!(codes(&e), ["CB-DEF"]);
    assert!(!has(&eval(vec![], &scan), "CB-DEF"));
}

#[test]
fn severity_overrides_allow_warn_and_deny() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("b", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    let a = || Activity {
        exit_strategy: None,
        woo_publication: String::new(),
        ..compliant("VA-1")
    };
    let mut run = Run::default();
    run.rules
        .severity
        .insert("CB-WOO".into(), SeverityOverride::Allow);
    run.rules
        .severity
        .insert("CB-EXIT".into(), SeverityOverride::Deny);
    let e = run.eval(vec![a()], &scan);
    assert_eq!(codes(&e), ["CB-EXIT"]);
    assert_eq!(e.findings[0].severity, Severity::Blocking);
    assert_eq!(e.allowed.get("CB-WOO"), Some(&1));
}

#[test]
fn suppressions_apply_until_they_expire_and_unmatched_ones_are_reported() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("orphan", None, "eu-west-1", &[])],
        vec![],
    );
    let suppress = |expires: &str, resource: &str| Suppression {
        code: "CB-UNREG".into(),
        resource: Some(resource.into()),
        activity: None,
        reason: "migratie loopt".into(),
        expires: d(expires),
    };
    let mut run = Run::default();
    run.rules.suppress = vec![suppress("2025-12-31", "arn:aws:s3:::orphan")];
    let e = run.eval(vec![], &scan);
    let f = e.findings.iter().find(|f| f.code == "CB-UNREG").unwrap();
    assert_eq!(f.suppressed.as_deref(), Some("migratie loopt"));
    assert_eq!(worst(&e.findings), None);

    run.rules.suppress = vec![suppress("2025-01-31", "arn:aws:s3:::orphan")];
    let e = run.eval(vec![], &scan);
    assert!(has(&e, "CB-UNREG"));
    assert!(has(&e, "CB-SUPPRESS-EXPIRED"));

    run.rules.suppress = vec![suppress("2025-12-31", "arn:aws:s3:::gone")];
    assert!(has(&run.eval(vec![], &scan), "CB-SUPPRESS-UNMATCHED"));
}

#[test]
fn evaluation_is_deterministic_to_the_byte() {
    let resources: Vec<Resource> = (0..200)
        .map(|i| {
            let loc = ["eu-west-1", "us-east-1", "ap-east-1", "eu-west-2"][i % 4];
            let tag = (i % 3 != 0).then(|| format!("VA-{}", i % 7));
            bucket(&format!("b{i}"), tag.as_deref(), loc, &[])
        })
        .collect();
    let scan = scan_on("2025-06-01", resources, vec![]);
    let acts: Vec<Activity> = (0..5)
        .map(|i| Activity {
            personal_data: i % 2 == 0,
            ..compliant(&format!("VA-{i}"))
        })
        .collect();
    let a = serde_json::to_string(&eval(acts.clone(), &scan)).unwrap();
    let b = serde_json::to_string(&eval(acts, &scan)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn dutch_is_the_default_message_language() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("orphan", None, "eu-west-1", &[])],
        vec![],
    );
    let run = Run {
        lang: Lang::Nl,
        ..Default::default()
    };
    let e = run.eval(vec![], &scan);
    assert!(
        e.findings[0]
            .message
            .contains("aan geen verwerking gekoppeld")
    );
}

#[test]
fn evaluating_on_several_threads_gives_the_single_thread_result_to_the_byte() {
    // 2 500 activities: enough for the activity-level rules to run in two runs as well.
    let synth = crate::synth::Synth::new(7).with_activities(2_500);
    let register = synth.register();
    let scan = ScanData {
        meta: synth.meta("2026-03"),
        scopes: synth.scopes(),
        groups: synth.groups(),
        resources: synth.resources(6_000).collect(),
        coverage: synth.coverage(),
        creators: Vec::new(),
    };
    // First/last seen differs per resource, so merging the runs' ranges is exercised.
    let seen: BTreeMap<String, SeenRange> = scan
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let first = d("2026-01-01") + chrono::Days::new((i % 60) as u64);
            let range = SeenRange {
                first,
                last: first + chrono::Days::new((i % 17) as u64),
            };
            (r.id.clone(), range)
        })
        .collect();
    let (rules, matching) = (RuleSettings::default(), MatchSettings::default());
    let ctx = Context {
        organisation: "Ministerie van Voorbeeldzaken",
        register: &register,
        catalog: catalog(),
        pack: pack(),
        rules: &rules,
        matching: &matching,
        lang: Lang::Nl,
    };
    let one = engine::run_in_parts(&ctx, &scan, Some(&seen), Some(1));
    // The estate is varied enough for the comparison to mean something.
    let distinct: std::collections::BTreeSet<&str> =
        one.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(distinct.len() >= 4, "{distinct:?}");
    assert!(!one.unregistered.is_empty() && !one.excluded.is_empty());
    assert!(
        one.activities
            .iter()
            .filter(|a| a.locations.len() > 1)
            .count()
            > 10
    );
    let expected = serde_json::to_string(&one).unwrap();
    for parts in [2, 3, 7] {
        let many = engine::run_in_parts(&ctx, &scan, Some(&seen), Some(parts));
        assert_eq!(
            serde_json::to_string(&many).unwrap(),
            expected,
            "{parts} parts"
        );
        assert_eq!(many, one);
    }
    // Streamed in uneven chunks, as the report reads a scan from the store.
    let mut ev = Evaluator::new(&ctx, &scan.meta, &scan.scopes, &scan.groups, 0);
    let mut listed = Vec::new();
    let mut at = 0;
    for size in [1, 999, 2_000, 0, 3_000].into_iter().cycle() {
        let end = (at + size).min(scan.resources.len());
        listed.extend(ev.add(&scan.resources[at..end], Some(&seen)));
        at = end;
        if at == scan.resources.len() {
            break;
        }
    }
    let streamed = ev.finish(&scan.coverage);
    assert_eq!(serde_json::to_string(&streamed).unwrap(), expected);
    // `add` names exactly the resources a report lists.
    let want = one.listed();
    assert!(want.len() == one.unregistered.len() + one.excluded.len());
    assert_eq!(listed, want);
}

#[test]
fn unfilled_classification_or_material_use_is_cb_facts_and_counts_as_material() {
    use crate::register::Fact;
    let scan = scan_on(
        "2026-03-01",
        vec![bucket("b1", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    let mut a = compliant("VA-1");
    a.classification = None;
    a.mark_unfilled(Fact::Classification);
    a.mark_unfilled(Fact::Material);
    let e = eval(vec![a.clone()], &scan);
    let f: Vec<_> = e.findings.iter().filter(|f| f.code == "CB-FACTS").collect();
    assert_eq!(f.len(), 1, "{:?}", codes(&e));
    assert!(
        f[0].message.contains("classification") && f[0].message.contains("material cloud use"),
        "{}",
        f[0].message
    );
    // Filled in: quiet.
    assert!(!has(&eval(vec![compliant("VA-1")], &scan), "CB-FACTS"));
    // Not in cloud (no resources, nothing declared): quiet as well.
    let mut idle = a;
    idle.cloud_type = None;
    assert!(!has(
        &eval(vec![idle], &scan_on("2026-03-01", vec![], vec![])),
        "CB-FACTS"
    ));
}

#[test]
fn a_blank_sub_processors_cell_is_a_missing_characteristic_but_geen_is_an_answer() {
    use crate::register::Fact;
    let scan = scan_on(
        "2026-03-01",
        vec![bucket("b1", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    let mut blank = compliant("VA-1");
    blank.mark_unfilled(Fact::SubProcessors);
    let e = eval(vec![blank], &scan);
    let chr: Vec<_> = e.findings.iter().filter(|f| f.code == "CB-CHAR").collect();
    assert_eq!(chr.len(), 1, "{:?}", codes(&e));
    assert!(
        chr[0].message.contains("sub-processors"),
        "{}",
        chr[0].message
    );
    // `geen`: an empty list that is an answer.
    assert!(!has(&eval(vec![compliant("VA-1")], &scan), "CB-CHAR"));
}

#[test]
fn a_rijksoverheid_export_alone_says_what_to_fill_in_and_with_its_annex_gives_the_findings() {
    use crate::register::sources_tests::{export_zip, fixture};
    use crate::register::{Source, load_source};
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let scan = scan_on(
        "2026-03-01",
        vec![
            bucket("subsidies", Some("M5071"), "eu-west-1", &[]),
            bucket("bezoekers", Some("M6010"), "eu-west-1", &[]),
        ],
        vec![],
    );
    let messages = |e: &Evaluation, code: &str, id: &str| -> Vec<String> {
        e.findings
            .iter()
            .filter(|f| f.code == code && f.activity_id.as_deref() == Some(id))
            .map(|f| f.message.clone())
            .collect()
    };
    // The export alone: every cloud fact is the annex's, and the findings say so.
    let alone = load_source(&zip, &Source::default()).unwrap().register;
    let e = eval(alone.activities, &scan);
    let facts = messages(&e, "CB-FACTS", "M5071");
    assert_eq!(facts.len(), 1, "{:?}", codes(&e));
    assert!(
        facts[0].contains("classification, material cloud use"),
        "{}",
        facts[0]
    );
    let chr = messages(&e, "CB-CHAR", "M5071");
    assert!(
        chr.len() == 1 && chr[0].contains("provider") && chr[0].contains("sub-processors"),
        "{chr:?}"
    );
    assert!(
        !messages(&e, "CB-DPIA", "M5071").is_empty(),
        "personal data, no pre-scan DPIA"
    );
    // With the annex: the facts are there, the policy's own findings remain.
    let source = Source {
        annex: Some(fixture("avgr-annex.csv")),
        ..Source::default()
    };
    let joined = load_source(&zip, &source).unwrap().register;
    let e = eval(joined.activities, &scan);
    assert!(
        messages(&e, "CB-FACTS", "M5071").is_empty(),
        "{:?}",
        codes(&e)
    );
    assert!(
        messages(&e, "CB-CHAR", "M5071").is_empty(),
        "{:?}",
        codes(&e)
    );
    // M6010's annex row leaves classification and material use blank: still named.
    assert_eq!(
        messages(&e, "CB-FACTS", "M6010").len(),
        1,
        "{:?}",
        codes(&e)
    );
    // M5072 (health data, outside the EU, no annex pre-scan DPIA, 9c): declared public
    // cloud in the annex, so its DPIA findings appear without resources.
    assert!(
        !messages(&e, "CB-DPIA", "M5072").is_empty(),
        "{:?}",
        codes(&e)
    );
}

#[test]
fn cb_conc_special_categories_or_key_register_on_a_us_parent_need_exit_or_explain() {
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("a", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    // (special categories, key register, exit strategy, explain, sub-processor, fires)
    let cases: &[(bool, bool, bool, &str, &str, bool)] = &[
        (true, false, false, "", "", true),
        (false, true, false, "", "", true),
        (true, false, true, "", "", false),
        (true, false, false, "CIO-2025-1", "", false),
        (false, false, false, "", "", false),
        (false, true, false, "", "Cloudflare, Inc.", true),
    ];
    for &(special, basis, exit, explain, sub, fires) in cases {
        let mut a = compliant("VA-1");
        a.personal_data = special;
        if special {
            a.special_categories = vec![SpecialCategory::Health];
        }
        if basis {
            a.basisregistraties = vec!["BRP".into()];
        }
        a.exit_strategy = Some(exit);
        a.explain_reference = explain.into();
        if !sub.is_empty() {
            a.sub_processors = vec![sub.into()];
        }
        let e = eval(vec![a], &scan);
        assert_eq!(
            has(&e, "CB-CONC"),
            fires,
            "special {special} basis {basis} exit {exit} explain '{explain}': {:?}",
            codes(&e)
        );
        if fires {
            let f = e.findings.iter().find(|f| f.code == "CB-CONC").unwrap();
            assert!(f.message.contains("CLOUD Act"), "{}", f.message);
            assert_eq!(f.activity_id.as_deref(), Some("VA-1"));
        }
    }
}

#[test]
fn cb_conc_a_provider_under_eea_law_by_override_is_not_reported() {
    let cat = catalog()
        .clone()
        .with_override_str(
            "o.toml",
            "[[provider]]\nprovider = \"aws\"\naliases = \"aws+amazon\"\nparent = \"EU\"\nhome_country = \"DE\"\nsources = \"https://example.org/x\"\n",
        )
        .unwrap();
    let mut a = compliant("VA-1");
    a.basisregistraties = vec!["BRK".into()];
    a.exit_strategy = Some(false);
    let register = Register {
        source: "test".into(),
        activities: vec![a],
    };
    let run = Run::default();
    let ctx = Context {
        organisation: run.org,
        register: &register,
        catalog: &cat,
        pack: pack(),
        rules: &run.rules,
        matching: &run.matching,
        lang: Lang::En,
    };
    let scan = scan_on(
        "2025-06-01",
        vec![bucket("a", Some("VA-1"), "eu-west-1", &[])],
        vec![],
    );
    let e = evaluate(&ctx, &scan, None);
    assert!(has(&e, "CB-EXIT"), "{:?}", codes(&e));
    assert!(!has(&e, "CB-CONC"), "{:?}", codes(&e));
}

#[test]
fn cb_conc_share_of_material_activities_on_one_provider_against_the_threshold() {
    // (material activities, of which on AWS (rest declared Azure), threshold, min, fires)
    let cases: &[(usize, usize, u8, usize, bool)] = &[
        (10, 8, 75, 10, true),
        (10, 7, 75, 10, false),
        (10, 10, 100, 10, false),
        (9, 9, 75, 10, false),
        (4, 3, 50, 2, true),
    ];
    for &(n, on_aws, max, min, fires) in cases {
        let activities: Vec<Activity> = (0..n)
            .map(|i| {
                let mut a = compliant(&format!("VA-{i}"));
                if i >= on_aws {
                    a.providers = vec!["Microsoft Azure".into()];
                }
                a
            })
            .collect();
        let resources = (0..on_aws)
            .map(|i| bucket(&format!("b{i}"), Some(&format!("VA-{i}")), "eu-west-1", &[]))
            .collect();
        let mut run = Run::default();
        run.rules.max_provider_share = max;
        run.rules.concentration_min_activities = min;
        let e = run.eval(activities, &scan_on("2025-06-01", resources, vec![]));
        let org: Vec<&Finding> = e
            .findings
            .iter()
            .filter(|f| f.code == "CB-CONC" && f.activity_id.is_none())
            .collect();
        assert_eq!(!org.is_empty(), fires, "{n} {on_aws} {max} {min}: {org:?}");
        if fires {
            assert_eq!(org[0].provider, Some(Provider::Aws));
            assert!(
                org[0].message.contains(&format!("{on_aws} of the {n}")),
                "{}",
                org[0].message
            );
        }
    }
}
