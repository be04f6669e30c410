//! The logic behind each rule code. One pass over the resources gathers per-activity
//! facts and per-resource findings; activity-level rules then run on those facts.
//!
//! Hot path (a million resources): placements are cached per (provider, location
//! spelling), matching is hash lookups, and accumulators borrow strings from the scan.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use cloudcensus_core::{
    ClassifyOptions, Coverage, CoverageStatus, JurisdictionClass, Placement, Provider, Resource,
    ResourceGroup, ScanData, ScanMeta, Scope, coverage_percent,
};
use serde::{Deserialize, Serialize};

use super::shared::{FastMap, Interner};
use super::{Context, Countries, Finding, Lang, SharedStr};
use crate::matching::Matcher;
use crate::register::{
    Activity, ActivityStatus, C2000Check, Classification, CloudType, Fact, RightToAudit,
    TransferBasis, YesNoNa,
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
    /// Data-bearing resources by provider.
    #[serde(default)]
    pub data_bearing_by_provider: BTreeMap<Provider, usize>,
    /// Coverage: share of entries without a gap, percent.
    pub coverage_percent: f64,
    /// Findings dropped by `allow` overrides, per code.
    pub allowed: BTreeMap<String, usize>,
}

impl Evaluation {
    /// Scan indexes of the resources a report lists (unregistered and excluded ones),
    /// ascending.
    pub fn listed(&self) -> Vec<usize> {
        listed_indexes(&self.unregistered, &self.excluded)
    }
}

fn listed_indexes(
    unregistered: &[(usize, SeenRange)],
    excluded: &[ExcludedResource],
) -> Vec<usize> {
    let mut out: Vec<usize> = unregistered
        .iter()
        .map(|u| u.0)
        .chain(excluded.iter().map(|x| x.index))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[derive(Default)]
struct Acc {
    resources: usize,
    data_bearing: usize,
    /// The first linked resource (a sample for activity-level findings).
    first_resource: Option<Resource>,
    providers: BTreeSet<Provider>,
    // resource type (index into `type_names`) -> count
    by_type: FastMap<usize, usize>,
    // canonical location (index into `canon`) -> (count, replica_only); an index, so
    // counting a resource needs no allocation.
    locations: FastMap<usize, (usize, bool)>,
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

/// A rule's texts, shared by every finding of that code.
struct RuleText {
    code: SharedStr,
    severity: super::Severity,
    clause: SharedStr,
    action: SharedStr,
}

/// `format!` into a reused per-thread buffer, then one allocation of exactly the
/// message's length: `format!`'s own estimate is the literal text only, so almost every
/// message grew (reallocated) once or twice, and a generous up-front capacity wastes
/// ~60 bytes per finding, for hundreds of thousands of findings per evaluation.
macro_rules! msg {
    ($($arg:tt)*) => {{
        MSG_BUF.with_borrow_mut(|buf| {
            buf.clear();
            std::fmt::Write::write_fmt(buf, format_args!($($arg)*))
                .expect("writing to a String cannot fail");
            String::from(buf.as_str())
        })
    }};
}

thread_local! {
    /// The buffer [`msg!`] formats into.
    static MSG_BUF: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(512));
}

struct Emitter<'c> {
    ctx: &'c Context<'c>,
    out: Vec<Finding>,
    rules: FastMap<&'c str, RuleText>,
    intern: Interner,
}

impl<'c> Emitter<'c> {
    fn new(ctx: &'c Context<'c>) -> Self {
        let rules = ctx
            .pack
            .rules
            .iter()
            .rev() // the first rule with a code wins, as with `RulePack::rule`
            .map(|r| {
                (
                    r.code.as_str(),
                    RuleText {
                        code: SharedStr::from(r.code.as_str()),
                        severity: r.severity,
                        clause: SharedStr::from(r.clause.as_str()),
                        action: SharedStr::from(r.action(ctx.lang)),
                    },
                )
            })
            .collect();
        Emitter {
            ctx,
            out: Vec::new(),
            rules,
            intern: Interner::default(),
        }
    }

