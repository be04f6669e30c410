//! What an evaluation produces besides findings: per-activity facts, the resources a
//! report lists, and the counts. Filled by the [engine](super::engine); read by reports.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use cloudcensus_core::{JurisdictionClass, Provider};
use serde::{Deserialize, Serialize};

use super::Finding;

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

pub(super) fn listed_indexes(
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
