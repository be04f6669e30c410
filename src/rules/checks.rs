//! The logic behind each rule code. One pass over the resources gathers per-activity
//! facts and per-resource findings; activity-level rules then run on those facts.
//!
//! Hot path (a million resources): placements are cached per (provider, location
//! spelling), matching is hash lookups, and accumulators borrow strings from the scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use cloudcensus_core::{
    ClassifyOptions, CoverageStatus, JurisdictionClass, Placement, Provider, Resource, ScanData,
};
use serde::{Deserialize, Serialize};

use super::{Context, Finding, Lang};
use crate::matching::Matcher;
use crate::register::{
    Activity, ActivityStatus, C2000Check, Classification, CloudType, RightToAudit, TransferBasis,
    YesNoNa,
};

/// First and last observation of a resource across scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenRange {
    /// First scan date that saw it.
    pub first: NaiveDate,
    /// Last scan date that saw it.
    pub last: NaiveDate,
}

/// A location where an activity's data was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLocation {
    /// Provider.
    pub provider: Provider,
    /// Canonical location.
    pub location: String,
    /// Countries.
    pub countries: Vec<String>,
    /// Class on the scan date.
    pub class: JurisdictionClass,
    /// Basis (EEA, decision id, reason).
    pub basis: String,
    /// Whether this location was seen only as a replica.
    pub replica_only: bool,
    /// Resources with data here.
    pub resources: usize,
}

/// What the scan shows about one register activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFacts {
    /// Activity id as in the register.
    pub activity_id: String,
    /// Index in `register.activities`.
    pub index: usize,
    /// Linked resources.
    pub resources: usize,
    /// Linked data-bearing resources.
    pub data_bearing: usize,
    /// Providers seen.
    pub providers: BTreeSet<Provider>,
    /// Resource counts per type.
    pub by_type: BTreeMap<String, usize>,
    /// Observed locations (primary and replica), worst class first.
    pub locations: Vec<ObservedLocation>,
    /// The worst class over all locations (None when nothing was observed).
    pub worst_class: Option<JurisdictionClass>,
    /// First time any linked resource was seen.
    pub first_seen: Option<NaiveDate>,
    /// Last time any linked resource was seen.
    pub last_seen: Option<NaiveDate>,
}

/// A data-bearing resource that is not counted as material use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedResource {
    /// Index in `scan.resources`.
    pub index: usize,
    /// Why (configured exclusion or non-material activity reason).
    pub reason: String,
}

/// The result of evaluating one scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The date classification used (the scan's date).
    pub reference_date: NaiveDate,
    /// The rule pack.
    pub rule_pack: String,
    /// True for Defensie: only CB-DEF is reported.
    pub out_of_scope: bool,
    /// All findings, deterministic order (severity, code, activity, scope, resource).
    pub findings: Vec<Finding>,
    /// One entry per register activity, in register order.
    pub activities: Vec<ActivityFacts>,
    /// Data-bearing resources not counted as material use.
    pub excluded: Vec<ExcludedResource>,
    /// Indexes of unregistered data-bearing resources (the CB-UNREG ones), with their
    /// first/last seen.
    pub unregistered: Vec<(usize, SeenRange)>,
    /// Resources in the scan.
    pub resources_total: usize,
    /// Data-bearing resources.
    pub data_bearing_total: usize,
    /// Resources linked to at least one activity.
    pub registered_total: usize,
    /// Resources by their worst location class.
    pub by_class: BTreeMap<JurisdictionClass, usize>,
    /// Resources by provider.
    pub by_provider: BTreeMap<Provider, usize>,
    /// Coverage: share of entries without a gap, percent.
    pub coverage_percent: f64,
    /// Findings dropped by `allow` overrides, per code.
    pub allowed: BTreeMap<String, usize>,
}

#[derive(Default)]
struct Acc<'s> {
    resources: usize,
    data_bearing: usize,
    first_resource: Option<&'s Resource>,
    providers: BTreeSet<Provider>,
    by_type: HashMap<&'s str, usize>,
    // canonical location (index into `canon`) -> (count, replica_only); an index, so
    // counting a resource needs no allocation.
    locations: HashMap<usize, (usize, bool)>,
    first_seen: Option<NaiveDate>,
    last_seen: Option<NaiveDate>,
}