    fn base(&self, code: &str, message: String) -> Option<Finding> {
        let rule = self.rules.get(code)?;
        Some(Finding {
            code: rule.code.clone(),
            severity: rule.severity,
            clause: rule.clause.clone(),
            provider: None,
            scope: None,
            region: None,
            countries: Countries::default(),
            class: None,
            resource_id: None,
            resource_type: None,
            activity_id: None,
            message,
            action: rule.action.clone(),
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
            f.scope = Some(self.intern.str(&r.scope_id));
            f.resource_id = Some(r.id.clone());
            f.resource_type = Some(self.intern.str(&r.resource_type));
            f.activity_id = activity.map(|a| self.intern.str(a));
            match place {
                Some(p) => {
                    f.region = Some(self.intern.str(&p.location));
                    f.countries = self.intern.countries(&p.countries);
                    f.class = Some(p.class);
                }
                None => f.region = r.location.as_deref().map(|l| self.intern.str(l)),
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
            f.activity_id = Some(self.intern.str(&a.id));
            if let Some(r) = sample {
                f.provider = Some(r.provider);
                f.scope = Some(self.intern.str(&r.scope_id));
                f.resource_id = Some(r.id.clone());
                f.resource_type = Some(self.intern.str(&r.resource_type));
            }
            if let Some(l) = loc {
                f.provider = Some(l.provider);
                f.region = Some(self.intern.str(&l.location));
                f.countries = self.intern.countries(&l.countries);
                f.class = Some(l.class);
            }
            self.out.push(f);
        }
    }
}

/// Maps the free-text provider names of the register to scanned providers.
pub(crate) fn register_providers(a: &Activity) -> BTreeSet<Provider> {
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
    seen: Option<&dyn super::SeenLookup>,
) -> Evaluation {
    run_in_parts(ctx, scan, seen, None)
}

/// [`run`], with the resources and activities evaluated in `parts` runs (threads), or as
/// many as there are cores.
pub(super) fn run_in_parts(
    ctx: &Context<'_>,
    scan: &ScanData,
    seen: Option<&dyn super::SeenLookup>,
    parts: Option<usize>,
) -> Evaluation {
    let mut ev = Evaluator::new(
        ctx,
        &scan.meta,
        &scan.scopes,
        &scan.groups,
        scan.resources.len(),
    );
    ev.parts = parts;
    ev.push(&scan.resources, seen);
    ev.finish(&scan.coverage)
}

/// Evaluates one scan whose resources arrive in chunks (e.g. streamed from the store),
/// so a large scan never has to sit in memory whole. Feeding a scan's resources in any
/// split, in scan order, gives exactly [`evaluate`](super::evaluate)'s result.
pub struct Evaluator<'c> {
    ctx: Context<'c>,
    /// `None` for an organisation outside the policy's scope (Defensie).
    matcher: Option<Matcher<'c>>,
    date: NaiveDate,
    /// Threads per chunk and for the activity rules; `None`: one per core.
    parts: Option<usize>,
    state: Option<Part>,
    /// Resources added so far (the next resource's index).
    added: usize,
    /// Findings to make room for up front.
    expected: usize,
}

impl<'c> Evaluator<'c> {
    /// Starts the evaluation of the scan described by `meta`, `scopes` and `groups`
    /// (resources come through [`add`](Self::add)). `expected_resources` sizes the
    /// findings up front (0 if unknown).
    pub fn new(
        ctx: &Context<'c>,
        meta: &ScanMeta,
        scopes: &[Scope],
        groups: &[ResourceGroup],
        expected_resources: usize,
    ) -> Self {
        let org = ctx.organisation.to_lowercase();
        let out_of_scope = org.contains("defensie") || org.contains("ministry of defence");
        Evaluator {
            ctx: *ctx,
            matcher: (!out_of_scope)
                .then(|| Matcher::new(ctx.register, scopes, groups, ctx.matching)),
            date: meta.reference_date(),
            parts: None,
            state: None,
            added: 0,
            expected: expected_resources,
        }
    }

    /// Evaluates the next resources of the scan. `seen` gives first/last observation
    /// dates (else both are the scan date). Returns the scan indexes of the resources
    /// among them that a report lists (unregistered or excluded), ascending.
    pub fn add(
        &mut self,
        resources: &[Resource],
        seen: Option<&dyn super::SeenLookup>,
    ) -> Vec<usize> {
        let (u0, x0) = self.push(resources, seen);
        self.state.as_ref().map_or_else(Vec::new, |s| {
            listed_indexes(&s.unregistered[u0..], &s.excluded[x0..])
        })
    }

    /// [`add`](Self::add) without naming the listed resources; returns how many
    /// unregistered and excluded resources there were before.
    fn push(
        &mut self,
        resources: &[Resource],
        seen: Option<&dyn super::SeenLookup>,
    ) -> (usize, usize) {
        let before = self
            .state
            .as_ref()
            .map_or((0, 0), |s| (s.unregistered.len(), s.excluded.len()));
        let offset = self.added;
        self.added += resources.len();
        let Some(matcher) = &self.matcher else {
            return before;
        };
        let parts = self.parts.unwrap_or_else(|| parts_for(resources.len()));
        let reserve = if self.state.is_none() {
            self.expected.max(resources.len())
        } else {
            resources.len()
        };
        let pass = Pass {
            ctx: &self.ctx,
            matcher,
            date: self.date,
            seen,
        };
        let part = scan_parts(pass, resources, offset, reserve, parts);
        match &mut self.state {
            None => self.state = Some(part),
            Some(state) => merge(state, part),
        }
        before
    }

    /// Resources added so far.
    pub fn resources(&self) -> usize {
        self.added
    }

