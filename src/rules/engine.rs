//! The evaluation engine: one pass over the resources (in parallel runs for a large
//! scan, merged in scan order), per-activity facts, then the activity-level rules (in
//! parallel runs of activities), overrides, suppressions and the packed sort.
//!
//! The engine knows no rule: it gathers facts and calls the entry points of
//! [`policy`](super::policy), which decide every finding.
//!
//! Hot path (a million resources): placements are cached per (provider, location
//! spelling), matching is hash lookups, and accumulators borrow strings from the scan.

mod sort;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use cloudcensus_core::{
    ClassifyOptions, Coverage, CoverageStatus, JurisdictionClass, Placement, Provider, Resource,
    ResourceGroup, ScanData, ScanMeta, Scope, coverage_percent,
};

use super::emit::Emitter;
use super::evaluation::listed_indexes;
use super::policy;
use super::shared::FastMap;
use super::{
    ActivityFacts, Context, Evaluation, ExcludedResource, Finding, ObservedLocation, SeenRange,
};
use crate::matching::Matcher;

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
        let out_of_scope = policy::out_of_scope(ctx);
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
            eval.findings.extend(policy::out_of_scope_finding(&mut em));
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

    policy::coverage_rules(em, coverage);

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
            policy::activity_rules(
                &mut em,
                &policy::ActivityView {
                    activity: a,
                    facts: &facts,
                    sample: ac.first_resource.as_ref(),
                    scanned: &scanned_providers,
                    date,
                },
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
    policy::organisation_rules(em, eval);

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

        // Data-bearing, linked to no activity, and not in a scope excluded by configuration.
        let unregistered = data_bearing && m.activities.is_empty() && m.excluded.is_none();
        policy::resource_rules(
            &mut em,
            &policy::ResourceView {
                resource: r,
                placements: &pt.placements,
                locations: &locs,
                first_place,
                first_activity: first_act,
                unknown_ids: &m.unknown_ids,
                data_bearing,
                unregistered,
            },
        );

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

fn finish(
    ctx: &Context<'_>,
    raw: Vec<Finding>,
    date: NaiveDate,
    allowed: &mut BTreeMap<String, usize>,
) -> Vec<Finding> {
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
    let extra = policy::apply_suppressions(ctx, &mut out, date);
    out.extend(extra);
    sort::sort_findings(&mut out);
    out
}
