//! Condition 7 (cyberveiligheid): suppliers or locations from countries with an active
//! offensive cyber programme against Dutch interests are excluded (CB-C2000).

use cloudcensus_core::JurisdictionClass;

use super::{ActivityView, ResourceView};
use crate::register::C2000Check;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;

/// CB-C2000: a location in a C2000-excluded country.
pub(super) static LOCATION: Message = Message::new(
    "CB-C2000",
    "location",
    &["type", "name", "location", "countries"],
);
/// CB-C2000: a replica location in a C2000-excluded country.
pub(super) static REPLICA_LOCATION: Message = Message::new(
    "CB-C2000",
    "replica_location",
    &["type", "name", "location", "countries"],
);
/// CB-C2000: the activity's C2000 check failed.
pub(super) static CHECK_FAILED: Message = Message::new("CB-C2000", "check_failed", &["name"]);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&LOCATION, &REPLICA_LOCATION, &CHECK_FAILED];

/// CB-C2000 for a resource: a (replica) location in a C2000-excluded country.
pub(super) fn resource_location(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    let r = v.resource;
    for (p, replica) in v.places() {
        if p.class == JurisdictionClass::C2000Excluded {
            em.resource(
                if replica {
                    &REPLICA_LOCATION
                } else {
                    &LOCATION
                },
                r,
                Some(p),
                v.first_activity,
                &[
                    &r.resource_type,
                    &r.name,
                    &p.location,
                    &p.countries.join("+"),
                ],
            );
        }
    }
}

/// CB-C2000 (condition 7) for an activity: its C2000 check failed.
pub(super) fn check_failed(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud && a.c2000_check == Some(C2000Check::Failed) {
        em.activity(&CHECK_FAILED, a, sample, None, &[&name]);
    }
}