    /// Runs the activity-level and coverage rules and returns the evaluation.
    pub fn finish(self, coverage: &[Coverage]) -> Evaluation {
        let ctx = &self.ctx;
        let date = self.date;
        let lang = ctx.lang;
        let mut em = Emitter::new(ctx);
        let mut eval = Evaluation {
            reference_date: date,
            rule_pack: ctx.pack.name.clone(),
            out_of_scope: false,
            findings: Vec::new(),
            activities: Vec::new(),
            excluded: Vec::new(),
            unregistered: Vec::new(),
            resources_total: self.added,
            data_bearing_total: 0,
            registered_total: 0,
            by_class: BTreeMap::new(),
            by_provider: BTreeMap::new(),
            data_bearing_by_provider: BTreeMap::new(),
            coverage_percent: coverage_percent(coverage),
            allowed: BTreeMap::new(),
        };
        if self.matcher.is_none() {
            eval.out_of_scope = true;
            if let Some(f) = em.base(
                "CB-DEF",
                t!(
                    lang,
                    msg!(
                        "{} valt buiten de scope van het cloudbeleid.",
                        ctx.organisation
                    ),
                    msg!("{} is outside the scope of the policy.", ctx.organisation),
                ),
            ) {
                eval.findings.push(f);
            }
            return eval;
        }
        let part = self
            .state
            .unwrap_or_else(|| Part::new(ctx.register.activities.len()));
        finish_scan(ctx, &mut em, &mut eval, part, coverage, self.parts);
        eval
    }
}

/// The coverage and activity-level rules on the merged per-resource results, then
/// overrides, suppressions and the sort.
fn finish_scan(
    ctx: &Context<'_>,
    em: &mut Emitter<'_>,
    eval: &mut Evaluation,
    mut part: Part,
    coverage: &[Coverage],
    parts: Option<usize>,
) {
    let lang = ctx.lang;
    let date = eval.reference_date;
    for c in coverage {
        if c.status == CoverageStatus::Scanned {
            part.providers.insert(c.provider);
        }
    }
    let Part {
        findings,
        acc,
        placements,
        canon,
        type_names,
        providers: scanned_providers,
        by_provider,
        data_bearing_by_provider,
        by_class,
        data_bearing,
        registered,
        excluded,
        unregistered,
        ..
    } = part;
    eval.data_bearing_by_provider = data_bearing_by_provider;
    em.out = findings;
    eval.by_provider = by_provider;
    eval.by_class = by_class;
    eval.data_bearing_total = data_bearing;
    eval.registered_total = registered;
    eval.excluded = excluded;
    eval.unregistered = unregistered;

    // Coverage gaps.
    for c in coverage.iter().filter(|c| c.status.is_gap()) {
        if let Some(mut f) = em.base(
            "CB-COVERAGE",
            t!(
                lang,
                msg!(
                    "{} {} regio {} dienst {}: {} ({}).",
                    c.provider,
                    c.scope_id,
                    c.region,
                    c.service,
                    c.status,
                    c.message.as_deref().unwrap_or("-")
                ),
                msg!(
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
            f.scope = Some(em.intern.str(&c.scope_id));
            f.region = Some(em.intern.str(&c.region));
            em.out.push(f);
        }
    }

    // Activity facts and activity-level rules, in runs of activities (threads for a large
    // register), each run's findings appended in register order.
    let activity_run = |first: usize, accs: Vec<Acc>| -> (Vec<Finding>, Vec<ActivityFacts>) {
        let mut em = Emitter::new(ctx);
        let mut facts_out = Vec::with_capacity(accs.len());
        let acts = &ctx.register.activities[first..first + accs.len()];
        for (j, (a, ac)) in acts.iter().zip(accs).enumerate() {
            let i = first + j;
            let mut locations: Vec<ObservedLocation> = ac
                .locations
                .into_iter()
                .map(|(id, (count, replica_only))| {
                    let (provider, location, pi) = (canon[id].0, canon[id].1.as_str(), canon[id].2);
                    let p = &placements[pi];
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
                    .map(|(k, v)| (type_names[k].to_string(), v))
                    .collect(),
                worst_class: locations.first().map(|l| l.class),
                locations,
                first_seen: ac.first_seen,
                last_seen: ac.last_seen,
            };
            activity_rules(
                &mut em,
                a,
                &facts,
                ac.first_resource.as_ref(),
                &scanned_providers,
                date,
            );
            facts_out.push(facts);
        }
        (em.out, facts_out)
    };
    let n_act = acc.len();
    let runs = parts
        .unwrap_or_else(cores)
        .min(n_act / MIN_ACTIVITY_RUN)
        .max(1);
    let chunk = n_act.div_ceil(runs).max(1);
    let mut chunks: Vec<(usize, Vec<Acc>)> = Vec::with_capacity(runs);
    let mut rest = acc;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        chunks.push((chunks.len() * chunk, rest));
        rest = tail;
    }
    chunks.push((chunks.len() * chunk, rest));
    let results: Vec<(Vec<Finding>, Vec<ActivityFacts>)> = if chunks.len() == 1 {
        chunks
            .into_iter()
            .map(|(first, accs)| activity_run(first, accs))
            .collect()
    } else {
        std::thread::scope(|s| {
            let run = &activity_run;
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|(first, accs)| s.spawn(move || run(first, accs)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    eval.activities.reserve(n_act);
    for (findings, facts) in results {
        em.out.extend(findings);
        eval.activities.extend(facts);
    }
    concentration_rule(ctx, em, eval);

    eval.findings = finish(ctx, std::mem::take(&mut em.out), date, &mut eval.allowed);
}

/// What a contiguous run of a scan's resources contributes to an evaluation: the
/// per-resource findings, the per-activity accumulators and the counts. Runs are
/// evaluated independently (each on its own thread for a large scan) and merged in scan
/// order, which gives exactly what one pass over all resources gives.
struct Part {
    findings: Vec<Finding>,
    acc: Vec<Acc>,
    /// Placements by index.
    placements: Vec<Placement>,
    /// Canonical locations seen, interned: (provider, location) by index, with the index
    /// of one placement of it.
    canon: Vec<(Provider, String, usize)>,
    canon_ids: FastMap<(Provider, String), usize>,
    /// Resource types of linked resources, interned: counted per activity by index.
    type_ids: FastMap<String, usize>,
    type_names: Vec<String>,
    /// Providers with resources (the caller adds those with scanned coverage).
    providers: BTreeSet<Provider>,
    by_provider: BTreeMap<Provider, usize>,
    data_bearing_by_provider: BTreeMap<Provider, usize>,
    by_class: BTreeMap<JurisdictionClass, usize>,
    data_bearing: usize,
    registered: usize,
    excluded: Vec<ExcludedResource>,
    unregistered: Vec<(usize, SeenRange)>,
}

/// Resources per thread below which evaluation stays on one thread: spawning and merging
/// cost more than they save on a small scan.
const MIN_PART: usize = 25_000;

/// Activities per thread below which the activity-level rules stay on one thread.
const MIN_ACTIVITY_RUN: usize = 1_000;

/// How many runs (threads) to evaluate `n` resources in.
fn parts_for(n: usize) -> usize {
    cores().min(n / MIN_PART).max(1)
}

/// Threads to use: the cores, at most 8.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |c| c.get())
        .min(8)
}

impl Part {
    /// Nothing yet, for a register of `activities` activities.
    fn new(activities: usize) -> Self {
        Part {
            findings: Vec::new(),
            acc: (0..activities).map(|_| Acc::default()).collect(),
            placements: Vec::new(),
            canon: Vec::new(),
            canon_ids: FastMap::default(),
            type_ids: FastMap::default(),
            type_names: Vec::new(),
            providers: BTreeSet::new(),
            by_provider: BTreeMap::new(),
            data_bearing_by_provider: BTreeMap::new(),
            by_class: BTreeMap::new(),
            data_bearing: 0,
            registered: 0,
            excluded: Vec::new(),
            unregistered: Vec::new(),
        }
    }
}

/// What every run of the per-resource pass shares.
#[derive(Clone, Copy)]
struct Pass<'p, 'c> {
    ctx: &'p Context<'c>,
    matcher: &'p Matcher<'c>,
    /// The scan's reference date.
    date: NaiveDate,
    /// First/last observation dates, if known.
    seen: Option<&'p dyn super::SeenLookup>,
}

/// Evaluates `resources` (scan indexes from `offset`) in `parts` contiguous runs, all but
/// the first on their own threads, and merges them in order. The first run makes room
/// for `reserve` findings, so merging appends without growing the vector.
fn scan_parts(
    pass: Pass<'_, '_>,
    resources: &[Resource],
    offset: usize,
    reserve: usize,
    parts: usize,
) -> Part {
    let n = resources.len();
    let chunk = n.div_ceil(parts.max(1)).max(1);
    if parts <= 1 || n <= chunk {
        return scan_part(pass, resources, offset, reserve);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = resources
            .chunks(chunk)
            .enumerate()
            .skip(1)
            .map(|(k, rs)| {
                let at = offset + k * chunk;
                s.spawn(move || scan_part(pass, rs, at, rs.len()))
            })
            .collect();
        let mut first = scan_part(pass, &resources[..chunk], offset, reserve);
        for h in handles {
            let part = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            merge(&mut first, part);
        }
        first
    })
}

/// Appends `b` (the run after `a`'s) to `a`.
fn merge(a: &mut Part, b: Part) {
    let Part {
        findings,
        acc,
        placements,
        canon,
        canon_ids: _,
        type_ids: _,
        type_names,
        providers,
        by_provider,
        data_bearing_by_provider,
        by_class,
        data_bearing,
        registered,
        excluded,
        unregistered,
    } = b;
    a.findings.extend(findings);
    // `b`'s canonical location and type indexes, as `a`'s.
    let canon_map: Vec<usize> = canon
        .into_iter()
        .map(|(provider, location, pi)| {
            let next = a.canon.len();
            let ci = *a
                .canon_ids
                .entry((provider, location.clone()))
                .or_insert(next);
            if ci == next {
                a.canon.push((provider, location, a.placements.len()));
                a.placements.push(placements[pi].clone());
            }
            ci
        })
        .collect();
    let type_map: Vec<usize> = type_names
        .into_iter()
        .map(|t| match a.type_ids.get(&t) {
            Some(&id) => id,
            None => {
                let id = a.type_names.len();
                a.type_ids.insert(t.clone(), id);
                a.type_names.push(t);
                id
            }
        })
        .collect();
    for (x, y) in a.acc.iter_mut().zip(acc) {
        x.resources += y.resources;
        x.data_bearing += y.data_bearing;
        if x.first_resource.is_none() {
            x.first_resource = y.first_resource;
        }
        x.providers.extend(y.providers);
        for (t, count) in y.by_type {
            *x.by_type.entry(type_map[t]).or_insert(0) += count;
        }
        for (ci, (count, replica_only)) in y.locations {
            let e = x.locations.entry(canon_map[ci]).or_insert((0, true));
            e.0 += count;
            e.1 &= replica_only;
        }
        x.first_seen = match (x.first_seen, y.first_seen) {
            (Some(p), Some(q)) => Some(p.min(q)),
            (p, q) => p.or(q),
        };
        x.last_seen = match (x.last_seen, y.last_seen) {
            (Some(p), Some(q)) => Some(p.max(q)),
            (p, q) => p.or(q),
        };
    }
    a.providers.extend(providers);
    for (k, v) in by_provider {
        *a.by_provider.entry(k).or_insert(0) += v;
    }
    for (k, v) in by_class {
        *a.by_class.entry(k).or_insert(0) += v;
    }
    for (k, v) in data_bearing_by_provider {
        *a.data_bearing_by_provider.entry(k).or_insert(0) += v;
    }
    a.data_bearing += data_bearing;
    a.registered += registered;
    a.excluded.extend(excluded);
    a.unregistered.extend(unregistered);
}

/// Evaluates the per-resource rules and gathers the per-activity facts of `resources`,
/// which start at index `offset` of the scan. `reserve`: findings to make room for.
fn scan_part(pass: Pass<'_, '_>, resources: &[Resource], offset: usize, reserve: usize) -> Part {
    let Pass {
        ctx,
        matcher,
        date,
        seen,
    } = pass;
    let lang = ctx.lang;
    let mut em = Emitter::new(ctx);
    // Room for about one finding per resource up front: growing a vector of a million
    // findings by doubling copies it twice over (pages never written stay unmapped).
    em.out.reserve(reserve);
    let mut pt = Part::new(ctx.register.activities.len());
    // Per (provider, raw location spelling): the placement and its canonical location's
    // index, so a resource's locations cost one lookup each.
    let mut raw_ids: FastMap<(Provider, &str), (usize, usize)> = FastMap::default();
    // Per resource: (placement, canonical id, replica?) of every location, primary
    // first. Reused across resources.
    let mut locs: Vec<(usize, usize, bool)> = Vec::new();

    for (i, r) in resources.iter().enumerate() {
        let idx = offset + i;
        pt.providers.insert(r.provider);
        *pt.by_provider.entry(r.provider).or_insert(0) += 1;
        let data_bearing = r.category.is_data_bearing();
        if data_bearing {
            pt.data_bearing += 1;
            *pt.data_bearing_by_provider.entry(r.provider).or_insert(0) += 1;
        }
        let opts = ClassifyOptions {
            dpf_certified: ctx.rules.dpf(r.provider),
        };
        let mut worst: Option<JurisdictionClass> = None;
        locs.clear();
        let all = r
            .location
            .iter()
            .map(|l| (l.as_str(), false))
            .chain(r.replica_locations.iter().map(|l| (l.as_str(), true)));
        for (raw, replica) in all {
            let (pi, ci) = *raw_ids.entry((r.provider, raw)).or_insert_with(|| {
                let placement = ctx.catalog.classify(r.provider, raw, date, opts);
                let pi = pt.placements.len();
                let key = (r.provider, placement.location.clone());
                let next = pt.canon.len();
                let ci = *pt.canon_ids.entry(key.clone()).or_insert(next);
                if ci == next {
                    pt.canon.push((key.0, key.1, pi));
                }
                pt.placements.push(placement);
                (pi, ci)
            });
            worst = worst.max(Some(pt.placements[pi].class));
            locs.push((pi, ci, replica));
        }
        let worst = worst.unwrap_or(JurisdictionClass::Unknown);
        *pt.by_class.entry(worst).or_insert(0) += 1;
        let first_place = locs.first().map(|&(pi, _, _)| &pt.placements[pi]);

        let m = matcher.resource(r);
        let first_act = m
            .activities
            .first()
            .map(|&i| ctx.register.activities[i].id.as_str());

        // Per-resource rules.
        for &(pi, _, replica) in &locs {
            let p = &pt.placements[pi];
            if p.class == JurisdictionClass::C2000Excluded {
                let what = if replica { "replica " } else { "" };
                em.resource(
                    "CB-C2000",
                    r,
                    Some(p),
                    first_act,
                    t!(
                        lang,
                        msg!(
                            "{} '{}' heeft een {}locatie in {} ({}), een C2000-uitgesloten land.",
                            r.resource_type,
                            r.name,
                            if replica { "replica-" } else { "" },
                            p.location,
                            p.countries.join("+")
                        ),
                        msg!(
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
                .map(|&(pi, _, _)| &pt.placements[pi])
                .find(|p| p.class == JurisdictionClass::Unknown);
            if r.location.is_none() {
                em.resource(
                    "CB-LOC-UNKNOWN",
                    r,
                    None,
                    first_act,
                    t!(
                        lang,
                        msg!(
                            "{} '{}' heeft geen locatie opgegeven.",
                            r.resource_type,
                            r.name
                        ),
                        msg!("{} '{}' reports no location.", r.resource_type, r.name),
                    ),
                );
            } else if let Some(p) = unknown {
                em.resource(
                    "CB-LOC-UNKNOWN",
                    r,
                    Some(p),
                    first_act,
                    t!(
                        lang,
                        msg!(
                            "{} '{}' staat op '{}': {}.",
                            r.resource_type,
                            r.name,
                            p.input,
                            p.basis
                        ),
                        msg!(
                            "{} '{}' is in '{}': {}.",
                            r.resource_type,
                            r.name,
                            p.input,
                            p.basis
                        ),
                    ),
                );
            }
        }
        for (key, value) in &m.unknown_ids {
            em.resource(
                "CB-UNKNOWN-ID",
                r,
                first_place,
                None,
                t!(
                    lang,
                    msg!(
                        "Tag {key}={value} op {} '{}' noemt een verwerking die niet in het register staat.",
                        r.resource_type, r.name
                    ),
                    msg!(
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
                first_place,
                first_act,
                t!(
                    lang,
                    msg!(
                        "{} '{}' is getagd met rubricering '{}' en staat in de publieke cloud.",
                        r.resource_type,
                        r.name,
                        c
                    ),
                    msg!(
                        "{} '{}' is tagged with classification '{}' and is in public cloud.",
                        r.resource_type,
                        r.name,
                        c
                    ),
                ),
            );
        }

        let range = seen.and_then(|s| s.seen(&r.id)).unwrap_or(SeenRange {
            first: date,
            last: date,
        });

        if m.activities.is_empty() {
            if data_bearing {
                if let Some(reason) = m.excluded {
                    pt.excluded.push(ExcludedResource { index: idx, reason });
                } else {
                    pt.unregistered.push((idx, range));
                    em.resource(
                        "CB-UNREG",
                        r,
                        first_place,
                        None,
                        t!(
                            lang,
                            msg!(
                                "{} '{}' ({}) is aan geen verwerking gekoppeld.",
                                r.resource_type,
                                r.name,
                                r.category
                            ),
                            msg!(
                                "{} '{}' ({}) is linked to no register activity.",
                                r.resource_type,
                                r.name,
                                r.category
                            ),
                        ),
                    );
                }
            }
            continue;
        }

        pt.registered += 1;
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
            pt.excluded.push(ExcludedResource { index: idx, reason });
        }
        let type_id = match pt.type_ids.get(r.resource_type.as_str()) {
            Some(&id) => id,
            None => {
                let id = pt.type_names.len();
                pt.type_ids.insert(r.resource_type.clone(), id);
                pt.type_names.push(r.resource_type.clone());
                id
            }
        };
        for &i in &m.activities {
            let a = &mut pt.acc[i];
            a.resources += 1;
            if data_bearing {
                a.data_bearing += 1;
            }
            if a.first_resource.is_none() {
                a.first_resource = Some(r.clone());
            }
            a.providers.insert(r.provider);
            *a.by_type.entry(type_id).or_insert(0) += 1;
            for &(_, ci, replica) in &locs {
                let e = a.locations.entry(ci).or_insert((0, true));
                e.0 += 1;
                e.1 &= replica;
            }
            a.first_seen = Some(a.first_seen.map_or(range.first, |f| f.min(range.first)));
            a.last_seen = Some(a.last_seen.map_or(range.last, |l| l.max(range.last)));
        }
    }

    pt.findings = em.out;
    pt
}

fn activity_rules(
    em: &mut Emitter<'_>,
    a: &Activity,
    f: &ActivityFacts,
    sample: Option<&Resource>,
    scanned: &BTreeSet<Provider>,
    date: NaiveDate,
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
                msg!(
                    "Verwerking '{name}' is gerubriceerd als {} en heeft {} resource(s) in de publieke cloud.",
                    a.classification.map(|c| c.label()).unwrap_or_default(),
                    f.resources
                ),
                msg!(
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
                msg!(
                    "Het register vermeldt publiek cloudgebruik voor '{name}', gerubriceerd als {}.",
                    a.classification.map(|c| c.label()).unwrap_or_default()
                ),
                msg!(
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
                    msg!("'{name}' verwerkt persoonsgegevens in de publieke cloud zonder vastgestelde pre-scan DPIA."),
                    msg!("'{name}' processes personal data in public cloud without an approved pre-scan DPIA."),
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
                    msg!("'{name}' heeft een hoog risico maar geen formele DPIA met datum."),
                    msg!("'{name}' is high risk but has no dated formal DPIA."),
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
                msg!("Voor '{name}' is geen exitstrategie in de overeenkomst geregistreerd."),
                msg!("No exit strategy in the contract is recorded for '{name}'."),
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
                msg!("Voor '{name}' is geen right-to-audit of SLM-zekerheid geregistreerd."),
                msg!("No right-to-audit or SLM assurance is recorded for '{name}'."),
            ),
        );
    }

    // The facts the policy's first checks rest on: unknown is not "fine".
    if in_cloud {
        let facts: Vec<&str> = [Fact::Classification, Fact::Material]
            .into_iter()
            .filter(|f| a.is_unfilled(*f))
            .map(|f| {
                if lang == Lang::Nl {
                    f.label()
                } else {
                    f.label_en()
                }
            })
            .collect();
        if !facts.is_empty() {
            em.activity(
                "CB-FACTS",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!(
                        "Voor '{name}' is niet ingevuld: {}; de verwerking geldt als materieel met onbekende rubricering.",
                        facts.join(", ")
                    ),
                    msg!(
                        "For '{name}' not filled in: {}; the activity counts as material with unknown classification.",
                        facts.join(", ")
                    ),
                ),
            );
        }
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
        // A blank sub-processors cell is "not filled in"; `geen` is an answer.
        if a.is_unfilled(Fact::SubProcessors) {
            missing.push(if lang == Lang::Nl {
                "subverwerkers"
            } else {
                "sub-processors"
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
                    msg!("Het register mist voor '{name}': {}.", missing.join(", ")),
                    msg!("The register lacks for '{name}': {}.", missing.join(", ")),
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
                msg!(
                    "De C2000-toets voor '{name}' is niet doorstaan (leverancier of onderaannemer)."
                ),
                msg!("The C2000 check for '{name}' failed (provider or sub-processor)."),
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
                msg!("Het DPIA-besluit voor '{name}' is niet gepubliceerd (Woo)."),
                msg!("The DPIA decision for '{name}' is not published (Woo)."),
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
                    msg!(
                        "Bijzondere persoonsgegevens van '{name}' staan in {} ({}); 9c met explain, maar de explain is niet naar CIO Rijk gestuurd.",
                        l.location,
                        l.countries.join("+")
                    ),
                    msg!(
                        "Special-category data of '{name}' is in {} ({}); 9c with an explain, but the explain was not sent to CIO Rijk.",
                        l.location,
                        l.countries.join("+")
                    ),
                )
            } else {
                (
                    msg!(
                        "Bijzondere persoonsgegevens van '{name}' staan in {} ({}, {}) zonder 9c met explain.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                    msg!(
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
                    msg!(
                        "Persoonsgegevens van '{name}' staan in {} ({}); 9c is geregeld, maar de DPIA is niet naar CIO Rijk gestuurd.",
                        l.location,
                        l.countries.join("+")
                    ),
                    msg!(
                        "Personal data of '{name}' is in {} ({}); 9c is in place, but the DPIA was not sent to CIO Rijk.",
                        l.location,
                        l.countries.join("+")
                    ),
                )
            } else {
                (
                    msg!(
                        "Persoonsgegevens van '{name}' staan in {} ({}, {}) zonder 9c-waarborg.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                    msg!(
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
                    msg!("'{name}' bevat basisregistratie {regs} in de publieke cloud {why_nl}."),
                    msg!("'{name}' holds key register {regs} in public cloud {why_en}."),
                ),
            );
        }
    }

    // Condition 6: market concentration and political and geographic spread. Special
    // categories or a key register on a provider under a non-EU jurisdiction need an exit
    // strategy or an explain.
    if in_cloud
        && (a.has_special_categories() || a.has_basisregistratie())
        && a.exit_strategy != Some(true)
        && a.explain_reference.trim().is_empty()
    {
        let reach = super::concentration::non_eea_reach(em.ctx.catalog, a, f, date);
        if !reach.is_empty() {
            let what_nl = if a.has_special_categories() {
                "bijzondere persoonsgegevens"
            } else {
                "een basisregistratie"
            };
            let what_en = if a.has_special_categories() {
                "special-category data"
            } else {
                "a key register"
            };
            let who = reach
                .iter()
                .map(|p| {
                    if p.laws.is_empty() {
                        format!("{} ({})", p.name, p.home_country)
                    } else {
                        format!("{} ({}: {})", p.name, p.home_country, p.laws.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            em.activity(
                "CB-CONC",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!("'{name}' verwerkt {what_nl} bij een dienstverlener onder niet-EU-recht ({who}), zonder exitstrategie en zonder explain."),
                    msg!("'{name}' processes {what_en} with a provider under non-EU law ({who}), without an exit strategy and without an explain."),
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
                        msg!(
                            "'{name}' heeft gegevens in {} ({}{}), niet in de gedeclareerde locaties {}.",
                            l.location,
                            l.countries.join("+"),
                            if l.replica_only { ", replica" } else { "" },
                            a.declared_locations.join(", ")
                        ),
                        msg!(
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
                msg!("'{name}' staat in gebruik bij {list}, maar de scan vond geen resources die erbij horen."),
                msg!("'{name}' is in use on {list}, but the scan found no resources for it."),
            ),
        );
    }
}

/// Condition 6 at organisation level: more than `rules.max_provider_share` percent of the
/// material activities depend on one provider.
fn concentration_rule(ctx: &Context<'_>, em: &mut Emitter<'_>, eval: &Evaluation) {
    let lang = ctx.lang;
    let c = super::concentration::concentration(ctx.register, eval);
    let max = f64::from(ctx.rules.max_provider_share);
    for p in &c.providers {
        let share = c.share(p.material);
        if c.material_total < ctx.rules.concentration_min_activities.max(1) || share <= max {
            continue;
        }
        let (n, total, provider) = (p.material, c.material_total, p.provider);
        if let Some(mut f) = em.base(
            "CB-CONC",
            t!(
                lang,
                msg!("{n} van de {total} materiële verwerkingen ({share:.0} %) hangen af van {provider}; de drempel is {max:.0} %."),
                msg!("{n} of the {total} material activities ({share:.0} %) depend on {provider}; the threshold is {max:.0} %."),
            ),
        ) {
            f.provider = Some(provider);
            em.out.push(f);
        }
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
    let mut out = raw;
    if !ctx.rules.severity.is_empty() {
        out.retain_mut(
            |f| match ctx.rules.severity.get(f.code.as_str()).map(|o| o.apply()) {
                Some(None) => {
                    *allowed.entry(f.code.to_string()).or_insert(0) += 1;
                    false
                }
                Some(Some(s)) => {
                    f.severity = s;
                    true
                }
                None => true,
            },
        );
    }
    let mut extra = Vec::new();
    let em = Emitter::new(ctx);
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
        if expired && matched > 0 {
            if let Some(mut f) = em.base(
                "CB-SUPPRESS-EXPIRED",
                t!(
                    lang,
                    msg!(
                        "Uitzondering {} voor {target} is verlopen op {} (reden: {}).",
                        s.code,
                        s.expires,
                        s.reason
                    ),
                    msg!(
                        "Suppression {} for {target} expired on {} (reason: {}).",
                        s.code,
                        s.expires,
                        s.reason
                    ),
                ),
            ) {
                f.resource_id = s.resource.clone();
                f.activity_id = s.activity.as_deref().map(SharedStr::from);
                extra.push(f);
            }
        } else if matched == 0
            && let Some(mut f) = em.base(
                "CB-SUPPRESS-UNMATCHED",
                t!(
                    lang,
                    msg!(
                        "Uitzondering {} voor {target} paste op geen enkele bevinding.",
                        s.code
                    ),
                    msg!("Suppression {} for {target} matched no finding.", s.code),
                ),
            )
        {
            f.resource_id = s.resource.clone();
            f.activity_id = s.activity.as_deref().map(SharedStr::from);
            extra.push(f);
        }
    }
    out.extend(extra);
    sort_findings(&mut out);
    out
}

/// Ranks of the distinct values of interned text: equal text, equal rank; order as
/// `str`'s. Keyed by allocation address (interned values share one), so ranking a
/// finding is a hash lookup of an integer.
fn text_ranks<'f>(values: impl Iterator<Item = &'f SharedStr>) -> FastMap<usize, u32> {
    let mut distinct: FastMap<usize, &SharedStr> = FastMap::default();
    for v in values {
        distinct.entry(v.addr()).or_insert(v);
    }
    let mut list: Vec<(usize, &SharedStr)> = distinct.into_iter().collect();
    list.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()));
    let mut ranks = FastMap::default();
    let mut rank = 0u32;
    for (i, (addr, v)) in list.iter().enumerate() {
        if i > 0 && list[i - 1].1.as_str() != v.as_str() {
            rank += 1;
        }
        ranks.insert(*addr, rank);
    }
    ranks
}

/// Sorts findings by severity (worst first), code, activity, provider, scope, resource,
/// region and message; ties keep their emission order (the order of a stable sort).
///
/// The leading fields are packed into one integer key per finding (interned text by
/// rank), so most comparisons are one integer comparison; the findings are sorted as
/// indices and then permuted in place, without moving ~200-byte structs around or
/// allocating a second vector of them.
fn sort_findings(out: &mut [Finding]) {
    sort_findings_split(out, PARALLEL_SORT_MIN);
}

/// From this many findings on, the two halves are sorted on two threads.
const PARALLEL_SORT_MIN: usize = 100_000;

/// [`sort_findings`], with the size from which it sorts on two threads.
fn sort_findings_split(out: &mut [Finding], parallel_min: usize) {
    let codes = text_ranks(out.iter().map(|f| &f.code));
    let acts = text_ranks(out.iter().filter_map(|f| f.activity_id.as_ref()));
    let scopes = text_ranks(out.iter().filter_map(|f| f.scope.as_ref()));
    let opt_rank = |ranks: &FastMap<usize, u32>, v: Option<&SharedStr>| -> u128 {
        v.map_or(0, |v| u128::from(ranks[&v.addr()]) + 1)
    };
    let keys: Vec<u128> = out
        .iter()
        .map(|f| {
            let severity = u128::from(4 - f.severity as u8);
            let code = u128::from(codes[&f.code.addr()]);
            let act = opt_rank(&acts, f.activity_id.as_ref());
            let provider = f.provider.map_or(0, |p| u128::from(p as u8) + 1);
            let scope = opt_rank(&scopes, f.scope.as_ref());
            (severity << 120) | (code << 96) | (act << 56) | (provider << 48) | scope
        })
        .collect();
    // Sort (key, resource id, index) entries: contiguous keys, and a tie on the key
    // costs one string comparison instead of two struct lookups. The comparison is a
    // total order (the index breaks ties), so sorting two halves on two threads and
    // merging them gives exactly the order a single sort would.
    type Entry<'f> = (u128, Option<&'f str>, usize);
    let cmp = |a: &Entry<'_>, b: &Entry<'_>| {
        a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)).then_with(|| {
            let (x, y) = (&out[a.2], &out[b.2]);
            x.region
                .cmp(&y.region)
                .then_with(|| x.message.cmp(&y.message))
                .then_with(|| a.2.cmp(&b.2))
        })
    };
    let mut entries: Vec<Entry<'_>> = keys
        .iter()
        .zip(out.iter())
        .enumerate()
        .map(|(i, (&k, f))| (k, f.resource_id.as_deref(), i))
        .collect();
    let n = entries.len();
    let mid = n / 2;
    let (left, right) = entries.split_at_mut(mid);
    if n >= parallel_min {
        std::thread::scope(|s| {
            s.spawn(|| left.sort_unstable_by(cmp));
            right.sort_unstable_by(cmp);
        });
    } else {
        left.sort_unstable_by(cmp);
        right.sort_unstable_by(cmp);
    }
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let (mut i, mut j) = (0, mid);
    while i < mid && j < n {
        if cmp(&entries[j], &entries[i]).is_lt() {
            order.push(entries[j].2);
            j += 1;
        } else {
            order.push(entries[i].2);
            i += 1;
        }
    }
    order.extend(entries[i..mid].iter().map(|e| e.2));
    order.extend(entries[j..].iter().map(|e| e.2));
    drop(entries);
    // Position k receives the finding at order[k]: follow each cycle with swaps.
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        if order[start] == DONE {
            continue;
        }
        let mut cur = start;
        loop {
            let src = order[cur];
            order[cur] = DONE;
            if src == start {
                break;
            }
            out.swap(cur, src);
            cur = src;
        }
    }
}

#[cfg(test)]
mod sort_tests {
    use super::*;
    use crate::matching::MatchSettings;
    use crate::rules::{RulePack, RuleSettings};
    use crate::synth::Synth;
    use cloudcensus_core::Catalog;

    /// The comparator findings were sorted with before the packed keys: the packed,
    /// in-place sort must give exactly the order of a stable sort with it.
    fn reference_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.as_str().cmp(b.code.as_str()))
            .then_with(|| a.activity_id.as_deref().cmp(&b.activity_id.as_deref()))
            .then_with(|| a.provider.cmp(&b.provider))
            .then_with(|| a.scope.as_deref().cmp(&b.scope.as_deref()))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
            .then_with(|| a.region.as_deref().cmp(&b.region.as_deref()))
            .then_with(|| a.message.cmp(&b.message))
    }

    #[test]
    fn packed_sort_gives_the_order_of_a_stable_sort_on_the_fields() {
        let synth = Synth::new(7).with_activities(300);
        let register = synth.register();
        let scan = synth.scan_data(5_000);
        let catalog = Catalog::builtin().unwrap();
        let pack = RulePack::builtin("cloudbeleid-2022").unwrap();
        let settings = RuleSettings::default();
        let matching = MatchSettings::default();
        let ctx = Context {
            organisation: "Ministerie van Financiën",
            register: &register,
            catalog: &catalog,
            pack: &pack,
            rules: &settings,
            matching: &matching,
            lang: Lang::Nl,
        };
        let sorted = run(&ctx, &scan, None).findings;
        assert!(sorted.len() > 1_000, "a dirty estate: {}", sorted.len());
        // Shuffle deterministically (reverse, then interleave halves), re-sort both ways.
        let mut shuffled: Vec<Finding> = sorted.iter().rev().cloned().collect();
        let half = shuffled.split_off(shuffled.len() / 2);
        let mut mixed: Vec<Finding> = Vec::new();
        for (a, b) in shuffled.into_iter().zip(half) {
            mixed.push(b);
            mixed.push(a);
        }
        // Text that is equal but not interned together must still rank as equal.
        for f in mixed.iter_mut().step_by(3) {
            f.scope = f.scope.as_deref().map(SharedStr::from);
        }
        let mut expected = mixed.clone();
        expected.sort_by(reference_order);
        let mut threaded = mixed.clone();
        sort_findings(&mut mixed);
        assert_eq!(mixed, expected);
        // The same on two threads (the path a large estate takes).
        sort_findings_split(&mut threaded, 0);
        assert_eq!(threaded, expected);
        let mut again = sorted.clone();
        again.sort_by(reference_order);
        assert_eq!(sorted, again, "evaluation output is in reference order");
    }
}
