//! The policy engine: rule packs, findings and evaluation.
//!
//! Evaluation is a pure function ([`evaluate`]) of a scan, the register, the location
//! catalog, a rule pack, the reference date (the scan's date) and settings. No I/O, and
//! the output order is deterministic, so the same inputs give byte-identical JSON.
//!
//! A rule pack ([`RulePack`], data in `src/rules/packs/*.toml`) chooses which codes apply
//! and carries their severities, clauses and texts in Dutch and English. The decision
//! behind each code is in [`policy`], one module per policy area; the [`engine`] runs
//! them over a scan (in parallel parts) and knows no rule. Findings are data; Rust errors
//! are only for failures of the tool.

pub mod concentration;
mod emit;
mod engine;
mod evaluation;
mod message;
mod pack;
mod policy;
mod settings;
pub(crate) mod shared;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use cloudcensus_core::{Catalog, JurisdictionClass, Provider, ScanData};
use serde::{Deserialize, Serialize};

pub use engine::Evaluator;
pub use evaluation::{ActivityFacts, Evaluation, ExcludedResource, ObservedLocation, SeenRange};
pub use pack::{RuleInfo, RulePack, RulePackError};
pub use settings::{RuleSettings, SeverityOverride, Suppression};
pub use shared::{Countries, SharedStr};

use crate::matching::MatchSettings;
use crate::register::Register;

/// How serious a finding is, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Blocking: the policy forbids this.
    Blocking,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Blocking,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Blocking => "blocking",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity '{s}': expected info, low, medium, high or blocking")
            })
    }
}

/// One finding.
///
/// The texts that repeat across findings (code, clause, action, scope, region, type,
/// activity id, countries) are [`SharedStr`] / [`Countries`], interned once per
/// evaluation; they serialise exactly like `String` / `Vec<String>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule code, e.g. `CB-UNREG`.
    pub code: SharedStr,
    /// Severity after overrides.
    pub severity: Severity,
    /// The policy clause (Dutch title and number).
    pub clause: SharedStr,
    /// Provider, when the finding concerns cloud resources.
    pub provider: Option<Provider>,
    /// Account / subscription / project.
    pub scope: Option<SharedStr>,
    /// Region (canonical spelling).
    pub region: Option<SharedStr>,
    /// Countries of that region.
    pub countries: Countries,
    /// Jurisdiction class of that region on the scan date.
    pub class: Option<JurisdictionClass>,
    /// Resource id (ARN, ARM id, full name).
    pub resource_id: Option<String>,
    /// Resource type.
    pub resource_type: Option<SharedStr>,
    /// Register activity id.
    pub activity_id: Option<SharedStr>,
    /// What was found (Dutch or English, per evaluation language).
    pub message: String,
    /// What the owner should do.
    pub action: SharedStr,
    /// Set when a configured suppression applies: its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

/// Output language of messages and actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Dutch (default: the report goes to CIO Rijk).
    #[default]
    Nl,
    /// English.
    En,
}

/// Everything evaluation needs besides the scan.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The organisation (ministry) name: Defensie is out of scope.
    pub organisation: &'a str,
    /// The register of processing activities.
    pub register: &'a Register,
    /// The location catalog.
    pub catalog: &'a Catalog,
    /// The rule pack.
    pub pack: &'a RulePack,
    /// Severity overrides, suppressions, DPF certification.
    pub rules: &'a RuleSettings,
    /// Tag keys and excluded scopes.
    pub matching: &'a MatchSettings,
    /// Message language.
    pub lang: Lang,
}

/// First/last observation of resources by id, for [`evaluate`]. `Sync`: a large scan is
/// evaluated on several threads that share it.
pub trait SeenLookup: Sync {
    /// The range for `resource_id`, if it was seen.
    fn seen(&self, resource_id: &str) -> Option<SeenRange>;
}

impl SeenLookup for BTreeMap<String, SeenRange> {
    fn seen(&self, resource_id: &str) -> Option<SeenRange> {
        self.get(resource_id).copied()
    }
}

/// A compact first/last-seen index for a year of large scans: keyed by a 128-bit
/// fingerprint of the resource id instead of the id itself, so a million resources cost
/// ~50 MiB instead of a map of owned strings. Two different ids share a fingerprint with
/// probability ~n²/2¹²⁹ (about 10⁻²⁷ for a million ids).
#[derive(Debug, Default, Clone)]
pub struct SeenIndex {
    map: shared::FastMap<u128, SeenRange>,
}

impl SeenIndex {
    fn key(id: &str) -> u128 {
        use std::hash::{BuildHasher, Hasher};
        let mut a = shared::FastHasher::default();
        a.write(id.as_bytes());
        // A second, independent hash (SipHash with fixed keys: deterministic).
        let b =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(id);
        (u128::from(a.finish()) << 64) | u128::from(b)
    }

    /// Records that `resource_id` was seen on `date`.
    pub fn record(&mut self, resource_id: &str, date: NaiveDate) {
        self.map
            .entry(Self::key(resource_id))
            .and_modify(|s| {
                s.first = s.first.min(date);
                s.last = s.last.max(date);
            })
            .or_insert(SeenRange {
                first: date,
                last: date,
            });
    }

    /// Resource ids recorded.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl SeenLookup for SeenIndex {
    fn seen(&self, resource_id: &str) -> Option<SeenRange> {
        self.map.get(&Self::key(resource_id)).copied()
    }
}

/// Evaluates one scan. `seen` optionally gives per resource id its first and last
/// observation dates across the store's history; without it both are the scan date.
pub fn evaluate(ctx: &Context<'_>, scan: &ScanData, seen: Option<&dyn SeenLookup>) -> Evaluation {
    engine::run(ctx, scan, seen)
}

/// Counts findings per severity (not counting suppressed ones).
pub fn count_by_severity(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut out = BTreeMap::new();
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        *out.entry(f.severity).or_insert(0) += 1;
    }
    out
}

/// The highest unsuppressed severity, if any finding exists.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| f.severity)
        .max()
}
