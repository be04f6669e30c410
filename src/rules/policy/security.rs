//! Condition 7 (cyberveiligheid): suppliers or locations from countries with an active
//! offensive cyber programme against Dutch interests are excluded (CB-C2000).

use cloudcensus_core::JurisdictionClass;

use super::{ActivityView, ResourceView};
use crate::register::C2000Check;
use crate::rules::emit::{Emitter, msg, t};

/// CB-C2000 for a resource: a (replica) location in a C2000-excluded country.
pub(super) fn resource_location(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    let lang = em.ctx.lang;
    let r = v.resource;
    for (p, replica) in v.places() {
        if p.class == JurisdictionClass::C2000Excluded {
            let what = if replica { "replica " } else { "" };
            em.resource(
                "CB-C2000",
                r,
                Some(p),
                v.first_activity,
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
}

/// CB-C2000 (condition 7) for an activity: its C2000 check failed.
pub(super) fn check_failed(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

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
}