/// The message in the evaluation language. A macro, not a function, so only the chosen
/// language's text is formatted (evaluation emits a message per finding; formatting both
/// doubled the cost of a million-resource evaluation).
macro_rules! t {
    ($lang:expr, $nl:expr, $en:expr $(,)?) => {
        match $lang {
            Lang::Nl => $nl,
            Lang::En => $en,
        }
    };
}

struct Emitter<'c> {
    ctx: &'c Context<'c>,
    out: Vec<Finding>,
}

impl Emitter<'_> {
    fn base(&self, code: &str, message: String) -> Option<Finding> {
        let rule = self.ctx.pack.rule(code)?;
        Some(Finding {
            code: code.to_string(),
            severity: rule.severity,
            clause: rule.clause.clone(),
            provider: None,
            scope: None,
            region: None,
            countries: Vec::new(),
            class: None,
            resource_id: None,
            resource_type: None,
            activity_id: None,
            message,
            action: rule.action(self.ctx.lang).to_string(),
            suppressed: None,
        })
    }

    fn resource(
        &mut self,
        code: &str,
        r: &Resource,
        place: Option<&Placement>,
        activity: Option<&str>,
        message: String,
    ) {
        if let Some(mut f) = self.base(code, message) {
            f.provider = Some(r.provider);
            f.scope = Some(r.scope_id.clone());
            f.resource_id = Some(r.id.clone());
            f.resource_type = Some(r.resource_type.clone());
            f.activity_id = activity.map(str::to_string);
            match place {
                Some(p) => {
                    f.region = Some(p.location.clone());
                    f.countries = p.countries.clone();
                    f.class = Some(p.class);
                }
                None => f.region = r.location.clone(),
            }
            self.out.push(f);
        }
    }

    fn activity(
        &mut self,
        code: &str,
        a: &Activity,
        sample: Option<&Resource>,
        loc: Option<&ObservedLocation>,
        message: String,
    ) {
        if let Some(mut f) = self.base(code, message) {
            f.activity_id = Some(a.id.clone());
            if let Some(r) = sample {
                f.provider = Some(r.provider);
                f.scope = Some(r.scope_id.clone());
                f.resource_id = Some(r.id.clone());
                f.resource_type = Some(r.resource_type.clone());
            }
            if let Some(l) = loc {
                f.provider = Some(l.provider);
                f.region = Some(l.location.clone());
                f.countries = l.countries.clone();
                f.class = Some(l.class);
            }
            self.out.push(f);
        }
    }
}

/// Maps the free-text provider names of the register to scanned providers.
fn register_providers(a: &Activity) -> BTreeSet<Provider> {
    let mut out = BTreeSet::new();
    for p in &a.providers {
        let l = p.to_ascii_lowercase();
        if l.contains("aws") || l.contains("amazon") {
            out.insert(Provider::Aws);
        }
        if l.contains("azure") || l.contains("microsoft") {
            out.insert(Provider::Azure);
        }
        if l.contains("google") || l.contains("gcp") {
            out.insert(Provider::Gcp);
        }
    }
    out
}

/// Whether an observed location is covered by the register's declared locations:
/// its canonical name is declared, or all its countries are declared ISO codes, or
/// `EER`/`EEA`/`EU` is declared and it is in the EEA.
fn is_declared(ctx: &Context<'_>, a: &Activity, l: &ObservedLocation) -> bool {
    let mut countries = BTreeSet::new();
    for d in &a.declared_locations {
        let d = d.trim();
        let upper = d.to_ascii_uppercase();
        if matches!(upper.as_str(), "EER" | "EEA" | "EU" | "EU/EER")
            && l.class == JurisdictionClass::Eea
        {
            return true;
        }
        if d.len() == 2 && d.chars().all(|c| c.is_ascii_alphabetic()) {
            countries.insert(upper);
            continue;
        }
        if ctx.catalog.normalise(l.provider, d) == l.location {
            return true;
        }
    }
    !l.countries.is_empty() && l.countries.iter().all(|c| countries.contains(c))
}

