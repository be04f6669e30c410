//! Every rule of the policy, grouped as the Rijksbreed cloudbeleid 2022 is: one module per
//! policy area, each deciding its codes and nothing else. "Where is CB-DRIFT decided?"
//! — in [`locations`].
//!
//! | module | codes | policy |
//! |---|---|---|
//! | [`exceptions`] | CB-STG, CB-RUB, CB-DEF | Uitzonderingen; Inleiding (t/m departementaal vertrouwelijk) |
//! | [`known_use`] | CB-UNREG, CB-UNKNOWN-ID, CB-STALE, CB-CHAR, CB-FACTS | 1 (rubricering), 3 (gekend gebruik), 5, 6 (karakteristieken) |
//! | [`privacy`] | CB-DPIA, CB-PD-LOC, CB-BPD-LOC, CB-WOO | Inleiding, 2, 8, 9, 10 |
//! | [`contract`] | CB-EXIT, CB-AUDIT | 4 (exit strategie), 6 (right-to-audit) |
//! | [`security`] | CB-C2000 | 7 (cyberveiligheid) |
//! | [`key_registers`] | CB-BASIS | 11 (basisregistraties) |
//! | [`locations`] | CB-DRIFT, CB-LOC-UNKNOWN | 6 (geografische regio), 9 |
//! | [`concentration`] | CB-CONC | 6 (marktconcentratie, politieke en geografische spreiding) |
//! | [`coverage`] | CB-COVERAGE | 3 (volledigheid van de scan) |
//! | [`suppressions`] | CB-SUPPRESS-EXPIRED, CB-SUPPRESS-UNMATCHED | configuration |
//!
//! The [engine](super::engine) calls the entry points below at the four moments of an
//! evaluation: per resource, per activity, once per scan (coverage, organisation), and
//! after overrides (suppressions). The call order inside each entry point is the order
//! findings are emitted in before the sort.

mod concentration;
mod contract;
mod coverage;
mod exceptions;
mod key_registers;
pub(crate) mod known_use;
mod locations;
mod privacy;
mod security;
mod suppressions;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use cloudcensus_core::{Coverage, Placement, Provider, Resource};

use super::emit::Emitter;
use super::{ActivityFacts, Context, Evaluation, Finding};
use crate::register::Activity;

pub(crate) use suppressions::apply as apply_suppressions;

use super::message::Message;

/// Every message a rule emits (its code, key in the pack and placeholders): what a pack
/// is checked against when it loads.
pub(crate) fn messages() -> impl Iterator<Item = &'static Message> + Clone {
    [
        exceptions::MESSAGES,
        known_use::MESSAGES,
        privacy::MESSAGES,
        contract::MESSAGES,
        security::MESSAGES,
        key_registers::MESSAGES,
        locations::MESSAGES,
        concentration::MESSAGES,
        coverage::MESSAGES,
        suppressions::MESSAGES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// What the per-resource rules see of one resource.
pub(crate) struct ResourceView<'a> {
    /// The resource.
    pub resource: &'a Resource,
    /// The placements the engine's `locations` indexes point into.
    pub placements: &'a [Placement],
    /// Every location of the resource, primary first: (placement index, canonical
    /// location index, replica?).
    pub locations: &'a [(usize, usize, bool)],
    /// The placement of the primary location.
    pub first_place: Option<&'a Placement>,
    /// The first activity the resource is linked to.
    pub first_activity: Option<&'a str>,
    /// Tag values that name no activity in the register: (tag key, value).
    pub unknown_ids: &'a [(String, String)],
    /// Whether the resource can hold or process data.
    pub data_bearing: bool,
    /// Data-bearing, linked to no activity, and not in a scope excluded by configuration.
    pub unregistered: bool,
}

impl ResourceView<'_> {
    /// Every location's placement, primary first, with whether it is a replica.
    fn places(&self) -> impl Iterator<Item = (&Placement, bool)> {
        self.locations
            .iter()
            .map(|&(pi, _, replica)| (&self.placements[pi], replica))
    }
}

/// What the activity-level rules see of one register activity.
pub(crate) struct ActivityView<'a> {
    /// The activity.
    pub activity: &'a Activity,
    /// What the scan shows about it.
    pub facts: &'a ActivityFacts,
    /// Its first linked resource (a sample for the finding).
    pub sample: Option<&'a Resource>,
    /// Providers the scan covered (resources or scanned coverage).
    pub scanned: &'a BTreeSet<Provider>,
    /// The scan's reference date.
    pub date: NaiveDate,
}

impl ActivityView<'_> {
    /// Whether any resource is linked to the activity.
    fn linked(&self) -> bool {
        self.facts.resources > 0
    }

    /// Whether the activity is in public cloud: linked resources, or the register says so
    /// for an active activity.
    fn in_cloud(&self) -> bool {
        self.linked() || (self.activity.declares_public_cloud() && self.activity.is_active())
    }
}

/// Whether the organisation is outside the policy's scope (Defensie): then only CB-DEF
/// is reported.
pub(crate) fn out_of_scope(ctx: &Context<'_>) -> bool {
    exceptions::is_defence(ctx.organisation)
}

/// The one finding of an organisation outside the policy's scope.
pub(crate) fn out_of_scope_finding(em: &mut Emitter<'_>) -> Option<Finding> {
    exceptions::defence(em)
}

/// The rules that look at one resource.
pub(crate) fn resource_rules(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    security::resource_location(em, v);
    locations::resource_unknown(em, v);
    known_use::unknown_id(em, v);
    exceptions::resource_tag(em, v);
    known_use::unregistered(em, v);
}

/// The rules that look at one register activity and what the scan shows about it.
pub(crate) fn activity_rules(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    exceptions::classified(em, v);
    privacy::dpia(em, v);
    contract::exit(em, v);
    contract::audit(em, v);
    known_use::facts(em, v);
    known_use::characteristics(em, v);
    security::check_failed(em, v);
    privacy::woo(em, v);
    privacy::transfers(em, v);
    key_registers::basis(em, v);
    concentration::activity(em, v);
    locations::drift(em, v);
    known_use::stale(em, v);
}

/// The rules on the scan's coverage.
pub(crate) fn coverage_rules(em: &mut Emitter<'_>, coverage: &[Coverage]) {
    coverage::gaps(em, coverage);
}

/// The rules on the organisation as a whole, after every activity's facts are known.
pub(crate) fn organisation_rules(em: &mut Emitter<'_>, eval: &Evaluation) {
    concentration::organisation(em, eval);
}
