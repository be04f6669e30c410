//! Where the data is (condition 6's geographic region, condition 9): observed locations
//! the register does not declare (CB-DRIFT), and locations the catalog cannot place —
//! never assumed to be in the EEA (CB-LOC-UNKNOWN).

use std::collections::BTreeSet;

use cloudcensus_core::JurisdictionClass;

use super::{ActivityView, ResourceView};
use crate::register::Activity;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;
use crate::rules::{Context, ObservedLocation};

/// CB-LOC-UNKNOWN: a data-bearing resource reports no location.
pub(super) static NO_LOCATION: Message =
    Message::new("CB-LOC-UNKNOWN", "no_location", &["type", "name"]);
/// CB-LOC-UNKNOWN: a location the catalog cannot place.
pub(super) static UNPLACED: Message = Message::new(
    "CB-LOC-UNKNOWN",
    "unplaced",
    &["type", "name", "input", "basis"],
);
/// CB-DRIFT: data in a location the register does not declare.
pub(super) static UNDECLARED: Message = Message::new(
    "CB-DRIFT",
    "undeclared",
    &["name", "location", "countries", "declared"],
);
/// CB-DRIFT: a replica in a location the register does not declare.
pub(super) static UNDECLARED_REPLICA: Message = Message::new(
    "CB-DRIFT",
    "undeclared_replica",
    &["name", "location", "countries", "declared"],
);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] =
    &[&NO_LOCATION, &UNPLACED, &UNDECLARED, &UNDECLARED_REPLICA];

/// CB-LOC-UNKNOWN: a data-bearing resource without a location, or in one the catalog
/// cannot place.
pub(super) fn resource_unknown(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    if !v.data_bearing {
        return;
    }
    let (r, first_act) = (v.resource, v.first_activity);
    let unknown = v
        .places()
        .map(|(p, _)| p)
        .find(|p| p.class == JurisdictionClass::Unknown);
    if r.location.is_none() {
        em.resource(
            &NO_LOCATION,
            r,
            None,
            first_act,
            &[&r.resource_type, &r.name],
        );
    } else if let Some(p) = unknown {
        em.resource(
            &UNPLACED,
            r,
            Some(p),
            first_act,
            &[&r.resource_type, &r.name, &p.input, &p.basis],
        );
    }
}

/// CB-DRIFT (conditions 6 and 9): observed locations the register does not declare.
pub(super) fn drift(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let f = v.facts;
    let name = &a.name;
    let linked = v.linked();

    if linked && !a.declared_locations.is_empty() {
        for l in &f.locations {
            if !is_declared(em.ctx, a, l) {
                em.activity(
                    if l.replica_only {
                        &UNDECLARED_REPLICA
                    } else {
                        &UNDECLARED
                    },
                    a,
                    None,
                    Some(l),
                    &[
                        &name,
                        &l.location,
                        &l.countries.join("+"),
                        &a.declared_locations.join(", "),
                    ],
                );
            }
        }
    }
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