fn classification_tag(ctx: &Context<'_>, r: &Resource) -> Option<Classification> {
    let keys = &ctx.rules.classification_tag_keys;
    let value = r
        .tags
        .iter()
        .find(|(k, _)| keys.iter().any(|want| want.eq_ignore_ascii_case(k.trim())))?
        .1;
    let v: String = value
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match v.as_str() {
        "stgconfidentieel" | "staatsgeheimconfidentieel" => Some(Classification::StgConfidentieel),
        "stggeheim" | "staatsgeheimgeheim" => Some(Classification::StgGeheim),
        "stgzeergeheim" | "staatsgeheimzeergeheim" => Some(Classification::StgZeerGeheim),
        "departementaalvertrouwelijk" | "dv" => Some(Classification::DepartementaalVertrouwelijk),
        _ => None,
    }
}

pub(super) fn run(
    ctx: &Context<'_>,
    scan: &ScanData,
    seen: Option<&BTreeMap<String, SeenRange>>,
) -> Evaluation {
    let date = scan.reference_date();
    let lang = ctx.lang;
    let mut em = Emitter {
        ctx,
        out: Vec::new(),
    };
    let mut eval = Evaluation {
        reference_date: date,
        rule_pack: ctx.pack.name.clone(),
        out_of_scope: false,
        findings: Vec::new(),
        activities: Vec::new(),
        excluded: Vec::new(),
        unregistered: Vec::new(),
        resources_total: scan.resources.len(),
        data_bearing_total: 0,
        registered_total: 0,
        by_class: BTreeMap::new(),
        by_provider: BTreeMap::new(),
        coverage_percent: scan.coverage_percent(),
        allowed: BTreeMap::new(),
    };

    let org = ctx.organisation.to_lowercase();
    if org.contains("defensie") || org.contains("ministry of defence") {
        eval.out_of_scope = true;
        if let Some(f) = em.base(
            "CB-DEF",
            t!(
                lang,
                format!(
                    "{} valt buiten de scope van het cloudbeleid.",
                    ctx.organisation
                ),
                format!("{} is outside the scope of the policy.", ctx.organisation),
            ),
        ) {
            eval.findings.push(f);
        }
        return eval;
    }

    let matcher = Matcher::new(ctx.register, &scan.scopes, &scan.groups, ctx.matching);
    let n_act = ctx.register.activities.len();
    let mut acc: Vec<Acc<'_>> = (0..n_act).map(|_| Acc::default()).collect();
    let mut places: HashMap<(Provider, &str), Placement> = HashMap::new();
    // Canonical locations seen, interned: (provider, location) by index.
    let mut canon: Vec<(Provider, String)> = Vec::new();
    let mut canon_ids: HashMap<(Provider, String), usize> = HashMap::new();
    let mut raw_canon: HashMap<(Provider, &str), usize> = HashMap::new();
    let mut scanned_providers: BTreeSet<Provider> = BTreeSet::new();
    for c in &scan.coverage {
        if c.status == CoverageStatus::Scanned {
            scanned_providers.insert(c.provider);
        }
    }

    for (idx, r) in scan.resources.iter().enumerate() {
        scanned_providers.insert(r.provider);
        *eval.by_provider.entry(r.provider).or_insert(0) += 1;
        let data_bearing = r.category.is_data_bearing();
        if data_bearing {
            eval.data_bearing_total += 1;
        }
        let opts = ClassifyOptions {
            dpf_certified: ctx.rules.dpf(r.provider),
        };
        // Placements of every location, primary first.
        let mut worst: Option<JurisdictionClass> = None;
        let mut locs: Vec<(&Placement, bool)> = Vec::new();
        let all: Vec<(&str, bool)> = r
            .location
            .iter()
            .map(|l| (l.as_str(), false))
            .chain(r.replica_locations.iter().map(|l| (l.as_str(), true)))
            .collect();
        for (raw, _) in &all {
            places.entry((r.provider, raw)).or_insert_with(|| {
                let p = ctx.catalog.classify(r.provider, raw, date, opts);
                let key = (r.provider, p.location.clone());
                let next = canon.len();
                let id = *canon_ids.entry(key.clone()).or_insert(next);
                if id == next {
                    canon.push(key);
                }
                raw_canon.insert((r.provider, *raw), id);
                p
            });
        }
        for (raw, replica) in &all {
            let p = &places[&(r.provider, *raw)];
            worst = worst.max(Some(p.class));
            locs.push((p, *replica));
        }
        let worst = worst.unwrap_or(JurisdictionClass::Unknown);
        *eval.by_class.entry(worst).or_insert(0) += 1;

        let m = matcher.resource(r);
        let first_act = m
            .activities
            .first()
            .map(|&i| ctx.register.activities[i].id.as_str());

        // Per-resource rules.
        for (p, replica) in &locs {
            if p.class == JurisdictionClass::C2000Excluded {
                let what = if *replica { "replica " } else { "" };
                em.resource(
                    "CB-C2000",
                    r,
                    Some(p),
                    first_act,
                    t!(
                        lang,
                        format!(
                            "{} '{}' heeft een {}locatie in {} ({}), een C2000-uitgesloten land.",
                            r.resource_type,
                            r.name,
                            if *replica { "replica-" } else { "" },
                            p.location,
                            p.countries.join("+")
                        ),
                        format!(
                            "{} '{}' has a {}location in {} ({}), a C2000-excluded country.",
                            r.resource_type,
                            r.name,
                            what,
                            p.location,
                            p.countries.join("+")
                        ),
                    ),
                );
            }
        }
        if data_bearing {
            let unknown = locs
                .iter()
                .find(|(p, _)| p.class == JurisdictionClass::Unknown);
            if r.location.is_none() {
                em.resource(
                    "CB-LOC-UNKNOWN",
                    r,
                    None,
                    first_act,
                    t!(
                        lang,
                        format!(
                            "{} '{}' heeft geen locatie opgegeven.",
                            r.resource_type, r.name
                        ),
                        format!("{} '{}' reports no location.", r.resource_type, r.name),
                    ),
                );
            } else if let Some((p, _)) = unknown {
                em.resource(
                    "CB-LOC-UNKNOWN",
                    r,
                    Some(p),
                    first_act,
                    t!(
                        lang,
                        format!(
                            "{} '{}' staat op '{}': {}.",
                            r.resource_type, r.name, p.input, p.basis
                        ),
                        format!(
                            "{} '{}' is in '{}': {}.",
                            r.resource_type, r.name, p.input, p.basis
                        ),
                    ),
                );
            }
        }
        for (key, value) in &m.unknown_ids {
            em.resource(
                "CB-UNKNOWN-ID",
                r,
                locs.first().map(|(p, _)| *p),
                None,
                t!(
                    lang,
                    format!(
                        "Tag {key}={value} op {} '{}' noemt een verwerking die niet in het register staat.",
                        r.resource_type, r.name
                    ),
                    format!(
                        "Tag {key}={value} on {} '{}' names an activity the register does not have.",
                        r.resource_type, r.name
                    ),
                ),
            );
        }
        if let Some(c) = classification_tag(ctx, r).filter(|c| c.is_above_dv()) {
            em.resource(
                "CB-RUB",
                r,
                locs.first().map(|(p, _)| *p),
                first_act,
                t!(
                    lang,
                    format!(
                        "{} '{}' is getagd met rubricering '{}' en staat in de publieke cloud.",
                        r.resource_type, r.name, c
                    ),
                    format!(
                        "{} '{}' is tagged with classification '{}' and is in public cloud.",
                        r.resource_type, r.name, c
                    ),
                ),
            );
        }

        let range = seen
            .and_then(|s| s.get(&r.id).copied())
            .unwrap_or(SeenRange {
                first: date,
                last: date,
            });

        if m.activities.is_empty() {
            if data_bearing {
                if let Some(reason) = m.excluded {
                    eval.excluded.push(ExcludedResource { index: idx, reason });
                } else {
                    eval.unregistered.push((idx, range));
                    em.resource(
                        "CB-UNREG",
                        r,
                        locs.first().map(|(p, _)| *p),
                        None,
                        t!(
                            lang,
                            format!(
                                "{} '{}' ({}) is aan geen verwerking gekoppeld.",
                                r.resource_type, r.name, r.category
                            ),
                            format!(
                                "{} '{}' ({}) is linked to no register activity.",
                                r.resource_type, r.name, r.category
                            ),
                        ),
                    );
                }
            }
            continue;
        }

        eval.registered_total += 1;
        let all_non_material = m.activities.iter().all(|&i| {
            let a = &ctx.register.activities[i];
            !a.material && !a.material_reason.trim().is_empty()
        });
        if data_bearing && all_non_material {
            let reason = m
                .activities
                .iter()
                .map(|&i| ctx.register.activities[i].material_reason.trim())
                .collect::<Vec<_>>()
                .join("; ");
            eval.excluded.push(ExcludedResource { index: idx, reason });
        }
        for &i in &m.activities {
            let a = &mut acc[i];
            a.resources += 1;
            if data_bearing {
                a.data_bearing += 1;
            }
            a.first_resource.get_or_insert(r);
            a.providers.insert(r.provider);
            *a.by_type.entry(r.resource_type.as_str()).or_insert(0) += 1;
            for (raw, replica) in &all {
                let e = a
                    .locations
                    .entry(raw_canon[&(r.provider, *raw)])
                    .or_insert((0, true));
                e.0 += 1;
                e.1 &= *replica;
            }
            a.first_seen = Some(a.first_seen.map_or(range.first, |f| f.min(range.first)));
            a.last_seen = Some(a.last_seen.map_or(range.last, |l| l.max(range.last)));
        }
    }

    // Coverage gaps.
    for c in scan.coverage.iter().filter(|c| c.status.is_gap()) {
        if let Some(mut f) = em.base(
            "CB-COVERAGE",
            t!(
                lang,
                format!(
                    "{} {} regio {} dienst {}: {} ({}).",
                    c.provider,
                    c.scope_id,
                    c.region,
                    c.service,
                    c.status,
                    c.message.as_deref().unwrap_or("-")
                ),
                format!(
                    "{} {} region {} service {}: {} ({}).",
                    c.provider,
                    c.scope_id,
                    c.region,
                    c.service,
                    c.status,
                    c.message.as_deref().unwrap_or("-")
                ),
            ),
        ) {
            f.provider = Some(c.provider);
            f.scope = Some(c.scope_id.clone());
            f.region = Some(c.region.clone());
            em.out.push(f);
        }
    }

    // Activity facts and activity-level rules.
    for (i, (a, ac)) in ctx.register.activities.iter().zip(acc).enumerate() {
        let mut locations: Vec<ObservedLocation> = ac
            .locations
            .into_iter()
            .map(|(id, (count, replica_only))| {
                let (provider, location) = (canon[id].0, canon[id].1.as_str());
                let p = places
                    .values()
                    .find(|p| p.provider == provider && p.location == location)
                    .expect("placement cached for every observed location");
                ObservedLocation {
                    provider,
                    location: location.to_string(),
                    countries: p.countries.clone(),
                    class: p.class,
                    basis: p.basis.clone(),
                    replica_only,
                    resources: count,
                }
            })
            .collect();
        locations.sort_by(|x, y| {
            y.class
                .cmp(&x.class)
                .then(x.provider.cmp(&y.provider))
                .then(x.location.cmp(&y.location))
        });
        let facts = ActivityFacts {
            activity_id: a.id.clone(),
            index: i,
            resources: ac.resources,
            data_bearing: ac.data_bearing,
            providers: ac.providers,
            by_type: ac
                .by_type
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            worst_class: locations.first().map(|l| l.class),
            locations,
            first_seen: ac.first_seen,
            last_seen: ac.last_seen,
        };
        activity_rules(&mut em, a, &facts, ac.first_resource, &scanned_providers);
        eval.activities.push(facts);
    }

    eval.findings = finish(ctx, em.out, date, &mut eval.allowed);
    eval
}

fn activity_rules(
    em: &mut Emitter<'_>,
    a: &Activity,
    f: &ActivityFacts,
    sample: Option<&Resource>,
    scanned: &BTreeSet<Provider>,
) {
    let lang = em.ctx.lang;
    let linked = f.resources > 0;
    let in_cloud = linked || (a.declares_public_cloud() && a.is_active());
    let name = &a.name;

    if a.is_staatsgeheim() && linked {
        em.activity(
            "CB-STG",
            a,
            sample,
            None,
            t!(
                lang,
                format!(
                    "Verwerking '{name}' is gerubriceerd als {} en heeft {} resource(s) in de publieke cloud.",
                    a.classification.map(|c| c.label()).unwrap_or_default(),
                    f.resources
                ),
                format!(
                    "Activity '{name}' is classified {} and has {} resource(s) in public cloud.",
                    a.classification.map(|c| c.label()).unwrap_or_default(),
                    f.resources
                ),
            ),
        );
    } else if a.classification.is_some_and(Classification::is_above_dv)
        && a.declares_public_cloud()
        && a.is_active()
    {
        em.activity(
            "CB-RUB",
            a,
            None,
            None,
            t!(
                lang,
                format!(
                    "Het register vermeldt publiek cloudgebruik voor '{name}', gerubriceerd als {}.",
                    a.classification.map(|c| c.label()).unwrap_or_default()
                ),
                format!(
                    "The register states public cloud use for '{name}', classified {}.",
                    a.classification.map(|c| c.label()).unwrap_or_default()
                ),
            ),
        );
    }

    if in_cloud && a.personal_data {
        if a.prescan_dpia.is_none() {
            em.activity(
                "CB-DPIA",
                a,
                sample,
                None,
                t!(
                    lang,
                    format!("'{name}' verwerkt persoonsgegevens in de publieke cloud zonder vastgestelde pre-scan DPIA."),
                    format!("'{name}' processes personal data in public cloud without an approved pre-scan DPIA."),
                ),
            );
        }
        let formal_done = a.formal_dpia == Some(YesNoNa::Yes) && a.formal_dpia_date.is_some();
        if a.high_risk && !formal_done {
            em.activity(
                "CB-DPIA",
                a,
                sample,
                None,
                t!(
                    lang,
                    format!("'{name}' heeft een hoog risico maar geen formele DPIA met datum."),
                    format!("'{name}' is high risk but has no dated formal DPIA."),
                ),
            );
        }
    }

    if in_cloud && a.exit_strategy != Some(true) {
        em.activity(
            "CB-EXIT",
            a,
            sample,
            None,
            t!(
                lang,
                format!("Voor '{name}' is geen exitstrategie in de overeenkomst geregistreerd."),
                format!("No exit strategy in the contract is recorded for '{name}'."),
            ),
        );
    }

    if in_cloud
        && !matches!(
            a.right_to_audit,
            Some(RightToAudit::Yes | RightToAudit::ViaSlm)
        )
    {
        em.activity(
            "CB-AUDIT",
            a,
            sample,
            None,
            t!(
                lang,
                format!("Voor '{name}' is geen right-to-audit of SLM-zekerheid geregistreerd."),
                format!("No right-to-audit or SLM assurance is recorded for '{name}'."),
            ),
        );
    }

    if in_cloud {
        let mut missing: Vec<&str> = Vec::new();
        if a.providers.is_empty() {
            missing.push(if lang == Lang::Nl {
                "dienstverlener"
            } else {
                "provider"
            });
        }
        if a.service_model.is_none() {
            missing.push(if lang == Lang::Nl {
                "type dienstverlening"
            } else {
                "service model"
            });
        }
        if matches!(a.cloud_type, None | Some(CloudType::Unknown)) {
            missing.push(if lang == Lang::Nl {
                "type cloud"
            } else {
                "cloud type"
            });
        }
        if a.declared_locations.is_empty() {
            missing.push(if lang == Lang::Nl {
                "regio/locatie"
            } else {
                "region/location"
            });
        }
        if !missing.is_empty() {
            em.activity(
                "CB-CHAR",
                a,
                sample,
                None,
                t!(
                    lang,
                    format!("Het register mist voor '{name}': {}.", missing.join(", ")),
                    format!("The register lacks for '{name}': {}.", missing.join(", ")),
                ),
            );
        }
    }

    if in_cloud && a.c2000_check == Some(C2000Check::Failed) {
        em.activity(
            "CB-C2000",
            a,
            sample,
            None,
            t!(
                lang,
                format!(
                    "De C2000-toets voor '{name}' is niet doorstaan (leverancier of onderaannemer)."
                ),
                format!("The C2000 check for '{name}' failed (provider or sub-processor)."),
            ),
        );
    }

    // Condition 8: the decision on the cloud use and its DPIA is published by default.
    let decided =
        a.prescan_dpia.is_some() || a.formal_dpia_date.is_some() || a.decision_date.is_some();
    if in_cloud && decided && a.woo_publication.trim().is_empty() {
        em.activity(
            "CB-WOO",
            a,
            None,
            None,
            t!(
                lang,
                format!("Het DPIA-besluit voor '{name}' is niet gepubliceerd (Woo)."),
                format!("The DPIA decision for '{name}' is not published (Woo)."),
            ),
        );
    }

    // Conditions 9 and 10: observed locations outside the EEA and adequacy.
    let outside: Vec<&ObservedLocation> = f
        .locations
        .iter()
        .filter(|l| l.class.needs_safeguards())
        .collect();
    let safeguards = a.transfer_basis == Some(TransferBasis::Safeguards);
    let sent = a.dpia_sent_to_cio.is_some();
    if a.has_special_categories() {
        let explained = safeguards && !a.explain_reference.trim().is_empty();
        for l in &outside {
            if explained && sent {
                continue;
            }
            let (nl, en) = if explained {
                (
                    format!(
                        "Bijzondere persoonsgegevens van '{name}' staan in {} ({}); 9c met explain, maar de explain is niet naar CIO Rijk gestuurd.",
                        l.location,
                        l.countries.join("+")
                    ),
                    format!(
                        "Special-category data of '{name}' is in {} ({}); 9c with an explain, but the explain was not sent to CIO Rijk.",
                        l.location,
                        l.countries.join("+")
                    ),
                )
            } else {
                (
                    format!(
                        "Bijzondere persoonsgegevens van '{name}' staan in {} ({}, {}) zonder 9c met explain.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                    format!(
                        "Special-category data of '{name}' is in {} ({}, {}) without 9c and an explain.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                )
            };
            em.activity("CB-BPD-LOC", a, None, Some(l), t!(lang, nl, en));
        }
    } else if a.personal_data {
        for l in &outside {
            if safeguards && sent {
                continue;
            }
            let (nl, en) = if safeguards {
                (
                    format!(
                        "Persoonsgegevens van '{name}' staan in {} ({}); 9c is geregeld, maar de DPIA is niet naar CIO Rijk gestuurd.",
                        l.location,
                        l.countries.join("+")
                    ),
                    format!(
                        "Personal data of '{name}' is in {} ({}); 9c is in place, but the DPIA was not sent to CIO Rijk.",
                        l.location,
                        l.countries.join("+")
                    ),
                )
            } else {
                (
                    format!(
                        "Persoonsgegevens van '{name}' staan in {} ({}, {}) zonder 9c-waarborg.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                    format!(
                        "Personal data of '{name}' is in {} ({}, {}) without a 9c safeguard.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                )
            };
            em.activity("CB-PD-LOC", a, None, Some(l), t!(lang, nl, en));
        }
    }

    if a.has_basisregistratie() && linked {
        let regs = a.basisregistraties.join(", ");
        let explained = !a.explain_reference.trim().is_empty();
        let advice_prior = a.cio_advice_prior();
        if !explained || !advice_prior {
            let why_nl = if !explained {
                "zonder explain".to_string()
            } else if a.cio_advice_date.is_none() {
                "zonder advies van CIO Rijk".to_string()
            } else {
                "met advies van CIO Rijk ná het besluit".to_string()
            };
            let why_en = if !explained {
                "without an explain".to_string()
            } else if a.cio_advice_date.is_none() {
                "without CIO Rijk advice".to_string()
            } else {
                "with CIO Rijk advice dated after the decision".to_string()
            };
            em.activity(
                "CB-BASIS",
                a,
                sample,
                None,
                t!(
                    lang,
                    format!(
                        "'{name}' bevat basisregistratie {regs} in de publieke cloud {why_nl}."
                    ),
                    format!("'{name}' holds key register {regs} in public cloud {why_en}."),
                ),
            );
        }
    }

    if linked && !a.declared_locations.is_empty() {
        for l in &f.locations {
            if !is_declared(em.ctx, a, l) {
                em.activity(
                    "CB-DRIFT",
                    a,
                    None,
                    Some(l),
                    t!(
                        lang,
                        format!(
                            "'{name}' heeft gegevens in {} ({}{}), niet in de gedeclareerde locaties {}.",
                            l.location,
                            l.countries.join("+"),
                            if l.replica_only { ", replica" } else { "" },
                            a.declared_locations.join(", ")
                        ),
                        format!(
                            "'{name}' has data in {} ({}{}), not among the declared locations {}.",
                            l.location,
                            l.countries.join("+"),
                            if l.replica_only { ", replica" } else { "" },
                            a.declared_locations.join(", ")
                        ),
                    ),
                );
            }
        }
    }

    let watched: BTreeSet<Provider> = register_providers(a)
        .intersection(scanned)
        .copied()
        .collect();
    if !linked
        && a.status == Some(ActivityStatus::InUse)
        && a.declares_public_cloud()
        && !watched.is_empty()
    {
        let list = watched
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        em.activity(
            "CB-STALE",
            a,
            None,
            None,
            t!(
                lang,
                format!("'{name}' staat in gebruik bij {list}, maar de scan vond geen resources die erbij horen."),
                format!("'{name}' is in use on {list}, but the scan found no resources for it."),
            ),
        );
    }
}

/// Applies severity overrides and suppressions, adds suppression diagnostics, sorts.
fn finish(
    ctx: &Context<'_>,
    raw: Vec<Finding>,
    date: NaiveDate,
    allowed: &mut BTreeMap<String, usize>,
) -> Vec<Finding> {
    let lang = ctx.lang;
    let mut out: Vec<Finding> = Vec::with_capacity(raw.len());
    for mut f in raw {
        match ctx.rules.severity.get(&f.code).map(|o| o.apply()) {
            Some(None) => {
                *allowed.entry(f.code.clone()).or_insert(0) += 1;
                continue;
            }
            Some(Some(s)) => f.severity = s,
            None => {}
        }
        out.push(f);
    }
    let mut extra = Vec::new();
    for s in &ctx.rules.suppress {
        let expired = s.expires < date;
        let mut matched = 0usize;
        for f in out.iter_mut().filter(|f| f.code == s.code) {
            let res_ok = s.resource.as_deref().is_none_or(|want| {
                f.resource_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(want))
            });
            let act_ok = s.activity.as_deref().is_none_or(|want| {
                f.activity_id.as_deref().is_some_and(|id| {
                    crate::register::normalise_id(id) == crate::register::normalise_id(want)
                })
            });
            if res_ok && act_ok && (s.resource.is_some() || s.activity.is_some()) {
                matched += 1;
                if !expired {
                    f.suppressed = Some(s.reason.clone());
                }
            }
        }
        let target = s
            .resource
            .clone()
            .or_else(|| s.activity.clone())
            .unwrap_or_default();
        let em = Emitter {
            ctx,
            out: Vec::new(),
        };
        if expired && matched > 0 {
            if let Some(mut f) = em.base(
                "CB-SUPPRESS-EXPIRED",
                t!(
                    lang,
                    format!(
                        "Uitzondering {} voor {target} is verlopen op {} (reden: {}).",
                        s.code, s.expires, s.reason
                    ),
                    format!(
                        "Suppression {} for {target} expired on {} (reason: {}).",
                        s.code, s.expires, s.reason
                    ),
                ),
            ) {
                f.resource_id = s.resource.clone();
                f.activity_id = s.activity.clone();
                extra.push(f);
            }
        } else if matched == 0
            && let Some(mut f) = em.base(
                "CB-SUPPRESS-UNMATCHED",
                t!(
                    lang,
                    format!(
                        "Uitzondering {} voor {target} paste op geen enkele bevinding.",
                        s.code
                    ),
                    format!("Suppression {} for {target} matched no finding.", s.code),
                ),
            )
        {
            f.resource_id = s.resource.clone();
            f.activity_id = s.activity.clone();
            extra.push(f);
        }
    }
    out.extend(extra);
    // A stable sort of indices, then one permutation: the same order as sorting the
    // findings themselves, without moving ~250-byte structs around a million times.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&out[i], &out[j]);
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.activity_id.cmp(&b.activity_id))
            .then_with(|| a.provider.cmp(&b.provider))
            .then_with(|| a.scope.cmp(&b.scope))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
            .then_with(|| a.region.cmp(&b.region))
            .then_with(|| a.message.cmp(&b.message))
    });
    let mut slots: Vec<Option<Finding>> = out.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect()
}
